/**
 * XBZRLE encode and decode rates on realistic deltas: the first 8192 pages that differ between
 * the benchmark's RAM image and the image after one round (3 % of pages edited slightly, 0.5 %
 * rewritten), against a memcpy of the same pages in the same process.
 *
 * Run on its own to profile one direction:
 *   deno run -A --cpu-prof tools/bench/xbzrle.ts --old R0 --new R1 --case encode|decode
 * @module
 */
import { parseArgs } from "node:util";
import * as fs from "node:fs";
import { xbzrleEncode } from "../../src/xbzrle/encode.ts";
import { xbzrleDecode } from "../../src/xbzrle/decode.ts";
import { median, PAGE } from "./util.ts";

/** Changed page pairs of two images, at most `max`. */
export function changedPages(
  a: string,
  b: string,
  max = 8192,
): { oldP: Uint8Array[]; newP: Uint8Array[] } {
  const fa = fs.openSync(a, "r");
  const fb = fs.openSync(b, "r");
  const pages = Math.floor(fs.fstatSync(fa).size / PAGE);
  const oldP: Uint8Array[] = [];
  const newP: Uint8Array[] = [];
  const x = new Uint8Array(PAGE);
  const y = new Uint8Array(PAGE);
  for (let p = 0; p < pages && oldP.length < max; p++) {
    fs.readSync(fa, x, 0, PAGE, p * PAGE);
    fs.readSync(fb, y, 0, PAGE, p * PAGE);
    if (x.some((v, i) => v !== y[i])) {
      oldP.push(x.slice());
      newP.push(y.slice());
    }
  }
  fs.closeSync(fa);
  fs.closeSync(fb);
  return { oldP, newP };
}

/** GB/s of page data: encode, decode (onto a copy of the old page), and a memcpy baseline. */
export interface XbzrleRates {
  encode: number;
  decode: number;
  /** Decode straight onto pages that already hold the old content (no copy first). */
  decodeInPlace: number;
  memcpy: number;
  pairs: number;
}

/** Times `rounds` rounds of each direction over all pairs, `reps` times; the median. */
export function xbzrleRates(
  oldP: Uint8Array[],
  newP: Uint8Array[],
  reps = 7,
  rounds = 5,
): XbzrleRates {
  const out = new Uint8Array(PAGE);
  const enc: Uint8Array[] = oldP.map((o, i) => {
    const n = xbzrleEncode(o, newP[i], out);
    return n > 0 ? out.slice(0, n) : new Uint8Array(0);
  });
  const work = new Uint8Array(PAGE);
  // Decoding a delta again onto its result writes the same bytes: after the first round these
  // pages hold the new content and each round does the same work as the first.
  const inPlace = oldP.map((o) => o.slice());
  const cases = {
    encode: () => {
      for (let i = 0; i < oldP.length; i++) xbzrleEncode(oldP[i], newP[i], out);
    },
    decode: () => {
      for (let i = 0; i < oldP.length; i++) {
        work.set(oldP[i]);
        if (enc[i].length) xbzrleDecode(enc[i], work);
      }
    },
    decodeInPlace: () => {
      for (let i = 0; i < oldP.length; i++) if (enc[i].length) xbzrleDecode(enc[i], inPlace[i]);
    },
    memcpy: () => {
      for (let i = 0; i < oldP.length; i++) work.set(newP[i]);
    },
  };
  const times: Record<string, number[]> = { encode: [], decode: [], decodeInPlace: [], memcpy: [] };
  for (let r = 0; r < reps + 1; r++) {
    for (const [name, fn] of Object.entries(cases)) {
      const t0 = performance.now();
      for (let k = 0; k < rounds; k++) fn();
      if (r > 0) times[name].push((performance.now() - t0) / 1000);
    }
  }
  const bytes = oldP.length * PAGE * rounds;
  const gbs = (name: string) => bytes / median(times[name]) / 1e9;
  return {
    encode: gbs("encode"),
    decode: gbs("decode"),
    decodeInPlace: gbs("decodeInPlace"),
    memcpy: gbs("memcpy"),
    pairs: oldP.length,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      old: { type: "string" },
      new: { type: "string" },
      case: { type: "string", default: "encode" },
      rounds: { type: "string", default: "400" },
    },
  });
  const { oldP, newP } = changedPages(values.old!, values.new!);
  const out = new Uint8Array(PAGE);
  const work = new Uint8Array(PAGE);
  const enc = oldP.map((o, i) => out.slice(0, Math.max(0, xbzrleEncode(o, newP[i], out))));
  const rounds = Number(values.rounds);
  const encodeLoop = () => {
    for (let i = 0; i < oldP.length; i++) xbzrleEncode(oldP[i], newP[i], out);
  };
  const decodeLoop = () => {
    for (let i = 0; i < oldP.length; i++) {
      work.set(oldP[i]);
      if (enc[i].length) xbzrleDecode(enc[i], work);
    }
  };
  const loop = values.case === "encode" ? encodeLoop : decodeLoop;
  const t0 = performance.now();
  for (let k = 0; k < rounds; k++) loop();
  const s = (performance.now() - t0) / 1000;
  console.log(`${values.case}: ${(oldP.length * PAGE * rounds / s / 1e9).toFixed(2)} GB/s`);
}
