/**
 * The streaming parser: a migration stream in, typed records out, in constant memory.
 *
 * Page and chunk payloads are yielded as views into the reader's buffer; a consumer that needs
 * them later must copy them before asking for the next record.
 * @module
 */
import {
  BLK_CHUNK_SIZE,
  BLK_FLAG,
  BLOCK_SECTION,
  CMD,
  COMMANDS,
  DEFAULT_PAGE_SIZE,
  FILE_MAGIC,
  FILE_VERSION,
  FILE_VERSION_COMPAT,
  KNOWN_CAPABILITIES,
  MAPPED_RAM,
  MULTIFD_MAGIC,
  RAM_FLAG,
  RAM_SECTION,
  ramFlagNames,
  SECTION_TYPE_NAMES,
  type SectionType,
  VM,
  XBZRLE_ENCODING_FLAG,
} from "../protocol/constants.ts";
import { printable, StreamError } from "../protocol/errors.ts";
import type {
  BlockRecord,
  CommandRecord,
  ConfigurationRecord,
  MigRecord,
  RamBlockInfo,
  RamKind,
  RamRecord,
  SectionRecord,
  VmDesc,
  VmdescDevice,
} from "../protocol/records.ts";
import { BufferLimitError, type ByteReader, EndOfStreamError } from "../wire/reader.ts";
import { xbzrleValidate } from "../xbzrle/decode.ts";
import { DeviceLayoutError, indexVmdesc, readDeviceBody } from "./device.ts";
import { locateTrailer, MAX_VMDESC_BYTES, parseVmdesc } from "./trailer.ts";

/** How to read a stream. Everything is optional; defaults follow what QEMU sends. */
export interface ParseOptions {
  /** The vmdesc JSON, when known up front (read from a seekable file's end, or `--vmdesc`). */
  vmdesc?: VmDesc;
  /** Decode device fields into `DeviceRecord.fields` (otherwise bodies are only delimited). */
  decodeDevices?: boolean;
  /** Section footers: detected after the first section (`auto`), or forced. */
  footers?: "auto" | "on" | "off";
  /** Target page size; default 4096 or what `configuration/target-page-bits` says. */
  pageSize?: number;
  /**
   * RAM blocks whose MEM_SIZE entry carries a page size (postcopy-ram with hugepage-backed
   * blocks). When omitted it is inferred from POSTCOPY_ADVISE.
   */
  hugePageBlocks?: string[];
  /** Most bytes buffered from a pipe to find the trailer that delimits device sections. */
  maxDeviceTail?: number;
  /** The stream starts with no header (bare records, e.g. a PACKAGED payload on its own). */
  headerless?: boolean;
  /**
   * Materialise `data` views of page and chunk payloads (default true). Consumers that only
   * count records (inspect) turn it off to save an allocation per record.
   */
  payloads?: boolean;
}

/** Bound on RAM blocks in one MEM_SIZE list. */
export const MAX_RAM_BLOCKS = 4096;
/** Bound on PACKAGED nesting. */
export const MAX_PACKAGE_DEPTH = 8;
/** Default bound on what a pipe may buffer to reach the trailer. */
export const DEFAULT_MAX_DEVICE_TAIL = 256 << 20;
/** zlib's compressBound(4096): the largest legal COMPRESS_PAGE payload for 4 KiB pages. */
function compressBound(n: number): number {
  return n + (n >>> 12) + (n >>> 14) + (n >>> 25) + 13;
}

interface SectionInfo {
  idstr: string;
  instanceId: number;
  version: number;
  handler: "ram" | "block" | "device";
}

interface PackageFrame {
  end: number;
  offset: number;
}

const utf8 = new TextDecoder();

/** Mutable parse state, shared by the record readers. */
class ParseState {
  r: ByteReader;
  opts: ParseOptions;
  pageSize: number;
  footers: boolean | undefined;
  sections = new Map<number, SectionInfo>();
  blocks: RamBlockInfo[] = [];
  blockIndex = new Map<string, number>();
  /** Block named most recently on the main channel (for CONTINUE), -1 before any. */
  lastBlock = -1;
  /** Position of the last page record, to detect where a pass wraps. */
  lastPosBlock = -1;
  lastPosAddr = -1;
  pass = 0;
  capabilities: string[] = [];
  postcopyHostPageSizes = 0;
  vmdesc?: VmDesc;
  vmdescIndex?: Map<string, VmdescDevice>;
  packages: PackageFrame[] = [];
  limit = Infinity;
  section?: string;
  record?: string;
  recordOffset = -1;

  constructor(r: ByteReader, opts: ParseOptions) {
    this.r = r;
    this.opts = opts;
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    this.footers = opts.footers === "on" ? true : opts.footers === "off" ? false : undefined;
    if (opts.vmdesc) this.setVmdesc(opts.vmdesc);
  }

  setVmdesc(d: VmDesc) {
    this.vmdesc = d;
    this.vmdescIndex = indexVmdesc(d.devices);
  }

