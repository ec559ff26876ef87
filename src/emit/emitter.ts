/**
 * Emitting migration streams from RAM images, rounds of dirtied memory and disks, following
 * QEMU 7.2's source rules: zero pages as ZERO records, a bulk pass then one pass per round,
 * XBZRLE only after the first complete pass with QEMU's cache decisions, CONTINUE headers,
 * EOS per section, block migration in 1 MiB chunks with PROGRESS and optional ZERO_BLOCK.
 * Output is written incrementally; memory does not grow with image size.
 * @module
 */
import { DEFAULT_PAGE_SIZE } from "../protocol/constants.ts";
import type { RamBlockInfo } from "../protocol/records.ts";
import { type ByteSink, ByteWriter } from "../wire/writer.ts";
import { type Pace, pacer } from "../wire/pace.ts";
import { readPadded } from "../wire/random_access.ts";
import { equalBytes } from "../wire/compare.ts";
import { isAllZero } from "../wire/zero.ts";
import { PageCache } from "../xbzrle/cache.ts";
import { XBZRLE_OVERFLOW, XBZRLE_UNCHANGED, xbzrleEncode } from "../xbzrle/encode.ts";
import * as F from "./frame.ts";
import type { EmitDisk, EmitOptions, EmitRamBlock, EmitStats, ImageSource } from "./types.ts";
import { emitDisks } from "./block.ts";
import type { Template } from "./template.ts";

export type { EmitDisk, EmitOptions, EmitRamBlock, EmitStats, ImageSource } from "./types.ts";

const CHUNK_PAGES = 256;

/**
 * Writes a complete stream for `ram` (and `disks`) to `sink`; returns the stats.
 *
 * @example Emit two pages from memory into an in-memory sink, then parse them back
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { parseStream } from "../parse/stream.ts";
 * import { bytesAccess } from "../wire/random_access.ts";
 * import { emitStream } from "./emitter.ts";
 * const ram = new Uint8Array(2 * 4096).fill(0xab, 0, 4096); // a data page, then a zero page
 * const chunks: Uint8Array[] = [];
 * const stats = await emitStream([{ name: "pc.ram", image: bytesAccess(ram) }], [], (b) => {
 *   chunks.push(b);
 *   return Promise.resolve();
 * });
 * const input = await openInput(ReadableStream.from(chunks));
 * const pages: string[] = [];
 * for await (const rec of parseStream(input.reader)) {
 *   if (rec.kind === "ram" && (rec.type === "page" || rec.type === "zero")) {
 *     pages.push(`${rec.type}@${rec.addr}`);
 *   }
 * }
 * input.close();
 * if (stats.normal !== 1 || stats.duplicate !== 1 || pages.join() !== "page@0,zero@4096") {
 *   throw new Error("one PAGE record and one ZERO record");
 * }
 * ```
 */
export async function emitStream(
  ram: EmitRamBlock[],
  disks: EmitDisk[],
  sink: ByteSink,
  opts: EmitOptions = {},
): Promise<EmitStats> {
  const tpl = opts.template;
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const footers = tpl ? tpl.footers : (opts.footers ?? true);
  const w = new ByteWriter(sink, 4 << 20);
  const rounds = Math.max(0, ...ram.map((b) => b.rounds?.length ?? 0));
  const stats: EmitStats = {
    normal: 0,
    duplicate: 0,
    ramBytes: 0,
    streamBytes: 0,
    dirtySyncCount: 1,
    passes: 0,
  };
  checkImages(ram, tpl, pageSize);
  if (tpl?.mappedRam) throw new Error("the template is a mapped-ram file: emit with --mapped-ram");
  const pace = pacer(opts.signal);
  const ramId = tpl?.ramSectionId ?? 2;
  const blockId = tpl?.blockSectionId ?? 1;
  const foot = (id: number) => footers && F.writeFooter(w, id);

  F.writeHeader(w);
  if (tpl?.configuration) w.bytes(tpl.configuration);
  else if (!tpl) F.writeConfiguration(w, opts.machine ?? "pc-i440fx-7.2");
  for (const early of tpl?.earlyDevices ?? []) w.bytes(early);

  if (disks.length) {
    F.writeSectionFull(w, "START", blockId, "block", 0, 1);
    F.writeBlockEos(w);
    foot(blockId);
  }
  // Blocks are listed in the template's order when there is one, else as given.
  const order = tpl
    ? tpl.blocks.map((t) => ram.find((b) => b.name === t.name)).filter((b) => b !== undefined)
    : ram;
  const infos: RamBlockInfo[] = order.map((b) => ({ name: b.name, size: b.image.size }));
  F.writeSectionFull(w, "START", ramId, "ram", 0, 4);
  F.writeRamMemSize(w, infos);
  F.writeRamEos(w);
  foot(ramId);

  if (disks.length) {
    stats.block = { data: 0, zero: 0, progress: 0 };
    F.writeSectionShort(w, "PART", blockId);
    await emitDisks(w, disks, opts.zeroBlocks ?? false, stats.block, pace);
    F.writeBlockEos(w);
    foot(blockId);
  }

  await emitRamPasses(w, order, rounds, {
    tpl,
    pageSize,
    ramId,
    foot,
    stats,
    cacheSize: opts.xbzrleCacheSize,
    pace,
    progress: progressOf(order, opts.onProgress),
  });
  if (disks.length) {
    F.writeSectionShort(w, "END", blockId);
    F.writeBlockProgress(w, 100);
    stats.block!.progress++;
    F.writeBlockEos(w);
    foot(blockId);
  }
  for (const dev of tpl?.devices ?? []) w.bytes(dev);
  F.writeEof(w);
  if (tpl?.trailer) w.bytes(tpl.trailer);
  else if (!tpl) F.writeVmdesc(w, JSON.stringify({ page_size: pageSize, devices: [] }));
  stats.streamBytes = w.offset;
  await w.flush();
  return stats;
}

