/**
 * Randomized equivalence of the XBZRLE codec with a deliberately simple, byte-by-byte reference
 * written here from the format's rules (docs: qemu-migration-format.md §3.2): thousands of page
 * pairs of varied densities and run lengths (around the ULEB128 boundaries 127/128 and
 * 16383/16384), budgets at and around the exact encoded length, first/last-byte changes,
 * unaligned subarray inputs, and page sizes 1024, 4096, 16384 and 65536 (plus odd sizes).
 * Decoding is checked on the encoder's deltas and on corrupted and synthetic ones, fault for fault.
 */
import assert from "node:assert/strict";
import { xbzrleApply, xbzrleDecode, xbzrleValidate } from "../../src/xbzrle/decode.ts";
import { XBZRLE_OVERFLOW, XBZRLE_UNCHANGED, xbzrleEncode } from "../../src/xbzrle/encode.ts";
import { encodeJs } from "../../src/xbzrle/encode_js.ts";
import { encodeWasm, wasmEncoderAvailable } from "../../src/xbzrle/encode_wasm.ts";

// ---------------------------------------------------------------------------------------------
// Reference codec: one byte at a time, no cleverness.

const SMALL_MAX = 0x3fff;

function refUleb(out: number[], n: number): void {
  if (n < 0x80) out.push(n);
  else out.push((n & 0x7f) | 0x80, n >> 7);
}

/**
 * Reference encoder. Budget checks: 2 bytes before each zero run and before each data run, and
 * the whole data run (length + bytes) before writing it. A run longer than the small ULEB128 can
 * carry (only possible on pages above 16 KiB) cannot be expressed: overflow.
 */
function refEncode(
  oldP: Uint8Array,
  newP: Uint8Array,
  limit = newP.length,
): number | Uint8Array {
  const n = newP.length;
  const out: number[] = [];
  let i = 0;
  while (i < n) {
    if (out.length + 2 > limit) return XBZRLE_OVERFLOW;
    let zrun = 0;
    while (i < n && oldP[i] === newP[i]) {
      zrun++;
      i++;
    }
    if (zrun === n) return XBZRLE_UNCHANGED;
    if (i === n) break; // the trailing unchanged run is not sent
    if (zrun > SMALL_MAX) return XBZRLE_OVERFLOW;
    refUleb(out, zrun);
    if (out.length + 2 > limit) return XBZRLE_OVERFLOW;
    const data: number[] = [];
    while (i < n && oldP[i] !== newP[i]) {
      data.push(newP[i]);
      i++;
    }
    if (data.length > SMALL_MAX) return XBZRLE_OVERFLOW;
    if (out.length + (data.length < 0x80 ? 1 : 2) + data.length > limit) return XBZRLE_OVERFLOW;
    refUleb(out, data.length);
    out.push(...data);
  }
  return Uint8Array.from(out);
}

type Fault = { at: number; reason: string };

/** Reference decoder: validates and (when `page` is given) applies run by run. */
function refApply(enc: Uint8Array, pageSize: number, page?: Uint8Array): number | Fault {
  let i = 0;
  let d = 0;
  const uleb = (): [number, number] | undefined => {
    const a = enc[i];
    if (a < 0x80) return [a, 1];
    const b = enc[i + 1];
    if (b >= 0x80) return undefined;
    return [(a & 0x7f) + b * 128, 2];
  };
  while (i < enc.length) {
    if (enc.length - i < 2) return { at: i, reason: "fewer than 2 bytes left before a zero run" };
    const z = uleb();
    if (!z) return { at: i, reason: "invalid ULEB128 zero-run length" };
    if (i > 0 && z[0] === 0) return { at: i, reason: "zero-length zero run after the start" };
    const zAt = i;
    i += z[1];
    d += z[0];
    if (d > pageSize) {
      return { at: zAt, reason: `zero run passes the page end (${d} > ${pageSize})` };
    }
    if (enc.length - i < 2) return { at: i, reason: "fewer than 2 bytes left before a data run" };
    const nz = uleb();
    if (!nz) return { at: i, reason: "invalid ULEB128 data-run length" };
    if (nz[0] === 0) return { at: i, reason: "zero-length data run" };
    const nzAt = i;
    const count = nz[0];
    i += nz[1];
    if (d + count > pageSize) {
      return { at: nzAt, reason: `data run passes the page end (${d + count} > ${pageSize})` };
    }
    if (i + count > enc.length) {
      return { at: nzAt, reason: `data run of ${count} bytes passes the delta end` };
    }
    for (let k = 0; k < count; k++) {
      if (page) page[d] = enc[i];
      d++;
      i++;
    }
  }
  return d;
}