  get mappedRam(): boolean {
    return this.capabilities.includes("mapped-ram");
  }

  get ignoreShared(): boolean {
    return this.capabilities.includes("x-ignore-shared");
  }

  fail(detail: string, offset = this.r.pos): never {
    throw new StreamError({ offset, section: this.section, record: this.record }, detail);
  }

  /** Ensures `n` bytes are buffered and inside the current PACKAGED payload. */
  async need(n: number, what: string): Promise<void> {
    if (this.r.pos + n > this.limit) {
      this.fail(`${what} runs past the end of the PACKAGED payload at offset ${this.limit}`);
    }
    if (!this.r.has(n)) await this.r.fill(n);
  }
}

function sectionLabel(type: string, id: number, idstr: string, offset: number): string {
  return `section ${id} '${printable(idstr)}' ${type} at ${offset}`;
}

/** Reads a counted string whose length byte is already buffered. */
async function countedString(st: ParseState, what: string): Promise<string> {
  await st.need(1, what);
  const len = st.r.peekU8();
  await st.need(1 + len, what);
  st.r.advance(1);
  return utf8.decode(st.r.bytes(len));
}

async function readHeader(st: ParseState): Promise<MigRecord> {
  st.record = "file header";
  await st.need(8, "file header");
  const magic = st.r.peekBe32(0);
  if (magic !== FILE_MAGIC) {
    if (magic === MULTIFD_MAGIC) {
      st.fail(
        "this is a multifd channel (magic 0x11223344), not a main stream; pass it with --channel",
      );
    }
    st.fail(
      `not a QEMU migration stream: magic 0x${
        magic.toString(16).padStart(8, "0")
      }, expected 0x5145564d ('QEVM')`,
    );
  }
  const version = st.r.peekBe32(4);
  if (version === FILE_VERSION_COMPAT) st.fail("stream version 2 is obsolete (QEMU rejects it)", 4);
  if (version !== FILE_VERSION) st.fail(`unsupported stream version ${version}, expected 3`, 4);
  st.r.advance(8);
  return { kind: "header", offset: 0, length: 8, depth: 0, version };
}

