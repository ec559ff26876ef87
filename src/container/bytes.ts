/**
 * Byte plumbing of the container layer: a positional window onto part of a file, the chunks of
 * a window in order (to feed a decompressor), and sources over async iterables or with bytes
 * already read put back in front.
 * @module
 */
import type { RandomAccess } from "../wire/random_access.ts";
import type { ByteSource } from "../wire/source.ts";

/** Chunk size for sequential reads of a window (decompressor input, digests). */
export const WINDOW_CHUNK = 1 << 20;

/**
 * The bytes `[offset, offset + length)` of `ra`, addressed from 0. Closing the window closes
 * `ra` when `owns` is set.
 *
 * @example
 * ```ts
 * import { bytesAccess } from "../wire/random_access.ts";
 * import { windowAccess } from "./bytes.ts";
 * const w = windowAccess(bytesAccess(new Uint8Array([1, 2, 3, 4, 5])), 1, 3);
 * const b = new Uint8Array(8);
 * if (w.size !== 3 || w.read(b, 1) !== 2 || b[0] !== 3) throw new Error("bytes 2 and 3 of 1..3");
 * ```
 */
export function windowAccess(
  ra: RandomAccess,
  offset: number,
  length: number,
  owns = false,
): RandomAccess {
  return {
    size: length,
    read(buf: Uint8Array, position: number): number {
      if (position >= length || buf.length === 0) return 0;
      const n = Math.min(buf.length, length - position);
      return ra.read(n === buf.length ? buf : buf.subarray(0, n), offset + position);
    },
    close() {
      if (owns) ra.close();
    },
  };
}

/**
 * Chunks of a window that can also be had in one reused buffer: {@link RangeChunks.reusing}, for
 * a consumer that is done with each chunk before it asks for the next (a decoder that copies or
 * consumes its input in the call), saves a fresh buffer (and its page faults) per chunk.
 */
export interface RangeChunks extends AsyncGenerator<Uint8Array> {
  /**
   * The same bytes, every chunk in the same buffer: a chunk is overwritten when the next is
   * asked for. Only instead of iterating this generator (throws once it has started).
   */
  reusing(): AsyncGenerator<Uint8Array>;
}

/**
 * The bytes of `ra` from `from` to its end, in fresh chunks (safe to hand to a consumer that
 * queues them), or through {@link RangeChunks.reusing} in one reused buffer.
 *
 * @example
 * ```ts
 * import { bytesAccess } from "../wire/random_access.ts";
 * import { rangeChunks } from "./bytes.ts";
 * const ra = bytesAccess(new Uint8Array([1, 2, 3, 4, 5]));
 * const seen: number[] = [];
 * const bufs = new Set<ArrayBufferLike>();
 * for await (const c of rangeChunks(ra, 1, 2).reusing()) seen.push(...c), bufs.add(c.buffer);
 * if (seen.join() !== "2,3,4,5" || bufs.size !== 1) throw new Error("2..5 in one buffer");
 * ```
 */
export function rangeChunks(ra: RandomAccess, from = 0, chunk = WINDOW_CHUNK): RangeChunks {
  let started = false;
  const fresh = chunksOf(ra, from, chunk, false, () => started = true);
  return Object.assign(fresh, {
    reusing(): AsyncGenerator<Uint8Array> {
      if (started) throw new Error("rangeChunks: reusing() after the chunks were read");
      started = true;
      return chunksOf(ra, from, chunk, true, () => {});
    },
  });
}

/** The chunks of `rangeChunks`: each in a fresh buffer, or all in one (`reuse`). */
async function* chunksOf(
  ra: RandomAccess,
  from: number,
  chunk: number,
  reuse: boolean,
  onStart: () => void,
): AsyncGenerator<Uint8Array> {
  onStart();
  let pos = from;
  const one = reuse ? new Uint8Array(Math.min(chunk, Math.max(0, ra.size - pos))) : undefined;
  while (pos < ra.size) {
    const want = Math.min(chunk, ra.size - pos);
    const buf = one ? one.subarray(0, want) : new Uint8Array(want);
    const n = ra.read(buf, pos);
    if (n <= 0) return;
    pos += n;
    yield n === buf.length ? buf : buf.subarray(0, n);
    // Let other tasks (a decompressor's output side) run between chunks.
    if (!reuse) await Promise.resolve();
  }
}

/**
 * `chunks` in one reused buffer where they come from {@link rangeChunks} (not yet read), else
 * `chunks` themselves: for a consumer done with each chunk before it asks for the next.
 */
export function reusingChunks(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const r = (chunks as Partial<RangeChunks>).reusing;
  return typeof r === "function" ? r.call(chunks) : chunks;
}

/** `src` with `prefix` (bytes already taken from it) delivered first. */
export function prefixedSource(prefix: Uint8Array, src: ByteSource): ByteSource {
  let head = prefix;
  return {
    read(buf: Uint8Array): Promise<number | null> {
      if (head.length === 0) return src.read(buf);
      const n = Math.min(buf.length, head.length);
      buf.set(head.subarray(0, n));
      head = head.subarray(n);
      return Promise.resolve(n);
    },
    close() {
      src.close();
    },
  };
}

/** Reads from `src` until `buf` is full or the source ends; returns the bytes read. */
export async function readSourceFully(src: ByteSource, buf: Uint8Array): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const n = await src.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}

/** Forward-only reads (see the libvirt reader): `take` up to n bytes, `skip` n bytes. */
export interface Forward {
  take(n: number): Promise<Uint8Array>;
  skip(n: number): Promise<number>;
  /** Bytes consumed so far. */
  readonly pos: number;
}

/** Forward reads over positional access. */
export function forwardFromAccess(ra: RandomAccess): Forward {
  let pos = 0;
  return {
    get pos() {
      return pos;
    },
    take(n: number): Promise<Uint8Array> {
      const buf = new Uint8Array(Math.max(0, Math.min(n, ra.size - pos)));
      let got = 0;
      while (got < buf.length) {
        const k = ra.read(buf.subarray(got), pos + got);
        if (k <= 0) break;
        got += k;
      }
      pos += got;
      return Promise.resolve(buf.subarray(0, got));
    },
    skip(n: number): Promise<number> {
      const k = Math.max(0, Math.min(n, ra.size - pos));
      pos += k;
      return Promise.resolve(k);
    },
  };
}

/** Forward reads over a source, reading exactly what is asked (nothing read ahead). */
export function forwardFromSource(src: ByteSource): Forward {
  let pos = 0;
  return {
    get pos() {
      return pos;
    },
    async take(n: number): Promise<Uint8Array> {
      const buf = new Uint8Array(n);
      const got = await readSourceFully(src, buf);
      pos += got;
      return buf.subarray(0, got);
    },
    async skip(n: number): Promise<number> {
      const buf = new Uint8Array(Math.min(n, WINDOW_CHUNK));
      let done = 0;
      while (done < n) {
        const got = await readSourceFully(src, buf.subarray(0, Math.min(buf.length, n - done)));
        done += got;
        if (got === 0) break;
      }
      pos += done;
      return done;
    },
  };
}

/** The rest of `src` in fresh chunks (to feed a second decompressor). */
export async function* sourceChunks(
  src: ByteSource,
  chunk = WINDOW_CHUNK,
): AsyncGenerator<Uint8Array> {
  for (;;) {
    const buf = new Uint8Array(chunk);
    const n = await src.read(buf);
    if (n === null) return;
    if (n > 0) yield buf.subarray(0, n);
  }
}
