/**
 * Multifd channels replayed with the main stream, in the order a destination applies them:
 * each channel's packets up to its next SYNC packet at every RAM EOS (QEMU 7.2), or, once the
 * main stream has shown one, at every MULTIFD_FLUSH (8.1+); whatever remains at the end.
 * Channels are parsed lazily, once the main stream has told the page size.
 * @module
 */
import {
  ChannelError,
  type ChannelIdentity,
  channelKind,
  checkChannelIdentity,
  checkPacketPages,
  liveChannelError,
  PacketNumbers,
} from "../parse/channel_identity.ts";
import {
  type MultifdInit,
  type MultifdItem,
  type MultifdPacket,
  parseMultifdChannel,
} from "../parse/multifd.ts";
import { RAM_CODE } from "../protocol/ram_batch.ts";
import { applyPreempt } from "./preempt_applier.ts";
import type { Pace } from "../wire/pace.ts";
import type { ByteReader } from "../wire/reader.ts";
import { ReplayError } from "./errors.ts";
import type { RamApplier } from "./ram_applier.ts";
import { UNTOUCHED } from "./slot.ts";
import { WRITER } from "./writers.ts";

/** A multifd channel capture to replay. */
export interface ChannelInput {
  name: string;
  reader: ByteReader;
}

interface Channel {
  name: string;
  reader: ByteReader;
  /** Told by the first bytes: multifd magic, else postcopy-preempt (no magic). */
  kind?: "multifd" | "preempt";
  packets?: AsyncIterator<MultifdItem>;
}

/** The error of a multifd main stream replayed without its channels. */
export const NO_CHANNELS = "a multifd main stream: its pages travel on the multifd channels; " +
  "give them with --channel";

/** Applies channel packets at the main stream's synchronisation points. */
export class MultifdScheduler {
  readonly #channels: Channel[];
  readonly #ram: RamApplier;
  readonly #pace?: Pace;
  #flushSeen = false;
  /** Offset of the main stream's first MULTIFD_FLUSH (-1: none). */
  #flushAt = -1;
  #mainUuid?: string;
  readonly #ids: ChannelIdentity[] = [];
  readonly #numbers = new PacketNumbers();
  #blocks?: Map<string, number>;
  #postcopy = false;
  /** Page records applied from channels (multifd normal and zero pages, preempt records). */
  pages = 0;
  #method?: string;

  /** `pace` is called once per packet (see wire/pace.ts: it lets a long drain be stopped). */
  constructor(channels: ChannelInput[], ram: RamApplier, pace?: Pace) {
    this.#channels = channels.map((c) => ({ ...c }));
    this.#ram = ram;
    this.#pace = pace;
  }

  /** Whether a multifd channel was given (known once {@link finish} ran). */
  get hasMultifd(): boolean {
    return this.#channels.some((c) => c.kind === "multifd");
  }

  /** The main stream announced postcopy (POSTCOPY_ADVISE): multifd zero pages always fill. */
  postcopy(): void {
    this.#postcopy = true;
  }

  /** The main stream's configuration named the source's UUID (validate-uuid). */
  mainUuid(uuid: string): void {
    this.#mainUuid = uuid;
  }

