/**
 * One zstd decoder driven synchronously through node:zlib's handle: each step decodes from an
 * input range straight into an output range (no stream machinery, no output chunks, no copy),
 * and a failed step is told apart as bytes after the last frame, a cut frame, or corrupt data.
 * The interface is shared with the system libzstd decoder (zstd_system.ts); containers
 * (src/container/decompress.ts) and multifd payloads (src/parse/multifd_payload.ts) use both.
 * @module
 */
import { syncHandle, type ZlibInternals } from "./zlib_handle.ts";

/** zstd's error for bytes that do not start a frame. */
const NOT_A_FRAME = /unknown frame descriptor/i;

/** How a decode step failed: bytes after the last frame, data cut short, or corrupt data. */
export type ZstdFailure = "after" | "truncated" | "corrupt";

/** A decompressor's message for data that ends too early (zlib's and zstd's words). */
export function truncation(e: Error): boolean {
  return /unexpected end|ends unexpectedly|end of file|truncated|Z_BUF_ERROR/i.test(
    `${e.message} ${(e as { code?: string }).code ?? ""}`,
  );
}

/** Why a step threw `e`, `produced` bytes into the data (bytes after a frame need one first). */
export function failureKind(e: Error, produced: number): ZstdFailure {
  if (produced > 0 && NOT_A_FRAME.test(e.message)) return "after";
  return truncation(e) ? "truncated" : "corrupt";
}

/** A synchronous zstd decoder. */
export interface ZstdDecoder {
  /**
   * Decodes from `input[inOff, inOff + inLen)` into `out[outOff, outOff + room)`; `last` says
   * no input follows (the decoder flushes). Returns the bytes produced; {@link used} is the
   * input consumed. Throws the decoder's Error on bad data.
   */
  step(
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    room: number,
    last: boolean,
  ): number;
  /** Input bytes the last step consumed. */
  readonly used: number;
  /**
   * The last step ended a frame exactly where its input stops (libzstd's "frame complete"),
   * where the decoder can tell; false otherwise (node:zlib's handle never tells).
   */
  readonly frameEnded: boolean;
  close(): void;
}

type ZstdStream = ZlibInternals & {
  close(): void;
  on(e: string, f: () => void): void;
  destroyed?: boolean;
};
type ZstdModule = {
  createZstdDecompress?: () => ZstdStream;
  constants: Record<string, number>;
};

class HandleDecoder implements ZstdDecoder {
  used = 0;
  readonly frameEnded = false;
  readonly #stream: ZstdStream;
  readonly #handle: NonNullable<ReturnType<typeof syncHandle>>;
  readonly #flush: [number, number];

  constructor(
    stream: ZstdStream,
    handle: NonNullable<ReturnType<typeof syncHandle>>,
    flush: [number, number],
  ) {
    this.#stream = stream;
    this.#handle = handle;
    this.#flush = flush;
  }

  step(
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    room: number,
    last: boolean,
  ): number {
    const { handle, state } = this.#handle;
    this.used = 0;
    handle.writeSync(this.#flush[last ? 1 : 0], input, inOff, inLen, out, outOff, room);
    // Where a handle reports errors by destroying its stream instead of throwing (Node).
    if (this.#stream.destroyed) throw new Error("the decoder failed");
    this.used = inLen - state[1];
    return room - state[0];
  }

  close(): void {
    this.#stream.close();
  }
}

/**
 * A decoder over node:zlib's zstd handle; undefined where node:zlib has no zstd or no
 * synchronous handle (the caller then uses node:stream).
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { zstdDecoder } from "./zstd_decoder.ts";
 * const packed = zlib.zstdCompressSync(new TextEncoder().encode("hello"));
 * const d = zstdDecoder(zlib)!;
 * const out = new Uint8Array(16);
 * const n = d.step(packed, 0, packed.length, out, 0, out.length, true);
 * d.close();
 * if (new TextDecoder().decode(out.subarray(0, n)) !== "hello") throw new Error();
 * ```
 */
export function zstdDecoder(zlib: unknown): ZstdDecoder | undefined {
  const z = zlib as ZstdModule;
  const d = z.createZstdDecompress?.();
  const sync = syncHandle(d);
  if (!d || !sync) {
    d?.close();
    return undefined;
  }
  d.on("error", () => {}); // errors are thrown by writeSync; none may go unhandled
  return new HandleDecoder(d, sync, [
    z.constants.ZSTD_e_continue ?? 0,
    z.constants.ZSTD_e_end ?? 2,
  ]);
}
