/**
 * Multifd channels: an initial packet (`MultiFDInit_t`, 64 bytes), then packets that start with
 * a common header (magic, version, flags): RAM packets (`MultiFDPacket_t`: counts, the 256-byte
 * RAM block name, be64 page offsets for `pages_alloc` pages, then the payload — the normal pages,
 * raw or compressed) and device-state packets (`MultiFDPacketDeviceState_t`: idstr, instance,
 * size, then an opaque payload). Layout and checks as QEMU's receiver applies them (multifd.c).
 * @module
 */
import { DEFAULT_PAGE_SIZE, MULTIFD_MAGIC } from "../protocol/constants.ts";
import { printable, StreamError } from "../protocol/errors.ts";
import {
  MULTIFD_COMPRESSION,
  MULTIFD_FLAG,
  MULTIFD_INIT_SIZE,
  MULTIFD_MAX_COMPRESSED,
  MULTIFD_PACKET_BYTES,
  MULTIFD_RAM_FIXED_SIZE,
  type MultifdCompression,
} from "../protocol/multifd.ts";
import { BufferLimitError, type ByteReader, EndOfStreamError } from "../wire/reader.ts";
import { readDeviceStatePacket } from "./multifd_device_state.ts";
import { type PayloadDecoder, payloadDecoder, PayloadError } from "./multifd_payload.ts";
import { decodeName } from "./state.ts";

export type { MultifdDeviceState } from "./multifd_device_state.ts";
import type { MultifdDeviceState } from "./multifd_device_state.ts";

/** The channel's initial packet. */
export interface MultifdInit {
  kind: "init";
  offset: number;
  version: number;
  uuid: string;
  id: number;
}

/** One RAM packet; `data` holds `normalPages` decoded pages (a transient view). */
export interface MultifdPacket {
  kind: "packet";
  offset: number;
  /** Bytes on the wire: header, offsets and payload. */
  length: number;
  flags: number;
  sync: boolean;
  /** The method the flags name ("none" for SYNC-only packets without pages too). */
  compression: MultifdCompression;
  pagesAlloc: number;
  normalPages: number;
  zeroPages: number;
  packetNum: number;
  block: string;
  /** Offsets of the normal pages, then of the zero pages. */
  offsets: number[];
  /** Bytes of the payload on the wire (compressed or not). */
  payloadBytes: number;
  data: Uint8Array;
}

/** What a channel holds, in order. */
export type MultifdItem = MultifdInit | MultifdPacket | MultifdDeviceState;

type Fail = (offset: number, detail: string) => never;

