/**
 * A minimal QMP client over a unix socket: connect (retrying while QEMU starts), negotiate,
 * run commands one at a time, each (and the greeting) within a deadline: a paused QEMU that
 * stops answering is an error, not a hang.
 * @module
 */

/** A QMP command QEMU answered with an error. */
export class QmpError extends Error {}

/** QEMU gave no answer in time, or the wait was interrupted; the connection is closed. */
export class QmpTimeout extends Error {}

/** How long each QMP exchange may take by default (ms). */
export const QMP_ANSWER_MS = 30_000;

/** Bounds on each exchange: its deadline, and a signal that ends the wait at once. */
export interface QmpLimits {
  /** Most ms an answer (or the greeting) may take (default {@link QMP_ANSWER_MS}). */
  answerMs?: number;
  signal?: AbortSignal;
}

/** One QMP connection. */
export class QmpClient {
  #conn: Deno.UnixConn;
  #buf = "";
  #dec = new TextDecoder();
  #limits: QmpLimits;
  private constructor(conn: Deno.UnixConn, limits: QmpLimits) {
    this.#conn = conn;
    this.#limits = limits;
  }

  /**
   * Connects to `path`, retrying until `deadline` (ms since the epoch) or until `alive()` says
   * the process is gone; reads the greeting and enters command mode.
   */
  static async connect(
    path: string,
    deadline: number,
    alive: () => boolean,
    limits: QmpLimits = {},
  ): Promise<QmpClient> {
    for (;;) {
      let q: QmpClient | undefined;
      try {
        q = new QmpClient(await Deno.connect({ transport: "unix", path }), limits);
        await q.#within("the QMP greeting", q.#message());
        await q.cmd("qmp_capabilities");
        return q;
      } catch (e) {
        q?.close();
        const retry = e instanceof Deno.errors.NotFound ||
          e instanceof Deno.errors.ConnectionRefused;
        if (!retry || Date.now() > deadline || !alive()) throw e;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }

  async #message(): Promise<Record<string, unknown>> {
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl).trim();
        this.#buf = this.#buf.slice(nl + 1);
        if (line) return JSON.parse(line);
        continue;
      }
      const chunk = new Uint8Array(65536);
      const n = await this.#conn.read(chunk);
      if (n === null) throw new Error("QMP connection closed");
      this.#buf += this.#dec.decode(chunk.subarray(0, n), { stream: true });
    }
  }

  /**
   * `p`, or {@link QmpTimeout} (the connection closed, so `p`'s read ends) when the deadline
   * passes or the signal aborts first.
   */
  async #within<T>(what: string, p: Promise<T>): Promise<T> {
    const ms = this.#limits.answerMs ?? QMP_ANSWER_MS;
    const signal = this.#limits.signal;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      const end = (why: string) => {
        this.close();
        reject(new QmpTimeout(`${what}: ${why}`));
      };
      timer = setTimeout(() => end(`QEMU gave no answer within ${ms / 1000} s`), ms);
      onAbort = () => end("interrupted");
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([p, stop]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Runs `execute`; resolves its `return` value, or throws {@link QmpError} (QEMU's error) or
   * {@link QmpTimeout} (no answer in time, or interrupted).
   */
  cmd(execute: string, args?: Record<string, unknown>): Promise<unknown> {
    return this.#within(execute, this.#exchange(execute, args));
  }

  async #exchange(execute: string, args?: Record<string, unknown>): Promise<unknown> {
    const text = JSON.stringify(args ? { execute, arguments: args } : { execute }) + "\n";
    await this.#conn.write(new TextEncoder().encode(text));
    for (;;) {
      const m = await this.#message();
      if ("error" in m) {
        const e = m.error as { desc?: string };
        throw new QmpError(`${execute}: ${e.desc ?? JSON.stringify(m.error)}`);
      }
      if ("return" in m) return m.return;
    }
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}