function refDecode(enc: Uint8Array, page: Uint8Array): number | Fault {
  const v = refApply(enc, page.length);
  return typeof v === "number" ? refApply(enc, page.length, page) : v;
}

// ---------------------------------------------------------------------------------------------
// Generators.

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  return {
    u32: next,
    below: (n: number) => next() % n,
    chance: (p: number) => next() / 4294967296 < p,
    pick: <T>(xs: readonly T[]) => xs[next() % xs.length],
  };
}
type Rng = ReturnType<typeof rng>;

const BOUNDARY = [
  1,
  2,
  3,
  4,
  5,
  7,
  8,
  9,
  15,
  16,
  17,
  31,
  32,
  33,
  63,
  64,
  65,
  126,
  127,
  128,
  129,
  130,
  255,
  256,
  257,
  1023,
  1024,
  16382,
  16383,
  16384,
  16385,
];

/** `n` bytes in a buffer at byte offset `off` (an unaligned view when off % 8 ≠ 0). */
function view(n: number, off: number): Uint8Array {
  return new Uint8Array(n + off + 3).subarray(off, off + n);
}

/** Page content: zeros, one value, random, few values, or a value per 2^k-byte block. */
function fillRandom(r: Rng, a: Uint8Array, kind: number): void {
  if (kind === 0) return;
  if (kind === 1) a.fill(r.below(256));
  else if (kind === 4) {
    const shift = r.pick([0, 2, 3, 4, 5, 6]);
    for (let i = 0; i < a.length; i++) a[i] = (i >> shift) * 37;
  } else for (let i = 0; i < a.length; i++) a[i] = kind === 2 ? r.below(256) : r.below(4);
}

/** A new page from `oldP`: a byte differs from the old one where a change is made. */
function mutate(r: Rng, oldP: Uint8Array, newP: Uint8Array): void {
  newP.set(oldP);
  const n = oldP.length;
  const change = (i: number) => {
    newP[i] = oldP[i] ^ (1 + r.below(255));
  };
  const style = r.below(8);
  if (style === 0) {
    // Independent changes at a density.
    const p = r.pick([0, 1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.9, 0.99, 1]);
    for (let i = 0; i < n; i++) if (r.chance(p)) change(i);
  } else if (style === 1 || style === 2) {
    // Alternating runs whose lengths sit around the ULEB128 and word boundaries.
    let i = style === 1 ? 0 : r.pick(BOUNDARY);
    while (i < n) {
      const len = r.chance(0.7) ? r.pick(BOUNDARY) : 1 + r.below(300);
      for (let k = i; k < i + len && k < n; k++) change(k);
      i += len + (r.chance(0.7) ? r.pick(BOUNDARY) : 1 + r.below(300));
    }
  } else if (style === 3) {
    // A few isolated bytes, maybe the first and the last.
    const c = 1 + r.below(20);
    for (let k = 0; k < c; k++) change(r.below(n));
    if (r.chance(0.5)) change(0);
    if (r.chance(0.5)) change(n - 1);
  } else if (style === 4) {
    // One run at a random place, possibly touching either end.
    const a = r.chance(0.3) ? 0 : r.below(n);
    const b = r.chance(0.3) ? n : Math.min(n, a + 1 + r.below(r.pick([8, 200, 5000, n])));
    for (let k = a; k < b; k++) change(k);
  } else if (style === 5) {
    // Nothing changed, or only the first or only the last byte.
    const w = r.below(3);
    if (w === 1) change(0);
    if (w === 2) change(n - 1);
  } else if (style === 7) {
    // Data moved by a few bytes (a guest memmove): bytes of the moved region match the old
    // content some lanes away, which catches lanes compared against the wrong lanes.
    const step = r.pick([1, 3, 4, 8, 15, 16, 17, 32, 48, 64]);
    const by = r.chance(0.5) ? step : n - (step % n); // forwards or backwards
    const a = r.below(n);
    const b = Math.min(n, a + 1 + r.below(r.pick([64, 300, n])));
    for (let k = a; k < b; k++) newP[k] = oldP[(k + by) % n];
  } else {
    // Changes in the middle of words: every k-th byte from a random start.
    const step = r.pick([2, 3, 4, 5, 8, 9, 16, 97]);
    for (let i = r.below(step); i < n; i += step) change(i);
  }
}