function uuidText(u: Uint8Array): string {
  const hex = [...u].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

async function readInit(r: ByteReader, fail: Fail): Promise<MultifdInit> {
  await r.fill(MULTIFD_INIT_SIZE);
  const magic = r.peekBe32(0);
  if (magic !== MULTIFD_MAGIC) fail(0, `multifd magic 0x${magic.toString(16)} is not 0x11223344`);
  const version = r.peekBe32(4);
  if (version !== 1) fail(4, `multifd version ${version} is not 1`);
  const uuid = uuidText(r.peekBytes(16, 8));
  const id = r.peekU8(24);
  r.advance(MULTIFD_INIT_SIZE);
  return { kind: "init", offset: 0, version, uuid, id };
}

const KNOWN_FLAGS = MULTIFD_FLAG.SYNC | MULTIFD_FLAG.COMPRESSION_MASK | MULTIFD_FLAG.DEVICE_STATE;

/** Checks a RAM packet header's counts; returns the packet fields. */
function packetHeader(r: ByteReader, offset: number, ps: number, fail: Fail) {
  const capacity = MULTIFD_PACKET_BYTES / ps;
  const flags = r.peekBe32(8);
  const pagesAlloc = r.peekBe32(12);
  const normalPages = r.peekBe32(16);
  const nextSize = r.peekBe32(20);
  const packetNum = r.peekBe32(24) * 4294967296 + r.peekBe32(28);
  const zeroPages = r.peekBe32(32);
  const compression = MULTIFD_COMPRESSION[flags & MULTIFD_FLAG.COMPRESSION_MASK];
  if (!compression) {
    fail(offset + 8, `packet flags 0x${flags.toString(16)} name no compression method`);
  }
  if (pagesAlloc > capacity) fail(offset + 12, `pages_alloc ${pagesAlloc} exceeds ${capacity}`);
  if (pagesAlloc !== capacity && MULTIFD_PACKET_BYTES % pagesAlloc === 0) {
    // QEMU always sends 512 KiB worth of pages: another count means another page size.
    fail(
      offset + 12,
      `pages_alloc ${pagesAlloc} is not ${capacity} (512 KiB of ${ps}-byte pages): the channel's ` +
        `pages are ${MULTIFD_PACKET_BYTES / pagesAlloc} bytes; pass --page-size`,
    );
  }
  if (normalPages > pagesAlloc) {
    fail(offset + 16, `normal_pages ${normalPages} exceeds pages_alloc ${pagesAlloc}`);
  }
  if (zeroPages > pagesAlloc - normalPages) {
    fail(offset + 32, `zero_pages ${zeroPages} exceeds the free capacity`);
  }
  return { flags, compression, pagesAlloc, normalPages, zeroPages, packetNum, nextSize };
}

/** Payload bytes on the wire: none without normal pages (the receiver reads none then). */
function payloadSize(
  h: ReturnType<typeof packetHeader>,
  ps: number,
  offset: number,
  fail: Fail,
): number {
  if (h.normalPages === 0) {
    // QEMU's compressed receivers assert in_size == 0 then (abort); without compression the
    // size is ignored (QEMU 7.2 leaves it stale in SYNC packets).
    if (h.compression !== "none" && h.nextSize !== 0) {
      fail(offset + 20, `next_packet_size ${h.nextSize} with no normal pages`);
    }
    return 0;
  }
  const raw = h.normalPages * ps;
  if (h.compression === "none") {
    // Without compression the receiver reads normal_pages pages and ignores next_packet_size,
    // which QEMU 7.2 leaves stale in SYNC packets (the previous batch's size).
    if (h.nextSize !== raw) fail(offset + 20, `next_packet_size ${h.nextSize} is not ${raw}`);
    return raw;
  }
  const max = h.compression === "qpl" || h.compression === "uadk"
    ? 4 * h.normalPages + raw
    : MULTIFD_MAX_COMPRESSED;
  if (h.nextSize > max) {
    fail(offset + 20, `next_packet_size ${h.nextSize} exceeds ${max} for ${h.compression} data`);
  }
  return h.nextSize;
}

/** What a packet holds when only its counts are read (see {@link MultifdOptions.countOnly}). */
const NO_OFFSETS: number[] = [];
const NO_DATA: Uint8Array = new Uint8Array(0);

/** One channel's parse state: its page size, its compression method and decoder. */
class ChannelState {
  method?: MultifdCompression;
  decoder?: PayloadDecoder;
  #out?: Uint8Array;
  constructor(
    readonly r: ByteReader,
    readonly ps: number,
    readonly fail: Fail,
    readonly countOnly = false,
  ) {}

  get out(): Uint8Array {
    return this.#out ??= new Uint8Array(MULTIFD_PACKET_BYTES);
  }

  async readPacket(): Promise<MultifdPacket> {
    const { r, ps, fail } = this;
    const offset = r.pos;
    const headerLen = MULTIFD_RAM_FIXED_SIZE + 8 * (MULTIFD_PACKET_BYTES / ps);
    await r.fill(headerLen);
    const h = packetHeader(r, offset, ps, fail);
    if (h.normalPages + h.zeroPages > 0) {
      this.method ??= h.compression;
      if (h.compression !== this.method) {
        fail(
          offset + 8,
          `packet flags 0x${h.flags.toString(16)} name ${h.compression}, the channel's earlier ` +
            `packets ${this.method}`,
        );
      }
    }
    const payloadBytes = payloadSize(h, ps, offset, fail);
    // QEMU's receiver sets ramblock[255] = 0: the name is at most the first 255 bytes.
    const nameBytes = r.peekBytes(256, 64).subarray(0, 255);
    const nul = nameBytes.indexOf(0);
    const block = decodeName(nul < 0 ? nameBytes : nameBytes.subarray(0, nul));
    const offsets = this.countOnly ? NO_OFFSETS : [];
    for (let i = 0; i < h.normalPages + h.zeroPages; i++) {
      const hi = r.peekBe32(320 + i * 8);
      if (hi >= 0x200000) fail(offset + 320 + i * 8, "page offset out of range");
      if (!this.countOnly) offsets.push(hi * 4294967296 + r.peekBe32(324 + i * 8));
    }
    let data: Uint8Array = NO_DATA;
    if (this.countOnly) {
      r.advance(headerLen);
      await r.skip(payloadBytes);
    } else {
      await r.fill(headerLen + payloadBytes);
      r.advance(headerLen);
      const payload = r.bytes(payloadBytes);
      data = await this.#decode(h.compression, payload, h.normalPages * ps, offset + headerLen);
    }
    return {
      kind: "packet",
      offset,
      length: headerLen + payloadBytes,
      flags: h.flags,
      sync: (h.flags & MULTIFD_FLAG.SYNC) !== 0,
      compression: h.compression,
      pagesAlloc: h.pagesAlloc,
      normalPages: h.normalPages,
      zeroPages: h.zeroPages,
      packetNum: h.packetNum,
      block,
      offsets,
      payloadBytes,
      data,
    };
  }

  async #decode(method: MultifdCompression, payload: Uint8Array, size: number, at: number) {
    if (method === "none" || size === 0) return payload;
    this.decoder ??= await payloadDecoder(method, this.ps);
    const out = this.out.subarray(0, size);
    try {
      await this.decoder.decode(payload, out);
    } catch (e) {
      if (e instanceof PayloadError) this.fail(at, `${method} payload ${e.message}`);
      throw e;
    }
    return out;
  }
}

