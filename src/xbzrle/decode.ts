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
 * fault naming the rule it breaks. `page` (optional) receives the new bytes, run by run (a
 * fault leaves the runs before it applied).
 */
export function xbzrleApply(
  enc: Uint8Array,
  pageSize: number,
  page?: Uint8Array,
): number | XbzrleFault {
  return page ? walk(enc, pageSize, page) : validate(enc, pageSize);
}

/** The checking walk, with messages; applies each run to `page` (when given) as it goes. */
function walk(enc: Uint8Array, pageSize: number, page?: Uint8Array): number | XbzrleFault {
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
    if (page) copyRun(enc, i, page, d, count);
    d += count;
    i += count;
  }
  return d;
}

/** Copies `count` delta bytes from `enc[i]` to `page[d]`. */
function copyRun(enc: Uint8Array, i: number, page: Uint8Array, d: number, count: number): void {
  if (count < 32 && d + count <= page.length) {
    // Short runs: a plain loop beats creating a subarray view per run.
    for (let k = 0; k < count; k++) page[d + k] = enc[i + k];
  } else page.set(enc.subarray(i, i + count), d);
}

/** The rules alone: covered bytes, or the first fault (built only once one is found). */
function validate(enc: Uint8Array, pageSize: number): number | XbzrleFault {
  const slen = enc.length;
  let i = 0;
  let d = 0;
  while (i < slen) {
    if (slen - i < 2) return fault(enc, pageSize);
    let count = enc[i];
    let used = 1;
    if (count & 0x80) {
      const b = enc[i + 1];
      if (b & 0x80) return fault(enc, pageSize);
      count = (count & 0x7f) | (b << 7);
      used = 2;
    }
    if (i !== 0 && count === 0) return fault(enc, pageSize);
    d += count;
    if (d > pageSize) return fault(enc, pageSize);
    i += used;
    if (slen - i < 2) return fault(enc, pageSize);
    count = enc[i];
    used = 1;
    if (count & 0x80) {
      const b = enc[i + 1];
      if (b & 0x80) return fault(enc, pageSize);
      count = (count & 0x7f) | (b << 7);
      used = 2;
    }
    if (count === 0 || d + count > pageSize || i + used + count > slen) {
      return fault(enc, pageSize);
    }
    d += count;
    i += used + count;
  }
  return d;
}

/** The fault of a delta known to break a rule, from the checking walk (kept off the fast path). */
function fault(enc: Uint8Array, pageSize: number): XbzrleFault {
  const r = walk(enc, pageSize);
  if (typeof r === "number") throw new Error("xbzrle: the two validations disagree");
  return r;
}

/** Checks a delta against the rules; returns covered bytes or a fault. */
export function xbzrleValidate(enc: Uint8Array, pageSize: number): number | XbzrleFault {
  return validate(enc, pageSize);
}

/**
 * Decodes `enc` on top of `page` (its current content); returns covered bytes or a fault.
 *
 * @example Round trip, and a delta that breaks a rule
 * ```ts
 * import { xbzrleDecode } from "./decode.ts";
 * import { xbzrleEncode } from "./encode.ts";
 * const old = new Uint8Array(4096).fill(7);
 * const now = old.slice().fill(9, 2000, 2100);
 * const delta = new Uint8Array(4096);
 * const n = xbzrleEncode(old, now, delta);
 * const page = old.slice();
 * if (xbzrleDecode(delta.subarray(0, n), page) !== 2100 || page[2050] !== 9) {
 *   throw new Error("the delta covers the page up to its last changed byte");
 * }
 * const fault = xbzrleDecode(new Uint8Array([0, 0, 0]), page);
 * if (typeof fault === "number" || fault.at !== 1) throw new Error("a zero-length data run");
 * ```
 */
export function xbzrleDecode(enc: Uint8Array, page: Uint8Array): number | XbzrleFault {
  // Validate first so that a bad delta leaves the page untouched.
  const v = validate(enc, page.length);
  if (typeof v !== "number") return v;
  // The delta is valid: every run fits the page and the delta.
  const slen = enc.length;
  let i = 0;
  let d = 0;
  while (i < slen) {
    let count = enc[i++];
    if (count & 0x80) count = (count & 0x7f) | (enc[i++] << 7);
    d += count;
    count = enc[i++];
    if (count & 0x80) count = (count & 0x7f) | (enc[i++] << 7);
    if (count < 32) {
      for (let k = 0; k < count; k++) page[d + k] = enc[i + k];
    } else page.set(enc.subarray(i, i + count), d);
    d += count;
    i += count;
  }
  return v;
}