async function readConfiguration(st: ParseState): Promise<ConfigurationRecord> {
  const offset = st.r.pos;
  st.record = `CONFIGURATION at ${offset}`;
  await st.need(5, "configuration");
  st.r.advance(1);
  const len = st.r.be32();
  if (len > 1024) st.fail(`machine type name of ${len} bytes is implausible (max 1024)`);
  await st.need(len, "machine type name");
  const machine = utf8.decode(st.r.bytes(len));
  const rec: ConfigurationRecord = {
    kind: "configuration",
    offset,
    length: 0,
    depth: 0,
    machine,
    capabilities: [],
    subsections: [],
  };
  for (;;) {
    const avail = await st.r.peekUpTo(2);
    if (avail < 2 || st.r.peekU8() !== VM.SUBSECTION) break;
    const nameLen = st.r.peekU8(1);
    await st.need(2 + nameLen, "configuration subsection");
    const name = utf8.decode(st.r.peekBytes(nameLen, 2));
    if (!name.startsWith("configuration/")) break;
    const subAt = st.r.pos;
    st.r.advance(2 + nameLen);
    await st.need(4, "subsection version");
    st.r.be32();
    rec.subsections.push(name);
    switch (name) {
      case "configuration/target-page-bits": {
        await st.need(4, "target-page-bits");
        const bits = st.r.be32();
        if (bits < 10 || bits > 30) st.fail(`target-page-bits ${bits} is out of range`, subAt);
        rec.targetPageBits = bits;
        if (st.opts.pageSize === undefined) st.pageSize = 2 ** bits;
        break;
      }
      case "configuration/capabilities": {
        await st.need(4, "capability count");
        const count = st.r.be32();
        if (count > 64) st.fail(`capability count ${count} is implausible`, subAt);
        for (let i = 0; i < count; i++) {
          const capAt = st.r.pos;
          const cap = await countedString(st, "capability name");
          if (!(KNOWN_CAPABILITIES as readonly string[]).includes(cap)) {
            st.fail(`unknown validated capability '${printable(cap)}'`, capAt);
          }
          rec.capabilities.push(cap);
        }
        st.capabilities = rec.capabilities;
        break;
      }
      case "configuration/uuid": {
        await st.need(16, "uuid");
        const b = st.r.bytes(16);
        const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
        rec.uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${
          h.slice(20)
        }`;
        break;
      }
      default:
        st.fail(`unknown configuration subsection '${printable(name)}'`, subAt);
    }
  }
  rec.length = st.r.pos - offset;
  return rec;
}

async function readCommand(st: ParseState, depth: number): Promise<CommandRecord> {
  const offset = st.r.pos;
  st.record = `COMMAND at ${offset}`;
  await st.need(5, "command header");
  st.r.advance(1);
  const cmd = st.r.be16();
  const len = st.r.be16();
  const def = COMMANDS.find((c) => c.cmd === cmd);
  if (!def) st.fail(`unknown command ${cmd}`, offset + 1);
  st.record = `COMMAND ${def.name} at ${offset}`;
  const rec: CommandRecord = {
    kind: "command",
    offset,
    length: 5 + len,
    depth,
    cmd,
    name: def.name,
  };
  if (def.len >= 0 && len !== def.len) {
    st.fail(`${def.name} payload must be ${def.len} bytes, not ${len}`, offset + 3);
  }
  await st.need(len, `${def.name} payload`);
  const p = st.r.bytes(len);
  const dv = new DataView(p.buffer, p.byteOffset, p.length);
  switch (cmd) {
    case CMD.PING:
      rec.value = dv.getUint32(0);
      break;
    case CMD.POSTCOPY_ADVISE:
      if (len !== 0 && len !== 16) {
        st.fail(`POSTCOPY_ADVISE payload must be 0 or 16 bytes, not ${len}`);
      }
      if (len === 16) {
        rec.hostPageSizes = Number(dv.getBigUint64(0));
        rec.targetPageSize = Number(dv.getBigUint64(8));
        if (rec.targetPageSize !== st.pageSize) {
          st.fail(`POSTCOPY_ADVISE target page size ${rec.targetPageSize} != ${st.pageSize}`);
        }
        st.postcopyHostPageSizes = rec.hostPageSizes;
      }
      break;
    case CMD.POSTCOPY_RAM_DISCARD: {
      if (len < 4 + 16) st.fail(`POSTCOPY_RAM_DISCARD payload of ${len} bytes is too short`);
      if (p[0] !== 0) st.fail(`POSTCOPY_RAM_DISCARD version ${p[0]} is not 0`, offset + 5);
      const nameLen = p[1];
      if (3 + nameLen > len) st.fail("POSTCOPY_RAM_DISCARD block name runs past the payload");
      rec.block = utf8.decode(p.subarray(2, 2 + nameLen));
      if (p[2 + nameLen] !== 0) {
        st.fail("POSTCOPY_RAM_DISCARD byte after the block name is not 0", offset + 7 + nameLen);
      }
      const rest = len - 3 - nameLen;
      if (rest % 16 !== 0 || rest === 0) {
        st.fail(`POSTCOPY_RAM_DISCARD ranges take ${rest} bytes, not a positive multiple of 16`);
      }
      rec.ranges = [];
      for (let at = 3 + nameLen; at < len; at += 16) {
        rec.ranges.push({
          start: Number(dv.getBigUint64(at)),
          length: Number(dv.getBigUint64(at + 8)),
        });
      }
      break;
    }
    case CMD.PACKAGED:
      rec.packageLength = dv.getUint32(0);
      break;
    case CMD.RECV_BITMAP: {
      if (len < 1 || p[0] + 1 !== len) st.fail("RECV_BITMAP length does not match its block name");
      rec.block = utf8.decode(p.subarray(1));
      break;
    }
  }
  return rec;
}

async function readSectionHeader(st: ParseState, depth: number): Promise<SectionRecord> {
  const offset = st.r.pos;
  await st.need(5, "section header");
  const typeByte = st.r.u8();
  const type = SECTION_TYPE_NAMES[typeByte];
  const sectionId = st.r.be32();
  if (type === "START" || type === "FULL") {
    st.section = `${type} section ${sectionId} at ${offset}`;
    const idAt = st.r.pos;
    const idstr = await countedString(st, "section idstr");
    if (idstr.length === 0) st.fail("section idstr is empty", idAt);
    await st.need(8, "section instance and version");
    const instanceId = st.r.be32();
    const version = st.r.be32();
    st.section = sectionLabel(type, sectionId, idstr, offset);
    let handler: SectionInfo["handler"] = "device";
    if (type === "START") {
      if (idstr === RAM_SECTION.idstr) {
        if (version !== RAM_SECTION.version) {
          st.fail(
            `'ram' section version ${version} is not supported (QEMU accepts only 4)`,
            offset + 1,
          );
        }
        handler = "ram";
      } else if (idstr === BLOCK_SECTION.idstr) {
        if (version !== BLOCK_SECTION.version) {
          st.fail(`'block' section version ${version} is not supported (expected 1)`, offset + 1);
        }
        handler = "block";
      } else {
        st.fail(
          `iterative section '${idstr}' is not supported (only 'ram' and 'block' are)`,
          offset,
        );
      }
    }
    st.sections.set(sectionId, { idstr, instanceId, version, handler });
    return {
      kind: "section",
      offset,
      length: st.r.pos - offset,
      depth,
      type,
      sectionId,
      idstr,
      instanceId,
      version,
    };
  }
  const info = st.sections.get(sectionId);
  if (!info) {
    st.fail(`${type} refers to section id ${sectionId}, which no START introduced`, offset + 1);
  }
  if (info.handler === "device") {
    st.fail(`${type} refers to section id ${sectionId}, a device (FULL) section`, offset + 1);
  }
  st.section = sectionLabel(type, sectionId, info.idstr, offset);
  return {
    kind: "section",
    offset,
    length: 5,
    depth,
    type: type as SectionType,
    sectionId,
    idstr: info.idstr,
    instanceId: info.instanceId,
    version: info.version,
  };
}

async function readFooter(st: ParseState, sec: SectionRecord): Promise<MigRecord | null> {
  const offset = st.r.pos;
  st.record = `footer at ${offset}`;
  if (st.footers === undefined) {
    const avail = await st.r.peekUpTo(1);
    st.footers = avail > 0 && st.r.peekU8() === VM.SECTION_FOOTER;
  }
  if (!st.footers) return null;
  await st.need(5, "section footer");
  const marker = st.r.peekU8();
  if (marker !== VM.SECTION_FOOTER) {
    st.fail(
      `missing section footer: byte 0x${marker.toString(16).padStart(2, "0")} instead of 0x7e` +
        (sec.type === "FULL" ? " after the device body the vmdesc JSON describes" : ""),
    );
  }
  const id = st.r.peekBe32(1);
  if (id !== sec.sectionId) st.fail(`footer names section ${id}, expected ${sec.sectionId}`);
  st.r.advance(5);
  return { kind: "footer", offset, length: 5, depth: sec.depth, sectionId: id, idstr: sec.idstr };
}

const RAM_KIND: Record<number, RamKind> = {
  [RAM_FLAG.ZERO]: "zero",
  [RAM_FLAG.PAGE]: "page",
  [RAM_FLAG.XBZRLE]: "xbzrle",
  [RAM_FLAG.COMPRESS_PAGE]: "compressed",
  [RAM_FLAG.EOS]: "eos",
  [RAM_FLAG.MULTIFD_FLUSH]: "multifd_flush",
};

/**
 * Parses one RAM record from buffered bytes without awaiting. Returns the record, or the
 * number of bytes that must be buffered first, or "mem_size" for the async MEM_SIZE path.
 */
function ramRecordSync(
  st: ParseState,
  sectionId: number,
  depth: number,
): RamRecord | number | "mem_size" {
  const r = st.r;
  if (!r.has(8)) return 8;
  const offset = r.pos;
  const hi = r.peekBe32(0);
  const lo = r.peekBe32(4);
  const mask = st.pageSize - 1;
  const flags = lo & mask;
  const addr = hi * 4294967296 + ((lo - flags) >>> 0);
  const kindBits = flags & ~RAM_FLAG.CONTINUE;
  if (kindBits === RAM_FLAG.MEM_SIZE) return "mem_size";
  const type = RAM_KIND[kindBits];
  if (type === undefined) {
    st.record = `RAM record at ${offset}`;
    if (kindBits === RAM_FLAG.HOOK) {
      st.fail("RAM_SAVE_FLAG_HOOK (RDMA) in a non-RDMA stream", offset);
    }
    st.fail(
      `unknown RAM flag combination 0x${flags.toString(16)} (${ramFlagNames(flags)})`,
      offset,
    );
  }
  if (type === "eos" || type === "multifd_flush") {
    if (type === "multifd_flush" && st.mappedRam) {
      st.record = `MULTIFD_FLUSH at ${offset}`;
      st.fail("MULTIFD_FLUSH is not allowed with mapped-ram", offset);
    }
    r.advance(8);
    return {
      kind: "ram",
      type,
      offset,
      length: 8,
      depth,
      sectionId,
      flags,
      block: st.lastBlock >= 0 ? st.blocks[st.lastBlock].name : "",
      addr,
      cont: (flags & RAM_FLAG.CONTINUE) !== 0,
      pass: st.pass,
      dataLength: 0,
    };
  }
  const cont = (flags & RAM_FLAG.CONTINUE) !== 0;
  let p = 8;
  let blockIdx = st.lastBlock;
  if (!cont) {
    if (!r.has(9)) return 9;
    const len = r.peekU8(8);
    if (!r.has(9 + len)) return 9 + len;
    const name = utf8.decode(r.peekBytes(len, 9));
    const idx = st.blockIndex.get(name);
    if (idx === undefined) {
      st.record = `${type.toUpperCase()} record at ${offset}`;
      st.fail(`unknown RAM block '${printable(name)}'`, offset + 8);
    }
    blockIdx = idx;
    p = 9 + len;
  } else if (blockIdx < 0) {
    st.record = `${type.toUpperCase()} record at ${offset}`;
    st.fail("CONTINUE record before any RAM block was named", offset);
  }
  const block = st.blocks[blockIdx];
  if (addr >= block.size) {
    st.record = `${type.toUpperCase()} record at ${offset}`;
    st.fail(
      `illegal RAM offset 0x${addr.toString(16)} in block '${
        printable(block.name)
      }' of ${block.size} bytes`,
      offset,
    );
  }
  if (st.mappedRam) {
    st.record = `${type.toUpperCase()} record at ${offset}`;
    st.fail(`${type.toUpperCase()} records are not allowed with mapped-ram`, offset);
  }
  let total: number;
  let fill: number | undefined;
  let dataAt = p;
  let dataLen = 0;
  switch (type) {
    case "zero":
      total = p + 1;
      if (!r.has(total)) return total;
      fill = r.peekU8(p);
      break;
    case "page":
      dataLen = st.pageSize;
      total = p + dataLen;
      break;
    case "xbzrle": {
      if (!r.has(p + 3)) return p + 3;
      const enc = r.peekU8(p);
      if (enc !== XBZRLE_ENCODING_FLAG) {
        st.record = `XBZRLE record at ${offset}`;
        st.fail(`XBZRLE encoding byte 0x${enc.toString(16)} is not 0x01`, offset + p);
      }
      dataLen = (r.peekU8(p + 1) << 8) | r.peekU8(p + 2);
      if (dataLen > st.pageSize) {
        st.record = `XBZRLE record at ${offset}`;
        st.fail(`XBZRLE length ${dataLen} exceeds the page size ${st.pageSize}`, offset + p + 1);
      }
      dataAt = p + 3;
      total = dataAt + dataLen;
      break;
    }
    default: { // compressed
      if (!r.has(p + 4)) return p + 4;
      dataLen = r.peekBe32(p);
      const bound = compressBound(st.pageSize);
      if (dataLen > bound) {
        st.record = `COMPRESS_PAGE record at ${offset}`;
        st.fail(`COMPRESS_PAGE length ${dataLen} exceeds compressBound ${bound}`, offset + p);
      }
      dataAt = p + 4;
      total = dataAt + dataLen;
    }
  }
  if (offset + total > st.limit) {
    st.record = `${type.toUpperCase()} record at ${offset}`;
    st.fail(`record runs past the end of the PACKAGED payload at offset ${st.limit}`, offset);
  }
  if (!r.has(total)) return total;
  const want = st.opts.payloads !== false;
  const data = type === "xbzrle" || (want && dataLen > 0)
    ? r.peekBytes(dataLen, dataAt)
    : undefined;
  let covered: number | undefined;
  if (type === "xbzrle") {
    const v = xbzrleValidate(data!, st.pageSize);
    if (typeof v !== "number") {
      st.record = `XBZRLE record at ${offset}`;
      st.fail(`invalid XBZRLE delta: ${v.reason} (delta byte ${v.at})`, offset + dataAt + v.at);
    }
    covered = v;
  }
  // Commit: block state, pass, consume.
  st.lastBlock = blockIdx;
  if (blockIdx < st.lastPosBlock || (blockIdx === st.lastPosBlock && addr <= st.lastPosAddr)) {
    st.pass++;
  } else if (st.pass === 0) st.pass = 1;
  st.lastPosBlock = blockIdx;
  st.lastPosAddr = addr;
  r.advance(total);
  return {
    kind: "ram",
    type,
    offset,
    length: total,
    depth,
    sectionId,
    flags,
    block: block.name,
    addr,
    cont,
    pass: st.pass,
    fill,
    data: want || type !== "xbzrle" ? data : undefined,
    dataLength: dataLen,
    covered,
  };
}

