/**
 * One proxied connection: bytes forwarded both ways exactly as they come, each chunk's write
 * awaited before the next read (a slow reader slows the writer: nothing piles up here), an end
 * of stream passed on as a half-close, and an error on either side closing both.
 * @module
 */

/** Either end of a proxied connection. */
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
   * Bytes read from one side, before they are written to the other. The buffer is reused once
   * the returned promise (awaited with the write) settles: copy what must be kept. Must not
   * reject.
   */
  chunk?(dir: "s2d" | "d2s", bytes: Uint8Array): Promise<void> | undefined;
  /**
   * The chunk last handed to {@link chunk} was written (and its promise settled); its buffer is
   * reused once the returned promise settles. Must not reject.
   */
  written?(dir: "s2d" | "d2s", bytes: Uint8Array): Promise<void> | undefined;
  /** A direction ended: its sender closed, failed, or the pipe was aborted. */
  end?(dir: "s2d" | "d2s"): void;
}

/** Bytes read per call. */
export const CHUNK_BYTES = 256 << 10;

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
  #closed = false;

  constructor(src: Endpoint, dst: Endpoint, hooks: PipeHooks = {}, chunk = CHUNK_BYTES) {
    this.#src = src;
    this.#dst = dst;
    this.#hooks = hooks;
    this.#chunk = chunk;
    this.done = Promise.all([this.#flow("s2d"), this.#flow("d2s")]).then(() => this.#close());
  }

  /** Closes both sockets now; the directions end without blaming either side. */
  abort(): void {
    if (!this.#closed) this.first ??= "tap";
    this.#close();
  }

  /**
   * One direction: the next chunk is read while the previous one is written (two buffers), and
   * each write is awaited before the next starts, so at most two chunks are in the tap.
   */
  async #flow(dir: "s2d" | "d2s"): Promise<void> {
    const [from, to] = dir === "s2d" ? [this.#src, this.#dst] : [this.#dst, this.#src];
    const [fromSide, toSide]: Side[] = dir === "s2d"
      ? ["source", "destination"]
      : ["destination", "source"];
    const bufs = [new Uint8Array(this.#chunk), new Uint8Array(this.#chunk)];
    let inFlight: Promise<{ error: unknown } | undefined> | undefined;
    try {
      for (let k = 0;; k++) {
        const buf = bufs[k & 1];
        let n: number | null;
        try {
          n = await from.read(buf);
        } catch (e) {
          const failed = await inFlight;
          return this.#fail(failed ? toSide : fromSide, failed ? failed.error : e);
        }
        const failed = await inFlight;
        if (failed) return this.#fail(toSide, failed.error);
        if (n === null) {
          this.first ??= fromSide;
          await to.closeWrite().catch(() => {});
          return;
        }
        inFlight = this.#deliver(dir, to, buf.subarray(0, n));
      }
    } finally {
      this.#hooks.end?.(dir);
    }
  }

  /** Writes one chunk (and hands it to the hook meanwhile); resolves the write's error if any. */
  async #deliver(
    dir: "s2d" | "d2s",
    to: Endpoint,
    chunk: Uint8Array,
  ): Promise<{ error: unknown } | undefined> {
    const side = this.#hooks.chunk?.(dir, chunk);
    try {
      await writeAll(to, chunk);
    } catch (error) {
      await side;
      return { error };
    }
    await side;
    const after = this.#hooks.written?.(dir, chunk);
    if (after) await after;
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
    for (const c of [this.#src, this.#dst]) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
  }
}
