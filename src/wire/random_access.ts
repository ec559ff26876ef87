/**
 * Random access: one interface for every byte container read or written at positions — input
 * files (trailer, mapped-ram bitmaps and slots), RAM and disk images, emit templates, and bytes
 * in memory. Positional I/O is synchronous: on regular files it is a page-cache copy, cheaper
 * than a promise.
 * @module
 */

/** Bytes addressed by position. */
export interface RandomAccess {
  /** Current size in bytes. */
  readonly size: number;
  /** Reads up to `buf.length` bytes at `position`; returns the count (0 at or past the end). */
  read(buf: Uint8Array, position: number): number;
  /** Writes all of `buf` at `position` (writable containers only). */
  write?(buf: Uint8Array, position: number): void;
  /** Sets the size (writable containers only). */
  truncate?(size: number): void;
  /** Releases the handle; further calls are errors. */
  close(): void;
}

/**
 * Reads until `buf` is full or the container ends; returns the bytes read.
 *
 * @example
 * ```ts
 * import { bytesAccess, readFully } from "./random_access.ts";
 * const n = readFully(bytesAccess(new Uint8Array([1, 2, 3])), new Uint8Array(8), 1);
 * if (n !== 2) throw new Error("two bytes remain after position 1");
 * ```
 */
export function readFully(ra: RandomAccess, buf: Uint8Array, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = ra.read(buf.subarray(got), position + got);
    if (n <= 0) break;
    got += n;
  }
  return got;
}

/** Fills `buf` from `position`; bytes past the end read as zero (images: holes and tails). */
export function readPadded(ra: RandomAccess, buf: Uint8Array, position: number): void {
  const got = position < ra.size ? readFully(ra, buf, position) : 0;
  if (got < buf.length) buf.fill(0, got);
}

/** A writable file addressed by position ({@link fileAccess}). */
export interface FileAccess extends RandomAccess {
  write(buf: Uint8Array, position: number): void;
  truncate(size: number): void;
}

/** Options of {@link fileAccess}. */
export interface FileAccessOptions {
  /** Open for writing too. */
  write?: boolean;
  /** Create (or truncate) the file, writable. */
  create?: boolean;
}

/**
 * A file addressed by position: one descriptor, seeking only when the position jumps (Deno's
 * own file API: loading node:fs would cost every process ~20 ms of start-up).
 *
 * @example
 * ```ts
 * import { fileAccess } from "./random_access.ts";
 * const path = await Deno.makeTempFile();
 * const f = fileAccess(path, { write: true });
 * f.write(new Uint8Array([1, 2, 3]), 4096); // past the end: the file grows, a hole before
 * const b = new Uint8Array(4);
 * const n = f.read(b, 4094);
 * const size = f.size;
 * f.close();
 * await Deno.remove(path);
 * if (size !== 4099 || n !== 4 || b.join() !== "0,0,1,2") throw new Error("hole, then data");
 * ```
 */
export function fileAccess(path: string, opts: FileAccessOptions = {}): FileAccess {
  const write = !!(opts.create || opts.write);
  const file = Deno.openSync(path, {
    read: true,
    write,
    create: !!opts.create,
    truncate: !!opts.create,
  });
  let size: number;
  try {
    size = file.statSync().size;
  } catch (e) {
    file.close();
    throw e;
  }
  /** Where the descriptor's offset is: sequential use needs no seek. */
  let at = 0;
  const seek = (position: number) => {
    if (position !== at) file.seekSync(position, Deno.SeekMode.Start);
    at = position;
  };
  return {
    get size() {
      return size;
    },
    read(buf: Uint8Array, position: number): number {
      if (buf.length === 0) return 0;
      seek(position);
      const n = file.readSync(buf) ?? 0;
      at += n;
      return n;
    },
    write(buf: Uint8Array, position: number): void {
      seek(position);
      let done = 0;
      while (done < buf.length) done += file.writeSync(buf.subarray(done));
      at += done;
      if (at > size) size = at;
    },
    truncate(n: number): void {
      file.truncateSync(n);
      size = n;
    },
    close(): void {
      file.close();
    },
  };
}

/**
 * Bytes in memory addressed by position (tests, templates held in memory, nested payloads).
 *
 * @example
 * ```ts
 * import { bytesAccess } from "./random_access.ts";
 * const ra = bytesAccess(new Uint8Array([0x51, 0x45, 0x56, 0x4d]));
 * const b = new Uint8Array(2);
 * ra.read(b, 2);
 * if (b[0] !== 0x56) throw new Error("positional read");
 * ```
 */
export function bytesAccess(bytes: Uint8Array): RandomAccess {
  return {
    size: bytes.length,
    read(buf: Uint8Array, position: number): number {
      const n = Math.max(0, Math.min(buf.length, bytes.length - position));
      if (n > 0) buf.set(bytes.subarray(position, position + n));
      return n;
    },
    close() {},
  };
}
