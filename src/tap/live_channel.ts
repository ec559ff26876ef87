/**
 * A multifd channel parsed while it passes, as the main channel is (live_parse.ts): the
 * forwarded source→destination chunks are lent to a bounded {@link PushSource} that the multifd
 * parser reads in count-only mode (packet headers: counts, sizes, flags; payloads skipped, not
 * decoded). Its counts are told as {@link ChannelEvent}s — at each SYNC packet, at most once a
 * second in between, and at the channel's end — and, if the parser stops early, one
 * {@link ChannelErrorEvent}; the tap forwards on without parsing.
 * @module
 */
import { type MultifdItem, parseMultifdChannel } from "../parse/multifd.ts";
import { errorObject } from "../report/documents.ts";
import { ByteReader } from "../wire/reader.ts";
import type { ChannelEvent, MultifdCounts, TapEvent } from "./events.ts";
import type { StopPoint } from "./manifest.ts";
import { FedParser } from "./fed_parser.ts";

/** Least milliseconds between two channel events of a channel that are not at a SYNC. */
export const CHANNEL_EVERY_MS = 1000;

/**
 * Bytes the parser's reader copies per read: enough for a packet header, small so that most of a
 * payload is skipped in the forwarding buffers ({@link PushSource.skip}) rather than copied.
 */
const READ_CHUNK = 16 << 10;

/** A multifd channel's final counts, and where its parse stopped if it did. */
export interface ChannelResult extends MultifdCounts {
  stopped?: StopPoint;
}

/** One multifd channel's live parse. */
export class ChannelParser extends FedParser {
  readonly #emit: (e: TapEvent) => void;
  readonly #now: () => number;
  readonly #n: number;
  /** The channel id, once the initial packet was read. */
  channelId?: number;
  readonly counts: ChannelResult = {
    packets: 0,
    syncs: 0,
    normalPages: 0,
    zeroPages: 0,
    payloadBytes: 0,
    deviceState: 0,
  };
  /** Event time of the last channel event; whether counts changed since. */
  #told = 0;
  #changed = false;
  /** The tap stopped the parse (an interrupted tap): no error to tell. */
  #aborted = false;
  /** Resolves with the final counts once the channel ended (or its parse stopped). */
  readonly done: Promise<ChannelResult>;

  /**
   * Starts parsing connection `n`; events go to `emit`, stamped with `now()` (ms since the tap
   * started).
   */
  constructor(
    n: number,
    emit: (e: TapEvent) => void,
    now: () => number,
    opts: { limit?: number; pageSize?: number } = {},
  ) {
    super(opts.limit);
    this.#n = n;
    this.#emit = emit;
    this.#now = now;
    this.done = this.#run(opts.pageSize);
  }

  async #run(pageSize?: number): Promise<ChannelResult> {
    const reader = new ByteReader(this.source, { chunk: READ_CHUNK });
    try {
      const items = parseMultifdChannel(reader, `connection ${this.#n}`, {
        pageSize,
        countOnly: true,
      });
      for await (const item of items) this.#add(item);
    } catch (e) {
      if (this.#aborted) return this.#final();
      const stop = errorObject(e);
      this.counts.stopped = stop;
      this.#emit({
        type: "channel-error",
        t: this.#now(),
        n: this.#n,
        ...this.#id(),
        ...stop,
      });
    } finally {
      this.source.close();
    }
    return this.#final();
  }

  #final(): ChannelResult {
    this.#tell(true);
    return this.counts;
  }

  #id(): { channelId?: number } {
    return this.channelId === undefined ? {} : { channelId: this.channelId };
  }

  #add(item: MultifdItem): void {
    const c = this.counts;
    if (item.kind === "init") {
      this.channelId = item.id;
      return;
    }
    this.#changed = true;
    if (item.kind === "device-state") {
      c.deviceState++;
    } else {
      c.packets++;
      c.normalPages += item.normalPages;
      c.zeroPages += item.zeroPages;
      c.payloadBytes += item.payloadBytes;
      if (item.normalPages + item.zeroPages) c.compression ??= item.compression;
      if (item.sync) {
        c.syncs++;
        return this.#tell(false);
      }
    }
    if (this.#now() - this.#told >= CHANNEL_EVERY_MS) this.#tell(false);
  }

  /** A channel event with the counts so far (at the end, always; else when they changed). */
  #tell(end: boolean): void {
    if (!end && !this.#changed) return;
    this.#changed = false;
    const t = this.#told = this.#now();
    const { stopped: _, ...counts } = this.counts;
    const e: ChannelEvent = { type: "channel", t, n: this.#n, ...this.#id(), ...counts };
    if (end) e.end = true;
    this.#emit(e);
  }

  /** Stops parsing now (the tap is interrupted); `done` still resolves. */
  override abort(): void {
    this.#aborted = true;
    super.abort();
  }
}
