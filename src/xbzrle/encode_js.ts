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
    if (zrun > ULEB_SMALL_MAX) return XBZRLE_OVERFLOW;
    if (zrun < 0x80) out[d++] = zrun;
    else {
      out[d++] = (zrun & 0x7f) | 0x80;
      out[d++] = zrun >>> 7;
    }
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
    const nzrun = i - nzStart;
    if (nzrun > ULEB_SMALL_MAX) return XBZRLE_OVERFLOW;
    if (d + (nzrun < 0x80 ? 1 : 2) + nzrun > limit) return XBZRLE_OVERFLOW;
    if (nzrun < 0x80) out[d++] = nzrun;
    else {
      out[d++] = (nzrun & 0x7f) | 0x80;
      out[d++] = nzrun >>> 7;
    }
    if (nzrun < 64) {
      for (let k = nzStart; k < i; k++) out[d++] = n[k];
    } else {
      out.set(n.subarray(nzStart, i), d);
      d += nzrun;
    }
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
    if (zrun > ULEB_SMALL_MAX) return XBZRLE_OVERFLOW;
    if (zrun < 0x80) out[d++] = zrun;
    else {
      out[d++] = (zrun & 0x7f) | 0x80;
      out[d++] = zrun >>> 7;
    }
    if (d + 2 > limit) return XBZRLE_OVERFLOW;
    const nzStart = i;
    while (i < slen && oldPage[i] !== newPage[i]) i++;
    const nzrun = i - nzStart;
    if (nzrun > ULEB_SMALL_MAX) return XBZRLE_OVERFLOW;
    if (d + (nzrun < 0x80 ? 1 : 2) + nzrun > limit) return XBZRLE_OVERFLOW;
    if (nzrun < 0x80) out[d++] = nzrun;
    else {
      out[d++] = (nzrun & 0x7f) | 0x80;
      out[d++] = nzrun >>> 7;
    }
    if (nzrun < 64) {
      for (let k = nzStart; k < i; k++) out[d++] = newPage[k];
    } else {
      out.set(newPage.subarray(nzStart, i), d);
      d += nzrun;
    }
  }
  return d;
}
