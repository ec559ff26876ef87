/**
 * The recording proxy between a migration source and its destination: every connection the
 * source opens is accepted, connected to the destination in accept order (the destination tells
 * a postcopy preempt channel from the main one by that order), and its source→destination bytes
 * are recorded to a file while the return path passes through unrecorded.
 * @module
 */

/** What a recorded connection carries, by its first 4 bytes. */
export type ConnectionKind = "main" | "multifd" | "preempt";

/** One recorded connection. */
export interface Connection {
  file: string;
  /** 'QEVM' main, 0x11223344 multifd, anything else (no magic) the postcopy preempt channel. */
  kind: ConnectionKind;
  /** Source→destination bytes recorded. */
  bytes: number;
}

/**
 * What a capture's source migrates through: something listening on `port` of 127.0.0.1 that
 * passes every connection on to the destination ({@link RecordingProxy}, `migscope tap` in
 * tools/capture/tap.ts, or nothing at all: the destination's own port).
 */
export interface Relay {
  /** Where the source migrates to. */
  port: number;
  /** Called once both QEMUs have quit: the relay's end; the recorded connections in order. */
  close(): Promise<Connection[]>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

/** Pipes one proxied connection, recording source→destination bytes to `file`. */
async function tee(src: Deno.Conn, dst: Deno.Conn, file: string): Promise<void> {
  const out = await Deno.open(file, { write: true, create: true, truncate: true });
  const forward = (async () => {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      let n: number | null;
      try {
        n = await src.read(buf);
      } catch {
        n = null;
      }
      if (n === null) break;
      const b = buf.subarray(0, n);
      let w = 0;
      while (w < n) w += await out.write(b.subarray(w));
      try {
        w = 0;
        while (w < n) w += await dst.write(b.subarray(w));
      } catch {
        break;
      }
    }
    await dst.closeWrite().catch(() => {}); // already closed
  })();
  const backward = (async () => {
    const buf = new Uint8Array(1 << 16);
    for (;;) {
      let n: number | null;
      try {
        n = await dst.read(buf);
      } catch {
        n = null;
      }
      if (n === null) break;
      try {
        let w = 0;
        while (w < n) w += await src.write(buf.subarray(w, n));
      } catch {
        break;
      }
    }
    await src.closeWrite().catch(() => {}); // already closed
  })();
  await Promise.all([forward, backward]);
  out.close();
  try {
    src.close();
  } catch { /* closed */ }
  try {
    dst.close();
  } catch { /* closed */ }
}

/** Classifies a recorded connection by its first 4 bytes. */
export async function classify(file: string): Promise<Connection> {
  const head = new Uint8Array(4);
  const fh = await Deno.open(file);
  let n = 0;
  while (n < 4) {
    const r = await fh.read(head.subarray(n));
    if (r === null) break;
    n += r;
  }
  fh.close();
  const bytes = (await Deno.stat(file)).size;
  const be = n === 4 ? new DataView(head.buffer).getUint32(0) : -1;
  const kind: ConnectionKind = be === 0x5145564d
    ? "main"
    : be === 0x11223344
    ? "multifd"
    : "preempt";
  return { file, kind, bytes };
}

/** A listening recording proxy forwarding to `127.0.0.1:dstPort`. */
export class RecordingProxy implements Relay {
  readonly port: number;
  /** Recorded files in accept order. */
  readonly files: string[] = [];
  #listener: Deno.Listener;
  #pipes: Promise<void>[] = [];
  #loop: Promise<void>;

  constructor(dir: string, dstPort: number) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#loop = (async () => {
      for (;;) {
        let c: Deno.Conn;
        try {
          c = await listener.accept();
        } catch {
          break;
        }
        // Connect before accepting the next one: the destination sees the source's order.
        let d: Deno.Conn;
        try {
          d = await Deno.connect({ hostname: "127.0.0.1", port: dstPort });
        } catch {
          c.close();
          continue;
        }
        const file = `${dir}/conn${this.files.length}.bin`;
        this.files.push(file);
        this.#pipes.push(tee(c, d, file));
      }
    })();
  }

  /** Stops accepting, waits for every connection to end and classifies the recordings. */
  async close(): Promise<Connection[]> {
    try {
      this.#listener.close();
    } catch { /* closed */ }
    await this.#loop;
    await Promise.all(this.#pipes);
    return await Promise.all(this.files.map(classify));
  }
}