/** Image sizes against the page size, the rounds and the template. */
function checkImages(ram: EmitRamBlock[], tpl: Template | undefined, pageSize: number) {
  for (const b of ram) {
    if (b.image.size % pageSize !== 0) {
      throw new Error(
        `RAM image '${b.name}' is ${b.image.size} bytes, not a multiple of the page size ${pageSize}`,
      );
    }
    for (const [k, r] of (b.rounds ?? []).entries()) {
      if (r && r.size !== b.image.size) {
        throw new Error(
          `round ${
            k + 1
          } image of '${b.name}' is ${r.size} bytes, the initial image ${b.image.size}`,
        );
      }
    }
    if (tpl) {
      const t = tpl.blocks.find((x) => x.name === b.name);
      if (!t) {
        throw new Error(
          `RAM block '${b.name}' is not in the template (it has ${
            tpl.blocks.map((x) => x.name).join(", ")
          })`,
        );
      }
      if (t.size !== b.image.size) {
        throw new Error(
          `RAM image '${b.name}' is ${b.image.size} bytes; the template's block is ${t.size}`,
        );
      }
    }
  }
}

/** The bulk pass and one pass per round (the last is the completion stage, END). */
async function emitRamPasses(
  w: ByteWriter,
  order: EmitRamBlock[],
  rounds: number,
  o: {
    tpl?: Template;
    pageSize: number;
    ramId: number;
    foot: (id: number) => void;
    stats: EmitStats;
    cacheSize?: number;
    pace: Pace;
    progress?: (bytes: number) => void;
  },
) {
  const { tpl, pageSize, ramId, foot, stats } = o;
  // ram_addr of each block, for cache indexing: blocks laid end to end in list order.
  const base = new Map<string, number>();
  let at = 0;
  for (const b of order) {
    base.set(b.name, at);
    at += b.image.size;
  }
  const cache = o.cacheSize ? new PageCache(o.cacheSize, pageSize) : undefined;
  if (cache) {
    stats.xbzrle = { pages: 0, records: 0, bytes: 0, cacheMiss: 0, overflow: 0, skipped: 0 };
  }
  const state: PassState = {
    lastSent: undefined,
    cache,
    base,
    pageSize,
    stats,
    enc: new Uint8Array(pageSize),
    pace: o.pace,
    progress: o.progress,
  };

  // Bulk pass: every page.
  F.writeSectionShort(w, "PART", ramId);
  await emitPass(w, order, -1, state, false, false);
  F.writeRamEos(w);
  foot(ramId);
  // One pass per round; the last one is the completion stage (END).
  for (let k = 0; k < rounds; k++) {
    stats.dirtySyncCount++;
    const last = k === rounds - 1;
    if (last && tpl?.switchoverStart) F.writeCommand(w, 11);
    F.writeSectionShort(w, last ? "END" : "PART", ramId);
    await emitPass(w, order, k, state, cache !== undefined, last);
    F.writeRamEos(w);
    foot(ramId);
  }
  if (rounds === 0) {
    stats.dirtySyncCount++;
    if (tpl?.switchoverStart) F.writeCommand(w, 11);
    F.writeSectionShort(w, "END", ramId);
    F.writeRamEos(w);
    foot(ramId);
  }
}

