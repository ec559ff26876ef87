/**
 * The checks every reader of a migration's extra connections applies (inspect --channel, replay
 * --channel, report --channel), so that all three accept and refuse the same captures with the
 * same words: what a channel file is (multifd, postcopy-preempt; not a main stream, not a
 * cpr-transfer channel, not a live input), that the multifd channels belong together (distinct
 * ids, one source UUID), that a packet's pages lie in the main stream's RAM blocks as QEMU's
 * receiver checks them, and that no channel is missing (QEMU numbers the RAM packets of all
 * channels with one counter).
 * @module
 */
import { FILE_MAGIC, MULTIFD_MAGIC } from "../protocol/constants.ts";
import { oneLine, printable, StreamError } from "../protocol/errors.ts";
import type { ByteReader } from "../wire/reader.ts";
import { CPR_MAGIC } from "./cpr.ts";
import type { MultifdPacket } from "./multifd.ts";

/** An error in a channel file: the offset is in that file, and the message says so. */
export class ChannelError extends StreamError {
  /** An error at `offset` of channel `name`, in `record`. */
  constructor(name: string, offset: number, record: string, detail: string) {
    const section = `multifd channel ${printable(name)}`;
    super({ offset, section, record }, detail);
    this.message = oneLine(
      `offset ${offset} (0x${offset.toString(16)}) in channel ${printable(name)}, ${record}: ` +
        detail,
    );
  }
}

/**
 * `-` and `tcp:` are refused as channels: channels are read after the main stream, so a live
 * channel would wait for a source that waits for the main stream to be read.
 */
export function liveChannelError(path: string): string | undefined {
  if (path !== "-" && !/^tcp:/.test(path)) return undefined;
  return `--channel ${printable(path)}: a channel must be a file (channels are read after the ` +
    "main stream, so a live channel would deadlock): record the migration with migscope tap " +
    "--record and give the recorded files";
}

/** What a channel file holds, told by its first four bytes. */
export type ChannelKind = "multifd" | "preempt";

/**
 * The kind of channel `name` by its magic: multifd (0x11223344), else postcopy-preempt (no
 * magic). A main stream (QEVM) or a cpr-transfer channel (QCPR) is refused.
 */
export async function channelKind(r: ByteReader, name: string): Promise<ChannelKind> {
  const magic = (await r.peekUpTo(4)) >= 4 ? r.peekBe32(0) : -1;
  const fail = (what: string) => {
    throw new StreamError(
      { offset: 0, record: "file header" },
      `${printable(name)} is ${what}, not a multifd or postcopy-preempt channel`,
    );
  };
  if (magic === FILE_MAGIC) fail("a main stream (QEVM)");
  if (magic === CPR_MAGIC) fail("a cpr-transfer channel (QCPR; inspect it alone)");
  return magic === MULTIFD_MAGIC ? "multifd" : "preempt";
}

/** A multifd channel's initial packet, as the identity check needs it. */
export interface ChannelIdentity {
  name: string;
  id: number;
  uuid: string;
}

/**
 * Multifd channel ids are distinct and every channel carries the main stream's source UUID
 * (the configuration's, when validate-uuid put it there; else the first channel's). Returns
 * the first violation, located at the initial packet's id (24) or UUID (8).
 */
export function checkChannelIdentity(
  channels: ChannelIdentity[],
  mainUuid?: string,
): ChannelError | undefined {
  const ids = new Map<number, string>();
  let uuid = mainUuid;
  let uuidFrom = "the main stream's configuration";
  for (const c of channels) {
    const other = ids.get(c.id);
    if (other !== undefined) {
      return new ChannelError(
        c.name,
        24,
        "initial packet at 0",
        `multifd channel id ${c.id} again (${printable(other)} has it)`,
      );
    }
    ids.set(c.id, c.name);
    if (uuid === undefined) {
      uuid = c.uuid;
      uuidFrom = `channel ${printable(c.name)}`;
    } else if (c.uuid !== uuid) {
      return new ChannelError(
        c.name,
        8,
        "initial packet at 0",
        `source UUID ${c.uuid}, but ${uuidFrom} says ${uuid}: not a channel of this migration`,
      );
    }
  }
  return undefined;
}

/**
 * QEMU's receiver checks of a RAM packet's pages against the main stream's RAM blocks (used
 * lengths by name): a known block, page offsets page-aligned and at most used_length −
 * page_size. A packet without pages names no block and is not checked.
 */
export function checkPacketPages(
  p: MultifdPacket,
  blocks: ReadonlyMap<string, number>,
  pageSize: number,
  name: string,
): void {
  if (p.normalPages + p.zeroPages === 0) return;
  const fail = (detail: string) => {
    throw new ChannelError(name, p.offset, `packet at ${p.offset}`, detail);
  };
  const size = blocks.get(p.block);
  if (size === undefined) {
    const known = [...blocks.keys()].map((b) => `'${printable(b)}'`).join(", ") || "none";
    fail(`unknown RAM block '${printable(p.block)}' (the main stream's MEM_SIZE has ${known})`);
  }
  for (const addr of p.offsets) {
    if (addr % pageSize || addr > size! - pageSize) {
      fail(
        `illegal offset 0x${addr.toString(16)} in '${printable(p.block)}' (${size} bytes, ` +
          `${pageSize}-byte pages)`,
      );
    }
  }
}

/**
 * The packet numbers of all multifd channels: QEMU numbers RAM packets (the initial SYNC ones
 * too) with one counter across channels, so together they are 0…N−1 — exactly in 8.x+ (10.0
 * captures); QEMU ≤ 8.0 may give a packet the number of a SYNC that overtook it (a number
 * twice, one absent), but the count still equals the highest number + 1. So fewer packets than
 * that means a channel was not given.
 */
export class PacketNumbers {
  readonly #nums: number[] = [];
  /** Where the highest-numbered packet is (the error points there). */
  #top = { num: -1, channel: "", offset: 0 };

  /** Records one RAM packet's packet_num, and where it is. */
  add(packetNum: number, channel: string, offset: number): void {
    this.#nums.push(packetNum);
    if (packetNum > this.#top.num) this.#top = { num: packetNum, channel, offset };
  }

  /**
   * The error when packets are certainly absent (after every channel was read): fewer packets
   * than the highest packet_num + 1. (QEMU 7.2 may number two packets alike, so more packets
   * than that, or as many with a number twice, are not taken as a sign of anything.)
   */
  missing(): Error | undefined {
    const n = this.#nums.sort((a, b) => a - b);
    const last = this.#top.num;
    if (n.length === 0 || n.length >= last + 1) return undefined;
    const gaps: string[] = [];
    for (let i = 0, want = 0; i <= n.length; i++) {
      const got = i < n.length ? n[i] : want;
      if (got > want) {
        gaps.push(got - 1 === want ? `${want}` : `${want}…${got - 1}`);
      }
      if (got >= want) want = got + 1;
    }
    const shown = gaps.length > 3 ? `${gaps.slice(0, 3).join(", ")} and more` : gaps.join(", ");
    const { channel, offset } = this.#top;
    return new ChannelError(
      channel,
      offset,
      `packet at ${offset}`,
      `packet_num ${last} is the highest, but the channels hold ${n.length} packets: multifd ` +
        `channel(s) missing: packets ${shown} absent (${last + 1 - n.length} of ${
          last + 1
        }; give ` +
        "every channel with --channel)",
    );
  }
}
