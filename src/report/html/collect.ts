/**
 * One streaming pass over a migration stream for `migscope report`: inspect's summary (the
 * same {@link Summarizer}, so every number equals `inspect --json`), the timeline as bands,
 * and the RAM map and dirty passes from the RAM batches' columns (no object per page). Memory:
 * the summary, at most a few thousand bands and markers, and the map's cell grids.
 * @module
 */
import { bitmapCounts, hasRegion, readBitmap } from "../../parse/mapped_ram.ts";
import type { OpenedInput } from "../../parse/input.ts";
import { type ParseOptions, parseStreamItems } from "../../parse/stream.ts";
import type { RamBlockInfo } from "../../protocol/records.ts";
import { pacer } from "../../wire/pace.ts";
import { Summarizer, type Summary } from "../summary.ts";
import { TimelineBands } from "./bands.ts";
import { RamMap } from "./ram_map.ts";

/** Options of {@link collectStream}. */
export interface CollectOptions extends ParseOptions {
  /** Cells per block at most (default 4096). */
  maxCells?: number;
  /** Stops the pass with the signal's reason once aborted. */
  signal?: AbortSignal;
}

/** What one pass found; `error` is where the stream could not be read on. */
export interface Collected {
  summary: Summary;
  bands: TimelineBands;
  map: RamMap;
  error?: Error;
}

/** mapped-ram blocks: the bitmap's counts into the summary (as inspect) and pages onto the map. */
function mappedRam(input: OpenedInput, summary: Summary, blocks: RamBlockInfo[], map: RamMap) {
  const ps = summary.stream.pageSize;
  for (const b of summary.ram.blocks) {
    const info = blocks.find((x) => x.name === b.name);
    if (!b.mappedRam || !info || !hasRegion(info)) continue;
    const ra = input.reader.source.random;
    if (!ra) {
      return new Error(
        `'${b.name}' uses mapped-ram: its bitmap can only be read from a seekable, uncompressed file`,
      );
    }
    try {
      const withSize = { ...info, mappedRam: { ...info.mappedRam!, pageSize: ps } };
      const bm = readBitmap(ra, withSize, ps); // read once: counted, then mapped
      Object.assign(b.mappedRam, bitmapCounts(bm, b.size / ps));
      map.grid(b.name, b.size, ps);
      map.addBitmap(b.name, bm);
    } catch (e) {
      return e as Error;
    }
  }
  return undefined;
}

/**
 * Reads `input` to its end (or its first error) once. Never throws for malformed input; throws
 * the signal's reason when aborted.
 *
 * @example
 * ```ts
 * import { openInput } from "../../parse/input.ts";
 * import { collectStream } from "./collect.ts";
 * const input = await openInput("samples/small-xbzrle.mig");
 * const { summary, map } = await collectStream(input, { vmdesc: input.vmdesc });
 * input.close();
 * const grid = map.grids.get("pc.ram")!;
 * const xbzrle = grid.records.subarray(2 * grid.cells, 3 * grid.cells).reduce((a, v) => a + v);
 * if (xbzrle !== summary.ram.xbzrle) throw new Error("the map counts every XBZRLE record");
 * ```
 */
export async function collectStream(
  input: OpenedInput,
  opts: CollectOptions = {},
): Promise<Collected> {
  const sum = new Summarizer();
  const bands = new TimelineBands();
  const map = new RamMap(opts.maxCells);
  const pace = pacer(opts.signal);
  let blocks: RamBlockInfo[] = [];
  let error: Error | undefined;
  try {
    for await (const item of parseStreamItems(input.reader, { ...opts, payloads: false })) {
      const paced = pace();
      if (paced) await paced;
      sum.add(item);
      if (item.kind === "ram-batch") {
        map.addBatch(item);
        continue;
      }
      if (item.kind === "ram" && item.type === "mem_size") {
        blocks = item.blocks!;
        const ps = item.pageSize ?? sum.summary.stream.pageSize;
        for (const b of blocks) map.grid(b.name, b.size, ps);
      }
      // Every row but the last is final (only the last one grows): band it and let it go.
      const rows = sum.timeline;
      while (rows.length > 1) bands.add(rows.shift()!);
    }
  } catch (e) {
    if (opts.signal?.aborted && e === opts.signal.reason) throw e;
    error = e instanceof Error ? e : new Error(String(e));
  }
  for (const row of sum.timeline.splice(0)) bands.add(row);
  const summary = sum.finish();
  error ??= mappedRam(input, summary, blocks, map);
  return { summary, bands, map, error };
}
