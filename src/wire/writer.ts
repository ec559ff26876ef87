/**
 * A big-endian byte writer: builds records in a growable buffer and hands them to a sink in
 * large chunks, so emitting a stream takes constant memory.
 * @module
 */

const enc = new TextEncoder();

/** Receives finished bytes (a file, stdout, an array in tests). */
export type ByteSink = (bytes: Uint8Array) => Promise<void>;

/** Growable big-endian writer; `flush` hands buffered bytes to the sink. */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;
  #flushed = 0;
  #sink?: ByteSink;

  constructor(sink?: ByteSink, initial = 1 << 20) {
    this.#buf = new Uint8Array(initial);
    this.#view = new DataView(this.#buf.buffer);
    this.#sink = sink;
  }

  /** Absolute offset of the next byte written. */
  get offset(): number {
    return this.#flushed + this.#len;
  }

  /** Bytes buffered and not yet flushed. */
  get pending(): number {
    return this.#len;
  }

  #room(n: number) {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.#room(1);
    this.#buf[this.#len++] = v;
    return this;
  }

  be16(v: number): this {
    this.#room(2);
    this.#view.setUint16(this.#len, v);
    this.#len += 2;
    return this;
  }

  be32(v: number): this {
    this.#room(4);
    this.#view.setUint32(this.#len, v >>> 0);
    this.#len += 4;
    return this;
  }

  /** Writes a u64 given as a non-negative safe integer or a bigint. */
  be64(v: number | bigint): this {
    this.#room(8);
    this.#view.setBigUint64(this.#len, BigInt(v));
    this.#len += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#room(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  /** Writes `n` zero bytes. */
  zeros(n: number): this {
    this.#room(n);
    this.#buf.fill(0, this.#len, this.#len + n);
    this.#len += n;
    return this;
  }

  /** u8 length + bytes (QEMU's counted string, at most 255 bytes). */
  counted(s: string | Uint8Array): this {
    const b = typeof s === "string" ? enc.encode(s) : s;
    if (b.length > 255) throw new RangeError(`counted string of ${b.length} bytes exceeds 255`);
    return this.u8(b.length).bytes(b);
  }

  /** Hands buffered bytes to the sink (when one was given). */
  async flush(): Promise<void> {
    if (!this.#sink || this.#len === 0) return;
    const out = this.#buf.slice(0, this.#len);
    this.#flushed += this.#len;
    this.#len = 0;
    await this.#sink(out);
  }

  /** Flushes when at least `threshold` bytes are buffered. */
  async maybeFlush(threshold = 1 << 20): Promise<void> {
    if (this.#len >= threshold) await this.flush();
  }

  /** The buffered bytes (for in-memory use without a sink). */
  result(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