function sameResult(got: number, out: Uint8Array, want: number | Uint8Array, what: string) {
  if (typeof want === "number") {
    assert.equal(got, want, what);
  } else {
    assert.equal(got, want.length, what);
    assert.deepEqual(out.subarray(0, got), want, what);
  }
}

type Encoder = (o: Uint8Array, n: Uint8Array, out: Uint8Array, limit: number) => number;

/** The public encoder and both implementations behind it (SIMD when the runtime has it). */
const ENCODERS: [string, Encoder][] = [
  ["xbzrleEncode", xbzrleEncode],
  ["js", encodeJs],
  ...(wasmEncoderAvailable() ? [["wasm", encodeWasm] as [string, Encoder]] : []),
];

/** Encodes with each encoder into a guarded buffer and compares with the reference. */
function checkEncode(
  oldP: Uint8Array,
  newP: Uint8Array,
  limit: number | undefined,
  outOff: number,
  what: string,
): number | Uint8Array {
  const lim = limit ?? newP.length;
  const want = refEncode(oldP, newP, lim);
  const outLen = Math.max(lim, 0) + 16;
  for (const [name, encode] of ENCODERS) {
    const out = view(outLen, outOff).fill(0xee);
    const got = limit === undefined && encode === xbzrleEncode
      ? xbzrleEncode(oldP, newP, out)
      : encode(oldP, newP, out, lim);
    sameResult(got, out, want, `${what} (${name})`);
    // Nothing is written at or past the budget.
    for (let k = Math.max(lim, 0); k < outLen; k++) {
      assert.equal(out[k], 0xee, `${what} (${name}): wrote out[${k}]`);
    }
  }
  return want;
}

const SIZES = [1024, 4096, 16384, 65536];

Deno.test("encoder equals the byte-by-byte reference on random page pairs, budgets at the edge", () => {
  const r = rng(20240601);
  let cases = 0;
  let deltas = 0;
  for (const size of SIZES) {
    const rounds = size <= 4096 ? 1500 : size === 16384 ? 400 : 120;
    for (let round = 0; round < rounds; round++) {
      const oldP = view(size, r.below(9));
      const newP = view(size, r.below(9));
      fillRandom(r, oldP, r.below(5));
      mutate(r, oldP, newP);
      const what = `size ${size} round ${round}`;
      const want = checkEncode(oldP, newP, undefined, r.below(9), what);
      cases++;
      if (want instanceof Uint8Array) {
        deltas++;
        const page = oldP.slice();
        assert.equal(xbzrleDecode(want, page), refDecode(want, oldP.slice()), what);
        assert.deepEqual(page, newP, `${what}: round trip`);
        // Budgets right at, just below and just above the delta's length.
        for (let dl = -3; dl <= 3; dl++) {
          checkEncode(oldP, newP, want.length + dl, r.below(9), `${what} limit ${dl}`);
          cases++;
        }
      } else if (r.chance(0.2)) {
        checkEncode(oldP, newP, r.below(size + 64), r.below(9), `${what} random limit`);
        cases++;
      }
    }
  }
  assert.ok(cases > 10000 && deltas > 2000, `${cases} cases, ${deltas} deltas`);
});

