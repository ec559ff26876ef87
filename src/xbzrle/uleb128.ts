/**
 * The "small" ULEB128 variant XBZRLE uses: values up to 0x3FFF in one or two bytes.
 * @module
 */

/** Largest value the small ULEB128 form can carry. */
export const ULEB_SMALL_MAX = 0x3fff;

/** Bytes needed to encode `n` (1 below 0x80, else 2). */
export function ulebSmallLength(n: number): number {
  return n < 0x80 ? 1 : 2;
}

/** Writes `n` (≤ 0x3FFF) at `out[at]`; returns bytes written. */
export function ulebSmallEncode(out: Uint8Array, at: number, n: number): number {
  if (n < 0x80) {
    out[at] = n;
    return 1;
  }
  out[at] = (n & 0x7f) | 0x80;
  out[at + 1] = n >>> 7;
  return 2;
}
