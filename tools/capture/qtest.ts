/**
 * A client of QEMU's qtest protocol (`-accel qtest -qtest unix:PATH,server=on,wait=off`): guest
 * memory written and read from outside. Writes go through address_space_write, so migration sees
 * the pages dirty; reads on a postcopy destination fault on pages not yet received and wait for
 * them (requested over the return path).
 * @module
 */
import { Buffer } from "node:buffer";

/** One qtest connection (one request at a time). */
export class Qtest {
  #conn: Deno.UnixConn;
  #buf = "";
  #dec = new TextDecoder();
  #enc = new TextEncoder();
  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /** Connects to the qtest socket, retrying until `deadline`. */
  static async connect(path: string, deadline: number): Promise<Qtest> {
    for (;;) {
      try {
        return new Qtest(await Deno.connect({ transport: "unix", path }));
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`qtest socket ${path}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async #line(): Promise<string> {
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      const chunk = new Uint8Array(65536);
      const n = await this.#conn.read(chunk);
      if (n === null) throw new Error("qtest connection closed");
      this.#buf += this.#dec.decode(chunk.subarray(0, n));
    }
  }

  /** Sends one command line; returns what follows "OK" in the answer, throws on FAIL/ERR. */
  async cmd(line: string): Promise<string> {
    const bytes = this.#enc.encode(line + "\n");
    let w = 0;
    while (w < bytes.length) w += await this.#conn.write(bytes.subarray(w));
    for (;;) {
      const answer = await this.#line();
      if (answer.startsWith("IRQ")) continue;
      if (answer === "OK" || answer.startsWith("OK ")) return answer.slice(3);
      throw new Error(`qtest ${line.split(" ")[0]}: ${answer}`);
    }
  }

  /**
   * Sends `lines` in one write and reads one answer per line (what follows each "OK"); throws on
   * the first FAIL/ERR, after reading every answer.
   */
  async cmds(lines: string[]): Promise<string[]> {
    const bytes = this.#enc.encode(lines.map((l) => l + "\n").join(""));
    let w = 0;
    while (w < bytes.length) w += await this.#conn.write(bytes.subarray(w));
    const out: string[] = [];
    let failed: string | undefined;
    while (out.length < lines.length) {
      const answer = await this.#line();
      if (answer.startsWith("IRQ")) continue;
      if (answer === "OK" || answer.startsWith("OK ")) out.push(answer.slice(3));
      else {
        failed ??= `qtest ${lines[out.length].split(" ")[0]}: ${answer}`;
        out.push("");
      }
    }
    if (failed) throw new Error(failed);
    return out;
  }

  /** Writes `data` at guest physical address `addr`. */
  async write(addr: number, data: Uint8Array): Promise<void> {
    await this.cmd(
      `b64write 0x${addr.toString(16)} 0x${data.length.toString(16)} ${
        Buffer.from(data).toString("base64")
      }`,
    );
  }

  /** Fills `size` bytes at `addr` with `value`. */
  async memset(addr: number, size: number, value: number): Promise<void> {
    await this.cmd(`memset 0x${addr.toString(16)} 0x${size.toString(16)} 0x${value.toString(16)}`);
  }

  /** Reads `size` bytes at guest physical address `addr`. */
  async read(addr: number, size: number): Promise<Uint8Array> {
    const b64 = await this.cmd(`b64read 0x${addr.toString(16)} 0x${size.toString(16)}`);
    return new Uint8Array(Buffer.from(b64, "base64"));
  }

  close() {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}