Deno.test("encoder: odd page sizes, tiny budgets, and every small page of two bytes", () => {
  const r = rng(7);
  for (const size of [1, 2, 3, 5, 7, 8, 9, 31, 127, 128, 129, 1000, 4095, 4097, 16383, 16385]) {
    for (let round = 0; round < 60; round++) {
      const oldP = view(size, r.below(9));
      const newP = view(size, r.below(9));
      fillRandom(r, oldP, r.below(5));
      mutate(r, oldP, newP);
      const limit = r.chance(0.5) ? undefined : r.below(size + 8);
      checkEncode(oldP, newP, limit, r.below(9), `size ${size} round ${round} limit ${limit}`);
    }
  }
  // Exhaustive over 2-byte pages with values 0..2 and budgets 0..6.
  for (let a = 0; a < 81; a++) {
    const oldP = Uint8Array.of(a % 3, ((a / 3) | 0) % 3);
    const newP = Uint8Array.of(((a / 9) | 0) % 3, ((a / 27) | 0) % 3);
    for (let limit = 0; limit <= 6; limit++) checkEncode(oldP, newP, limit, 1, `2-byte ${a}`);
  }
});

Deno.test("the SIMD encoder runs in this runtime (so both implementations are compared)", () => {
  assert.ok(wasmEncoderAvailable());
});

Deno.test("encoder: budgets far above the page, NaN, negative and fractional budgets", () => {
  const r = rng(11);
  for (let round = 0; round < 300; round++) {
    const size = r.pick([1, 64, 1024, 4096]);
    const oldP = view(size, r.below(9));
    const newP = view(size, r.below(9));
    fillRandom(r, oldP, r.below(5));
    mutate(r, oldP, newP);
    const limit = r.pick([1e9, Infinity, NaN, -1, -5, -1e12, 0.5, size - 0.5, size + 0.5]);
    const want = refEncode(oldP, newP, limit);
    for (const [name, encode] of ENCODERS) {
      const out = new Uint8Array(Number.isFinite(limit) && limit < 1e6 ? size + 16 : 4 * size + 16);
      sameResult(encode(oldP, newP, out, limit), out, want, `${name} size ${size} limit ${limit}`);
    }
  }
});

Deno.test("encoder: 64 KiB pages with runs past 0x3FFF overflow instead of a bad length", () => {
  const oldP = new Uint8Array(65536);
  const newP = new Uint8Array(65536);
  newP[20000] = 1; // a leading zero run of 20000 bytes cannot be written
  assert.equal(xbzrleEncode(oldP, newP, new Uint8Array(65536)), XBZRLE_OVERFLOW);
  newP[20000] = 0;
  newP[16383] = 1; // 16383 is the largest run the small ULEB128 carries
  const out = new Uint8Array(65536);
  const n = xbzrleEncode(oldP, newP, out);
  assert.deepEqual(out.subarray(0, n), Uint8Array.of(0xff, 0x7f, 0x01, 0x01));
  newP[0] = 1;
  newP.fill(1, 0, 16384); // a data run of 16384 bytes
  assert.equal(xbzrleEncode(oldP, newP, new Uint8Array(70000), 70000), XBZRLE_OVERFLOW);
  newP[0] = 0; // 1 + 16383: fits a 70000-byte budget
  const m = xbzrleEncode(oldP, newP, new Uint8Array(70000), 70000);
  assert.equal(m, 1 + 2 + 16383);
});

// ---------------------------------------------------------------------------------------------
// Decoder.

/** A synthetic delta: random runs, with occasional bad lengths, zeros, overlong runs, cuts. */
function synthDelta(r: Rng, pageSize: number): Uint8Array {
  const out: number[] = [];
  const pairs = r.below(12);
  const bad = r.chance(0.5);
  const len = () => {
    if (bad && r.chance(0.05)) return 0;
    if (r.chance(0.4)) return r.pick(BOUNDARY);
    return 1 + r.below(r.pick([4, 100, pageSize]));
  };
  for (let p = 0; p < pairs; p++) {
    if (bad && r.chance(0.04)) out.push(0x80 | r.below(128), 0x80 | r.below(128));
    else refUleb(out, p === 0 && r.chance(0.3) ? 0 : Math.min(len(), SMALL_MAX));
    const nz = Math.min(len(), SMALL_MAX);
    if (bad && r.chance(0.04)) out.push(0x80 | r.below(128), 0x80 | r.below(128));
    else refUleb(out, nz);
    for (let k = 0; k < nz; k++) out.push(r.below(256));
  }
  let a = Uint8Array.from(out);
  if (bad && r.chance(0.5) && a.length) a = a.subarray(0, r.below(a.length + 1));
  return a;
}

