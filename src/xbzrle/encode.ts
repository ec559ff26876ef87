/**
 * XBZRLE delta encoding with the decisions QEMU's encoder makes (migration/xbzrle.c, as facts):
 * maximal runs, the trailing unchanged run omitted, 0 for an unchanged page, and -1 (overflow)
 * when the output would exceed `limit` — checked at the same points QEMU checks them.
 *
 * Pages above 16 KiB can have runs longer than the small ULEB128 carries (0x3FFF); QEMU's
 * encoder asserts on them, this one reports overflow (the page is then sent whole).
 *
 * Two implementations with identical results: a WebAssembly SIMD encoder (encode.wat) where the
 * runtime has wasm SIMD, and the JavaScript one (encode_js.ts) otherwise. On overflow or an
 * unchanged page, `out` holds unspecified bytes below `limit`; nothing at or past it is written.
 * @module
 */
import { encodeJs, XBZRLE_OVERFLOW, XBZRLE_UNCHANGED } from "./encode_js.ts";
import { encodeWasm, WASM_MAX_PAGE, wasmEncoderAvailable } from "./encode_wasm.ts";

export { XBZRLE_OVERFLOW, XBZRLE_UNCHANGED };

const WASM = wasmEncoderAvailable();

/**
 * Encodes the change from `oldPage` to `newPage` into `out` (at most `limit` bytes, QEMU uses
 * the page size). Returns the encoded length, 0 when the pages are equal, -1 on overflow.
 *
 * @example Encode a 3-byte change, then decode it on top of the old page
 * ```ts
 * import { xbzrleDecode } from "./decode.ts";
 * import { xbzrleEncode } from "./encode.ts";
 * const before = new Uint8Array(4096);
 * const after = before.slice();
 * after.set([1, 2, 3], 100);
 * const delta = new Uint8Array(4096);
 * const n = xbzrleEncode(before, after, delta);
 * // zero run of 100, data run of 3, the 3 bytes; the trailing unchanged run is omitted.
 * if (n !== 5 || xbzrleEncode(before, before, delta) !== 0) throw new Error("5 bytes; 0: equal");
 * const page = before.slice();
 * xbzrleDecode(delta.subarray(0, n), page);
 * if (page.join() !== after.join()) throw new Error("round trip");
 * ```
 */
export function xbzrleEncode(
  oldPage: Uint8Array,
  newPage: Uint8Array,
  out: Uint8Array,
  limit = newPage.length,
): number {
  const slen = newPage.length;
  if (WASM && oldPage.length === slen && slen <= WASM_MAX_PAGE && out.length >= limit) {
    return encodeWasm(oldPage, newPage, out, limit);
  }
  return encodeJs(oldPage, newPage, out, limit);
}
