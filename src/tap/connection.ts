/**
 * One connection through the tap: its pipe, its kind (told from the first source bytes), its
 * recording, and for the main channel and each multifd channel the live parser fed from the
 * forwarded bytes.
 * @module
 */
import { type Classified, classify } from "./classify.ts";
import type { ConnectionEvent, TapEvent } from "./events.ts";
import { type Endpoint, Pipe, type Side } from "./forward.ts";
import { type LiveParseOptions, LiveParser } from "./live_parse.ts";
import type { ConnectionFiles } from "./record.ts";
import { MULTIFD_INIT_BYTES } from "./channels.ts";
import { ChannelParser, type ChannelResult } from "./live_channel.ts";

/** What a connection needs from the tap that accepted it. */
export interface ConnectionContext {
  emit(e: TapEvent): void;
  /** Milliseconds since the tap started. */
  now(): number;
  /** True when an earlier connection (lower accept number) is the main channel. */
  mainBefore(n: number): boolean;
  /** True when the main channel was already found (only the first one is parsed). */
  hasMain(): boolean;
  /**
   * Bytes a connection's buffers per direction may hold (default 8 MiB): what its parser (the main
   * channel's, a multifd channel's) may fall behind the forwarding by.
   */
  parseLimit?: number;
  /** Bytes per socket read. */
  chunk?: number;
  /** Page size and vmdesc for the main channel's parser. */
  parse?: LiveParseOptions;
}

/** A connection's record in the manifest and in the tap's outcome. */
export interface ConnectionInfo {
  n: number;
  kind: Classified["kind"];
  channelId?: number;
  /** File names inside the recording directory. */
  files?: { s2d: string; d2s: string };
  s2d: number;
  d2s: number;
  opened: string;
  closed?: string;
  first?: Side;
  error?: string;
  /** A multifd channel's counts from its live parse (and where it stopped, if it did). */
  multifd?: ChannelResult;
}

/** One accepted connection, forwarded to its own destination connection. */
export class TapConnection {
  readonly n: number;
  readonly pipe: Pipe;
  readonly opened = new Date();
  closed?: Date;
  kind?: Classified;
  /** The main channel's parser (the first main channel only). */
  parser?: LiveParser;
  /** A multifd channel's parser. */
  channel?: ChannelParser;
  /** Resolves once both sockets are closed and the files settled. */
  readonly done: Promise<void>;
  readonly #ctx: ConnectionContext;
  readonly #files?: ConnectionFiles;
  /** The first source bytes (up to a multifd initial packet), checked at the end. */
  init = new Uint8Array(0);
  /** Source bytes seen before the kind was known. */
  #head = new Uint8Array(0);
  #naming?: Promise<void>;
  /** The chunk just handed to #chunk goes to the parser in place (it was not classified on). */
  #lendNext = false;

  constructor(
    n: number,
    src: Endpoint,
    dst: Endpoint,
    ctx: ConnectionContext,
    files?: ConnectionFiles,
  ) {
    this.n = n;
    this.#ctx = ctx;
    this.#files = files;
    this.pipe = new Pipe(
      src,
      dst,
      {
        chunk: (dir, bytes) => this.#chunk(dir, bytes),
        // The parsers read the chunks in place, in the pipe's own buffers.
        borrow: (_dir, bytes) => this.#lendNext ? this.#feed?.lend(bytes) : undefined,
        end: (dir) => {
          if (dir !== "s2d") return;
          if (!this.kind) this.#classified(classify(this.#head, true, ctx.mainBefore(n))!);
          this.#feed?.end();
        },
      },
      ctx.chunk,
      ctx.parseLimit,
    );
    this.done = this.pipe.done.then(() => this.#settle()).catch((e) => {
      // Not expected (the pipe and the files catch their own errors): noted, never thrown.
      this.pipe.error ??= `tap: ${e instanceof Error ? e.message.split("\n")[0] : e}`;
      this.closed ??= new Date();
    });
  }

  /** The parser fed this connection's source bytes, if any. */
  get #feed(): LiveParser | ChannelParser | undefined {
    return this.parser ?? this.channel;
  }

  /** The connection as the manifest records it. */
  info(): ConnectionInfo {
    const p = this.pipe;
    return {
      n: this.n,
      kind: this.kind?.kind ?? "unknown",
      ...(this.kind?.channelId !== undefined ? { channelId: this.kind.channelId } : {}),
      ...(this.#files ? { files: { ...this.#files.names } } : {}),
      s2d: p.s2d,
      d2s: p.d2s,
      opened: this.opened.toISOString(),
      ...(this.closed ? { closed: this.closed.toISOString() } : {}),
      ...(p.first ? { first: p.first } : {}),
      ...(p.error ? { error: p.error } : {}),
      ...(this.channel ? { multifd: { ...this.channel.counts } } : {}),
    };
  }

  #chunk(dir: "s2d" | "d2s", bytes: Uint8Array): Promise<void> | undefined {
    const waits: Promise<void>[] = [];
    this.#lendNext = dir === "s2d" && this.kind !== undefined;
    if (dir === "s2d" && this.init.length < MULTIFD_INIT_BYTES) {
      const more = bytes.subarray(0, MULTIFD_INIT_BYTES - this.init.length);
      const init = new Uint8Array(this.init.length + more.length);
      init.set(this.init);
      init.set(more, this.init.length);
      this.init = init;
    }
    if (dir === "s2d" && !this.kind) {
      const head = new Uint8Array(this.#head.length + bytes.length);
      head.set(this.#head);
      head.set(bytes, this.#head.length);
      this.#head = head;
      const c = classify(head, false, this.#ctx.mainBefore(this.n));
      const first = c && this.#classified(c);
      if (first) waits.push(first);
    }
    if (this.#files) waits.push(this.#files.write(dir, bytes));
    if (waits.length === 0) return undefined;
    return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => {});
  }

  /**
   * The kind is known: its parser started, fed the bytes seen so far (resolves when it has
   * room).
   */
  #classified(c: Classified): Promise<void> | undefined {
    const ctx = this.#ctx;
    if (c.kind === "main" && !ctx.hasMain()) {
      this.parser = new LiveParser(ctx.emit, ctx.now, ctx.parseLimit, ctx.parse);
    } else if (c.kind === "multifd") {
      const opts = { limit: ctx.parseLimit, pageSize: ctx.parse?.pageSize };
      this.channel = new ChannelParser(this.n, ctx.emit, ctx.now, opts);
    }
    this.kind = c;
    const head = this.#head;
    this.#head = new Uint8Array(0);
    this.#naming = this.#files?.name(c.kind);
    const e: ConnectionEvent = { type: "connection", t: ctx.now(), n: this.n, kind: c.kind };
    if (c.channelId !== undefined) e.channelId = c.channelId;
    if (this.#files) e.files = { ...this.#files.names };
    ctx.emit(e);
    return this.#feed?.push(head);
  }

  async #settle(): Promise<void> {
    if (!this.kind) this.#classified(classify(this.#head, true, this.#ctx.mainBefore(this.n))!);
    await this.#naming;
    await this.#files?.close({ s2d: this.pipe.s2d, d2s: this.pipe.d2s });
    this.closed = new Date();
    const p = this.pipe;
    this.#ctx.emit({
      type: "close",
      t: this.#ctx.now(),
      n: this.n,
      first: p.first ?? "tap",
      s2d: p.s2d,
      d2s: p.d2s,
      ...(p.error ? { error: p.error } : {}),
    });
  }
}
