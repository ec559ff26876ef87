/**
 * libvirt QEMU save images (`virsh save`, `virsh managedsave`): a 92-byte header in the saving
 * host's byte order — magic[16] (`LibvirtQemudSave`, or `LibvirtQemudPart` while the save runs
 * or after it failed), u32 version, data_len, was_running, format, cookieOffset, 14 unused u32 —
 * then data_len bytes of NUL-terminated domain XML, an optional NUL-terminated cookie and zero
 * padding; the QEMU stream starts at 92 + data_len, compressed whole by the format's tool, or a
 * mapped-ram stream with absolute file offsets (`sparse`).
 * @module
 */
import { StreamError } from "../protocol/errors.ts";
import type { Forward } from "./bytes.ts";
import { libvirtMagic } from "./detect.ts";
import { type DomainSummary, scanDomainXml } from "./domain_xml.ts";

/** Bytes of the fixed header. */
export const LIBVIRT_HEADER_SIZE = 92;
/** Header versions libvirt has written (2 added the cookie). */
export const LIBVIRT_VERSIONS = [1, 2];
/** Format names by their code in the header. */
export const LIBVIRT_FORMATS = ["raw", "gzip", "bzip2", "xz", "lzop", "zstd", "sparse"] as const;
/** A save image's format. */
export type LibvirtFormat = typeof LIBVIRT_FORMATS[number];
/** Most of the data region held in memory (XML and cookie must lie within it). */
export const MAX_DATA_HEAD = 16 << 20;

/** The decoded fixed header. */
export interface LibvirtHeader {
  magic: string;
  /** `LibvirtQemudSave` (true) or `LibvirtQemudPart` (false: the save never finished). */
  complete: boolean;
  /** Byte order the header was written in (libvirt writes the host's). */
  byteOrder: "little" | "big";
  version: number;
  dataLen: number;
  wasRunning: number;
  formatCode: number;
  format: LibvirtFormat;
  cookieOffset: number;
  unusedAllZero: boolean;
  headerSize: number;
  /** Where the QEMU stream (or its compressed form) starts: 92 + data_len. */
  streamOffset: number;
}

/** The header with what its data region holds. */
export interface LibvirtImage extends LibvirtHeader {
  /** The domain XML (without its NUL). */
  xml: string;
  /** Facts scanned from the XML. */
  domain: DomainSummary;
  /** XML bytes including the NUL. */
  xmlLength: number;
  /** The cookie (libvirt's qemuDomainSaveCookie XML), when there is one. */
  cookie?: string;
  /** Cookie bytes including the NUL (0 without a cookie). */
  cookieLength: number;
  /** Bytes between the XML/cookie and the stream. */
  paddingLength: number;
  /** The padding is all zero (undefined when it lies past {@link MAX_DATA_HEAD}). */
  paddingAllZero?: boolean;
}

const SECTION = "libvirt save image";

function fail(offset: number, record: string, detail: string): never {
  throw new StreamError({ offset, section: SECTION, record }, detail);
}

function u32(b: Uint8Array, at: number, little: boolean): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, little);
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/**
 * Decodes the 92-byte header. `fileSize` (when known) bounds the stream offset. Throws a
 * one-line StreamError naming the field's offset.
 */
