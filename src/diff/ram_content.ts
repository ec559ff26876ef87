/**
 * The RAM content aspect of `diff`: two images of one RAM block (or disk), as the two replays
 * left them, compared page by page in constant memory — 1 MiB read from each at a time; what
 * is kept is bounded (the first {@link MAX_RANGES} runs of differing pages, the first
 * {@link MAX_SAMPLES} pages' first differing bytes), the counts are complete.
 * {@link compareReplaysAsync} gives the event loop a turn every {@link YIELD_BYTES} and stops
 * when its signal aborts, so Ctrl-C / SIGTERM act during a long comparison.
 * @module
 */
import type { ReplayResult } from "../replay/engine.ts";
import type { TargetStats } from "../replay/slot.ts";
import { equalBytes } from "../wire/compare.ts";
import { fileAccess, type RandomAccess, readPadded } from "../wire/random_access.ts";
import {
  type ContentAspect,
  type ContentDiff,
  MAX_RANGES,
  MAX_SAMPLES,
  type PageSample,
} from "./types.ts";

/** Bytes compared between two turns of the event loop in {@link compareReplaysAsync}. */
const YIELD_BYTES = 4 << 20;

/** Bytes of a sample. */
const SAMPLE_BYTES = 16;

function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, "0");
  return s;
}

function sample(addr: number, a: Uint8Array, b: Uint8Array): PageSample {
  let offset = 0;
  while (offset < a.length && a[offset] === b[offset]) offset++;
  const end = Math.min(offset + SAMPLE_BYTES, a.length);
  return { addr, offset, a: hex(a.subarray(offset, end)), b: hex(b.subarray(offset, end)) };
}

/** A comparison under way: where the last differing page ended. */
type Work = ContentDiff & { lastEnd?: number };

/** Counts a differing page into `d`: its run (extended or new) and, while few, its sample. */
function differ(d: Work, addr: number, pageSize: number, a: Uint8Array, b: Uint8Array): void {
  d.different++;
  if (d.lastEnd === addr) {
    if (d.ranges.length === d.rangeCount) d.ranges[d.ranges.length - 1].pages++;
  } else {
    d.rangeCount++;
    if (d.ranges.length < MAX_RANGES) d.ranges.push({ addr, pages: 1 });
  }
  d.lastEnd = addr + pageSize;
  if (d.samples.length < MAX_SAMPLES) d.samples.push(sample(addr, a, b));
}

/**
 * Compares the first `size` bytes of two images, page by page, into `d`; yields the position
 * after each chunk read (the caller may pause there).
 */
function* comparePages(
  fa: RandomAccess,
  fb: RandomAccess,
  size: number,
  pageSize: number,
  d: Work,
): Generator<number> {
  const chunk = Math.max(pageSize, Math.floor((1 << 20) / pageSize) * pageSize);
  const a = new Uint8Array(chunk);
  const b = new Uint8Array(chunk);
  for (let pos = 0; pos < size; pos += chunk) {
    const n = Math.min(chunk, size - pos);
    readPadded(fa, a.subarray(0, n), pos);
    readPadded(fb, b.subarray(0, n), pos);
    for (let p = 0; p < n; p += pageSize) {
      const end = Math.min(p + pageSize, n);
      const pa = a.subarray(p, end);
      const pb = b.subarray(p, end);
      if (!equalBytes(pa, pb)) differ(d, pos + p, pageSize, pa, pb);
    }
    yield pos + n;
  }
}

/**
 * Compares two image files of the block `name` page by page: the pages both have (a block of
 * two sizes is compared over the smaller; `equal` is then false whatever the pages say).
 * Throws an Error naming the file that cannot be read.
 *
 * @example
 * ```ts
 * import { compareContent } from "./ram_content.ts";
 * const dir = await Deno.makeTempDir();
 * const img = new Uint8Array(8 * 4096);
 * await Deno.writeFile(`${dir}/a`, img);
 * img[2 * 4096 + 5] = 1;
 * img[3 * 4096] = 1;
 * img[6 * 4096] = 1;
 * await Deno.writeFile(`${dir}/b`, img);
 * const d = compareContent("pc.ram", "ram", `${dir}/a`, `${dir}/b`, 4096);
 * await Deno.remove(dir, { recursive: true });
 * const runs = d.ranges.map((r) => `${r.addr}+${r.pages}`).join();
 * if (d.different !== 3 || runs !== "8192+2,24576+1" || d.samples[0].offset !== 5) {
 *   throw new Error(runs);
 * }
 * ```
 */
export function compareContent(
  name: string,
  kind: "ram" | "disk",
  pathA: string,
  pathB: string,
  pageSize: number,
): ContentDiff {
  const c = openPair(name, kind, pathA, pathB, pageSize);
  try {
    for (const _ of c.steps);
    return c.result();
  } finally {
    c.close();
  }
}

