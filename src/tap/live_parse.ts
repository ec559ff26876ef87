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
import type { ParseOptions } from "../parse/state.ts";
import { type InspectResult, inspectStream } from "../report/inspect_stream.ts";
import type { TimelineRow } from "../report/summary.ts";
import { errorObject } from "../report/documents.ts";
import type { MigRecord } from "../protocol/records.ts";
import { ByteReader } from "../wire/reader.ts";
import { RAM_CODE, type RamBatch } from "../protocol/ram_batch.ts";
import type { PassEvent, TapEvent } from "./events.ts";
import { PUSH_LIMIT } from "./push_source.ts";
import { FedParser } from "./fed_parser.ts";

/**
 * Most bytes the live parser holds to find the trailer that delimits device sections (a stream
 * without section footers, e.g. QEMU before 2.12-era machine types): 64 MiB, a quarter of
 * inspect's default for a pipe. A stream that needs more stops being followed there (every
 * byte is still forwarded).
 */
export const TAP_MAX_DEVICE_TAIL = 64 << 20;

/** What the live parse is told up front (as inspect's --page-size and --vmdesc). */
export type LiveParseOptions = Pick<ParseOptions, "pageSize" | "vmdesc">;

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

/** RAM record types that are pages (what a dirty pass counts), by their batch code. */
const PAGE_CODES: Partial<Record<string, number>> = {
  zero: RAM_CODE.ZERO,
  page: RAM_CODE.PAGE,
  xbzrle: RAM_CODE.XBZRLE,
  compressed: RAM_CODE.COMPRESSED,
};

/**
 * Follows the RAM records inspectStream visits: the dirty pass of each section's last page
 * record (handed over with the section's row: rows come before the record that makes them
 * final), and each dirty pass's counts, told once the next pass starts (or the stream ends).
 */
class PassTracker {
  readonly #emit: (e: TapEvent) => void;
  readonly #now: () => number;
  #pass?: Omit<PassEvent, "t" | "ms"> & { start: number };
  /** Pass of the last page record since the last row was handed over. */
  #rowPass?: number;
  /** The stream's postcopy pass (StreamInfo.postcopyPass), once known. */
  #postcopyPass?: number;

  constructor(emit: (e: TapEvent) => void, now: () => number) {
    this.#emit = emit;
    this.#now = now;
  }

  /** A page record handed over alone (pages normally come in batches: {@link visitBatch}). */
  visit = (rec: MigRecord): void => {
    if (rec.kind !== "ram") return;
    const code = PAGE_CODES[rec.type];
    if (code !== undefined) this.#page(rec.pass, code, rec.length);
  };

  /** The page records of a batch, counted by pass. */
  visitBatch = (b: RamBatch): void => {
    const { code, pass, length } = b;
    this.#postcopyPass = b.info.postcopyPass;
    for (let i = 0; i < b.count; i++) {
      const c = code[i];
      if (c >= RAM_CODE.ZERO && c <= RAM_CODE.COMPRESSED) this.#page(pass[i], c, length[i]);
    }
  };

  #page(index: number, code: number, length: number): void {
    this.#rowPass = index;
    let p = this.#pass;
    if (!p || p.index !== index) {
      this.flush();
      p = this.#pass = {
        type: "pass",
        index,
        pages: 0,
        zero: 0,
        xbzrle: 0,
        bytes: 0,
        start: this.#now(),
        ...(index === this.#postcopyPass && { postcopy: true as const }),
      };
    }
    p.pages++;
    if (code === RAM_CODE.ZERO) p.zero++;
    else if (code === RAM_CODE.XBZRLE) p.xbzrle++;
    p.bytes += length;
  }

  /** The pass of the row being handed over (its last page record's), then forgotten. */
  rowPass(): number | undefined {
    const pass = this.#rowPass;
    this.#rowPass = undefined;
    return pass;
  }

  /** The current pass is over. */
  flush(): void {
    const p = this.#pass;
    if (!p) return;
    this.#pass = undefined;
    const t = this.#now();
    const { start, ...counts } = p;
    this.#emit({ ...counts, t, ms: t - start });
  }
}

/** The main channel's live parse. */
export class LiveParser extends FedParser {
  /** The parse's result, once the stream ended (or the parser stopped). */
  readonly done: Promise<InspectResult>;

  /** Starts parsing; events go to `emit`, stamped with `now()` (ms since the tap started). */
  constructor(
    emit: (e: TapEvent) => void,
    now: () => number,
    limit = PUSH_LIMIT,
    parse: LiveParseOptions = {},
  ) {
    super(limit);
    const source = this.source;
    const input: OpenedInput = {
      reader: new ByteReader(source),
      gzip: false,
      name: "main connection",
      close: () => source.close(),
    };
    const passes = new PassTracker(emit, now);
    const onRow = (row: TimelineRow) => {
      const e = rowEvent(row, now(), passes.rowPass());
      if (e) emit(e);
    };
    const opts = {
      ...parse,
      maxDeviceTail: TAP_MAX_DEVICE_TAIL,
      visit: passes.visit,
      visitBatch: passes.visitBatch,
      onRow,
    };
    // The source is closed first whatever happens: the lent buffers go back to the forwarding.
    this.done = inspectStream(input, opts).finally(() => source.close()).then((res) => {
      passes.flush();
      if (res.error) {
        const { offset, section, record, message } = errorObject(res.error);
        emit({ type: "parse-error", t: now(), offset, section, record, message });
      }
      return res;
    });
  }
}