function safeBe64(st: ParseState, what: string): number {
  const at = st.r.pos;
  const [hi, lo] = st.r.be64Parts();
  if (hi >= 0x200000) {
    st.fail(`${what} 0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")} is out of range`, at);
  }
  return hi * 4294967296 + lo;
}

function isPageSizeValue(v: number, target: number): boolean {
  return v >= target && v <= 2 ** 40 && Number.isInteger(Math.log2(v));
}

async function readMemSize(st: ParseState, sectionId: number, depth: number): Promise<RamRecord> {
  const offset = st.r.pos;
  st.record = `MEM_SIZE record at ${offset}`;
  await st.need(8, "MEM_SIZE header");
  const [hi, lo] = st.r.be64Parts();
  const flags = lo & (st.pageSize - 1);
  const total = hi * 4294967296 + ((lo - flags) >>> 0);
  if (flags & RAM_FLAG.CONTINUE) st.fail("MEM_SIZE must not carry CONTINUE", offset);
  const blocks: RamBlockInfo[] = [];
  let sum = 0;
  const huge = st.opts.hugePageBlocks ? new Set(st.opts.hugePageBlocks) : undefined;
  const hostPages = st.postcopyHostPageSizes;
  const mayHaveHuge = huge === undefined && hostPages !== 0 && (hostPages & ~st.pageSize) !== 0;
  while (sum < total) {
    if (blocks.length >= MAX_RAM_BLOCKS) {
      st.fail(`more than ${MAX_RAM_BLOCKS} RAM blocks in MEM_SIZE`);
    }
    const entryAt = st.r.pos;
    const name = await countedString(st, "RAM block name");
    if (name.length === 0) st.fail("RAM block name is empty", entryAt);
    if (st.blockIndex.has(name) || blocks.some((b) => b.name === name)) {
      st.fail(`RAM block '${printable(name)}' is listed twice`, entryAt);
    }
    await st.need(8, "RAM block length");
    const size = safeBe64(st, `length of RAM block '${printable(name)}'`);
    if (size % st.pageSize !== 0) {
      st.fail(
        `RAM block '${printable(name)}' length ${size} is not a multiple of the page size`,
        entryAt,
      );
    }
    if (size > total - sum) {
      st.fail(
        `RAM block '${
          printable(name)
        }' length ${size} overshoots the MEM_SIZE total ${total} (sum so far ${sum})`,
        entryAt,
      );
    }
    const info: RamBlockInfo = { name, size };
    let readPageSize = huge?.has(name) ?? false;
    if (mayHaveHuge && !st.ignoreShared) {
      await st.r.peekUpTo(8);
      if (st.r.has(8) && st.r.peekU8() === 0) {
        const v = st.r.peekBe32(0) * 4294967296 + st.r.peekBe32(4);
        readPageSize = isPageSizeValue(v, st.pageSize) && (hostPages & v) !== 0;
      }
    }
    if (readPageSize) {
      await st.need(8, "RAM block page size");
      info.pageSize = safeBe64(st, "RAM block page size");
    }
    if (st.ignoreShared) {
      await st.need(8, "RAM block address");
      info.mrAddr = safeBe64(st, "RAM block address");
    }
    if (st.mappedRam) {
      const headerOffset = st.r.pos;
      await st.need(MAPPED_RAM.HEADER_SIZE, "mapped-ram header");
      const version = st.r.be32();
      const pageSize = safeBe64(st, "mapped-ram page size");
      const bitmapOffset = safeBe64(st, "mapped-ram bitmap offset");
      const pagesOffset = safeBe64(st, "mapped-ram pages offset");
      if (version > MAPPED_RAM.HEADER_VERSION) {
        st.fail(`mapped-ram header version ${version} is newer than 1`, headerOffset);
      }
      if (pageSize !== st.pageSize) {
        st.fail(
          `mapped-ram page size ${pageSize} differs from the target page size ${st.pageSize}`,
          headerOffset,
        );
      }
      if (pagesOffset % st.pageSize !== 0) {
        st.fail(
          `mapped-ram pages offset 0x${pagesOffset.toString(16)} is not page aligned`,
          headerOffset,
        );
      }
      info.mappedRam = { headerOffset, version, pageSize, bitmapOffset, pagesOffset };
      if (bitmapOffset !== 0 || pagesOffset !== 0) {
        const bitmapBytes = Math.ceil(size / pageSize / 64) * 8;
        if (bitmapOffset < st.r.pos || bitmapOffset + bitmapBytes > pagesOffset) {
          st.fail(
            `mapped-ram bitmap at 0x${bitmapOffset.toString(16)} does not fit before the pages`,
            headerOffset,
          );
        }
        const resume = pagesOffset + size;
        if (resume > st.limit) {
          st.fail("mapped-ram region runs past the end of the payload", headerOffset);
        }
        await st.r.skip(resume - st.r.pos);
      }
    }
    blocks.push(info);
    sum += size;
  }
  for (const b of blocks) {
    st.blockIndex.set(b.name, st.blocks.length);
    st.blocks.push(b);
  }
  // A new block list restarts the sender's state (ram_state_reset).
  st.lastBlock = -1;
  return {
    kind: "ram",
    type: "mem_size",
    offset,
    length: st.r.pos - offset,
    depth,
    sectionId,
    flags,
    block: "",
    addr: 0,
    cont: false,
    pass: st.pass,
    dataLength: 0,
    total,
    blocks,
  };
}

