/**
 * Comparing a replayed image with an expected one (a QEMU destination's RAM or disk), page by
 * page, in constant memory; each difference names the record that last wrote the page.
 * @module
 */
import { equalBytes } from "../wire/compare.ts";
import { validPageSize } from "../protocol/stream_info.ts";
import { fileAccess, type RandomAccess, readPadded } from "../wire/random_access.ts";
import type { ReplayResult } from "./engine.ts";
import type { WriterMap } from "./writers.ts";

/** One differing page. */
export interface PageDiff {
  addr: number;
  /** Stream offset and kind of the last record that wrote the page (undefined: none did). */
  writer?: { offset: number; kind: string };
}

/** Verdict for one image. */
export interface CompareResult {
  name: string;
  actual: string;
  expected: string;
  pages: number;
  equal: number;
  different: number;
  actualSize: number;
  expectedSize: number;
  diffs: PageDiff[];
}

/**
 * Compares two files page by page; lists up to `maxDiffs` differing pages.
 *
 * @example
 * ```ts
 * import { compareImages } from "./verify.ts";
 * const dir = await Deno.makeTempDir();
 * const image = new Uint8Array(3 * 4096);
 * await Deno.writeFile(`${dir}/actual.img`, image);
 * image[4096 + 7] = 1;
 * await Deno.writeFile(`${dir}/expected.img`, image);
 * const r = compareImages("pc.ram", `${dir}/actual.img`, `${dir}/expected.img`, 4096);
 * await Deno.remove(dir, { recursive: true });
 * if (r.pages !== 3 || r.different !== 1 || r.diffs[0].addr !== 4096) {
 *   throw new Error("page 1 differs");
 * }
 * ```
 */
export function compareImages(
  name: string,
  actual: string,
  expected: string,
  pageSize: number,
  writers?: WriterMap,
  maxDiffs = 20,
  progress?: (bytes: number) => void,
): CompareResult {
  if (!validPageSize(pageSize)) {
    throw new Error(`cannot compare in pages of ${pageSize} bytes (not a power of two from 512)`);
  }
  const fa = fileAccess(actual);
  let fe;
  try {
    fe = fileAccess(expected);
  } catch (e) {
    fa.close();
    throw e;
  }
  try {
    const res: CompareResult = {
      name,
      actual,
      expected,
      pages: Math.ceil(Math.max(fa.size, fe.size) / pageSize),
      equal: 0,
      different: 0,
      actualSize: fa.size,
      expectedSize: fe.size,
      diffs: [],
    };
    const differ = (addr: number) => {
      res.different++;
      if (res.diffs.length < maxDiffs) {
        res.diffs.push({ addr, writer: writers?.get(addr / pageSize) });
      }
    };
    // Only the bytes both images have are read: pages past the shorter one differ by size, so
    // the work is bounded by the smaller file (a stream may declare a block of terabytes).
    const common = fa.size === fe.size
      ? fa.size
      : Math.floor(Math.min(fa.size, fe.size) / pageSize) * pageSize;
    comparePages(fa, fe, common, pageSize, res, differ, progress);
    for (
      let addr = Math.ceil(common / pageSize) * pageSize;
      addr < fa.size || addr < fe.size;
      addr += pageSize
    ) {
      if (res.diffs.length >= maxDiffs) {
        res.different += res.pages - Math.floor(addr / pageSize);
        break;
      }
      differ(addr);
    }
    return res;
  } finally {
    fa.close();
    fe.close();
  }
}

/** Compares the first `size` bytes of two files page by page, counting into `res`. */
function comparePages(
  fa: RandomAccess,
  fe: RandomAccess,
  size: number,
  pageSize: number,
  res: CompareResult,
  differ: (addr: number) => void,
  progress?: (bytes: number) => void,
): void {
  const chunk = Math.max(pageSize, Math.min(256 * pageSize, 1 << 20));
  const a = new Uint8Array(chunk);
  const e = new Uint8Array(chunk);
  for (let pos = 0; pos < size; pos += chunk) {
    const n = Math.min(chunk, size - pos);
    readPadded(fa, a.subarray(0, n), pos);
    readPadded(fe, e.subarray(0, n), pos);
    progress?.(n);
    for (let p = 0; p < n; p += pageSize) {
      const end = Math.min(p + pageSize, n);
      if (equalBytes(a.subarray(p, end), e.subarray(p, end))) res.equal++;
      else differ(pos + p);
    }
  }
}

/**
 * Compares every `expect` image (by RAM block or disk name) with the replayed one. Throws an
 * Error naming the image when a name is unknown or a file cannot be read.
 *
 * @example Replay, then verify against an image that differs in one byte
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { replayStream } from "./replay_stream.ts";
 * import { verifyImages } from "./verify.ts";
 * const dir = await Deno.makeTempDir();
 * const input = await openInput("samples/small-xbzrle.mig");
 * const result = await replayStream(input, {
 *   targets: { dir },
 *   parse: { vmdesc: input.vmdesc },
 *   trackWriters: true,
 * });
 * input.close();
 * const expected = await Deno.readFile(result.ram[0].path);
 * expected[5 * 4096] ^= 0xff;
 * await Deno.writeFile(`${dir}/expected.ram`, expected);
 * const [v] = verifyImages(result, new Map([["pc.ram", `${dir}/expected.ram`]]));
 * await Deno.remove(dir, { recursive: true });
 * if (v.different !== 1 || v.diffs[0].addr !== 5 * 4096 || !v.diffs[0].writer) {
 *   throw new Error("page 5 differs, and the record that last wrote it is named");
 * }
 * ```
 */
export function verifyImages(
  result: ReplayResult,
  expect: Map<string, string>,
  onProgress?: (done: number, total: number) => void,
): CompareResult[] {
  const out: CompareResult[] = [];
  const targets = [...result.ram, ...result.disks].filter((s) => expect.has(s.name));
  const total = targets.reduce((a, s) => a + s.size, 0);
  let done = 0;
  const progress = onProgress && ((n: number) => onProgress(done += n, total));
  for (const [name, file] of expect) {
    const s = result.ram.find((x) => x.name === name) ?? result.disks.find((x) => x.name === name);
    if (!s) {
      const have = [...result.ram, ...result.disks].map((x) => x.name).join(", ") || "none";
      throw new Error(
        `--expect ${name}: the stream has no RAM block or disk of that name (it has: ${have})`,
      );
    }
    const writers = result.writers.get(name) ?? result.writers.get(`disk:${name}`);
    try {
      out.push(compareImages(name, s.path, file, result.pageSize, writers, 20, progress));
    } catch (e) {
      throw new Error(`--expect ${name}=${file}: ${(e as Error).message}`);
    }
  }
  return out;
}
