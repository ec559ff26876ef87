/**
 * inspect as a library call: parse a stream, count it into a summary and timeline (RAM pages in
 * batches), add mapped-ram bitmap counts with positional reads, and stop cleanly at the first
 * malformed record with what was read before it.
 * @module
 */
import { bitmapCounts } from "../parse/mapped_ram.ts";
import type { OpenedInput } from "../parse/input.ts";
import { type ParseOptions, parseStreamItems } from "../parse/stream.ts";
import type { StreamError } from "../protocol/errors.ts";
import { ramRecordAt } from "../protocol/ram_batch.ts";
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
   * Called with the stream offset read so far, about every {@link PROGRESS_BYTES} of stream or
   * {@link PROGRESS_MS} milliseconds, whichever comes first (never for a stream read faster).
   */
  onProgress?: (offset: number) => void;
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
      Object.assign(m, bitmapCounts(ra, info, ps));
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
 */
export async function inspectStream(
  input: OpenedInput,
  opts: InspectStreamOptions = {},
): Promise<InspectResult> {
  const sum = new Summarizer();
  const payloads = opts.payloads ?? false;
  let error: StreamError | Error | undefined;
  const tick = ticker(input, opts.onProgress);
  try {
    for await (const item of parseStreamItems(input.reader, { ...opts, payloads })) {
      sum.add(item);
      tick?.();
      if (!opts.visit) continue;
      if (item.kind !== "ram-batch") await opts.visit(item);
      else for (let i = 0; i < item.count; i++) await opts.visit(ramRecordAt(item, i, payloads));
    }
  } catch (e) {
    error = e as Error;
  }
  const summary = sum.finish();
  error ??= mappedRamCounts(input, summary);
  return { summary, timeline: sum.timeline, error };
}
