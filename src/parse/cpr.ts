/**
 * The cpr channel of a `cpr-transfer` migration (QEMU 10.0): the source writes be32 magic
 * `QCPR` (0x51435052), be32 version 1, then its CprState as VMState fields without a section
 * header — a list of the file descriptors the new QEMU takes over (RAM blocks' memfds, …). Each
 * list element is a byte 1, be32 name length (counting the name's NUL), the name and its NUL,
 * be32 id (signed), and one byte (a space) that carries the descriptor itself as SCM_RIGHTS
 * ancillary data; a byte 0 ends the list, and the source then shuts the channel. The list is
 * written newest registration first. The descriptors' numbers never appear in the bytes.
 * QEMU 10.1 and later append a subsection (`CprState/vfio devices`), which is refused here by
 * name.
 * @module
 */
import { printable, StreamError } from "../protocol/errors.ts";
import { type ByteReader, EndOfStreamError } from "../wire/reader.ts";
import { decodeName } from "./state.ts";

/** `QCPR`: the first four bytes of a cpr channel. */
export const CPR_MAGIC = 0x51435052;
/** The only version QEMU writes. */
export const CPR_VERSION = 1;
/** Longest name accepted, in bytes with its NUL (a path's limit; QEMU's names are far shorter). */
export const MAX_CPR_NAME = 4096;
/** Most list elements accepted (QEMU holds one per descriptor it hands over). */
export const MAX_CPR_FDS = 65536;
/** Most name bytes accepted in total, so memory stays bounded whatever the input. */
export const MAX_CPR_NAME_BYTES = 4 << 20;
/** `QEMU_VM_SUBSECTION`: what follows the list in QEMU 10.1 and later. */
const SUBSECTION = 0x05;

/** The channel's first 8 bytes. */
export interface CprHeader {
  kind: "header";
  offset: number;
  magic: number;
  version: number;
}

/** One file descriptor QEMU hands over: its name and id (the descriptor rides as SCM_RIGHTS). */
export interface CprFd {
  kind: "fd";
  /** Offset of the element's list byte (1). */
  offset: number;
  /** Position in the list, from 0 (the list is newest registration first). */
  index: number;
  name: string;
  id: number;
  /** Offset of the byte that carried the descriptor. */
  fdOffset: number;
}

/** The end-of-list byte (0), the channel's last byte. */
export interface CprEnd {
  kind: "end";
  offset: number;
  /** Bytes of the channel. */
  length: number;
}

/** What a cpr channel holds, in order. */
export type CprItem = CprHeader | CprFd | CprEnd;

/** A whole cpr channel, as {@link parseCprChannel} returns it. */
export interface CprChannel {
  magic: number;
  version: number;
  fds: CprFd[];
  /** Offset of the end-of-list byte. */
  endOffset: number;
  /** Bytes of the channel. */
  length: number;
}

/**
 * True when `head` starts with the cpr channel's magic.
 *
 * @example
 * ```ts
 * import { isCprChannel } from "./cpr.ts";
 * if (!isCprChannel(new TextEncoder().encode("QCPR\0\0\0\x01"))) throw new Error("QCPR");
 * if (isCprChannel(new TextEncoder().encode("QEVM"))) throw new Error("not QEVM");
 * ```
 */
export function isCprChannel(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x51 && head[1] === 0x43 && head[2] === 0x50 &&
    head[3] === 0x52;
}

type Fail = (offset: number, detail: string) => never;

async function readHeader(r: ByteReader, fail: Fail): Promise<CprHeader> {
  await r.fill(8);
  const magic = r.peekBe32(0);
  if (magic !== CPR_MAGIC) fail(0, `cpr magic 0x${magic.toString(16)} is not 0x51435052 (QCPR)`);
  const version = r.peekBe32(4);
  if (version !== CPR_VERSION) fail(4, `cpr version ${version} is not ${CPR_VERSION}`);
  r.advance(8);
  return { kind: "header", offset: 0, magic, version };
}

/** Checks a name's bytes on the wire (at `at`, its NUL included); returns the name. */
function checkName(bytes: Uint8Array, at: number, fail: Fail): string {
  const nul = bytes.indexOf(0);
  if (nul < 0) fail(at + bytes.length - 1, "the name does not end with a NUL");
  if (nul !== bytes.length - 1) {
    fail(at + nul, `the name has a NUL at byte ${nul} of its ${bytes.length}`);
  }
  return decodeName(bytes.subarray(0, nul));
}

/**
 * Reads one list element from its list byte; `nameBytes` is the names' running total. Returns
 * the element and its name's length on the wire.
 */
