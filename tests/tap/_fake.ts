/**
 * Fake migration sources and destinations for the tap's tests: plain Deno sockets, and the tap
 * itself run in process with its events collected.
 */
import { Tap, type TapOptions, type TapOutcome } from "../../src/tap/tap.ts";
import type { TapAddress } from "../../src/tap/address.ts";
import type { TapEvent } from "../../src/tap/events.ts";

/** Reads `c` to its end. */
export async function readAll(c: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  const buf = new Uint8Array(1 << 16);
  for (;;) {
    let n: number | null;
    try {
      n = await c.read(buf);
    } catch {
      n = null;
    }
    if (n === null) break;
    parts.push(buf.slice(0, n));
    size += n;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Writes all of `bytes`. */
export async function writeAll(c: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await c.write(bytes.subarray(done));
}

/** Half-closes each of `conns`, reads it to its end (the destination's reply), and closes it. */
export async function finish(conns: readonly Deno.Conn[]): Promise<void> {
  for (const c of conns) {
    await c.closeWrite();
    await readAll(c);
    c.close();
  }
}

/** Deterministic pseudo-random bytes. */
export function noise(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A destination: each accepted connection goes to `handle` (with its accept number). */
export class FakeDestination {
  readonly listener: Deno.Listener;
  readonly handled: Promise<unknown>[] = [];
  #loop: Promise<void>;

  constructor(
    handle: (c: Deno.Conn, i: number) => Promise<unknown>,
    listen: Deno.ListenOptions | Deno.UnixListenOptions & { transport: "unix" } = {
      hostname: "127.0.0.1",
      port: 0,
    },
  ) {
    const listener = this.listener = Deno.listen(listen as Deno.ListenOptions);
    this.#loop = (async () => {
      for (let i = 0;; i++) {
        let c: Deno.Conn;
        try {
          c = await listener.accept();
        } catch {
          return;
        }
        this.handled.push(
          handle(c, i).finally(() => {
            try {
              c.close();
            } catch { /* closed by the handler */ }
          }),
        );
      }
    })();
  }

  get address(): TapAddress {
    const a = this.listener.addr;
    return a.transport === "unix"
      ? { transport: "unix", path: (a as Deno.UnixAddr).path }
      : { transport: "tcp", hostname: "127.0.0.1", port: (a as Deno.NetAddr).port };
  }

  /** Stops listening and waits for every handler. */
  async close(): Promise<unknown[]> {
    try {
      this.listener.close();
    } catch { /* closed */ }
    await this.#loop;
    return await Promise.all(this.handled);
  }
}

/** A tap run in process: its address, its events, and its outcome once it ends. */
export interface RunningTap {
  tap: Tap;
  port: number;
  events: TapEvent[];
  outcome: Promise<TapOutcome>;
}

/** Opens a tap on an ephemeral 127.0.0.1 port forwarding to `to`, and runs it. */
export async function startTap(
  to: TapAddress,
  opts: Partial<TapOptions> = {},
): Promise<RunningTap> {
  const events: TapEvent[] = [];
  const tap = await Tap.open({
    listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
    to,
    onEvent: (e) => events.push(e),
    ...opts,
  });
  const port = tap.address.transport === "tcp" ? tap.address.port : 0;
  return { tap, port, events, outcome: tap.run() };
}

/** Connects to the tap. */
export function connect(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** The events of one type. */
export function ofType<T extends TapEvent["type"]>(
  events: TapEvent[],
  type: T,
): Extract<TapEvent, { type: T }>[] {
  return events.filter((e) => e.type === type) as Extract<TapEvent, { type: T }>[];
}

/** Bytes that start a multifd channel: its 64-byte initial packet with channel `id`. */
export function multifdInit(id: number): Uint8Array {
  const b = new Uint8Array(64);
  b.set([0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1]);
  b[24] = id;
  return b;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
