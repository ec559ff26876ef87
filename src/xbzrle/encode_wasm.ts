/**
 * The XBZRLE encoder on WebAssembly SIMD (encode.wat, compiled into encode_wasm_bytes.ts by
 * tools/xbzrle_wasm.ts). Both pages are copied into the module's memory, encoded there, and the
 * delta copied out. Results are identical to encode_js.ts's (tests/xbzrle compare both).
 * @module
 */
import { ENCODE_WASM_BASE64 } from "./encode_wasm_bytes.ts";

interface EncoderExports {
  memory: WebAssembly.Memory;
  encode(oldAt: number, newAt: number, outAt: number, len: number, limit: number): number;
}

/** Largest page the wasm encoder takes (its offsets stay far inside 32 bits). */
export const WASM_MAX_PAGE = 1 << 24;

function instantiate(): EncoderExports | undefined {
  try {
    if (typeof WebAssembly !== "object") return undefined;
    const bin = atob(ENCODE_WASM_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    // Runtimes without SIMD reject the module: the JavaScript encoder is used instead.
    if (!WebAssembly.validate(bytes)) return undefined;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    return inst.exports as unknown as EncoderExports;
  } catch {
    return undefined;
  }
}

const wasm = instantiate();
let mem = wasm ? new Uint8Array(wasm.memory.buffer) : new Uint8Array(0);

/** True when the runtime runs the SIMD module. */
export function wasmEncoderAvailable(): boolean {
  return wasm !== undefined;
}

/**
 * xbzrleEncode on the SIMD module. Requires `oldPage.length === newPage.length` ≤ WASM_MAX_PAGE
 * and `out.length >= limit` (xbzrleEncode checks; else it uses the JavaScript encoder).
 */
export function encodeWasm(
  oldPage: Uint8Array,
  newPage: Uint8Array,
  out: Uint8Array,
  limit: number,
): number {
  const w = wasm!;
  const len = newPage.length;
  // A delta is never longer than 1.5 × the page + 3 bytes, so a budget of 2 × page + 16 is
  // never reached: larger (or NaN) budgets behave alike. A budget below 0 overflows at once.
  const cap = 2 * len + 16;
  const lim = limit < cap ? Math.max(-1, Math.floor(limit)) : cap;
  // Layout: old page at 0, new page at `span`, delta at 2 × span, then 64 bytes of scratch.
  const span = Math.ceil(len / 64) * 64 + 64;
  const outAt = 2 * span;
  const need = outAt + Math.max(lim, 0) + 64;
  if (need > mem.length) {
    w.memory.grow(Math.ceil((need - mem.length) / 65536));
    mem = new Uint8Array(w.memory.buffer);
  }
  mem.set(oldPage, 0);
  mem.set(newPage, span);
  const n = w.encode(0, span, outAt, len, lim);
  if (n > 0) {
    if (n <= 64) { for (let k = 0; k < n; k++) out[k] = mem[outAt + k]; }
    else out.set(mem.subarray(outAt, outAt + n));
  }
  return n;
}
