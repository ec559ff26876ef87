/**
 * The main channel parsed while it passes: the forwarded source→destination chunks are pushed
 * into a bounded {@link PushSource} that migscope's own parser (inspectStream) reads, and what
 * it finds is told as tap events — each section and command once its timeline row is final,
 * each dirty pass once the next one starts — and, if the parser stops early, one
 * {@link ParseErrorEvent}. After a failure the chunks are dropped: the tap forwards on without
 * parsing.
 * @module
 */
import type { OpenedInput } from "../parse/input.ts";
import { type InspectResult, inspectStream } from "../report/inspect_stream.ts";
import { Summarizer, type TimelineRow } from "../report/summary.ts";
import { errorObject } from "../report/documents.ts";
import type { MigRecord } from "../protocol/records.ts";
import { ByteReader } from "../wire/reader.ts";
import type { PassEvent, TapEvent } from "./events.ts";
import { PUSH_LIMIT, PushSource } from "./push_source.ts";

/** Timeline kinds that are sections. */
const SECTIONS = new Set(["START", "PART", "END", "FULL"]);

/** A timeline row as a tap event (sections and commands; undefined for the other rows). */
export function rowEvent(row: TimelineRow, t: number, pass?: number): TapEvent | undefined {
  if (row.kind === "COMMAND") {
    return { type: "command", t, offset: row.offset, name: row.name ?? "?", detail: row.note };
  }
  if (!SECTIONS.has(row.kind)) return undefined;
  return {
    type: "section",
    t,
    offset: row.offset,
    section: row.kind,
    sectionId: row.sectionId ?? -1,
    idstr: row.name,
    bytes: row.bytes,
    pages: { zero: row.zero, page: row.page, xbzrle: row.xbzrle, compressed: row.compressed },
    ...(pass !== undefined ? { pass } : {}),
  };
}

/**
 * Follows the records inspectStream visits with a summarizer of its own, to tell when a
 * timeline row and a dirty pass are final, the dirty pass of each section's last RAM record,
 * and how long each pass took.
 */
class RowTracker {
  readonly #sum = new Summarizer();
  readonly #emit: (e: TapEvent) => void;
  readonly #now: () => number;
  #rowsOut = 0;
  #passesOut = 0;
  #passStart = 0;
  /** Dirty pass of the last RAM record of each row not yet handed over, by row index. */
  #rowPass = new Map<number, number>();

  constructor(emit: (e: TapEvent) => void, now: () => number) {
    this.#emit = emit;
    this.#now = now;
  }

  visit = (rec: MigRecord): void => {
    const sum = this.#sum;
    const rows = sum.timeline.length;
    const passes = sum.summary.passes.length;
    sum.add(rec);
    if (rec.kind === "ram" && rec.type !== "mem_size" && rec.type !== "eos") {
      this.#rowPass.set(sum.timeline.length - 1, rec.pass);
    }
    if (sum.summary.passes.length !== passes) {
      if (passes === 0) this.#passStart = this.#now();
      this.#passes(false);
    }
    if (sum.timeline.length !== rows) this.#rows(false);
  };

  /** The stream is over: every row and pass not handed over yet is final. */
  flush(): void {
    this.#rows(true);
    this.#passes(true);
  }

  #rows(all: boolean) {
    const tl = this.#sum.timeline;
    const end = all ? tl.length : tl.length - 1;
    for (; this.#rowsOut < end; this.#rowsOut++) {
      const e = rowEvent(tl[this.#rowsOut], this.#now(), this.#rowPass.get(this.#rowsOut));
      this.#rowPass.delete(this.#rowsOut);
      if (e) this.#emit(e);
    }
  }

  #passes(all: boolean) {
    const ps = this.#sum.summary.passes;
    const end = all ? ps.length : ps.length - 1;
    const t = this.#now();
    for (; this.#passesOut < end; this.#passesOut++) {
      const p = ps[this.#passesOut];
      const e: PassEvent = {
        type: "pass",
        t,
        index: p.index,
        pages: p.pages,
        zero: p.zero,
        xbzrle: p.xbzrle,
        bytes: p.bytes,
        ms: Math.round(t - this.#passStart),
      };
      this.#passStart = t;
      this.#emit(e);
    }
  }
}

/** The main channel's live parse. */
export class LiveParser {
  readonly #source: PushSource;
  /** The parse's result, once the stream ended (or the parser stopped). */
  readonly done: Promise<InspectResult>;

  /** Starts parsing; events go to `emit`, stamped with `now()` (ms since the tap started). */
  constructor(emit: (e: TapEvent) => void, now: () => number, limit = PUSH_LIMIT) {
    const source = this.#source = new PushSource(limit);
    const input: OpenedInput = {
      reader: new ByteReader(source),
      gzip: false,
      name: "main connection",
      close: () => source.close(),
    };
    const rows = new RowTracker(emit, now);
    this.done = inspectStream(input, { visit: rows.visit }).then((res) => {
      rows.flush();
      source.close();
      if (res.error) {
        const { offset, section, record, message } = errorObject(res.error);
        emit({ type: "parse-error", t: now(), offset, section, record, message });
      }
      return res;
    });
  }

  /** A forwarded chunk (kept: pass a copy). Resolves when the parser has room again. */
  push(chunk: Uint8Array): Promise<void> | undefined {
    return this.#source.push(chunk);
  }

  /** The connection's source→destination direction ended. */
  end(): void {
    this.#source.end();
  }

  /** Stops parsing now (the tap is interrupted); `done` still resolves. */
  abort(): void {
    this.#source.close();
  }
}
