/**
 * XBZRLE codec benchmarks (`deno bench --allow-read bench/xbzrle_bench.ts`).
 *
 * Group "workload" replays tools/bench.ts's "XBZRLE encode/decode" measurement in memory: the
 * first 8192 pages that differ between its RAM image and the image after one round (same
 * generator, same seeds 1 and 2), encoded one after the other, then decoded on top of a copy of
 * the old page (the copy is part of the decode timing, as in tools/bench.ts). Each iteration
 * moves 8192 pages = 32 MiB of page data, so GB/s = 33.554 / (time per iteration in ms).
 *
 * Group "micro" has the hot_bench.ts cases (sparse, dense, overflow) on one cached page, 256
 * pages = 1 MiB per iteration, so GB/s = 1.049 / (time per iteration in ms).
 *
 * Each group has a memcpy of the same amount of page data as baseline.
 */
import { xbzrleEncode } from "../src/xbzrle/encode.ts";
import { xbzrleDecode } from "../src/xbzrle/decode.ts";

const PAGE = 4096;

/** tools/bench.ts's randomFill: xorshift32 on 32-bit lanes. */
function randomFill(buf: Uint8Array, seed: number) {
  const u = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < u.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    u[i] = x;
  }
}

/**
 * The changed page pairs of tools/bench.ts's writeImage(r0, seed 1) and writeImage(r1, seed 2,
 * r0), in page order, at most `max`. Base pages are only materialised where the round changes
 * them (the generator's state only advances per run and per random page, so this is the same
 * sequence as writing the whole image).
 */
function workload(max: number): { oldP: Uint8Array[]; newP: Uint8Array[] } {
  const oldP: Uint8Array[] = [];
  const newP: Uint8Array[] = [];
  let x = 1;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  let runLeft = 0;
  let zeroRun = false;
  let text = false;
  const seed = 2;
  for (let p = 0; oldP.length < max && p < 262144; p++) {
    // Base image page p.
    if (runLeft === 0) {
      zeroRun = !zeroRun;
      runLeft = zeroRun ? 1 + (rnd() % 300) : 1 + (rnd() % 128);
      text = rnd() % 5 === 0;
    }
    runLeft--;
    const kind = zeroRun ? 0 : text ? 1 : 2;
    const fillSeed = kind === 2 ? rnd() : 0;
    // The round's decision for page p.
    const n = p * 2654435761 >>> 0;
    const h = (n ^ seed) % 1000;
    if (h >= 35) continue;
    const page = new Uint8Array(PAGE);
    if (kind === 1) { for (let i = 0; i < PAGE; i++) page[i] = 0x20 + ((i + p % 1024) % 95); }
    else if (kind === 2) randomFill(page, fillSeed);
    const next = page.slice();
    if (h < 30) {
      for (let k = 0; k < 8; k++) next[((n >>> 8) + k * 97) % PAGE] ^= 0x5a;
    } else randomFill(next, n ^ seed);
    if (page.some((v, i) => v !== next[i])) {
      oldP.push(page);
      newP.push(next);
    }
  }
  return { oldP, newP };
}

const { oldP, newP } = workload(8192);
const PAIRS = oldP.length;
const out = new Uint8Array(PAGE);
const enc: Uint8Array[] = oldP.map((o, i) => {
  const n = xbzrleEncode(o, newP[i], out);
  return n > 0 ? out.slice(0, n) : new Uint8Array(0);
});
const work = new Uint8Array(PAGE);

Deno.bench({
  name: `memcpy ${PAIRS} pages (baseline)`,
  group: "workload",
  baseline: true,
  fn: () => {
    for (let i = 0; i < PAIRS; i++) work.set(newP[i]);
  },
});
Deno.bench({
  name: `encode ${PAIRS} changed pages`,
  group: "workload",
  fn: () => {
    for (let i = 0; i < PAIRS; i++) xbzrleEncode(oldP[i], newP[i], out);
  },
});
Deno.bench({
  name: `copy + decode ${PAIRS} changed pages`,
  group: "workload",
  fn: () => {
    for (let i = 0; i < PAIRS; i++) {
      work.set(oldP[i]);
      if (enc[i].length) xbzrleDecode(enc[i], work);
    }
  },
});

// hot_bench.ts's cases: sparse (8 bytes changed), dense (a run of 1 KiB), overflow (every other
// byte), on one page that stays in cache.
const N = 256;
let s = 1;
const base = new Uint8Array(PAGE).map(() => {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s & 0xff;
});
const sparse = base.slice();
for (let i = 0; i < 8; i++) sparse[(i * 509) % PAGE] ^= 0xff;
const dense = base.slice();
for (let i = 1000; i < 2024; i++) dense[i] ^= 0x55;
const overflow = base.slice();
for (let i = 0; i < PAGE; i += 2) overflow[i] ^= 1;
const encSparse = out.slice(0, xbzrleEncode(base, sparse, out));
const encDense = out.slice(0, xbzrleEncode(base, dense, out));
const target = base.slice();

Deno.bench({
  name: "memcpy 256 pages (baseline)",
  group: "micro",
  baseline: true,
  fn: () => {
    for (let p = 0; p < N; p++) target.set(sparse);
  },
});
Deno.bench({
  name: "encode sparse ×256",
  group: "micro",
  fn: () => {
    for (let p = 0; p < N; p++) xbzrleEncode(base, sparse, out);
  },
});
Deno.bench({
  name: "encode dense ×256",
  group: "micro",
  fn: () => {
    for (let p = 0; p < N; p++) xbzrleEncode(base, dense, out);
  },
});
Deno.bench({
  name: "encode overflow ×256",
  group: "micro",
  fn: () => {
    for (let p = 0; p < N; p++) xbzrleEncode(base, overflow, out);
  },
});
Deno.bench({
  name: "decode sparse ×256",
  group: "micro",
  fn: () => {
    for (let p = 0; p < N; p++) xbzrleDecode(encSparse, target);
  },
});
Deno.bench({
  name: "decode dense ×256",
  group: "micro",
  fn: () => {
    for (let p = 0; p < N; p++) xbzrleDecode(encDense, target);
  },
});
