/**
 * XBZRLE delta encoding with the decisions QEMU's encoder makes (migration/xbzrle.c, as facts):
 * maximal runs, the trailing unchanged run omitted, 0 for an unchanged page, and -1 (overflow)
 * when the output would exceed `limit` — checked at the same points QEMU checks them.
 *
 * Pages above 16 KiB can have runs longer than the small ULEB128 carries (0x3FFF); QEMU's
 * encoder asserts on them, this one reports overflow (the page is then sent whole).
 * @module
 */
import { ULEB_SMALL_MAX, ulebSmallEncode, ulebSmallLength } from "./uleb128.ts";

/** Result of an encoding that did not produce a delta. */
export const XBZRLE_UNCHANGED = 0;
/** Result when the delta would not fit in the budget. */
export const XBZRLE_OVERFLOW = -1;

/**
 * Encodes the change from `oldPage` to `newPage` into `out` (at most `limit` bytes, QEMU uses
 * the page size). Returns the encoded length, 0 when the pages are equal, -1 on overflow.
 */
export function xbzrleEncode(
  oldPage: Uint8Array,
  newPage: Uint8Array,
  out: Uint8Array,
  limit = newPage.length,
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
    d += ulebSmallEncode(out, d, zrun);
    if (d + 2 > limit) return XBZRLE_OVERFLOW;
    const nzStart = i;
    while (i < slen && oldPage[i] !== newPage[i]) i++;
    const nzrun = i - nzStart;
    if (nzrun > ULEB_SMALL_MAX) return XBZRLE_OVERFLOW;
    if (d + ulebSmallLength(nzrun) + nzrun > limit) return XBZRLE_OVERFLOW;
    d += ulebSmallEncode(out, d, nzrun);
    if (nzrun < 32) {
      // Short runs: a plain loop beats creating a subarray view per run.
      for (let k = nzStart; k < i; k++) out[d++] = newPage[k];
    } else {
      out.set(newPage.subarray(nzStart, i), d);
      d += nzrun;
    }
  }
  return d;
}
