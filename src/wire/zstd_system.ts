/**
 * zstd decoded by the system's libzstd (`libzstd.so.1`, Debian's libzstd1, which dpkg itself
 * depends on) through Deno's foreign function interface: the same library `zstd -dc` and libvirt
 * use, built with its assembly decoder — about 30 % faster than the zstd inside Deno's
 * node:zlib. Used only where FFI is allowed (`--allow-ffi`, the repository's tasks grant it)
 * and the library loads; otherwise the caller uses node:zlib.
 * @module
 */
import type { ZstdDecoder } from "./zstd_decoder.ts";

const SYMBOLS = {
  ZSTD_createDStream: { parameters: [], result: "pointer" },
  ZSTD_freeDStream: { parameters: ["pointer"], result: "usize" },
  ZSTD_decompressStream: { parameters: ["pointer", "buffer", "buffer"], result: "usize" },
  ZSTD_isError: { parameters: ["usize"], result: "u32" },
  ZSTD_getErrorName: { parameters: ["usize"], result: "pointer" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** The library's names, tried in order. */
const NAMES = ["libzstd.so.1", "libzstd.so"];

let lib: Lib | null | undefined;

/** libzstd's symbols; null where FFI is not allowed or the library is missing (tried once). */
function load(): Lib | null {
  if (lib !== undefined) return lib;
  lib = null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return lib;
  } catch {
    return lib;
  }
  for (const name of NAMES) {
    try {
      return lib = Deno.dlopen(name, SYMBOLS).symbols;
    } catch { /* the next name, or node:zlib */ }
  }
  return lib;
}

/** A pointer's address as a number for a struct field. */
function address(view: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(view)));
}

/**
 * Frees the native stream of a decoder dropped without {@link SystemDecoder.close} (a library
 * user abandoning a source): its window (up to 128 MiB for a large frame) is not kept forever.
 */
const dropped = new FinalizationRegistry<Deno.PointerObject>((ds) => lib?.ZSTD_freeDStream(ds));

/** A decoding stream of libzstd's; see {@link systemZstdDecoder}. */
class SystemDecoder implements ZstdDecoder {
  used = 0;
  frameEnded = false;
  readonly #z: Lib;
  #ds: Deno.PointerValue;
  /** ZSTD_inBuffer and ZSTD_outBuffer: { pointer, size, pos }. */
  readonly #in = new BigUint64Array(3);
  readonly #out = new BigUint64Array(3);

  constructor(z: Lib, ds: Deno.PointerObject) {
    this.#z = z;
    this.#ds = ds;
    dropped.register(this, ds, this);
  }

  step(
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    room: number,
  ): number {
    if (this.#ds === null) throw new Error("the decoder is closed");
    const [i, o] = [this.#in, this.#out];
    // Whole views with start positions: libzstd reads [pos, size) and writes from pos on.
    i[0] = input.length ? address(input) : 0n;
    i[1] = BigInt(inOff + inLen);
    i[2] = BigInt(inOff);
    o[0] = address(out);
    o[1] = BigInt(outOff + room);
    o[2] = BigInt(outOff);
    const r = this.#z.ZSTD_decompressStream(this.#ds, o, i);
    this.used = Number(i[2]) - inOff;
    this.frameEnded = r === 0n; // a frame decoded and flushed: the input stops at its end
    if (this.#z.ZSTD_isError(r)) {
      const name = this.#z.ZSTD_getErrorName(r);
      throw new Error(name ? new Deno.UnsafePointerView(name).getCString() : "zstd error");
    }
    return Number(o[2]) - outOff;
  }

  close(): void {
    if (this.#ds === null) return;
    dropped.unregister(this);
    this.#z.ZSTD_freeDStream(this.#ds);
    this.#ds = null;
  }
}

/**
 * A zstd decoder over the system's libzstd; undefined where FFI is not allowed or the library
 * is missing.
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { systemZstdDecoder } from "./zstd_system.ts";
 * const packed = zlib.zstdCompressSync(new TextEncoder().encode("hello"));
 * const d = systemZstdDecoder();
 * if (d) {
 *   const out = new Uint8Array(16);
 *   const n = d.step(packed, 0, packed.length, out, 0, out.length, true);
 *   d.close();
 *   if (new TextDecoder().decode(out.subarray(0, n)) !== "hello") throw new Error();
 * }
 * ```
 */
export function systemZstdDecoder(): ZstdDecoder | undefined {
  const z = load();
  const ds = z?.ZSTD_createDStream();
  return z && ds ? new SystemDecoder(z, ds) : undefined;
}
