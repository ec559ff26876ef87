/**
 * The XBZRLE encoder in plain JavaScript (the fallback of the SIMD encoder, encode_wasm.ts):
 * word-at-a-time on 4-byte aligned pages, byte-at-a-time otherwise. The decisions are QEMU's
 * (see encode.ts); results are identical to the SIMD encoder's.
 * @module
 */
import { ULEB_SMALL_MAX } from "./uleb128.ts";

/** Result of an encoding that did not produce a delta. */
export const XBZRLE_UNCHANGED = 0;
/** Result when the delta would not fit in the budget. */
export const XBZRLE_OVERFLOW = -1;

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** xbzrleEncode in JavaScript (see encode.ts). */
export function encodeJs(
  oldPage: Uint8Array,
  newPage: Uint8Array,
  out: Uint8Array,
  limit: number,
): number {
  const slen = newPage.length;
  if (
    LITTLE_ENDIAN && oldPage.length === slen &&
    ((oldPage.byteOffset | newPage.byteOffset) & 3) === 0
  ) {
    return encodeWords(
      oldPage,
      newPage,
      new Int32Array(oldPage.buffer, oldPage.byteOffset, slen >>> 2),
      new Int32Array(newPage.buffer, newPage.byteOffset, slen >>> 2),
      out,
      limit,
    );
  }
  return encodeBytes(oldPage, newPage, out, limit);
}

/** Writes a run length as ULEB128 of one or two bytes; -1 when it needs more. */
function putLength(out: Uint8Array, d: number, n: number): number {
  if (n > ULEB_SMALL_MAX) return -1;
  if (n < 0x80) out[d++] = n;
  else {
    out[d++] = (n & 0x7f) | 0x80;
    out[d++] = n >>> 7;
  }
  return d;
}

/**
 * Writes the nzrun `src[from, to)` (its ULEB128 length, then the bytes) at `out[d]`; returns the
 * new end, or -1 when it would pass `limit` or its length needs more than two ULEB128 bytes.
 */
function putNzrun(
  out: Uint8Array,
  d: number,
  src: Uint8Array,
  from: number,
  to: number,
  limit: number,
): number {
  const nzrun = to - from;
  if (d + (nzrun < 0x80 ? 1 : 2) + nzrun > limit) return -1;
  d = putLength(out, d, nzrun);
  if (d < 0) return -1;
  if (nzrun < 64) {
    for (let k = from; k < to; k++) out[d++] = src[k];
  } else {
    out.set(src.subarray(from, to), d);
    d += nzrun;
  }
  return d;
}

/** Index (0..3) of the lowest non-zero byte of a non-zero 32-bit value. */
function lowByte(x: number): number {
  return (31 - Math.clz32(x & -x)) >>> 3;
}

/** The word-at-a-time encoder: both pages 4-byte aligned, little-endian words. */
function encodeWords(
  o: Uint8Array,
  n: Uint8Array,
  o32: Int32Array,
  n32: Int32Array,
  out: Uint8Array,
  limit: number,
): number {
  const slen = n.length;
  const words = o32.length;
  let i = 0;
  let d = 0;
  while (i < slen) {
    if (d + 2 > limit) return XBZRLE_OVERFLOW;
    const zStart = i;
    // Unchanged bytes: bytewise up to a word boundary, then whole words, then the first
    // differing byte of the word that differs.
    while ((i & 3) !== 0 && i < slen && o[i] === n[i]) i++;
    if ((i & 3) === 0) {
      let w = i >>> 2;
      while (w < words && o32[w] === n32[w]) w++;
      if (w < words) i = (w << 2) + lowByte(o32[w] ^ n32[w]);
      else {
        i = w << 2;
        while (i < slen && o[i] === n[i]) i++;
      }
    }
    const zrun = i - zStart;
    if (zrun === slen) return XBZRLE_UNCHANGED;
    if (i === slen) return d;
    d = putLength(out, d, zrun);
    if (d < 0) return XBZRLE_OVERFLOW;
    if (d + 2 > limit) return XBZRLE_OVERFLOW;
    // Changed bytes (byte i differs): bytewise up to a word boundary, then words whose four
    // bytes all differ, then the first equal byte of the word that has one.
    const nzStart = i++;
    while ((i & 3) !== 0 && i < slen && o[i] !== n[i]) i++;
    if ((i & 3) === 0) {
      let w = i >>> 2;
      for (; w < words; w++) {
        const x = o32[w] ^ n32[w];
        const z = (x - 0x01010101) & ~x & 0x80808080;
        if (z !== 0) {
          i = (w << 2) + lowByte(z);
          break;
        }
      }
      if (w === words) {
        i = w << 2;
        while (i < slen && o[i] !== n[i]) i++;
      }
    }
    d = putNzrun(out, d, n, nzStart, i, limit);
    if (d < 0) return XBZRLE_OVERFLOW;
  }
  return d;
}

/** The byte-at-a-time encoder, for unaligned pages (and big-endian hosts). */
function encodeBytes(
  oldPage: Uint8Array,
  newPage: Uint8Array,
  out: Uint8Array,
  limit: number,
): number {
  const slen = newPage.length;
  let i = 0;
  let d = 0;
  while (i < slen) {
    if (d + 2 > limit) return XBZRLE_OVERFLOW;
    const zStart = i;
    while (i < slen && oldPage[i] === newPage[i]) i++;
    const zrun = i - zStart;
    if (zrun === slen) return XBZRLE_UNCHANGED;
    if (i === slen) return d;
    d = putLength(out, d, zrun);
    if (d < 0) return XBZRLE_OVERFLOW;
    if (d + 2 > limit) return XBZRLE_OVERFLOW;
    const nzStart = i;
    while (i < slen && oldPage[i] !== newPage[i]) i++;
    d = putNzrun(out, d, newPage, nzStart, i, limit);
    if (d < 0) return XBZRLE_OVERFLOW;
  }
  return d;
}
