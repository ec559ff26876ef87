/**
 * The tap: a proxy between a migration source and its destination that forwards every
 * connection the source opens (main channel, multifd channels, postcopy preempt) byte for byte,
 * each to its own destination connection opened in accept order, parses the main channel and
 * counts each multifd channel's pages as they pass, tells what it sees as {@link TapEvent}s,
 * and optionally records both directions of every connection. It ends when every connection
 * has closed.
 * @module
 */
import { StreamError } from "../protocol/errors.ts";
import type { InspectResult } from "../report/inspect_stream.ts";
import { errorObject } from "../report/documents.ts";
import { formatAddress, reachesItself, type TapAddress } from "./address.ts";
import { checkChannels } from "./channels.ts";
import type { LiveParseOptions } from "./live_parse.ts";
import { type ConnectionInfo, TapConnection } from "./connection.ts";
import type { TapEvent } from "./events.ts";
import type { Side } from "./forward.ts";
import {
  PARTIAL_NOTE,
  replayCommand,
  type StopPoint,
  type TapEnd,
  type TapManifest,
  UNFOLLOWED_NOTE,
} from "./manifest.ts";
import { Recording } from "./record.ts";

/** Options of {@link Tap.open}. */
export interface TapOptions {
  listen: TapAddress;
  to: TapAddress;
  /** Record every connection into this directory (created 0700 when missing). */
  record?: string;
  /** The migscope version, for the manifest. */
  version?: string;
  /** Every event, in order. */
  onEvent(e: TapEvent): void;
  /** Aborting it ends the tap: connections closed, recordings and manifest kept. */
  signal?: AbortSignal;
  /**
   * Bytes a connection's buffers per direction may hold (default 8 MiB): what its parser (the main
   * channel's, a multifd channel's) may fall behind the forwarding by.
   */
  parseLimit?: number;
  /** Page size and vmdesc for the main channel's parser (as inspect's options). */
  parse?: LiveParseOptions;
  /** Arguments the printed replay command adds (the same --page-size and --vmdesc). */
  replayArgs?: string[];
  /** Connections open at once; one more is closed at once (default {@link MAX_CONNECTIONS}). */
  maxConnections?: number;
  /** Most bytes per socket read (default 1 MiB; reads start at 64 KiB and grow). */
  chunk?: number;
  /** Milliseconds between two bytes events of a connection (default 100). */
  bytesEveryMs?: number;
}

/** Connections the tap keeps open at once by default (QEMU opens 1 + multifd-channels + 1). */
export const MAX_CONNECTIONS = 64;

/** The tap cannot listen where it was told to; the message is one line. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ListenError";
  }
}

/** How a tap ended and what passed through it. */
export interface TapOutcome {
  end: TapEnd;
  /** The main stream reached EOF. */
  complete: boolean;
  /** The main channel's parse (absent when no main channel came). */
  parse?: InspectResult;
  /** Where the main stream stopped, when it did not reach EOF. */
  stopped?: StopPoint;
  /** Which side closed the main connection first. */
  firstClose?: Side;
  /** What is wrong with the multifd channels (the migration is then incomplete). */
  channels?: string;
  /** Why the destination was unreachable (`end` "unreachable"). */
  error?: string;
  recordingError?: string;
  connections: ConnectionInfo[];
  /** With a recording: the replay command, and the manifest's path. */
  replay?: string;
  manifest?: string;
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

/** A listening tap; {@link Tap.run} forwards until the migration is over. */
export class Tap {
  /** Where it listens (the port resolved when 0 was asked for). */
  readonly address: TapAddress;
  readonly #opts: TapOptions;
  readonly #listener: Deno.Listener;
  readonly #rec?: Recording;
  readonly #t0 = performance.now();
  readonly #start = new Date();
  readonly #conns: TapConnection[] = [];
  #accepting = false;
  #endReason?: "closed" | "interrupted" | "unreachable";
  #ended!: () => void;
  readonly #endedP = new Promise<void>((r) => this.#ended = r);
  #unreachable?: string;
  #outcome?: TapOutcome;
  readonly #lastBytes = new Map<number, string>();

  private constructor(opts: TapOptions, listener: Deno.Listener, rec?: Recording) {
    this.#opts = opts;
    this.#listener = listener;
    this.#rec = rec;
    const a = listener.addr;
    this.address = a.transport === "unix"
      ? { transport: "unix", path: (a as Deno.UnixAddr).path }
      : {
        transport: "tcp",
        hostname: (a as Deno.NetAddr).hostname,
        port: (a as Deno.NetAddr).port,
      };
  }