/** Parses one block-migration record from buffered bytes (or says how many bytes it needs). */
function blockRecordSync(st: ParseState, sectionId: number, depth: number): BlockRecord | number {
  const r = st.r;
  if (!r.has(8)) return 8;
  const offset = r.pos;
  const hi = r.peekBe32(0);
  const lo = r.peekBe32(4);
  const flags = lo & 0x1ff;
  const sector = hi * 8388608 + (lo >>> 9);
  st.record = `block record at ${offset}`;
  if (hi >= 0x200000) {
    st.fail(
      `block sector 0x${hi.toString(16)}${
        (lo >>> 0).toString(16).padStart(8, "0")
      } >> 9 is out of range`,
      offset,
    );
  }
  if (flags & BLK_FLAG.DEVICE_BLOCK) {
    if (!r.has(9)) return 9;
    const len = r.peekU8(8);
    if (len === 0) st.fail("block device name is empty", offset + 8);
    const zero = (flags & BLK_FLAG.ZERO_BLOCK) !== 0;
    const total = 9 + len + (zero ? 0 : BLK_CHUNK_SIZE);
    if (offset + total > st.limit) {
      st.fail("block record runs past the end of the PACKAGED payload");
    }
    if (!r.has(total)) return total;
    const device = utf8.decode(r.peekBytes(len, 9));
    const data = zero || st.opts.payloads === false
      ? undefined
      : r.peekBytes(BLK_CHUNK_SIZE, 9 + len);
    r.advance(total);
    return {
      kind: "block",
      type: zero ? "zero" : "data",
      offset,
      length: total,
      depth,
      sectionId,
      flags,
      device,
      sector,
      data,
      dataLength: zero ? 0 : BLK_CHUNK_SIZE,
    };
  }
  if (flags & BLK_FLAG.PROGRESS) {
    r.advance(8);
    if (sector > 100) st.fail(`block PROGRESS ${sector}% is over 100`, offset);
    return {
      kind: "block",
      type: "progress",
      offset,
      length: 8,
      depth,
      sectionId,
      flags,
      sector,
      percent: sector,
      dataLength: 0,
    };
  }
  if (flags & BLK_FLAG.EOS) {
    r.advance(8);
    return {
      kind: "block",
      type: "eos",
      offset,
      length: 8,
      depth,
      sectionId,
      flags,
      sector,
      dataLength: 0,
    };
  }
  st.fail(`unknown block migration flags 0x${flags.toString(16)}`, offset);
}