/** Options of {@link parseMultifdChannel}. */
export interface MultifdOptions {
  pageSize?: number;
  /**
   * Read each packet's header only: its counts, sizes and flags, checked as always, but no page
   * offsets (`offsets` empty) and no payload (skipped undecoded, `data` empty) — what counting
   * pages needs (the tap's live view).
   */
  countOnly?: boolean;
}

/**
 * Parses one multifd channel. Throws StreamError naming the channel, offset and packet.
 *
 * @example
 * ```ts
 * import { parseMultifdChannel } from "./multifd.ts";
 * import { ByteReader } from "../wire/reader.ts";
 * import { bytesSource } from "../wire/source.ts";
 * const init = new Uint8Array(64);
 * new DataView(init.buffer).setUint32(0, 0x11223344);
 * new DataView(init.buffer).setUint32(4, 1);
 * init[24] = 3;
 * const items = [];
 * for await (const p of parseMultifdChannel(new ByteReader(bytesSource(init)), "ch")) {
 *   items.push(p);
 * }
 * if (items.length !== 1 || items[0].kind !== "init" || items[0].id !== 3) throw new Error();
 * ```
 */
export async function* parseMultifdChannel(
  r: ByteReader,
  name: string,
  opts: MultifdOptions = {},
): AsyncGenerator<MultifdItem> {
  const ps = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  let where = "initial packet at 0";
  const section = `multifd channel ${printable(name)}`;
  const fail = (offset: number, detail: string): never => {
    throw new StreamError({ offset, section, record: where }, detail);
  };
  const ch = new ChannelState(r, ps, fail, opts.countOnly);
  try {
    yield await readInit(r, fail);
    for (;;) {
      if ((await r.peekUpTo(1)) === 0) return;
      where = `packet at ${r.pos}`;
      await r.fill(12);
      const offset = r.pos;
      if (r.peekBe32(0) !== MULTIFD_MAGIC) {
        fail(offset, `packet magic 0x${r.peekBe32(0).toString(16)} is not 0x11223344`);
      }
      if (r.peekBe32(4) !== 1) fail(offset + 4, `packet version ${r.peekBe32(4)} is not 1`);
      const flags = r.peekBe32(8);
      if (flags & ~KNOWN_FLAGS) {
        fail(offset + 8, `packet flags 0x${flags.toString(16)} has unknown bits`);
      }
      if (flags & MULTIFD_FLAG.DEVICE_STATE) {
        yield await readDeviceStatePacket(r, fail);
      } else yield await ch.readPacket();
    }
  } catch (e) {
    if (e instanceof EndOfStreamError) {
      const offset = e.offset + e.available;
      throw new StreamError(
        { offset, section, record: where },
        "truncated: the channel ends inside a packet",
      );
    }
    if (e instanceof BufferLimitError) {
      throw new StreamError({ offset: e.offset, record: where }, e.message);
    }
    throw e;
  } finally {
    ch.decoder?.close();
  }
}
