/**
 * A minimal QMP client over a unix socket: connect (retrying while QEMU starts), negotiate,
 * run commands one at a time.
 * @module
 */

/** A QMP command QEMU answered with an error. */
export class QmpError extends Error {}

/** One QMP connection. */
export class QmpClient {
  #conn: Deno.UnixConn;
  #buf = "";
  #dec = new TextDecoder();
  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /**
   * Connects to `path`, retrying until `deadline` (ms since the epoch) or until `alive()` says
   * the process is gone; reads the greeting and enters command mode.
   */
  static async connect(path: string, deadline: number, alive: () => boolean): Promise<QmpClient> {
    for (;;) {
      let conn: Deno.UnixConn | undefined;
      try {
        conn = await Deno.connect({ transport: "unix", path });
        const q = new QmpClient(conn);
        await q.#message();
        await q.cmd("qmp_capabilities");
        return q;
      } catch (e) {
        conn?.close();
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

  /** Runs `execute`; resolves its `return` value, or throws {@link QmpError}. */
  async cmd(execute: string, args?: Record<string, unknown>): Promise<unknown> {
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