  /** The main stream reached an EOS or MULTIFD_FLUSH record (its kind code, its offset). */
  async atSync(code: number, offset = -1): Promise<void> {
    if (code === RAM_CODE.MULTIFD_FLUSH && this.#flushAt < 0) this.#flushAt = offset;
    if (this.#channels.length === 0) return;
    if (code === RAM_CODE.MULTIFD_FLUSH) this.#flushSeen = true;
    else if (this.#flushSeen) return;
    await this.#drain(true);
  }

  /**
   * The main stream ended: applies what remains of the multifd channels, then the
   * postcopy-preempt channels' pages (see {@link applyPreempt} for why then).
   */
  async finish(): Promise<void> {
    await this.#drain(false);
    const missing = this.#numbers.missing();
    if (missing) throw missing;
    if (this.#flushAt >= 0 && !this.hasMultifd) {
      throw new ReplayError(this.#flushAt, `MULTIFD_FLUSH: ${NO_CHANNELS}`);
    }
    for (const ch of this.#channels) {
      if (ch.kind === "preempt") this.pages += await applyPreempt(ch, this.#ram, this.#pace);
    }
  }

  async #drain(untilSync: boolean) {
    for (const ch of this.#channels) {
      if (!ch.kind) {
        // openInput names stdin "stdin"; tcp: inputs keep their address as the name.
        const live = liveChannelError(ch.name === "stdin" ? "-" : ch.name);
        if (live) throw new Error(live);
        ch.kind = await channelKind(ch.reader, ch.name);
      }
      if (ch.kind === "preempt") continue;
      ch.packets ??= parseMultifdChannel(ch.reader, ch.name, {
        pageSize: this.#ram.pageSize || undefined,
      });
      for (;;) {
        await this.#pace?.();
        const it = await ch.packets.next();
        if (it.done) break;
        const p = it.value;
        if (p.kind === "init") this.#init(ch, p);
        else if (p.kind === "packet") {
          this.#numbers.add(p.packetNum, ch.name, p.offset);
          this.#packet(ch, p);
        }
        if (p.kind === "packet" && p.sync && untilSync) break;
      }
    }
  }

  #run = new Uint8Array(0);

  /** A scratch buffer of `n` bytes (reused from packet to packet). */
  #scratch(n: number): Uint8Array {
    if (this.#run.length < n) this.#run = new Uint8Array(n);
    return this.#run.subarray(0, n);
  }

  #init(ch: Channel, p: MultifdInit) {
    this.#ids.push({ name: ch.name, id: p.id, uuid: p.uuid });
    const e = checkChannelIdentity(this.#ids, this.#mainUuid);
    if (e) throw e;
  }

  #packet(ch: Channel, p: MultifdPacket) {
    if (p.normalPages + p.zeroPages === 0) return;
    this.#method ??= p.compression;
    if (p.compression !== this.#method) {
      throw new ChannelError(
        ch.name,
        p.offset + 8,
        `packet at ${p.offset}`,
        `packets compressed with ${p.compression}, another channel's with ${this.#method}`,
      );
    }
    const ps = this.#ram.pageSize;
    this.#blocks ??= new Map(this.#ram.blocks.map((b) => [b.name, b.size]));
    checkPacketPages(p, this.#blocks, ps, ch.name);
    const s = this.#ram.slots.get(p.block)!;
    this.pages += p.offsets.length;
    // As QEMU's receiver: the zero pages first, then the normal pages.
    for (let i = p.normalPages; i < p.offsets.length; i++) {
      const addr = p.offsets[i];
      const u = addr / ps;
      // QEMU zero-fills only a page it has received before (others are assumed zero on the
      // destination); with postcopy enabled (10.1+) always. Same result on a fresh image.
      if (this.#postcopy || s.state[u] !== UNTOUCHED) s.target.zero(addr, ps);
      s.stats.zero++;
      s.wrote(u, u + 1, p.offset, WRITER.MULTIFD_ZERO, false);
    }
    // Normal pages at consecutive offsets are consecutive in the payload: one write per run.
    for (let i = 0; i < p.normalPages;) {
      const addr = p.offsets[i];
      let j = i + 1;
      while (j < p.normalPages && p.offsets[j] === addr + (j - i) * ps) j++;
      if (j > i + 1) {
        s.target.write(p.data.subarray(i * ps, j * ps), addr);
        s.stats.page += j - i;
        s.wrote(addr / ps, addr / ps + (j - i), p.offset, WRITER.MULTIFD_PAGE, true);
        i = j;
        continue;
      }
      // Pages at descending offsets (as QEMU 10 sends them): reversed into one write.
      while (j < p.normalPages && p.offsets[j] === addr - (j - i) * ps) j++;
      const low = addr - (j - i - 1) * ps;
      const run = this.#scratch(ps * (j - i));
      for (let k = i; k < j; k++) run.set(p.data.subarray(k * ps, (k + 1) * ps), (j - 1 - k) * ps);
      s.target.write(run, low);
      s.stats.page += j - i;
      s.wrote(low / ps, low / ps + (j - i), p.offset, WRITER.MULTIFD_PAGE, true);
      i = j;
    }
  }
}
