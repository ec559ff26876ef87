/**
 * A buffered big-endian reader over a {@link ByteSource}, tracking absolute stream offsets.
 *
 * Hot paths call `has(n)` and only `await fill(n)` when the bytes are not buffered yet, so a
 * record whose bytes are already in memory is parsed without a promise.
 * @module
 */
import type { ByteSource } from "./source.ts";

/** Thrown when the stream ends before `needed` bytes could be read at `offset`. */
export class EndOfStreamError extends Error {
  constructor(readonly offset: number, readonly needed: number, readonly available: number) {
    super(`stream ends at offset ${offset + available}: needed ${needed} bytes, ${available} left`);
    this.name = "EndOfStreamError";
  }
}

/** Thrown when a buffer request exceeds the configured memory bound. */
export class BufferLimitError extends Error {
  constructor(readonly offset: number, readonly requested: number, readonly limit: number) {
    super(
      `a single read of ${requested} bytes at offset ${offset} exceeds the ${limit}-byte bound`,
    );
    this.name = "BufferLimitError";
  }
}

const DEFAULT_CHUNK = 4 << 20;
/** Largest contiguous run the reader will ever buffer (bounds memory on hostile lengths). */
export const MAX_BUFFER = 256 << 20;

/** Buffered reader with absolute offsets; views it returns stay valid until the next fill. */
export class ByteReader {
  #src: ByteSource;
  #buf: Uint8Array;
  #view: DataView;
  #start = 0;
  #end = 0;
  /** Absolute stream offset of `#buf[0]`. */
  #base: number;
  #eof = false;
  #maxBuffer: number;
  /** The buffer is the caller's bytes (see {@link ByteReader.ofBytes}): never refilled or moved. */
  #fixed = false;

  constructor(
    src: ByteSource,
    opts: { chunk?: number; baseOffset?: number; maxBuffer?: number } = {},
  ) {
    this.#src = src;
    this.#buf = new Uint8Array(opts.chunk ?? DEFAULT_CHUNK);
    this.#view = new DataView(this.#buf.buffer);
    this.#base = opts.baseOffset ?? 0;
    this.#maxBuffer = opts.maxBuffer ?? MAX_BUFFER;
  }

  /**
   * A reader over bytes already in memory, without copying them: the bytes are the buffer.
   *
   * @example
   * ```ts
   * import { ByteReader } from "./reader.ts";
   * const r = ByteReader.ofBytes(new Uint8Array([0x51, 0x45, 0x56, 0x4d]));
   * if (r.be32() !== 0x5145564d) throw new Error("QEVM");
   * ```
   */
  static ofBytes(bytes: Uint8Array): ByteReader {
    const r = new ByteReader({ read: () => Promise.resolve(null), close() {} }, { chunk: 0 });
    r.#buf = bytes;
    r.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    r.#end = bytes.length;
    r.#eof = true;
    r.#fixed = true;
    return r;
  }

  /** The underlying source. */
  get source(): ByteSource {
    return this.#src;
  }

  /** Absolute offset of the next unread byte. */
  get pos(): number {
    return this.#base + this.#start;
  }

  /**
   * The buffer itself, for batch parsers: unread bytes are `raw[start, end)`, and `raw[i]` is at
   * absolute offset `base + i`. Valid until the next fill; consume with {@link advanceTo}.
   */
  get raw(): Uint8Array {
    return this.#buf;
  }

  /** A DataView over {@link raw}. */
  get rawView(): DataView {
    return this.#view;
  }

  /** Index in {@link raw} of the next unread byte. */
  get start(): number {
    return this.#start;
  }

  /** Index in {@link raw} one past the last buffered byte. */
  get end(): number {
    return this.#end;
  }

  /** Absolute offset of `raw[0]`. */
  get base(): number {
    return this.#base;
  }

  /** Consumes up to index `i` of {@link raw} (buffered bytes only). */
  advanceTo(i: number): void {
    this.#start = i;
  }

