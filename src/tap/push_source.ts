/**
 * A bounded push source: a producer (the tap's forwarder) pushes chunks in, a consumer (the
 * parser's ByteReader) pulls them out. At most `limit` bytes wait between the two: a push that
 * brings the queue past it resolves only once the consumer has taken enough, so a parser that
 * falls behind slows the forwarder instead of growing memory.
 * @module
 */
import type { ByteSource } from "../wire/source.ts";
import { EndOfStreamError } from "../wire/reader.ts";

/** Bytes that may wait between producer and consumer by default. */
export const PUSH_LIMIT = 8 << 20;

/**
 * A {@link ByteSource} fed by {@link PushSource.push}.
 *
 * @example
 * ```ts
 * import { PushSource } from "./push_source.ts";
 * const s = new PushSource(4);
 * const first = s.push(new Uint8Array([1, 2, 3, 4, 5])); // past the limit: waits
 * let resolved = false;
 * first?.then(() => resolved = true);
 * const buf = new Uint8Array(8);
 * const n = await s.read(buf);
 * await first;
 * s.end();
 * if (n !== 5 || !resolved || (await s.read(buf)) !== null) throw new Error();
 * ```
 */
export class PushSource implements ByteSource {
  readonly #limit: number;
  /** Queued bytes; `taken` tells a lender its chunk was taken (see {@link lend}). */
  #chunks: { bytes: Uint8Array; taken?: () => void }[] = [];
  #buffered = 0;
  /** Bytes the consumer has taken (read or skipped): its offset in the stream. */
  #taken = 0;
  #ended = false;
  #closed = false;
  /** The consumer waiting for bytes. */
  #reader?: () => void;
  /** Producers waiting for room. */
  #writers: (() => void)[] = [];

  constructor(limit = PUSH_LIMIT) {
    this.#limit = limit;
  }

  /** Bytes waiting for the consumer. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Adds `chunk` (the source keeps it: pass a copy if the caller reuses its buffer). Returns a
   * promise when the queue is over its limit, resolved once the consumer has made room (or is
   * gone); undefined when there is room. After {@link close} chunks are dropped.
   */
  push(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#closed || this.#ended) return undefined;
    if (chunk.length) {
      this.#chunks.push({ bytes: chunk });
      this.#buffered += chunk.length;
      this.#wakeReader();
    }
    return this.#room();
  }

  /**
   * Queues `chunk` without copying it: the caller's buffer is read in place, so it must stay
   * untouched until the returned promise resolves — once the consumer has taken all of it, or
   * the source is closed. Lent chunks count toward the limit but never wait for room: the
   * lender bounds them (the tap's buffer pool).
   */
  lend(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#closed || this.#ended || !chunk.length) return undefined;
    return new Promise((taken) => {
      this.#chunks.push({ bytes: chunk, taken });
      this.#buffered += chunk.length;
      this.#wakeReader();
    });
  }

  #room(): Promise<void> | undefined {
    if (this.#buffered <= this.#limit) return undefined;
    return new Promise((resolve) => this.#writers.push(resolve));
  }

  /** No more chunks: the consumer reads what is queued, then the end. */
  end(): void {
    this.#ended = true;
    this.#wakeReader();
  }

  read(buf: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.resolve(null);
    if (this.#chunks.length === 0) {
      if (this.#ended) return Promise.resolve(null);
      return new Promise<void>((resolve) => this.#reader = resolve).then(() => this.read(buf));
    }
    let n = 0;
    while (n < buf.length && this.#chunks.length) {
      const e = this.#chunks[0];
      const c = e.bytes;
      const k = Math.min(c.length, buf.length - n);
      buf.set(k === c.length ? c : c.subarray(0, k), n);
      n += k;
      if (k === c.length) {
        this.#chunks.shift();
        e.taken?.();
      } else e.bytes = c.subarray(k);
    }
    this.#taken += n;
    this.#buffered -= n;
    if (this.#buffered <= this.#limit) this.#wakeWriters();
    return Promise.resolve(n);
  }

  /**
   * Drops the next `n` bytes without copying them (a parser skipping a payload), waiting for them
   * as read does; EndOfStreamError when the stream ends (or the source is closed) first.
   */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#closed || (this.#ended && !this.#chunks.length)) {
        throw new EndOfStreamError(this.#taken - (n - left), n, n - left);
      }
      if (!this.#chunks.length) {
        // Room made so far goes to waiting producers first: the bytes still to skip come from them.
        if (this.#buffered <= this.#limit) this.#wakeWriters();
        await new Promise<void>((resolve) => this.#reader = resolve);
        continue;
      }
      const e = this.#chunks[0];
      const k = Math.min(e.bytes.length, left);
      if (k === e.bytes.length) {
        this.#chunks.shift();
        e.taken?.();
      } else e.bytes = e.bytes.subarray(k);
      left -= k;
      this.#taken += k;
      this.#buffered -= k;
    }
    if (this.#buffered <= this.#limit) this.#wakeWriters();
  }

  /** The consumer is gone: queued and later chunks are dropped, waiting producers released. */
  close(): void {
    this.#closed = true;
    for (const c of this.#chunks) c.taken?.();
    this.#chunks = [];
    this.#buffered = 0;
    this.#wakeWriters();
    this.#wakeReader();
  }

  #wakeReader() {
    const r = this.#reader;
    this.#reader = undefined;
    r?.();
  }

  #wakeWriters() {
    const w = this.#writers;
    this.#writers = [];
    for (const resolve of w) resolve();
  }
}
