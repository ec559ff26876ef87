/**
 * The RAM content aspect of `diff`: two images of one RAM block (or disk), as the two replays
 * left them, compared page by page in constant memory — 1 MiB read from each at a time; what
 * is kept is bounded (the first {@link MAX_RANGES} runs of differing pages, the first
 * {@link MAX_SAMPLES} pages' first differing bytes), the counts are complete.
 * @module
 */
import { equalBytes } from "../wire/compare.ts";
import { fileAccess, type RandomAccess, readPadded } from "../wire/random_access.ts";
import { type ContentDiff, MAX_RANGES, MAX_SAMPLES, type PageSample } from "./types.ts";

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

/** Compares the first `size` bytes of two images, page by page, into `d`. */
function comparePages(
  fa: RandomAccess,
  fb: RandomAccess,
  size: number,
  pageSize: number,
  d: Work,
): void {
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
  const fa = fileAccess(pathA);
  let fb;
  try {
    fb = fileAccess(pathB);
  } catch (e) {
    fa.close();
    throw e;
  }
  try {
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
    comparePages(fa, fb, common, pageSize, d);
    delete d.lastEnd;
    d.equal = d.different === 0 && fa.size === fb.size;
    return d;
  } finally {
    fa.close();
    fb.close();
  }
}