export function parseLibvirtHeader(b: Uint8Array, fileSize?: number): LibvirtHeader {
  const state = libvirtMagic(b);
  if (!state) fail(0, "magic", "not a libvirt save image (no LibvirtQemudSave magic)");
  if (b.length < LIBVIRT_HEADER_SIZE) {
    fail(b.length, "header", `the file ends inside the ${LIBVIRT_HEADER_SIZE}-byte header`);
  }
  const raw = u32(b, 16, true);
  let little = true;
  if (!LIBVIRT_VERSIONS.includes(raw)) {
    if (!LIBVIRT_VERSIONS.includes(swap32(raw))) {
      fail(16, "version", `unknown version ${raw} (0x${raw.toString(16)}), in either byte order`);
    }
    little = false;
  }
  const swapped = little ? "" : " (header read big-endian: its version was byte-swapped)";
  const f = (at: number) => u32(b, at, little);
  const h: LibvirtHeader = {
    magic: state === "complete" ? "LibvirtQemudSave" : "LibvirtQemudPart",
    complete: state === "complete",
    byteOrder: little ? "little" : "big",
    version: f(16),
    dataLen: f(20),
    wasRunning: f(24),
    formatCode: f(28),
    format: "raw",
    cookieOffset: f(32),
    unusedAllZero: b.subarray(36, LIBVIRT_HEADER_SIZE).every((x) => x === 0),
    headerSize: LIBVIRT_HEADER_SIZE,
    streamOffset: LIBVIRT_HEADER_SIZE + f(20),
  };
  if (h.formatCode >= LIBVIRT_FORMATS.length) {
    fail(28, "format", `unknown format code ${h.formatCode}${swapped}`);
  }
  h.format = LIBVIRT_FORMATS[h.formatCode];
  if (fileSize !== undefined && h.streamOffset > fileSize) {
    fail(
      20,
      "data_len",
      `data_len ${h.dataLen} runs past the end of the file (${fileSize} bytes)${swapped}`,
    );
  }
  if (h.version >= 2 && h.cookieOffset !== 0 && h.cookieOffset >= h.dataLen) {
    fail(
      32,
      "cookieOffset",
      `cookieOffset ${h.cookieOffset} is not inside data_len ${h.dataLen}${swapped}`,
    );
  }
  return h;
}

/** Reads the data region (XML, cookie, padding) from `fr`, which stands at offset 92. */
async function readData(fr: Forward, h: LibvirtHeader): Promise<LibvirtImage> {
  const headLen = Math.min(h.dataLen, MAX_DATA_HEAD);
  const head = await fr.take(headLen);
  const at = LIBVIRT_HEADER_SIZE;
  if (head.length < headLen) {
    fail(at + head.length, "data", `the file ends inside the ${h.dataLen}-byte XML region`);
  }
  const xmlRegion = h.version >= 2 && h.cookieOffset ? h.cookieOffset : h.dataLen;
  const nul = head.subarray(0, Math.min(xmlRegion, headLen)).indexOf(0);
  if (nul < 0) {
    const why = xmlRegion > headLen
      ? `has no NUL in its first ${headLen} bytes`
      : `(${xmlRegion} bytes) is not NUL-terminated`;
    fail(at, "domain XML", `the domain XML ${why}`);
  }
  const dec = new TextDecoder();
  const xml = dec.decode(head.subarray(0, nul));
  let used = nul + 1;
  let cookie: string | undefined;
  let cookieLength = 0;
  if (h.version >= 2 && h.cookieOffset) {
    const c = head.subarray(h.cookieOffset, headLen);
    const cnul = c.indexOf(0);
    if (cnul < 0) fail(at + h.cookieOffset, "cookie", "the cookie is not NUL-terminated");
    cookie = dec.decode(c.subarray(0, cnul));
    cookieLength = cnul + 1;
    used = h.cookieOffset + cookieLength;
  }
  const pad = head.subarray(used);
  const paddingAllZero = headLen === h.dataLen ? pad.every((x) => x === 0) : undefined;
  const rest = h.dataLen - headLen;
  if (rest > 0 && (await fr.skip(rest)) < rest) {
    fail(h.streamOffset, "data", "the file ends inside the data region");
  }
  return {
    ...h,
    xml,
    domain: scanDomainXml(xml),
    xmlLength: nul + 1,
    cookie,
    cookieLength,
    paddingLength: h.dataLen - used,
    paddingAllZero,
  };
}

/**
 * Reads a whole save image header and data region through `fr` (positioned at 0); afterwards
 * `fr` stands at the stream offset.
 */
export async function readLibvirtImage(fr: Forward, fileSize?: number): Promise<LibvirtImage> {
  const b = await fr.take(LIBVIRT_HEADER_SIZE);
  const h = parseLibvirtHeader(b, fileSize);
  return await readData(fr, h);
}