function checkDecode(enc: Uint8Array, pageSize: number, r: Rng, what: string): void {
  assert.deepEqual(xbzrleValidate(enc, pageSize), refApply(enc, pageSize), `${what}: validate`);
  const base = view(pageSize, r.below(9));
  fillRandom(r, base, r.below(4));
  const want = base.slice();
  const wantR = refDecode(enc, want);
  const got = view(pageSize, r.below(9));
  got.set(base);
  assert.deepEqual(xbzrleDecode(enc, got), wantR, `${what}: decode`);
  assert.deepEqual(got, want, `${what}: page`);
  // xbzrleApply with a page: applies run by run, stopping at the first fault.
  const gotA = base.slice();
  const wantA = base.slice();
  assert.deepEqual(xbzrleApply(enc, pageSize, gotA), refApply(enc, pageSize, wantA), what);
  assert.deepEqual(gotA, wantA, `${what}: apply page`);
}

Deno.test("decoder and validator equal the reference on encoder output, corrupted and synthetic deltas", () => {
  const r = rng(424242);
  let faults = 0;
  let total = 0;
  for (const size of [...SIZES, 1, 7, 100, 4095, 4097]) {
    const rounds = size <= 4097 ? 700 : size === 16384 ? 250 : 80;
    for (let round = 0; round < rounds; round++) {
      const what = `size ${size} round ${round}`;
      let enc: Uint8Array;
      const kind = r.below(3);
      if (kind === 0) {
        const oldP = new Uint8Array(size);
        const newP = new Uint8Array(size);
        fillRandom(r, oldP, r.below(5));
        mutate(r, oldP, newP);
        const e = refEncode(oldP, newP, size + 64);
        enc = e instanceof Uint8Array ? e : new Uint8Array(0);
      } else enc = synthDelta(r, size);
      if (kind === 1 && enc.length) {
        // Corrupt: flip, cut or insert a byte; or validate against a smaller page.
        const c = r.below(4);
        const at = r.below(enc.length);
        if (c === 0) enc[at] ^= 1 << r.below(8);
        else if (c === 1) enc = enc.subarray(r.below(9), at + 1);
        else if (c === 2) {
          enc = Uint8Array.from([...enc.subarray(0, at), r.below(256), ...enc.subarray(at)]);
        } else enc = enc.subarray(0, enc.length - 1);
      }
      // Unaligned delta views.
      const shifted = view(enc.length, r.below(9));
      shifted.set(enc);
      const v = refApply(shifted, size);
      if (typeof v !== "number") faults++;
      checkDecode(shifted, size, r, what);
      if (r.chance(0.2)) {
        const small = Math.max(1, size - 1 - r.below(200));
        assert.deepEqual(xbzrleValidate(shifted, small), refApply(shifted, small), `${what} small`);
      }
      total++;
    }
  }
  assert.ok(faults > 500 && total - faults > 1000, `${faults} faults of ${total}`);
});

Deno.test("decoder: every fault reason is reached with the reference's offsets", () => {
  const r = rng(3);
  const cases: [number[], number][] = [
    [[0], 4096], // fewer than 2 bytes before a zero run
    [[0, 1, 9, 5], 4096], // fewer than 2 bytes before a data run
    [[0x80, 0x80, 1, 1], 4096], // invalid zero-run length
    [[0, 0x81, 0x80], 4096], // invalid data-run length
    [[0, 1, 9, 0, 1, 9], 4096], // zero run of 0 after the start
    [[0, 0, 1], 4096], // zero-length data run
    [[0x81, 0x20, 1, 9], 4096], // zero run passes the page end
    [[0xff, 0x1f, 2, 9, 9], 4096], // data run passes the page end
    [[0, 5, 1, 2], 4096], // data run passes the delta end
    [[0, 2, 1, 2, 7, 1, 7], 8], // second zero run passes the page end
  ];
  for (const [bytes, size] of cases) {
    const enc = Uint8Array.from(bytes);
    const v = xbzrleValidate(enc, size);
    assert.equal(typeof v, "object", `${bytes}`);
    checkDecode(enc, size, r, `${bytes}`);
  }
});