async function ensureVmdesc(st: ParseState, sec: SectionRecord): Promise<void> {
  if (st.vmdesc) return;
  const limit = st.opts.maxDeviceTail ?? DEFAULT_MAX_DEVICE_TAIL;
  let tail: Uint8Array;
  try {
    tail = await st.r.bufferRest(limit);
  } catch (e) {
    if (e instanceof BufferLimitError) {
      st.fail(
        `device section '${
          printable(sec.idstr)
        }' cannot be delimited without the vmdesc JSON, and the trailer ` +
          `is more than ${limit} bytes ahead; pass --vmdesc or read from a seekable file`,
        sec.offset,
      );
    }
    throw e;
  }
  const loc = locateTrailer(tail);
  if (loc === null || loc === "more") {
    st.fail(
      `device section '${
        printable(sec.idstr)
      }' cannot be delimited: the stream has no VMDESCRIPTION trailer ` +
        `(postcopy, suppress-vmdesc or a truncated capture); pass --vmdesc with the JSON or another capture`,
      sec.offset,
    );
  }
  try {
    st.setVmdesc(parseVmdesc(tail.subarray(loc.marker + 5)));
  } catch (e) {
    st.fail(
      `the VMDESCRIPTION trailer at offset ${st.r.pos + loc.marker} is unusable: ${
        (e as Error).message
      }`,
      sec.offset,
    );
  }
}