async function readFd(
  r: ByteReader,
  index: number,
  nameBytes: number,
  fail: Fail,
): Promise<[CprFd, number]> {
  const offset = r.pos;
  await r.fill(5);
  const len = r.peekBe32(1);
  if (len === 0) fail(offset + 1, "name length 0 (QEMU counts the name's NUL)");
  if (len > MAX_CPR_NAME) fail(offset + 1, `name length ${len} exceeds ${MAX_CPR_NAME}`);
  if (nameBytes + len > MAX_CPR_NAME_BYTES) {
    fail(offset + 1, `the names exceed ${MAX_CPR_NAME_BYTES} bytes in total`);
  }
  await r.fill(5 + len + 5);
  const name = checkName(r.peekBytes(len, 5), offset + 5, fail);
  const id = r.peekBe32(5 + len) | 0;
  r.advance(5 + len + 4);
  const fdOffset = r.pos;
  r.advance(1);
  return [{ kind: "fd", offset, index, name, id, fdOffset }, len];
}

/** Says what follows the end-of-list byte, which QEMU 10.0 never sends. */
async function trailing(r: ByteReader, fail: Fail): Promise<never> {
  const at = r.pos;
  if (r.peekU8() === SUBSECTION && (await r.peekUpTo(2)) >= 2) {
    const n = r.peekU8(1);
    const name = decodeName(r.peekBytes(Math.min(n, (await r.peekUpTo(2 + n)) - 2), 2));
    fail(
      at,
      `subsection '${printable(name)}' after the fd list: QEMU 10.1 and later send it, ` +
        "this reader knows QEMU 10.0's channel",
    );
  }
  return fail(at, "data after the end of the fd list (QEMU shuts the channel there)");
}

/**
 * Reads a cpr channel item by item: its header, each fd, the end of the list. Throws
 * StreamError naming the channel, offset and element.
 *
 * @example
 * ```ts
 * import { readCprChannel } from "./cpr.ts";
 * import { ByteReader } from "../wire/reader.ts";
 * // header, one fd "ram" id 0 (its SCM_RIGHTS byte is a space), end of the list
 * const bytes = new Uint8Array([
 *   0x51, 0x43, 0x50, 0x52, 0, 0, 0, 1,
 *   1, 0, 0, 0, 4, 0x72, 0x61, 0x6d, 0, 0, 0, 0, 0, 0x20,
 *   0,
 * ]);
 * const kinds: string[] = [];
 * for await (const item of readCprChannel(ByteReader.ofBytes(bytes), "cpr.bin")) {
 *   kinds.push(item.kind === "fd" ? `fd ${item.name} @${item.fdOffset}` : item.kind);
 * }
 * if (kinds.join() !== "header,fd ram @21,end") throw new Error(kinds.join());
 * ```
 */
export async function* readCprChannel(r: ByteReader, name: string): AsyncGenerator<CprItem> {
  let where = "header at 0";
  const section = `cpr channel ${printable(name)}`;
  const fail: Fail = (offset, detail) => {
    throw new StreamError({ offset, section, record: where }, detail);
  };
  try {
    yield await readHeader(r, fail);
    let nameBytes = 0;
    for (let index = 0;; index++) {
      const offset = r.pos;
      where = `list byte at ${offset}`;
      await r.fill(1);
      const more = r.peekU8();
      if (more === 0) {
        r.advance(1);
        where = `end of the fd list at ${offset}`;
        yield { kind: "end", offset, length: offset + 1 };
        if ((await r.peekUpTo(1)) > 0) await trailing(r, fail);
        return;
      }
      if (more !== 1) {
        fail(offset, `list byte 0x${more.toString(16)} is neither 1 (an fd follows) nor 0 (end)`);
      }
      if (index >= MAX_CPR_FDS) fail(offset, `more than ${MAX_CPR_FDS} fds`);
      where = `fd ${index} at ${offset}`;
      const [fd, len] = await readFd(r, index, nameBytes, fail);
      nameBytes += len;
      yield fd;
    }
  } catch (e) {
    if (e instanceof EndOfStreamError) {
      const offset = e.offset + e.available;
      const what = where.startsWith("header")
        ? "its header"
        : where.startsWith("fd")
        ? "an fd element"
        : "the fd list, before its end byte (0)";
      throw new StreamError(
        { offset, section, record: where },
        `truncated: the channel ends in ${what}`,
      );
    }
    throw e;
  }
}

/**
 * Parses a whole cpr channel: magic, version, the fds and where the list ends.
 *
 * @example
 * ```ts
 * import { parseCprChannel } from "./cpr.ts";
 * import { ByteReader } from "../wire/reader.ts";
 * const bytes = new Uint8Array([0x51, 0x43, 0x50, 0x52, 0, 0, 0, 1, 0]);
 * const ch = await parseCprChannel(ByteReader.ofBytes(bytes), "empty");
 * if (ch.fds.length !== 0 || ch.endOffset !== 8 || ch.length !== 9) throw new Error();
 * ```
 */
export async function parseCprChannel(r: ByteReader, name: string): Promise<CprChannel> {
  const ch: CprChannel = { magic: 0, version: 0, fds: [], endOffset: 0, length: 0 };
  for await (const item of readCprChannel(r, name)) {
    if (item.kind === "header") {
      ch.magic = item.magic;
      ch.version = item.version;
    } else if (item.kind === "fd") ch.fds.push(item);
    else {
      ch.endOffset = item.offset;
      ch.length = item.length;
    }
  }
  return ch;
}
