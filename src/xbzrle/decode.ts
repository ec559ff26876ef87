/**
 * XBZRLE delta decoding and validation, with QEMU's rules (migration/xbzrle.c, as facts):
 * runs alternate `zrun` (unchanged bytes) and `nzrun` (new bytes), each a small ULEB128.
 * @module
 */

/** Why a delta was rejected; `at` is the byte index within the encoded delta. */
export interface XbzrleFault {
  at: number;
  reason: string;
}

/**
 * Walks a delta without touching any page: returns the number of page bytes it covers, or a
 * fault naming the rule it breaks. `page` (optional) receives the new bytes.
 */
export function xbzrleApply(
  enc: Uint8Array,
  pageSize: number,
  page?: Uint8Array,
): number | XbzrleFault {
  const slen = enc.length;
  let i = 0;
  let d = 0;
  while (i < slen) {
    // zrun
    if (slen - i < 2) return { at: i, reason: "fewer than 2 bytes left before a zero run" };
    let count = enc[i];
    let used = 1;
    if (count & 0x80) {
      const b = enc[i + 1];
      if (b & 0x80) return { at: i, reason: "invalid ULEB128 zero-run length" };
      count = (count & 0x7f) | (b << 7);
      used = 2;
    }
    if (i !== 0 && count === 0) return { at: i, reason: "zero-length zero run after the start" };
    i += used;
    d += count;
    if (d > pageSize) {
      return { at: i - used, reason: `zero run passes the page end (${d} > ${pageSize})` };
    }
    // nzrun
    if (slen - i < 2) return { at: i, reason: "fewer than 2 bytes left before a data run" };
    count = enc[i];
    used = 1;
    if (count & 0x80) {
      const b = enc[i + 1];
      if (b & 0x80) return { at: i, reason: "invalid ULEB128 data-run length" };
      count = (count & 0x7f) | (b << 7);
      used = 2;
    }
    if (count === 0) return { at: i, reason: "zero-length data run" };
    const runAt = i;
    i += used;
    if (d + count > pageSize) {
      return { at: runAt, reason: `data run passes the page end (${d + count} > ${pageSize})` };
    }
    if (i + count > slen) {
      return { at: runAt, reason: `data run of ${count} bytes passes the delta end` };
    }
    if (page) page.set(enc.subarray(i, i + count), d);
    d += count;
    i += count;
  }
  return d;
}

/** Checks a delta against the rules; returns covered bytes or a fault. */
export function xbzrleValidate(enc: Uint8Array, pageSize: number): number | XbzrleFault {
  return xbzrleApply(enc, pageSize);
}

/** Decodes `enc` on top of `page` (its current content); returns covered bytes or a fault. */
export function xbzrleDecode(enc: Uint8Array, page: Uint8Array): number | XbzrleFault {
  // Validate first so that a bad delta leaves the page untouched.
  const v = xbzrleApply(enc, page.length);
  if (typeof v !== "number") return v;
  return xbzrleApply(enc, page.length, page);
}
