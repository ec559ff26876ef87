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
  /**
   * Bytes read ahead of the buffer by {@link ByteReader.readAhead}, in order: they follow
   * `#buf[#end]` and are taken before the source is read again.
   */
  #ahead: Uint8Array[] = [];
  #aheadBytes = 0;
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
    if (this.#eof) return this.#end - this.#start + this.#aheadBytes;
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
      if (this.#aheadBytes) {
        this.#end += this.#takeAhead(this.#buf.subarray(this.#end));
        continue;
      }
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

  /** Moves up to `max` read-ahead bytes into `dst` (or drops them, without `dst`); returns n. */
  #takeAhead(dst: Uint8Array | null, max = dst ? dst.length : Infinity): number {
    const c = this.#ahead[0];
    const k = Math.min(max, c.length);
    if (dst) dst.set(k === c.length ? c : c.subarray(0, k));
    if (k === c.length) this.#ahead.shift();
    else this.#ahead[0] = c.subarray(k);
    this.#aheadBytes -= k;
    return k;
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
    while (rest > 0 && this.#aheadBytes) {
      const k = this.#takeAhead(null, rest);
      this.#base += k;
      rest -= k;
    }
    if (rest === 0) return;
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
   * Reads the rest of the stream ahead, without consuming it, holding at most `limit` bytes
   * (buffered and read ahead together, counted as the memory they take: fixed 1 MiB chunks,
   * never a growing copy). Resolves how many bytes are left; throws BufferLimitError as soon as
   * the stream is longer than `limit`. Used to reach a pipe's trailer; the parser then reads
   * the bytes from memory.
   */
  async readAhead(limit: number): Promise<number> {
    const CHUNK = 1 << 20;
    while (!this.#eof) {
      const held = this.#end - this.#start + this.#aheadBytes;
      if (held > limit) throw new BufferLimitError(this.pos, held, limit);
      const chunk = new Uint8Array(Math.min(CHUNK, limit - held + 1));
      let got = 0;
      while (got < chunk.length) {
        const k = await this.#src.read(chunk.subarray(got));
        if (k === null) {
          this.#eof = true;
          break;
        }
        got += k;
      }
      if (got) {
        this.#ahead.push(got === chunk.length ? chunk : chunk.slice(0, got));
        this.#aheadBytes += got;
      }
      if (held + got > limit) {
        throw new BufferLimitError(this.pos, held + got, limit);
      }
    }
    return this.#end - this.#start + this.#aheadBytes;
  }

  /** A copy of the last `n` bytes of what {@link readAhead} holds (n ≤ {@link remaining}). */
  tail(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = n;
    for (let i = this.#ahead.length - 1; i >= 0 && at > 0; i--) {
      const c = this.#ahead[i];
      const k = Math.min(at, c.length);
      out.set(c.subarray(c.length - k), at - k);
      at -= k;
    }
    if (at > 0) out.set(this.#buf.subarray(this.#end - at, this.#end), 0);
    return out;
  }

  /**
   * Buffers everything up to the end of the stream (at most `limit` bytes) and returns a view
   * of it, not consumed. Throws BufferLimitError past `limit`.
   */
  async bufferRest(limit: number): Promise<Uint8Array> {
    const n = await this.readAhead(limit);
    if (this.#aheadBytes) {
      const all = this.tail(n);
      this.#ahead = [];
      this.#aheadBytes = 0;
      this.#base += this.#start;
      this.#buf = all;
      this.#view = new DataView(all.buffer);
      this.#start = 0;
      this.#end = n;
    }
    return this.#buf.subarray(this.#start, this.#end);
  }
}