async function readDevice(st: ParseState, sec: SectionRecord): Promise<MigRecord> {
  await ensureVmdesc(st, sec);
  const dev = st.vmdescIndex!.get(`${sec.idstr}\u0000${sec.instanceId}`);
  if (!dev) {
    st.fail(
      `device '${
        printable(sec.idstr)
      }' instance ${sec.instanceId} is not described in the vmdesc JSON`,
      sec.offset,
    );
  }
  const offset = st.r.pos;
  st.record = `device body at ${offset}`;
  let fields;
  try {
    fields = await readDeviceBody(st.r, dev, st.opts.decodeDevices ?? false);
  } catch (e) {
    if (e instanceof DeviceLayoutError) {
      st.fail(`device body does not match the vmdesc JSON: ${e.message}`, e.offset);
    }
    throw e;
  }
  if (st.r.pos > st.limit) st.fail("device body runs past the end of the PACKAGED payload");
  return {
    kind: "device",
    offset,
    length: st.r.pos - offset,
    depth: sec.depth,
    sectionId: sec.sectionId,
    idstr: sec.idstr,
    instanceId: sec.instanceId,
    version: sec.version,
    fields,
  };
}

async function* readTrailer(st: ParseState): AsyncGenerator<MigRecord> {
  const offset = st.r.pos;
  st.section = undefined;
  st.record = `trailer at ${offset}`;
  const avail = await st.r.peekUpTo(5);
  if (avail === 0) return;
  if (st.r.peekU8() !== VM.VMDESCRIPTION) {
    // QEMU only warns here; report the bytes as trailing data.
    let n = 0;
    while (!(await st.r.atEnd())) {
      n += st.r.buffered;
      st.r.advance(st.r.buffered);
    }
    yield { kind: "trailing", offset, length: n, depth: 0 };
    return;
  }
  if (avail < 5) st.fail("VMDESCRIPTION trailer is truncated in its length field");
  const len = st.r.peekBe32(1);
  if (len > MAX_VMDESC_BYTES) {
    st.fail(`vmdesc length ${len} exceeds the ${MAX_VMDESC_BYTES}-byte bound`);
  }
  await st.need(5 + len, "vmdesc JSON");
  st.r.advance(5);
  let json: VmDesc;
  try {
    json = parseVmdesc(st.r.bytes(len));
  } catch (e) {
    st.fail((e as Error).message, offset + 5);
  }
  yield { kind: "vmdesc", offset, length: 5 + len, depth: 0, jsonLength: len, json };
  const rest = await st.r.peekUpTo(1);
  if (rest > 0) st.fail("bytes follow the VMDESCRIPTION trailer");
}