interface PassState {
  lastSent: string | undefined;
  cache?: PageCache;
  base: Map<string, number>;
  pageSize: number;
  stats: EmitStats;
  enc: Uint8Array;
  pace: Pace;
  progress?: (bytes: number) => void;
}

/** Counts RAM bytes read across the passes for `onProgress` (of every image of every block). */
function progressOf(
  order: EmitRamBlock[],
  onProgress: EmitOptions["onProgress"],
): ((bytes: number) => void) | undefined {
  if (!onProgress) return undefined;
  const total = order.reduce(
    (a, b) => a + b.image.size * (1 + (b.rounds ?? []).filter(Boolean).length),
    0,
  );
  let done = 0;
  return (bytes) => onProgress(done += bytes, total);
}

/** Image of `b` as of round `k` (-1: the initial image). */
function imageAt(b: EmitRamBlock, k: number): ImageSource {
  for (let i = k; i >= 0; i--) {
    const r = b.rounds?.[i];
    if (r) return r;
  }
  return b.image;
}

async function emitPass(
  w: ByteWriter,
  blocks: EmitRamBlock[],
  round: number,
  st: PassState,
  xbzrle: boolean,
  lastStage: boolean,
): Promise<void> {
  const ps = st.pageSize;
  const cur = new Uint8Array(CHUNK_PAGES * ps);
  const prev = new Uint8Array(CHUNK_PAGES * ps);
  const age = st.stats.dirtySyncCount;
  st.stats.passes++;
  for (const b of blocks) {
    const img = imageAt(b, round);
    const before = round >= 0 ? imageAt(b, round - 1) : undefined;
    if (before === img) continue; // unchanged in this round: nothing dirty
    const base = st.base.get(b.name)!;
    for (let off = 0; off < img.size; off += cur.length) {
      await st.pace();
      const len = Math.min(cur.length, img.size - off);
      readPadded(img, cur.subarray(0, len), off);
      if (before) readPadded(before, prev.subarray(0, len), off);
      st.progress?.(len);
      for (let p = 0; p < len; p += ps) {
        const page = cur.subarray(p, p + ps);
        if (before && equalBytes(page, prev.subarray(p, p + ps))) continue;
        const addr = off + p;
        const name = st.lastSent === b.name ? undefined : b.name;
        if (isAllZero(page)) {
          const start = w.offset;
          F.writeRamZero(w, addr, name);
          st.lastSent = b.name;
          st.stats.duplicate++;
          st.stats.ramBytes += w.offset - start;
          if (xbzrle) st.cache!.insert(base + addr, page, age);
        } else if (xbzrle) {
          emitXbzrlePage(w, b.name, addr, base + addr, page, st, age, lastStage);
        } else {
          writePage(w, b.name, addr, page, st);
        }
        await w.maybeFlush();
      }
    }
  }
}

function writePage(
  w: ByteWriter,
  block: string,
  addr: number,
  data: Uint8Array,
  st: PassState,
): void {
  const start = w.offset;
  F.writeRamPage(w, addr, data, st.lastSent === block ? undefined : block);
  st.lastSent = block;
  st.stats.normal++;
  st.stats.ramBytes += w.offset - start;
}

function emitXbzrlePage(
  w: ByteWriter,
  block: string,
  addr: number,
  ramAddr: number,
  page: Uint8Array,
  st: PassState,
  age: number,
  lastStage: boolean,
): void {
  const cache = st.cache!;
  const x = st.stats.xbzrle!;
  if (!cache.lookup(ramAddr, age)) {
    x.cacheMiss++;
    if (!lastStage) cache.insert(ramAddr, page, age);
    writePage(w, block, addr, page, st);
    return;
  }
  x.pages++;
  const prev = cache.get(ramAddr);
  const n = xbzrleEncode(prev, page, st.enc, st.pageSize);
  if (!lastStage && n !== XBZRLE_UNCHANGED) prev.set(page);
  if (n === XBZRLE_UNCHANGED) {
    x.skipped++;
    return;
  }
  if (n === XBZRLE_OVERFLOW) {
    x.overflow++;
    x.bytes += st.pageSize;
    writePage(w, block, addr, page, st);
    return;
  }
  const start = w.offset;
  F.writeRamXbzrle(w, addr, st.enc.subarray(0, n), st.lastSent === block ? undefined : block);
  st.lastSent = block;
  x.records++;
  x.bytes += w.offset - start - 8;
  st.stats.ramBytes += w.offset - start;
}