  /**
   * Bytes left in the stream, when known: the source's size (regular files), or what is
   * buffered once the source has ended. Undefined for a pipe still being read.
   */
  get remaining(): number | undefined {
    if (this.#eof) return this.#end - this.#start;
    const size = this.#src.size;
    return size === undefined ? undefined : Math.max(0, size - this.pos);
  }

  /** Bytes buffered and not yet consumed. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** True when at least `n` bytes are buffered. */
  has(n: number): boolean {
    return this.#end - this.#start >= n;
  }

  /** Buffers at least `n` bytes, or throws {@link EndOfStreamError}. */
  async fill(n: number): Promise<void> {
    if (this.#end - this.#start >= n) return;
    if (this.#fixed) throw new EndOfStreamError(this.pos, n, this.#end - this.#start);
    if (n > this.#maxBuffer) throw new BufferLimitError(this.pos, n, this.#maxBuffer);
    if (
      this.#buf.length - this.#start < n || this.#buf.length - this.#end < (this.#buf.length >> 2)
    ) {
      this.#compact(n);
    }
    while (this.#end - this.#start < n) {
      if (this.#eof) throw new EndOfStreamError(this.pos, n, this.#end - this.#start);
      const got = await this.#src.read(this.#buf.subarray(this.#end));
      if (got === null) this.#eof = true;
      else this.#end += got;
    }
  }

  /** Tries to buffer `n` bytes; resolves how many are buffered (fewer only at the end). */
  async peekUpTo(n: number): Promise<number> {
    try {
      await this.fill(n);
    } catch (e) {
      if (!(e instanceof EndOfStreamError)) throw e;
    }
    return this.buffered;
  }

  /** True when no byte is left in the stream. */
  async atEnd(): Promise<boolean> {
    return (await this.peekUpTo(1)) === 0;
  }

  #compact(n: number): void {
    const live = this.#end - this.#start;
    if (this.#buf.length < n || this.#buf.length < live + (this.#buf.length >> 2)) {
      let size = this.#buf.length;
      while (size < n || size < live * 2) size *= 2;
      size = Math.min(size, Math.max(this.#maxBuffer, n));
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    } else if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    }
    this.#base += this.#start;
    this.#start = 0;
    this.#end = live;
  }

  /** Next byte (must be buffered). */
  u8(): number {
    return this.#buf[this.#start++];
  }

  /** Next byte without consuming it (must be buffered). */
  peekU8(at = 0): number {
    return this.#buf[this.#start + at];
  }

  /** Next big-endian u16 (must be buffered). */
  be16(): number {
    const v = this.#view.getUint16(this.#start);
    this.#start += 2;
    return v;
  }

  /** Next big-endian u32 (must be buffered). */
  be32(): number {
    const v = this.#view.getUint32(this.#start);
    this.#start += 4;
    return v;
  }

  /** Big-endian u32 at `at` bytes ahead, not consumed (must be buffered). */
  peekBe32(at = 0): number {
    return this.#view.getUint32(this.#start + at);
  }

  /** Next big-endian u64 as high and low u32 halves (must be buffered). */
  be64Parts(): [number, number] {
    const hi = this.#view.getUint32(this.#start);
    const lo = this.#view.getUint32(this.#start + 4);
    this.#start += 8;
    return [hi, lo];
  }

  /** Next big-endian u64 as a bigint (must be buffered). */
  be64Big(): bigint {
    const v = this.#view.getBigUint64(this.#start);
    this.#start += 8;
    return v;
  }

  /** Next `n` bytes as a view into the buffer (must be buffered; valid until the next fill). */
  bytes(n: number): Uint8Array {
    const v = this.#buf.subarray(this.#start, this.#start + n);
    this.#start += n;
    return v;
  }

  /** Next `n` bytes as a view, without consuming them (must be buffered). */
  peekBytes(n: number, at = 0): Uint8Array {
    return this.#buf.subarray(this.#start + at, this.#start + at + n);
  }

  /** Consumes `n` buffered bytes. */
  advance(n: number): void {
    this.#start += n;
  }

  /** Skips `n` bytes, seeking when the source can (holes are not read). */
  async skip(n: number): Promise<void> {
    const avail = this.#end - this.#start;
    if (n <= avail) {
      this.#start += n;
      return;
    }
    let rest = n - avail;
    const size = this.#src.size;
    if (this.#src.skip && size !== undefined && this.pos + n > size) {
      throw new EndOfStreamError(this.pos, n, size - this.pos);
    }
    this.#base += this.#end;
    this.#start = this.#end = 0;
    if (this.#src.skip) {
      await this.#src.skip(rest);
      this.#base += rest;
      return;
    }
    while (rest > 0) {
      const got = await this.#src.read(this.#buf.subarray(0, Math.min(rest, this.#buf.length)));
      if (got === null) {
        this.#eof = true;
        throw new EndOfStreamError(this.#base, rest, 0);
      }
      this.#base += got;
      rest -= got;
    }
  }

  /**
   * Buffers everything up to the end of the stream (at most `limit` bytes) and returns a view
   * of it, not consumed. Used to find a trailer in a pipe. Throws BufferLimitError past `limit`.
   */
  async bufferRest(limit: number): Promise<Uint8Array> {
    while (!this.#eof) {
      const want = this.buffered + (1 << 20);
      if (want > limit + 1) throw new BufferLimitError(this.pos, want, limit);
      await this.peekUpTo(want);
    }
    if (this.buffered > limit) throw new BufferLimitError(this.pos, this.buffered, limit);
    return this.#buf.subarray(this.#start, this.#end);
  }
}