/** A comparison of two image files: its steps, its result once they are done, its close. */
function openPair(
  name: string,
  kind: "ram" | "disk",
  pathA: string,
  pathB: string,
  pageSize: number,
): { steps: Generator<number>; result: () => ContentDiff; close: () => void } {
  const fa = fileAccess(pathA);
  let fb: RandomAccess;
  try {
    fb = fileAccess(pathB);
  } catch (e) {
    fa.close();
    throw e;
  }
  const common = Math.min(fa.size, fb.size);
  const d: Work = {
    name,
    kind,
    sizeA: fa.size,
    sizeB: fb.size,
    pages: Math.ceil(common / pageSize),
    different: 0,
    equal: false,
    ranges: [],
    rangeCount: 0,
    samples: [],
  };
  return {
    steps: comparePages(fa, fb, common, pageSize, d),
    result() {
      delete d.lastEnd;
      d.equal = d.different === 0 && d.sizeA === d.sizeB;
      return d;
    },
    close() {
      fa.close();
      fb.close();
    },
  };
}

/** {@link compareContent}, giving the event loop a turn every few MiB; stops when `signal` aborts. */
async function compareContentAsync(
  name: string,
  kind: "ram" | "disk",
  pathA: string,
  pathB: string,
  pageSize: number,
  signal?: AbortSignal,
): Promise<ContentDiff> {
  const c = openPair(name, kind, pathA, pathB, pageSize);
  try {
    let next = YIELD_BYTES;
    for (const pos of c.steps) {
      if (pos < next) continue;
      next = pos + YIELD_BYTES;
      await new Promise((r) => setTimeout(r, 0));
      signal?.throwIfAborted();
    }
    return c.result();
  } finally {
    c.close();
  }
}

function images(r: ReplayResult): Map<string, [TargetStats, "ram" | "disk"]> {
  const m = new Map<string, [TargetStats, "ram" | "disk"]>();
  for (const s of r.ram) m.set(`ram\u0000${s.name}`, [s, "ram"]);
  for (const s of r.disks) m.set(`disk\u0000${s.name}`, [s, "disk"]);
  return m;
}

/** The images two replays left, matched: what compareReplays and {@link compareReplaysAsync} share. */
export interface ReplayMatch {
  /** The images both left (A's order): name, kind, A's path, B's path. */
  pairs: [string, "ram" | "disk", string, string][];
  /** The aspect, given the pairs' comparisons in their order. */
  aspect(blocks: ContentDiff[]): ContentAspect;
}

/**
 * Matches the images of two replays by kind and name ({@link ReplayMatch}), or the aspect
 * that says why they are not compared page by page (different target page sizes).
 */
export function matchReplays(a: ReplayResult, b: ReplayResult): ReplayMatch | ContentAspect {
  if (a.pageSize !== b.pageSize) {
    const reason = `target page sizes differ (A ${a.pageSize}, B ${b.pageSize})`;
    return { compared: false, reason, equal: false, blocks: [], onlyA: [], onlyB: [] };
  }
  const ia = images(a);
  const ib = images(b);
  const pairs: ReplayMatch["pairs"] = [];
  for (const [k, [sa, kind]] of ia) {
    const other = ib.get(k);
    if (other) pairs.push([sa.name, kind, sa.path, other[0].path]);
  }
  const label = ([s, kind]: [TargetStats, string]) => (kind === "disk" ? `disk ${s.name}` : s.name);
  const onlyA = [...ia].filter(([k]) => !ib.has(k)).map(([, v]) => label(v));
  const onlyB = [...ib].filter(([k]) => !ia.has(k)).map(([, v]) => label(v));
  const aspect = (blocks: ContentDiff[]): ContentAspect => ({
    compared: true,
    equal: blocks.every((d) => d.equal) && onlyA.length + onlyB.length === 0,
    pageSize: a.pageSize,
    blocks,
    onlyA,
    onlyB,
  });
  return { pairs, aspect };
}

/**
 * src/diff/diff.ts's compareReplays, comparing each block with the event loop given a turn
 * every {@link YIELD_BYTES} and `signal` checked there (it throws the abort's reason): the same
 * result. Throws an Error when an image cannot be read.
 */
export async function compareReplaysAsync(
  a: ReplayResult,
  b: ReplayResult,
  signal?: AbortSignal,
): Promise<ContentAspect> {
  const m = matchReplays(a, b);
  if (!("pairs" in m)) return m;
  const blocks: ContentDiff[] = [];
  for (const [name, kind, pathA, pathB] of m.pairs) {
    blocks.push(await compareContentAsync(name, kind, pathA, pathB, a.pageSize, signal));
  }
  return m.aspect(blocks);
}
