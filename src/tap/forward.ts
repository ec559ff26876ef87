/**
 * One proxied connection: bytes forwarded both ways exactly as they come, the next chunk read
 * while the last one is written and each write awaited before the next (a slow reader slows the
 * writer: no more than a fixed pool of buffers waits here), an end of stream passed on as a
 * half-close, and an error on either side closing both.
 * @module
 */

/** Who ended a connection: one of its two sides, or the tap itself (Ctrl-C, an unreachable
 * destination for another connection). */
export type Side = "source" | "destination" | "tap";

/** The socket calls a pipe uses (Deno.Conn, TCP or unix). */
export interface Endpoint {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}

/** What a pipe tells its owner about the bytes passing. */
export interface PipeHooks {
  /**
   * Bytes read from one side, before they are written to the other. The returned promise is
   * awaited with the write (the next chunk is not written before both settle). Must not reject.
   */
  chunk?(dir: "s2d" | "d2s", bytes: Uint8Array): Promise<void> | undefined;
  /**
   * The owner reads the chunk's buffer in place (while and after it is written): the buffer is
   * reused only once the returned promise resolves; meanwhile the pipe reads into other buffers,
   * up to its buffer limit, then waits. Must not reject.
   */
  borrow?(dir: "s2d" | "d2s", bytes: Uint8Array): Promise<void> | undefined;
  /** A direction ended: its sender closed, failed, or the pipe was aborted. */
  end?(dir: "s2d" | "d2s"): void;
}

/** Bytes read per call. */
export const CHUNK_BYTES = 1 << 20;

/** Most bytes of one direction's buffers (read, being written, or borrowed) by default. */
export const PIPE_BUFFER_LIMIT = 8 << 20;

/** Bytes of a direction's first buffers: a quiet direction (the return path) stays small. */
const FIRST_BUFFER = 64 << 10;

/**
 * One direction's buffers: a free list of at most `limit` bytes in all; a buffer comes back once
 * its write and any borrow of it are over. Buffers start small and double (up to `max` bytes
 * each) each time a read fills one: a busy direction reads in large chunks, an idle one holds
 * little.
 */
class BufferPool {
  #size: number;
  readonly #max: number;
  #limit: number;
  /** Bytes of the buffers that exist (free or out). */
  #bytes = 0;
  #free: Uint8Array[] = [];
  #waiting: ((b: Uint8Array) => void)[] = [];

  constructor(max: number, limit: number) {
    this.#max = max;
    this.#size = Math.min(FIRST_BUFFER, max);
    this.#limit = Math.max(2 * max, limit);
  }

