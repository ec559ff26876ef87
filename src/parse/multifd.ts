/**
 * Multifd channels: an initial packet (`MultiFDInit_t`, 64 bytes), then page packets
 * (`MultiFDPacket_t`: 64-byte header, 256-byte RAM block name, be64 offsets for `pages_alloc`
 * pages, then the page data). Layout and checks as QEMU's receiver applies them (multifd.c).
 * @module
 */
import { DEFAULT_PAGE_SIZE, MULTIFD_MAGIC } from "../protocol/constants.ts";
import { printable, StreamError } from "../protocol/errors.ts";
import { BufferLimitError, type ByteReader, EndOfStreamError } from "../wire/reader.ts";
import { decodeName } from "./state.ts";

/** Bytes of MultiFDInit_t. */
export const MULTIFD_INIT_SIZE = 64;
/** The packet SYNC flag. */
export const MULTIFD_FLAG_SYNC = 1;
/** Packet capacity: 512 KiB of pages. */
export const MULTIFD_PACKET_BYTES = 512 * 1024;

/** The channel's initial packet. */
export interface MultifdInit {
  kind: "init";
  offset: number;
  version: number;
  uuid: string;
  id: number;
}

/** One page packet; `data` holds `normalPages` pages (a transient view). */
export interface MultifdPacket {
  kind: "packet";
  offset: number;
  length: number;
  flags: number;
  sync: boolean;
  pagesAlloc: number;
  normalPages: number;
  zeroPages: number;
  packetNum: number;
  block: string;
  /** Offsets of the normal pages, then of the zero pages. */
  offsets: number[];
  data: Uint8Array;
}

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

/** Checks a packet header's counts; returns the packet fields. */
function packetHeader(r: ByteReader, offset: number, ps: number, fail: Fail) {
  const capacity = MULTIFD_PACKET_BYTES / ps;
  if (r.peekBe32(0) !== MULTIFD_MAGIC) {
    fail(offset, `packet magic 0x${r.peekBe32(0).toString(16)} is not 0x11223344`);
  }
  if (r.peekBe32(4) !== 1) fail(offset + 4, `packet version ${r.peekBe32(4)} is not 1`);
  const flags = r.peekBe32(8);
  const pagesAlloc = r.peekBe32(12);
  const normalPages = r.peekBe32(16);
  const nextSize = r.peekBe32(20);
  const packetNum = r.peekBe32(24) * 4294967296 + r.peekBe32(28);
  const zeroPages = r.peekBe32(32);
  if (flags & ~1) {
    fail(
      offset + 8,
      `packet flags 0x${flags.toString(16)}: compressed or device-state packets are not supported`,
    );
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
  // Without compression the receiver reads normal_pages pages and ignores next_packet_size,
  // which QEMU 7.2 leaves stale in SYNC packets (the previous batch's size).
  if (normalPages > 0 && nextSize !== normalPages * ps) {
    fail(offset + 20, `next_packet_size ${nextSize} is not ${normalPages} pages`);
  }
  return { flags, pagesAlloc, normalPages, zeroPages, packetNum };
}

async function readPacket(r: ByteReader, ps: number, fail: Fail): Promise<MultifdPacket> {
  const offset = r.pos;
  const headerLen = 320 + 8 * (MULTIFD_PACKET_BYTES / ps);
  await r.fill(headerLen);
  const h = packetHeader(r, offset, ps, fail);
  const dataLen = h.normalPages * ps;
  const nameBytes = r.peekBytes(256, 64);
  const nul = nameBytes.indexOf(0);
  const block = decodeName(nameBytes.subarray(0, nul < 0 ? 256 : nul));
  const offsets: number[] = [];
  for (let i = 0; i < h.normalPages + h.zeroPages; i++) {
    const hi = r.peekBe32(320 + i * 8);
    if (hi >= 0x200000) fail(offset + 320 + i * 8, "page offset out of range");
    offsets.push(hi * 4294967296 + r.peekBe32(324 + i * 8));
  }
  await r.fill(headerLen + dataLen);
  r.advance(headerLen);
  const data = r.bytes(dataLen);
  return {
    kind: "packet",
    offset,
    length: headerLen + dataLen,
    flags: h.flags,
    sync: (h.flags & MULTIFD_FLAG_SYNC) !== 0,
    pagesAlloc: h.pagesAlloc,
    normalPages: h.normalPages,
    zeroPages: h.zeroPages,
    packetNum: h.packetNum,
    block,
    offsets,
    data,
  };
}

/** Parses one multifd channel. Throws StreamError naming the channel, offset and packet. */
export async function* parseMultifdChannel(
  r: ByteReader,
  name: string,
  opts: { pageSize?: number } = {},
): AsyncGenerator<MultifdInit | MultifdPacket> {
  const ps = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  let where = "initial packet at 0";
  const section = `multifd channel ${printable(name)}`;
  const fail = (offset: number, detail: string): never => {
    throw new StreamError({ offset, section, record: where }, detail);
  };
  try {
    yield await readInit(r, fail);
    for (;;) {
      if ((await r.peekUpTo(1)) === 0) return;
      where = `packet at ${r.pos}`;
      yield await readPacket(r, ps, fail);
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
  }
}
