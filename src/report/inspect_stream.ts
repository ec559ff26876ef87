/**
 * inspect as a library call: parse a stream, count it into a summary and timeline (RAM pages in
 * batches), add mapped-ram bitmap counts with positional reads, and stop cleanly at the first
 * malformed record with what was read before it.
 * @module
 */
import { bitmapCounts, readBitmap } from "../parse/mapped_ram.ts";
import type { OpenedInput } from "../parse/input.ts";
import { type ParseOptions, parseStreamItems } from "../parse/stream.ts";
import type { StreamError } from "../protocol/errors.ts";
import { type RamBatch, ramRecordAt } from "../protocol/ram_batch.ts";
import type { MigRecord } from "../protocol/records.ts";
import { Summarizer, type Summary, type TimelineRow } from "./summary.ts";

/** What {@link inspectStream} found. */
export interface InspectResult {
  summary: Summary;
  timeline: TimelineRow[];
  /** Why the stream could not be read to its end (everything before it is counted). */
  error?: StreamError | Error;
}

/** Options of {@link inspectStream}. */
export interface InspectStreamOptions extends ParseOptions {
  /**
   * Called with every record as an object, in order (page records too: slower). Without it,
   * page records are only counted.
   */
  visit?: (rec: MigRecord) => void | Promise<void>;
  /**
   * With `visit`: page records are handed over in batches (typed arrays, no object per page)
   * instead of one by one; the batch is reused once the call returns.
   */
  visitBatch?: (batch: RamBatch) => void;
  /**
   * Called with the stream offset read so far, about every {@link PROGRESS_BYTES} of stream or
   * {@link PROGRESS_MS} milliseconds, whichever comes first (never for a stream read faster).
   */
  onProgress?: (offset: number) => void;
  /**
   * Called with each timeline row once it is final — its fields never change after — in
   * stream order, every row of the result's `timeline` exactly once:
   * - a section row (START, PART, END, FULL) when the section is complete: when the next row
   *   starts (the next section, command, EOF, …) or the stream ends (or stops at an error);
   * - every other row (HEADER, CONFIGURATION, COMMAND, PACKAGE END, UNDELIMITED, EOF,
   *   VMDESCRIPTION, TRAILING) as soon as its record is read: nothing after it adds to it.
   *
   * Rows are handed over before `visit` sees the record that made them final. A returned
   * promise is awaited before the stream is read on (backpressure).
   */
  onRow?: (row: TimelineRow) => void | Promise<void>;
}

/** Timeline kinds whose row grows with the records after it (its pages, chunks, footer). */
const GROWING = new Set(["START", "PART", "END", "FULL"]);

/**
 * Hands the rows of `timeline` from `from` on that are final to `onRow`; with `all`, the last
 * row too (the stream is over). Resolves the index of the first row not handed over.
 */
async function finalRows(
  timeline: TimelineRow[],
  from: number,
  onRow: (row: TimelineRow) => void | Promise<void>,
  all: boolean,
): Promise<number> {
  let i = from;
  for (; i < timeline.length; i++) {
    const row = timeline[i];
    if (!all && i === timeline.length - 1 && GROWING.has(row.kind)) break;
    await onRow(row);
  }
  return i;
}

/** Stream bytes between two progress calls at most. */
export const PROGRESS_BYTES = 64 << 20;
/** Milliseconds between two progress calls at most. */
export const PROGRESS_MS = 100;

/** A function to call after each item: it calls `report` when enough bytes or time passed. */
function ticker(input: OpenedInput, report?: (offset: number) => void): (() => void) | undefined {
  if (!report) return undefined;
  let nextAt = PROGRESS_BYTES;
  let nextT = performance.now() + PROGRESS_MS;
  let n = 0;
  return () => {
    const pos = input.reader.pos;
    if (pos < nextAt && ((++n & 15) !== 0 || performance.now() < nextT)) return;
    nextAt = pos + PROGRESS_BYTES;
    nextT = performance.now() + PROGRESS_MS;
    report(pos);
  };
}

function mappedRamCounts(input: OpenedInput, summary: Summary): Error | undefined {
  const ps = summary.stream.pageSize;
  for (const b of summary.ram.blocks) {
    const m = b.mappedRam;
    if (!m || (m.bitmapOffset === 0 && m.pagesOffset === 0)) continue;
    const ra = input.reader.source.random;
    if (!ra) {
      return new Error(
        `'${b.name}' uses mapped-ram: its bitmap can only be read from a seekable, uncompressed file`,
      );
    }
    try {
      const info = { name: b.name, size: b.size, mappedRam: { ...m, version: 1, pageSize: ps } };
      Object.assign(m, bitmapCounts(readBitmap(ra, info, ps), b.size / ps));
    } catch (e) {
      return e as Error;
    }
  }
  return undefined;
}

/**
 * Reads `input` to its end and summarises it. Never throws for malformed input: the result
 * holds the error and everything counted before it.
 *
 * @example
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { inspectStream } from "./inspect_stream.ts";
 * const input = await openInput("samples/small-xbzrle.mig");
 * const { summary, error } = await inspectStream(input, { vmdesc: input.vmdesc });
 * input.close();
 * if (error || summary.ram.xbzrle === 0) throw new Error("the sample has XBZRLE pages");
 * ```
 *
 * @example Each timeline row handed over once it is final (a live view's rows)
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { inspectStream } from "./inspect_stream.ts";
 * const input = await openInput((await Deno.open("samples/small-block.mig")).readable);
 * const kinds: string[] = [];
 * const { timeline } = await inspectStream(input, { onRow: (row) => void kinds.push(row.kind) });
 * input.close();
 * if (kinds.join() !== timeline.map((r) => r.kind).join() || kinds[0] !== "HEADER") {
 *   throw new Error("every row once, in stream order");
 * }
 * ```
 */
export async function inspectStream(
  input: OpenedInput,
  opts: InspectStreamOptions = {},
): Promise<InspectResult> {
  const sum = new Summarizer();
  const payloads = opts.payloads ?? false;
  let error: StreamError | Error | undefined;
  const tick = ticker(input, opts.onProgress);
  const onRow = opts.onRow;
  let rowsOut = 0;
  try {
    for await (const item of parseStreamItems(input.reader, { ...opts, payloads })) {
      sum.add(item);
      tick?.();
      // Only a record opens a row (a batch of pages adds to the open one).
      if (onRow && item.kind !== "ram-batch" && rowsOut < sum.timeline.length) {
        rowsOut = await finalRows(sum.timeline, rowsOut, onRow, false);
      }
      if (!opts.visit) continue;
      if (item.kind !== "ram-batch") await opts.visit(item);
      else if (opts.visitBatch) opts.visitBatch(item);
      else for (let i = 0; i < item.count; i++) await opts.visit(ramRecordAt(item, i, payloads));
    }
  } catch (e) {
    error = e as Error;
  }
  if (onRow) await finalRows(sum.timeline, rowsOut, onRow, true);
  const summary = sum.finish();
  error ??= mappedRamCounts(input, summary);
  return { summary, timeline: sum.timeline, error };
}
