/**
 * Byte sources: the places a migration stream is pulled from in order (a file, a pipe, a socket,
 * a decompressor, bytes in memory). A source only moves bytes; framing and buffering live in
 * {@link ByteReader}. Seekable sources also expose their {@link RandomAccess}.
 * @module
 */
import { bytesAccess, fileAccess, type RandomAccess } from "./random_access.ts";

/**
 * A source could not deliver its bytes (a corrupt or truncated gzip input, …): `offset` is the
 * stream offset reached, `detail` says why and names the input. The message is one line.
 */
export class SourceError extends Error {
  constructor(readonly offset: number, readonly detail: string) {
    super(`offset ${offset} (0x${offset.toString(16)}): ${detail}`);
    this.name = "SourceError";
  }
}

/** Something bytes can be pulled from, in order. */
export interface ByteSource {
  /** Reads up to `buf.length` bytes into `buf`; resolves the count, or null at the end. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Moves forward `n` bytes without delivering them (seekable sources implement it). */
  skip?(n: number): Promise<void>;
  /** Positional access to the same bytes (seekable sources only). */
  random?: RandomAccess;
  /** Total size in bytes when known (regular files). */
  size?: number;
  /** Releases the underlying handle. */
  close(): void;
}

/** A source over an async iterator of chunks; `close` runs `onClose` once. */
export function iterSource(
  it: AsyncIterator<Uint8Array>,
  onClose?: () => void,
): ByteSource {
  let pending: Uint8Array = new Uint8Array(0);
  let done = false;
  let closed = false;
  return {
    async read(buf: Uint8Array): Promise<number | null> {
      while (pending.length === 0) {
        if (done) return null;
        const r = await it.next();
        if (r.done) {
          done = true;
          return null;
        }
        pending = r.value;
      }
      const n = Math.min(buf.length, pending.length);
      buf.set(n === pending.length ? pending : pending.subarray(0, n));
      pending = pending.subarray(n);
      return n;
    },
    close() {
      if (closed) return;
      closed = true;
      done = true;
      it.return?.(undefined)?.catch(() => {});
      onClose?.();
    },
  };
}

/** A source over a Web ReadableStream (stdin, a socket, a decompression stream). */
export function streamSource(stream: ReadableStream<Uint8Array>): ByteSource {
  const reader = stream.getReader();
  const chunks = { next: () => reader.read() } as AsyncIterator<Uint8Array>;
  return iterSource(chunks, () => void reader.cancel().catch(() => {}));
}

/**
 * A sequential, seekable source over random access: reads are positional reads at a cursor
 * (on files, page-cache hits cost no thread hop), skips just move the cursor (holes are never
 * read), and `random` reads anywhere without disturbing it.
 */
export function randomSource(ra: RandomAccess): ByteSource {
  let cursor = 0;
  return {
    size: ra.size,
    random: ra,
    read(buf: Uint8Array): Promise<number | null> {
      if (buf.length === 0) return Promise.resolve(0);
      const n = ra.read(buf, cursor);
      if (n === 0) return Promise.resolve(null);
      cursor += n;
      return Promise.resolve(n);
    },
    skip(n: number): Promise<void> {
      cursor += n;
      return Promise.resolve();
    },
    close() {
      ra.close();
    },
  };
}

/** A seekable source over a regular file. */
export function fileSource(path: string): ByteSource {
  return randomSource(fileAccess(path));
}

/** A source over bytes already in memory (tests, nested payloads). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return randomSource(bytesAccess(bytes));
}
