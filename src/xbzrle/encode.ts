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
