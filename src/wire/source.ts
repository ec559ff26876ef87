/**
 * Byte sources: the places a migration stream can be pulled from (a file, a pipe, a socket).
 *
 * A source only moves bytes; framing and buffering live in {@link ByteReader}.
 * @module
 */
import * as fs from "node:fs";

/** Something bytes can be pulled from, in order. */
export interface ByteSource {
  /** Reads up to `buf.length` bytes into `buf`; resolves the count, or null at the end. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Moves forward `n` bytes without delivering them (seekable sources implement it). */
  skip?(n: number): Promise<void>;
  /** Reads at an absolute position without moving the sequential cursor (seekable only). */
  readAt?(buf: Uint8Array, position: number): Promise<number>;
  /** Total size in bytes when known (regular files). */
  size?: number;
  /** Releases the underlying handle. */
  close(): void;
}

/** A source over a Web ReadableStream (stdin, a socket, a decompression stream). */
export function streamSource(stream: ReadableStream<Uint8Array>): ByteSource {
  const reader = stream.getReader();
  let pending: Uint8Array = new Uint8Array(0);
  let done = false;
  return {
    async read(buf: Uint8Array): Promise<number | null> {
      while (pending.length === 0) {
        if (done) return null;
        const r = await reader.read();
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
      reader.cancel().catch(() => {});
    },
  };
}

/**
 * A seekable source over a regular file: sequential reads are synchronous positional reads
 * (page-cache hits cost no thread hop or promise), skips just move the cursor (holes are never
 * read), and `readAt` reads anywhere without disturbing the cursor.
 */
export function fileSource(file: Deno.FsFile, size: number, path?: string): ByteSource {
  let cursor = 0;
  const fd = path ? fs.openSync(path, "r") : -1;
  const pread = async (buf: Uint8Array, position: number): Promise<number> => {
    if (fd >= 0) return fs.readSync(fd, buf, 0, buf.length, position);
    await file.seek(position, Deno.SeekMode.Start);
    return (await file.read(buf)) ?? 0;
  };
  return {
    size,
    async read(buf: Uint8Array): Promise<number | null> {
      const n = await pread(buf, cursor);
      if (n === 0) return buf.length === 0 ? 0 : null;
      cursor += n;
      return n;
    },
    skip(n: number): Promise<void> {
      cursor += n;
      return Promise.resolve();
    },
    async readAt(buf: Uint8Array, position: number): Promise<number> {
      let got = 0;
      while (got < buf.length) {
        const n = await pread(buf.subarray(got), position + got);
        if (n === 0) break;
        got += n;
      }
      return got;
    },
    close() {
      try {
        file.close();
      } catch { /* already closed */ }
      if (fd >= 0) {
        try {
          fs.closeSync(fd);
        } catch { /* already closed */ }
      }
    },
  };
}

/** A source over bytes already in memory (tests, nested payloads). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  let at = 0;
  return {
    size: bytes.length,
    read(buf: Uint8Array): Promise<number | null> {
      if (at >= bytes.length) return Promise.resolve(null);
      const n = Math.min(buf.length, bytes.length - at);
      buf.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
    skip(n: number): Promise<void> {
      at += n;
      return Promise.resolve();
    },
    readAt(buf: Uint8Array, position: number): Promise<number> {
      const n = Math.max(0, Math.min(buf.length, bytes.length - position));
      buf.set(bytes.subarray(position, position + n));
      return Promise.resolve(n);
    },
    close() {},
  };
}