/** Turns reader-level errors into a StreamError naming where the parser was. */
function located(st: ParseState, e: unknown): unknown {
  if (e instanceof StreamError) return e;
  if (e instanceof EndOfStreamError) {
    return new StreamError(
      { offset: e.offset + e.available, section: st.section, record: st.record },
      `truncated: the stream ends ${e.needed - e.available} bytes short of the record`,
    );
  }
  if (e instanceof BufferLimitError) {
    return new StreamError({ offset: e.offset, section: st.section, record: st.record }, e.message);
  }
  return e;
}

/**
 * Parses a migration stream from `r`, yielding records in stream order. Throws
 * {@link StreamError} (one line, with offset, section and record) on malformed input.
 */
export async function* parseStream(
  r: ByteReader,
  opts: ParseOptions = {},
): AsyncGenerator<MigRecord> {
  const st = new ParseState(r, opts);
  // One generator for the whole stream: delegating with yield* would double the per-record cost.
  try {
    const r = st.r;
    if (!st.opts.headerless) {
      yield await readHeader(st);
      if ((await r.peekUpTo(1)) > 0 && r.peekU8() === VM.CONFIGURATION) {
        yield await readConfiguration(st);
      }
    }
    for (;;) {
      const depth = st.packages.length;
      st.section = undefined;
      st.record = undefined;
      if (depth > 0 && r.pos >= st.limit) {
        st.fail(
          `PACKAGED payload from offset ${st.packages[depth - 1].offset} ends without POSTCOPY_RUN`,
        );
      }
      const offset = r.pos;
      if ((await r.peekUpTo(1)) === 0) {
        if (st.opts.headerless && depth === 0) return;
        st.record = "next record";
        st.fail("truncated: the stream ends before QEMU_VM_EOF");
      }
      const type = r.peekU8();
      switch (type) {
        case VM.EOF: {
          r.advance(1);
          yield { kind: "eof", offset, length: 1, depth };
          if (depth > 0) {
            yield* endPackage(st, depth);
            continue;
          }
          yield* readTrailer(st);
          return;
        }
        case VM.SECTION_START:
        case VM.SECTION_PART:
        case VM.SECTION_END:
        case VM.SECTION_FULL: {
          const sec = await readSectionHeader(st, depth);
          yield sec;
          const info = st.sections.get(sec.sectionId)!;
          if (sec.type === "FULL") {
            yield await readDevice(st, sec);
          } else if (info.handler === "ram") {
            for (;;) {
              const rec = ramRecordSync(st, sec.sectionId, depth);
              if (typeof rec === "number") {
                st.record = `RAM record at ${r.pos}`;
                if (r.pos + rec > st.limit) {
                  st.fail("record runs past the end of the PACKAGED payload");
                }
                await r.fill(rec);
                continue;
              }
              if (rec === "mem_size") {
                yield await readMemSize(st, sec.sectionId, depth);
                continue;
              }
              yield rec;
              if (rec.type === "eos") break;
            }
          } else {
            for (;;) {
              const rec = blockRecordSync(st, sec.sectionId, depth);
              if (typeof rec === "number") {
                if (r.pos + rec > st.limit) {
                  st.fail("record runs past the end of the PACKAGED payload");
                }
                await r.fill(rec);
                continue;
              }
              yield rec;
              if (rec.flags & BLK_FLAG.EOS) break;
            }
          }
          const footer = await readFooter(st, sec);
          if (footer) yield footer;
          break;
        }
        case VM.COMMAND: {
          const cmd = await readCommand(st, depth);
          yield cmd;
          if (cmd.cmd === CMD.PACKAGED) {
            if (depth >= MAX_PACKAGE_DEPTH) {
              st.fail(`PACKAGED nesting deeper than ${MAX_PACKAGE_DEPTH}`, offset);
            }
            const end = r.pos + cmd.packageLength!;
            if (end > st.limit) st.fail("PACKAGED payload runs past the enclosing payload", offset);
            st.packages.push({ end, offset });
            st.limit = end;
          } else if (cmd.cmd === CMD.POSTCOPY_RUN && depth > 0) {
            yield* endPackage(st, depth);
          }
          break;
        }
        default:
          st.record = `record type byte at ${offset}`;
          st.fail(`unknown section type 0x${type.toString(16).padStart(2, "0")}`);
      }
    }
  } catch (e) {
    throw located(st, e);
  }
}

async function* endPackage(st: ParseState, depth: number): AsyncGenerator<MigRecord> {
  const frame = st.packages.pop()!;
  if (st.r.pos !== frame.end) {
    st.fail(
      `PACKAGED payload from offset ${frame.offset} has ${
        frame.end - st.r.pos
      } bytes after its last record`,
    );
  }
  st.limit = st.packages.length ? st.packages[st.packages.length - 1].end : Infinity;
  yield { kind: "package-end", offset: frame.end, length: 0, depth };
}