  /** A free buffer: a new one while there is room under the limit, else the next one given back. */
  take(): Uint8Array | Promise<Uint8Array> {
    const b = this.#free.pop();
    if (b) return b;
    if (this.#bytes + this.#size <= this.#limit) {
      this.#bytes += this.#size;
      return new Uint8Array(this.#size);
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** A read filled `b`: later buffers are twice as large (up to the most). */
  filled(b: Uint8Array): void {
    if (b.length === this.#size && this.#size < this.#max) {
      this.#size = Math.min(this.#max, this.#size * 2);
    }
  }

  /** The pipe is closed: whoever waits for a buffer gets a new one (its read will end the flow). */
  close(): void {
    this.#limit = Infinity;
    for (const w of this.#waiting.splice(0)) w(new Uint8Array(this.#size));
  }

  /** `b` is free again (dropped if smaller than the buffers now made and no one waits). */
  give(b: Uint8Array): void {
    const w = this.#waiting.shift();
    if (w) w(b);
    else if (b.length < this.#size) this.#bytes -= b.length;
    else this.#free.push(b);
  }
}

/** Writes all of `bytes` to `w`. */
async function writeAll(w: Endpoint, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await w.write(bytes.subarray(done));
}

function reason(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0];
}

/** A connection between the source and the destination, forwarded both ways until both end. */
export class Pipe {
  /** Bytes written to the destination. */
  s2d = 0;
  /** Bytes written back to the source. */
  d2s = 0;
  /** The side that closed (or failed) first. */
  first?: Side;
  /** The socket error that ended the connection, prefixed by the side that failed. */
  error?: string;
  /** Resolves once both directions ended and both sockets are closed. */
  readonly done: Promise<void>;
  readonly #src: Endpoint;
  readonly #dst: Endpoint;
  readonly #hooks: PipeHooks;
  readonly #chunk: number;
  readonly #limit: number;
  #closed = false;
  /** Each direction's buffers (closed with the pipe: no flow waits for a buffer after it). */
  readonly #pools: BufferPool[] = [];

  /**
   * `chunk`: most bytes per read; `limit`: most bytes of buffers per direction (two chunks at
   * least).
   */
  constructor(
    src: Endpoint,
    dst: Endpoint,
    hooks: PipeHooks = {},
    chunk = CHUNK_BYTES,
    limit = PIPE_BUFFER_LIMIT,
  ) {
    this.#src = src;
    this.#dst = dst;
    this.#hooks = hooks;
    this.#chunk = chunk;
    this.#limit = limit;
    this.done = Promise.all([this.#flow("s2d"), this.#flow("d2s")]).then(() => this.#close());
  }

  /** Closes both sockets now; the directions end without blaming either side. */
  abort(): void {
    if (!this.#closed) this.first ??= "tap";
    this.#close();
  }

  /**
   * One direction: the next chunk is read while the previous one is written, and each write is
   * awaited before the next starts. A borrowed buffer stays out of use until given back, so at
   * most the pool's buffers are in the tap.
   */
  async #flow(dir: "s2d" | "d2s"): Promise<void> {
    const [from, to] = dir === "s2d" ? [this.#src, this.#dst] : [this.#dst, this.#src];
    const [fromSide, toSide]: Side[] = dir === "s2d"
      ? ["source", "destination"]
      : ["destination", "source"];
    const pool = new BufferPool(this.#chunk, this.#limit);
    this.#pools.push(pool);
    if (this.#closed) pool.close();
    let inFlight: Promise<{ error: unknown } | undefined> | undefined;
    try {
      for (;;) {
        const buf = await pool.take();
        let n: number | null;
        try {
          n = await from.read(buf);
        } catch (e) {
          const failed = await inFlight;
          return this.#fail(failed ? toSide : fromSide, failed ? failed.error : e);
        }
        const failed = await inFlight;
        if (failed) return this.#fail(toSide, failed.error);
        if (n === buf.length) pool.filled(buf);
        if (n === null) {
          this.first ??= fromSide;
          await to.closeWrite().catch(() => {});
          return;
        }
        inFlight = this.#deliver(dir, to, buf.subarray(0, n), () => pool.give(buf));
      }
    } finally {
      this.#hooks.end?.(dir);
    }
  }

  /**
   * Writes one chunk (and hands it to the hook meanwhile); resolves the write's error if any.
   * `free` gives the buffer back once the write and any borrow are over.
   */
  async #deliver(
    dir: "s2d" | "d2s",
    to: Endpoint,
    chunk: Uint8Array,
    free: () => void,
  ): Promise<{ error: unknown } | undefined> {
    const side = this.#hooks.chunk?.(dir, chunk);
    const lent = this.#hooks.borrow?.(dir, chunk);
    let error: unknown;
    let failed = false;
    try {
      await writeAll(to, chunk);
    } catch (e) {
      [failed, error] = [true, e];
    }
    await side;
    if (lent) lent.then(free);
    else free();
    if (failed) return { error };
    if (dir === "s2d") this.s2d += chunk.length;
    else this.d2s += chunk.length;
    return undefined;
  }

  /** A socket error on `side`: noted unless the pipe closed itself, then both sides closed. */
  #fail(side: Side, e: unknown): void {
    if (!this.#closed) {
      this.first ??= side;
      this.error ??= `${side}: ${reason(e)}`;
    }
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pools) p.close();
    for (const c of [this.#src, this.#dst]) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
  }
}
