/**
 * Multifd channels replayed with the main stream, in the order a destination applies them:
 * each channel's packets up to its next SYNC packet at every RAM EOS (QEMU 7.2), or, once the
 * main stream has shown one, at every MULTIFD_FLUSH (8.1+); whatever remains at the end.
 * Channels are parsed lazily, once the main stream has told the page size.
 * @module
 */
import {
  type MultifdInit,
  type MultifdItem,
  type MultifdPacket,
  parseMultifdChannel,
} from "../parse/multifd.ts";
import { printable } from "../protocol/errors.ts";
import { FILE_MAGIC, MULTIFD_MAGIC } from "../protocol/constants.ts";
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

/** A channel's kind from its first four bytes; a main stream given as a channel is an error. */
async function channelKind(ch: Channel): Promise<"multifd" | "preempt"> {
  const n = await ch.reader.peekUpTo(4);
  const magic = n >= 4 ? ch.reader.peekBe32(0) : -1;
  if (magic === FILE_MAGIC) {
    throw new ReplayError(
      0,
      `channel ${printable(ch.name)} is a main stream (QEVM), not a channel`,
    );
  }
  return magic === MULTIFD_MAGIC ? "multifd" : "preempt";
}

/** Applies channel packets at the main stream's synchronisation points. */
export class MultifdScheduler {
  readonly #channels: Channel[];
  readonly #ram: RamApplier;
  readonly #pace?: Pace;
  #flushSeen = false;
  #uuid?: string;
  #uuidFrom = "another channel";
  #postcopy = false;
  #method?: string;

  /** `pace` is called once per packet (see wire/pace.ts: it lets a long drain be stopped). */
  constructor(channels: ChannelInput[], ram: RamApplier, pace?: Pace) {
    this.#channels = channels.map((c) => ({ ...c }));
    this.#ram = ram;
    this.#pace = pace;
  }

  /** The main stream announced postcopy (POSTCOPY_ADVISE): multifd zero pages always fill. */
  postcopy(): void {
    this.#postcopy = true;
  }

  /** The main stream's configuration named the source's UUID (validate-uuid). */
  mainUuid(uuid: string): void {
    this.#uuid = uuid;
    this.#uuidFrom = "the main stream's configuration";
  }

  /** The main stream reached an EOS or MULTIFD_FLUSH record (its kind code). */
  async atSync(code: number): Promise<void> {
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
    for (const ch of this.#channels) {
      if (ch.kind === "preempt") await applyPreempt(ch, this.#ram, this.#pace);
    }
  }

  async #drain(untilSync: boolean) {
    for (const ch of this.#channels) {
      ch.kind ??= await channelKind(ch);
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
        else if (p.kind === "packet") this.#packet(ch, p);
        if (p.kind === "packet" && p.sync && untilSync) break;
      }
    }
  }

  #init(ch: Channel, p: MultifdInit) {
    this.#uuid ??= p.uuid;
    if (p.uuid !== this.#uuid) {
      throw new ReplayError(
        0,
        `multifd channel ${printable(ch.name)} has source UUID ${p.uuid}, ${this.#uuidFrom} ` +
          `${this.#uuid}: not a channel of this migration`,
      );
    }
  }

  #packet(ch: Channel, p: MultifdPacket) {
    if (p.normalPages + p.zeroPages === 0) return;
    const where = `multifd channel ${printable(ch.name)}`;
    this.#method ??= p.compression;
    if (p.compression !== this.#method) {
      throw new ReplayError(
        p.offset,
        `${where}: packets compressed with ${p.compression}, another channel's with ${this.#method}`,
      );
    }
    const s = this.#ram.slots.get(p.block);
    if (!s) throw new ReplayError(p.offset, `${where}: unknown RAM block '${printable(p.block)}'`);
    const ps = this.#ram.pageSize;
    for (const addr of p.offsets) {
      if (addr % ps || addr + ps > s.target.size) {
        throw new ReplayError(
          p.offset,
          `${where}: illegal offset 0x${addr.toString(16)} in '${printable(p.block)}'`,
        );
      }
    }
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
      s.target.write(p.data.subarray(i * ps, j * ps), addr);
      s.stats.page += j - i;
      s.wrote(addr / ps, addr / ps + (j - i), p.offset, WRITER.MULTIFD_PAGE, true);
      i = j;
    }
  }
}
