/**
 * XBZRLE encoder and decoder against the reference's examples and QEMU's unit-test scenarios.
 */
import assert from "node:assert/strict";
import { xbzrleDecode, xbzrleValidate } from "../../src/xbzrle/decode.ts";
import { XBZRLE_OVERFLOW, XBZRLE_UNCHANGED, xbzrleEncode } from "../../src/xbzrle/encode.ts";
import { ulebSmallEncode } from "../../src/xbzrle/uleb128.ts";

const PAGE = 4096;

function encode(oldP: Uint8Array, newP: Uint8Array): number | Uint8Array {
  const out = new Uint8Array(PAGE);
  const n = xbzrleEncode(oldP, newP, out);
  return n > 0 ? out.slice(0, n) : n;
}

/** Deterministic PRNG (xorshift32) so failures reproduce. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

Deno.test("last byte of a zero page becomes 0x01: ff 1f 01 01, covering the whole page", () => {
  const oldP = new Uint8Array(PAGE);
  const newP = new Uint8Array(PAGE);
  newP[4095] = 1;
  const enc = encode(oldP, newP);
  assert.deepEqual(enc, Uint8Array.of(0xff, 0x1f, 0x01, 0x01));
  const page = new Uint8Array(PAGE);
  assert.equal(xbzrleDecode(enc as Uint8Array, page), 4096);
  assert.deepEqual(page, newP);
});

Deno.test("bytes 0..3 become aa bb cc dd: 00 04 aa bb cc dd, trailing unchanged run omitted", () => {
  const newP = new Uint8Array(PAGE);
  newP.set([0xaa, 0xbb, 0xcc, 0xdd]);
  const enc = encode(new Uint8Array(PAGE), newP);
  assert.deepEqual(enc, Uint8Array.of(0x00, 0x04, 0xaa, 0xbb, 0xcc, 0xdd));
  assert.equal(xbzrleValidate(enc as Uint8Array, PAGE), 4);
});

Deno.test("an unchanged page encodes to 0 (not sent); an empty delta changes nothing", () => {
  const p = new Uint8Array(PAGE).fill(7);
  assert.equal(encode(p, p.slice()), XBZRLE_UNCHANGED);
  const target = p.slice();
  assert.equal(xbzrleDecode(new Uint8Array(0), target), 0);
  assert.deepEqual(target, p);
});

Deno.test("every other byte changed overflows the page budget", () => {
  const newP = new Uint8Array(PAGE);
  for (let i = 0; i < PAGE; i += 2) newP[i] = 1;
  assert.equal(encode(new Uint8Array(PAGE), newP), XBZRLE_OVERFLOW);
});

Deno.test("small ULEB128: every value 0..0x3FFF round-trips in 1 or 2 bytes; 80 80 is invalid", () => {
  const buf = new Uint8Array(2);
  for (let v = 1; v <= 0x3fff && v <= PAGE; v++) {
    const n = ulebSmallEncode(buf, 0, v);
    assert.equal(n, v < 0x80 ? 1 : 2);
    // A delta of one zero run 0 and one data run of v bytes must validate as covering v bytes.
    const delta = new Uint8Array(1 + n + v);
    delta.set(buf.subarray(0, n), 1);
    assert.equal(xbzrleValidate(delta, PAGE), v);
  }
  const bad = xbzrleValidate(Uint8Array.of(0x80, 0x80, 1, 1), PAGE);
  assert.equal(typeof bad, "object");
});

Deno.test("QEMU's random scenario: a changed run near offset 1000 and two isolated bytes round-trip", () => {
  const rand = rng(1234);
  for (let round = 0; round < 200; round++) {
    const oldP = new Uint8Array(PAGE);
    for (let i = 0; i < PAGE; i++) oldP[i] = (rand() * 256) | 0;
    const newP = oldP.slice();
    const start = 1000 + ((rand() * 64) | 0);
    const len = 1 + ((rand() * 1000) | 0);
    for (let i = start; i < start + len && i < PAGE; i++) newP[i] = oldP[i] ^ 0xff;
    const isolated = 2100 + ((rand() * 1000) | 0);
    newP[isolated] ^= 0x55;
    newP[isolated + 2] ^= 0x55;
    const enc = encode(oldP, newP);
    assert.ok(enc instanceof Uint8Array);
    const page = oldP.slice();
    const covered = xbzrleDecode(enc, page);
    assert.deepEqual(page, newP);
    assert.ok(typeof covered === "number" && covered < PAGE, "trailing unchanged run is omitted");
  }
});

Deno.test("decoding applies on top of the current (non-zero) page content", () => {
  const rand = rng(99);
  for (let round = 0; round < 200; round++) {
    const oldP = new Uint8Array(PAGE);
    for (let i = 0; i < PAGE; i++) oldP[i] = (rand() * 256) | 0;
    const newP = oldP.slice();
    const changes = 1 + ((rand() * 40) | 0);
    for (let c = 0; c < changes; c++) newP[(rand() * PAGE) | 0] = (rand() * 256) | 0;
    const enc = encode(oldP, newP);
    if (typeof enc === "number") {
      assert.ok(
        enc === XBZRLE_UNCHANGED ? oldP.every((b, i) => b === newP[i]) : enc === XBZRLE_OVERFLOW,
      );
      continue;
    }
    const page = oldP.slice();
    xbzrleDecode(enc, page);
    assert.deepEqual(page, newP);
  }
});

Deno.test("a bad delta leaves the page untouched", () => {
  const page = new Uint8Array(PAGE).fill(3);
  const r = xbzrleDecode(Uint8Array.of(0, 2, 9, 9, 0, 1), page);
  assert.equal(typeof r, "object");
  assert.ok(page.every((b) => b === 3));
});
