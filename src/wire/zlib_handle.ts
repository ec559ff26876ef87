/**
 * The synchronous write of a node:zlib stream's native handle (Node and Deno both expose it as
 * `_handle`, with `_writeState` holding `[availOut, availIn]` after each write): decoding
 * straight into a caller's buffer, with no node:stream machinery, output chunks or copies. An
 * internal interface, so every user keeps the public node:stream path as its fallback.
 * @module
 */

/** A node:zlib handle's synchronous write. */
export interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  /** Called (synchronously, inside writeSync) with zlib's message on bad data. */
  onerror?: (message: string, errno: number) => void;
}

/** What a node:zlib Transform holds besides its public interface. */
export interface ZlibInternals {
  _handle?: ZlibHandle | null;
  _writeState?: Uint32Array;
  destroyed?: boolean;
}

/**
 * The handle of a node:zlib stream and its `[availOut, availIn]` state, or undefined where this
 * runtime has no synchronous write (the caller then uses the stream itself).
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { syncHandle } from "./zlib_handle.ts";
 * const s = zlib.createInflate();
 * const h = syncHandle(s);
 * if (h && !(h.state instanceof Uint32Array)) throw new Error("a state array");
 * s.close();
 * ```
 */
export function syncHandle(
  stream: unknown,
): { handle: ZlibHandle; state: Uint32Array } | undefined {
  const x = stream as ZlibInternals | undefined;
  const handle = x?._handle;
  const state = x?._writeState;
  if (!handle || typeof handle.writeSync !== "function" || !(state instanceof Uint32Array)) {
    return undefined;
  }
  return { handle, state };
}