  /** Listens (ListenError when it cannot) and prepares the recording directory (RecordError). */
  static async open(opts: TapOptions): Promise<Tap> {
    let listener: Deno.Listener;
    const l = opts.listen;
    const itself = () =>
      new ListenError(
        `--to ${formatAddress(opts.to)} is where the tap listens: it would forward to itself`,
      );
    if (reachesItself(l, opts.to)) throw itself();
    try {
      listener = l.transport === "unix"
        ? Deno.listen({ transport: "unix", path: l.path })
        : Deno.listen({ hostname: l.hostname, port: l.port });
    } catch (e) {
      throw new ListenError(`cannot listen on ${formatAddress(l)}: ${oneLine(e)}`);
    }
    try {
      const rec = opts.record === undefined ? undefined : await Recording.create(opts.record);
      const tap = new Tap(opts, listener, rec);
      if (reachesItself(tap.address, opts.to)) throw itself(); // port 0 resolved to --to's
      return tap;
    } catch (e) {
      listener.close();
      if (l.transport === "unix") Deno.remove(l.path).catch(() => {});
      throw e;
    }
  }

  #now = (): number => Math.round(performance.now() - this.#t0);

  /** Forwards until every connection has closed (or the signal, or an unreachable destination). */
  async run(): Promise<TapOutcome> {
    const signal = this.#opts.signal;
    const onAbort = () => this.#finish("interrupted");
    signal?.addEventListener("abort", onAbort);
    if (signal?.aborted) onAbort();
    const ticker = setInterval(() => this.#tickBytes(), this.#opts.bytesEveryMs ?? 100);
    const loop = this.#acceptLoop();
    try {
      await this.#endedP;
    } finally {
      clearInterval(ticker);
      signal?.removeEventListener("abort", onAbort);
      this.#closeListener();
      await loop;
    }
    if (this.#endReason !== "closed") { for (const c of this.#conns) c.pipe.abort(); }
    await Promise.all(this.#conns.map((c) => c.done));
    const main = this.#conns.find((c) => c.parser);
    if (this.#endReason === "interrupted") {
      main?.parser?.abort();
      for (const c of this.#conns) c.channel?.abort();
    }
    const parse = await main?.parser?.done;
    await Promise.all(this.#conns.map((c) => c.channel?.done));
    return this.#conclude(parse, main);
  }

  /**
   * Last resort of a forced exit (the work did not unwind after a signal): the manifest as
   * things are, files closed, the unix socket removed. Synchronous, idempotent.
   */
  emergencyCleanup(): void {
    this.#closeListener();
    if (this.#outcome || !this.#rec) return;
    const outcome: TapOutcome = {
      end: "interrupted",
      complete: false,
      connections: this.#conns.map((c) => c.info()),
    };
    this.#writeManifest(outcome);
  }

  #finish(reason: "closed" | "interrupted" | "unreachable") {
    if (this.#endReason) return;
    this.#endReason = reason;
    this.#ended();
  }

  #closeListener() {
    try {
      this.#listener.close();
    } catch { /* closed */ }
    const l = this.#opts.listen;
    if (l.transport === "unix") {
      try {
        if (Deno.lstatSync(l.path).isSocket) Deno.removeSync(l.path);
      } catch { /* gone */ }
    }
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#endReason) {
      let src: Deno.Conn;
      try {
        src = await this.#listener.accept();
      } catch {
        if (this.#endReason) return;
        await new Promise((r) => setTimeout(r, 50)); // EMFILE and such: try again
        continue;
      }
      if (this.#endReason) {
        src.close();
        return;
      }
      const open = this.#conns.filter((c) => !c.closed).length;
      const limit = this.#opts.maxConnections ?? MAX_CONNECTIONS;
      if (open >= limit) {
        src.close(); // nothing held for it: a flood of connections costs no memory
        this.#opts.onEvent({ type: "refused", t: this.#now(), open, limit });
        continue;
      }
      this.#accepting = true;
      try {
        await this.#connect(src);
      } finally {
        this.#accepting = false;
      }
      this.#maybeEnd();
    }
  }

  /** Opens the destination connection for `src` (before the next accept: same order). */
  async #connect(src: Deno.Conn): Promise<void> {
    const n = this.#conns.length;
    const to = this.#opts.to;
    let dst: Deno.Conn | undefined;
    try {
      const connecting = to.transport === "unix"
        ? Deno.connect({ transport: "unix", path: to.path })
        : Deno.connect({ hostname: to.hostname, port: to.port });
      // A connect cannot be cancelled: once the tap ends (Ctrl-C), stop waiting for it (a
      // destination that drops packets keeps it pending for minutes) and close it if it comes.
      dst = await Promise.race([connecting, this.#endedP.then(() => undefined)]);
      if (!dst) {
        connecting.then((c) => c.close(), () => {});
        src.close();
        return;
      }
    } catch (e) {
      src.close();
      this.#unreachable ??= `cannot connect to the destination ${formatAddress(to)} for ` +
        `connection ${n}: ${oneLine(e)} (the source's connection was closed)`;
      return this.#finish("unreachable");
    }
    let files;
    try {
      files = await this.#rec?.open(n);
    } catch (e) {
      this.#rec!.failed(`recording connection ${n}`, e);
    }
    const conn = new TapConnection(n, src, dst, {
      emit: (e) => this.#opts.onEvent(e),
      now: this.#now,
      mainBefore: (k) => this.#conns.some((c) => c.n < k && c.kind?.kind === "main"),
      hasMain: () => this.#conns.some((c) => c.parser),
      parseLimit: this.#opts.parseLimit,
      parse: this.#opts.parse,
      chunk: this.#opts.chunk,
    }, files);
    this.#conns.push(conn);
    conn.done.then(() => this.#maybeEnd());
  }

  #maybeEnd() {
    if (this.#accepting || this.#conns.length === 0) return;
    if (this.#conns.every((c) => c.closed)) this.#finish("closed");
  }

  #tickBytes() {
    for (const c of this.#conns) {
      if (!c.kind || c.closed) continue;
      const { s2d, d2s } = c.pipe;
      const key = `${s2d}/${d2s}`;
      if (this.#lastBytes.get(c.n) === key) continue;
      this.#lastBytes.set(c.n, key);
      this.#opts.onEvent({ type: "bytes", t: this.#now(), n: c.n, s2d, d2s });
    }
  }

  #conclude(parse: InspectResult | undefined, main: TapConnection | undefined): TapOutcome {
    const closed = this.#endReason === "closed";
    const eof = closed && parse !== undefined && !parse.error && parse.summary.eof !== undefined;
    // Every byte passed and the source ended every connection, the stream not cut short: only
    // the parse stopped (a page size, a vmdesc, a format it does not know).
    const err = parse?.error;
    // Cut short: the parser stopped where the forwarded bytes end (it wanted more), not inside.
    const cut = err !== undefined &&
      (!(err instanceof StreamError) || main === undefined || err.offset >= main.pipe.s2d);
    const unfollowed = closed && err !== undefined && !cut &&
      this.#conns.every((c) => c.pipe.first === "source" && !c.pipe.error);
    const channels = checkChannels(this.#conns.map((c) => ({
      n: c.n,
      kind: c.kind?.kind ?? "unknown",
      head: c.init,
    })));
    const complete = eof && !channels;
    const connections = this.#conns.map((c) => c.info());
    const end: TapEnd = !closed
      ? this.#endReason as "unreachable" | "interrupted"
      : complete
      ? "complete"
      : unfollowed && !channels
      ? "unfollowed"
      : "incomplete";
    const outcome: TapOutcome = { end, complete, parse, connections };
    if (parse?.error) outcome.stopped = errorObject(parse.error);
    if (main?.pipe.first) outcome.firstClose = main.pipe.first;
    if (channels) outcome.channels = channels;
    if (this.#unreachable) outcome.error = this.#unreachable;
    if (this.#rec) {
      // A replay command that would fail is not printed: the end says what is wrong instead.
      if (!channels) {
        outcome.replay = replayCommand(this.#rec.dir, connections, this.#opts.replayArgs);
      }
      outcome.manifest = `${this.#rec.dir}/manifest.json`;
    }
    this.#opts.onEvent({
      type: "end",
      t: this.#now(),
      complete,
      outcome: end,
      ...(outcome.firstClose ? { firstClose: outcome.firstClose } : {}),
      ...(channels ? { channels } : {}),
      ...(outcome.replay ? { replay: outcome.replay } : {}),
    });
    if (this.#rec) this.#writeManifest(outcome);
    this.#outcome = outcome;
    return outcome;
  }

  #writeManifest(o: TapOutcome) {
    const rec = this.#rec!;
    const m: TapManifest = {
      format: "migscope-tap",
      version: 1,
      ...(this.#opts.version ? { migscope: this.#opts.version } : {}),
      listen: formatAddress(this.address),
      to: formatAddress(this.#opts.to),
      start: this.#start.toISOString(),
      end: new Date().toISOString(),
      outcome: o.end,
      complete: o.complete,
      ...(o.complete ? {} : { note: o.end === "unfollowed" ? UNFOLLOWED_NOTE : PARTIAL_NOTE }),
      ...(o.stopped ? { stopped: o.stopped } : {}),
      ...(o.firstClose ? { firstClose: o.firstClose } : {}),
      ...(o.channels ? { channels: o.channels } : {}),
      ...(rec.error ? { recordingError: rec.error } : {}),
      ...(o.replay ? { replay: o.replay } : {}),
      connections: o.connections,
    };
    try {
      rec.writeManifest(m);
    } catch (e) {
      rec.failed("writing the manifest", e);
    }
    if (rec.error) o.recordingError = rec.error;
  }
}
