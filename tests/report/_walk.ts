/**
 * An independent walker for the small streams the golden tests use (the samples and the
 * hand-built inputs of `_inputs.ts`): it reads QEMU's wire format directly, without src/, and
 * replays RAM and block records onto zeroed images, so the golden files can be checked against
 * numbers that migscope did not compute.
 *
 * Scope, on purpose narrow: QEVM v3 with section footers; RAM records PAGE, ZERO, XBZRLE, EOS,
 * MEM_SIZE (plain blocks, no per-block extra fields); block migration records; COMMAND records
 * of fixed length; FULL sections only when the caller gives each body's length (`bodies`); EOF
 * and a VMDESCRIPTION trailer. Anything else throws.
 */

/** One RAM or block record, as the walker saw it. */
export interface WalkRecord {
  offset: number;
  /** Bytes of the record, header included. */
  length: number;
  family: "RAM" | "BLK";
  flags: number;
  /** RAM: PAGE, ZERO, XBZRLE, EOS, MEM_SIZE. BLK: DATA, ZERO, PROGRESS, EOS. */
  kind: string;
  block?: string;
  addr?: number;
  pass?: number;
  fill?: number;
  /** XBZRLE: encoded bytes and the bytes of the page its runs cover. */
  xbzrleLen?: number;
  covers?: number;
  /** BLK: sector (or percent for PROGRESS). */
  sector?: number;
}

/** One section, COMMAND or top-level marker, in stream order (the timeline). */
export interface WalkItem {
  offset: number;
  length: number;
  kind: string;
  sectionId?: number;
  name?: string;
  instance?: number;
  version?: number;
  page: number;
  zero: number;
  xbzrle: number;
  blk: number;
  blk0: number;
}

/** Counts per RAM block. */
export interface WalkBlock {
  name: string;
  size: number;
  page: number;
  zero: number;
  xbzrle: number;
}

/** One dirty pass: it ends where the (block, address) position does not advance. */
export interface WalkPass {
  index: number;
  offset: number;
  pages: number;
  page: number;
  zero: number;
  xbzrle: number;
  bytes: number;
}

/** The writer of a page: the record that last changed it. */
export interface Writer {
  offset: number;
  kind: string;
}

/** Everything the walker learned. */
export interface Walk {
  bytes: number;
  machine: string;
  pageSize: number;
  items: WalkItem[];
  records: WalkRecord[];
  ram: {
    page: number;
    zero: number;
    xbzrle: number;
    eos: number;
    memSize: number;
    named: number;
    cont: number;
    xbzrleBytes: number;
    pageRecordBytes: number;
  };
  blocks: WalkBlock[];
  passes: WalkPass[];
  disk: { data: number; zero: number; progress: number; eos: number; lastPercent?: number };
  disks: { name: string; data: number; zero: number; extent: number }[];
  /** RAM images (zeroed, or `base`) after the replay, and disks (sized to their extent). */
  images: Map<string, Uint8Array>;
  /** Per target, per page: the last writer (RAM: 4 KiB pages; disks: 4 KiB units). */
  writers: Map<string, (Writer | undefined)[]>;
  /** ZERO records for a page whose previous writer in the stream was PAGE or XBZRLE. */
  zeroAfterData: { offset: number; block: string; addr: number }[];
  /** ZERO records with a non-zero fill byte. */
  zeroFill: { offset: number; block: string; addr: number; fill: number }[];
  eof: number;
  trailer?: { offset: number; bytes: number; jsonLength: number; devices: number };
}

const RAM_NAMES: [number, string][] = [
  [0x02, "ZERO"],
  [0x04, "MEM_SIZE"],
  [0x08, "PAGE"],
  [0x10, "EOS"],
  [0x20, "CONTINUE"],
  [0x40, "XBZRLE"],
];

/** RAM flag names in ascending bit order, joined by `|` (e.g. `PAGE|CONTINUE`). */
export function ramFlagText(flags: number): string {
  return RAM_NAMES.filter(([b]) => flags & b).map(([, n]) => n).join("|");
}

/** Block-migration flag names in ascending bit order. */
export function blkFlagText(flags: number): string {
  const names = ["DEVICE_BLOCK", "EOS", "PROGRESS", "ZERO_BLOCK"];
  return names.filter((_, i) => flags & (1 << i)).join("|");
}

const COMMAND_NAMES: Record<number, [string, number]> = {
  1: ["OPEN_RETURN_PATH", 0],
  2: ["PING", 4],
  11: ["SWITCHOVER_START", 0],
};

/** Walks `d`; `bodies` gives the body length of each FULL section by idstr. */
export function walk(
  d: Uint8Array,
  opts: { bodies?: Record<string, number>; base?: Map<string, Uint8Array> } = {},
): Walk {
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  let o = 0;
  const need = (n: number) => {
    if (o + n > d.length) throw new Error(`walk: truncated at ${o} (need ${n} bytes)`);
  };
  const u8 = () => (need(1), d[o++]);
  const be16 = () => (need(2), o += 2, dv.getUint16(o - 2));
  const be32 = () => (need(4), o += 4, dv.getUint32(o - 4));
  const be64 = () => (need(8), o += 8, dv.getUint32(o - 8) * 2 ** 32 + dv.getUint32(o - 4));
  const text = (n: number) => (need(n), o += n, new TextDecoder().decode(d.subarray(o - n, o)));
  if (be32() !== 0x5145564d || be32() !== 3) throw new Error("walk: not QEVM v3");
  const w: Walk = {
    bytes: d.length,
    machine: "",
    pageSize: 4096,
    items: [],
    records: [],
    ram: {
      page: 0,
      zero: 0,
      xbzrle: 0,
      eos: 0,
      memSize: 0,
      named: 0,
      cont: 0,
      xbzrleBytes: 0,
      pageRecordBytes: 0,
    },
    blocks: [],
    passes: [],
    disk: { data: 0, zero: 0, progress: 0, eos: 0 },
    disks: [],
    images: new Map(),
    writers: new Map(),
    zeroAfterData: [],
    zeroFill: [],
    eof: -1,
  };
  const item = (offset: number, kind: string, extra: Partial<WalkItem> = {}): WalkItem => {
    const it = { offset, length: 0, kind, page: 0, zero: 0, xbzrle: 0, blk: 0, blk0: 0, ...extra };
    w.items.push(it);
    return it;
  };
  item(0, "HEADER").length = 8;
  if (d[o] === 0x07) {
    const it = item(o, "CONFIGURATION");
    o++;
    w.machine = text(be32());
    if (d[o] === 0x05) throw new Error("walk: configuration subsections are out of scope");
    it.name = w.machine;
    it.length = o - it.offset;
  }
  const sections = new Map<number, { idstr: string; instance: number; version: number }>();
  let block: string | undefined;
  let pos: [number, number] = [-1, -1];
  let pass = 0;
  let curPass: WalkPass | undefined;
  const diskBlocks = new Map<string, { data: number; zero: number; extent: number }>();
  const PAGE = w.pageSize;
  const setWriter = (target: string, addr: number, len: number, wr: Writer) => {
    const list = w.writers.get(target)!;
    for (let a = addr; a < addr + len; a += PAGE) list[a / PAGE] = wr;
  };
  const ramRecords = (it: WalkItem) => {
    for (;;) {
      const at = o;
      const h = be64();
      const flags = h % PAGE;
      const addr = h - flags;
      const kindBits = flags & ~0x20;
      const rec: WalkRecord = { offset: at, length: 8, family: "RAM", flags, kind: "" };
      w.records.push(rec);
      if (kindBits === 0x10) {
        rec.kind = "EOS";
        w.ram.eos++;
        return;
      }
      if (kindBits === 0x04) {
        rec.kind = "MEM_SIZE";
        w.ram.memSize++;
        for (let sum = 0; sum < addr;) {
          const name = text(u8());
          const size = be64();
          w.blocks.push({ name, size, page: 0, zero: 0, xbzrle: 0 });
          const base = opts.base?.get(name);
          if (base && base.length !== size) throw new Error(`walk: base ${name} has wrong size`);
          w.images.set(name, base ? base.slice() : new Uint8Array(size));
          w.writers.set(name, new Array(size / PAGE).fill(undefined));
          sum += size;
        }
        rec.length = o - at;
        continue;
      }
      if (flags & 0x20) {
        if (block === undefined) throw new Error(`walk: CONTINUE without a block at ${at}`);
        w.ram.cont++;
      } else {
        block = text(u8());
        w.ram.named++;
      }
      const bi = w.blocks.findIndex((b) => b.name === block);
      if (bi < 0) throw new Error(`walk: unknown block ${block} at ${at}`);
      const b = w.blocks[bi];
      const img = w.images.get(b.name)!;
      if (addr + PAGE > b.size) throw new Error(`walk: ${b.name}+${addr} past the block`);
      if (bi < pos[0] || (bi === pos[0] && addr <= pos[1])) pass++;
      else if (pass === 0) pass = 1;
      pos = [bi, addr];
      if (!curPass || curPass.index !== pass) {
        curPass = { index: pass, offset: at, pages: 0, page: 0, zero: 0, xbzrle: 0, bytes: 0 };
        w.passes.push(curPass);
      }
      Object.assign(rec, { block: b.name, addr, pass });
      const prev = w.writers.get(b.name)![addr / PAGE];
      if (kindBits === 0x02) {
        rec.kind = "ZERO";
        rec.fill = u8();
        img.fill(rec.fill, addr, addr + PAGE);
        if (prev && (prev.kind === "PAGE" || prev.kind === "XBZRLE")) {
          w.zeroAfterData.push({ offset: at, block: b.name, addr });
        }
        if (rec.fill !== 0) w.zeroFill.push({ offset: at, block: b.name, addr, fill: rec.fill });
        b.zero++;
        w.ram.zero++;
        it.zero++;
        curPass.zero++;
      } else if (kindBits === 0x08) {
        rec.kind = "PAGE";
        need(PAGE);
        img.set(d.subarray(o, o + PAGE), addr);
        o += PAGE;
        b.page++;
        w.ram.page++;
        it.page++;
        curPass.page++;
      } else if (kindBits === 0x40) {
        rec.kind = "XBZRLE";
        if (u8() !== 0x01) throw new Error(`walk: XBZRLE encoding byte at ${o - 1}`);
        const len = be16();
        need(len);
        rec.xbzrleLen = len;
        rec.covers = xbzrleApply(d.subarray(o, o + len), img.subarray(addr, addr + PAGE));
        o += len;
        w.ram.xbzrleBytes += len;
        b.xbzrle++;
        w.ram.xbzrle++;
        it.xbzrle++;
        curPass.xbzrle++;
      } else throw new Error(`walk: RAM flags 0x${flags.toString(16)} at ${at}`);
      rec.length = o - at;
      w.ram.pageRecordBytes += rec.length;
      curPass.pages++;
      curPass.bytes += rec.length;
      setWriter(b.name, addr, PAGE, { offset: at, kind: rec.kind });
    }
  };
  const blockRecords = (it: WalkItem) => {
    for (;;) {
      const at = o;
      const h = be64();
      const flags = h % 512;
      const sector = (h - flags) / 512;
      const rec: WalkRecord = { offset: at, length: 8, family: "BLK", flags, kind: "", sector };
      w.records.push(rec);
      if (flags & 0x02) {
        rec.kind = "EOS";
        w.disk.eos++;
        return;
      }
      if (flags & 0x04) {
        rec.kind = "PROGRESS";
        w.disk.progress++;
        w.disk.lastPercent = sector;
        continue;
      }
      if (!(flags & 0x01)) throw new Error(`walk: block flags 0x${flags.toString(16)} at ${at}`);
      const name = text(u8());
      rec.block = name;
      rec.addr = sector * 512;
      const chunk = 1 << 20;
      let dd = diskBlocks.get(name);
      if (!dd) {
        dd = { data: 0, zero: 0, extent: 0 };
        diskBlocks.set(name, dd);
        w.images.set(name, new Uint8Array(0));
        w.writers.set(name, []);
      }
      const end = rec.addr + chunk;
      if (end > dd.extent) {
        const grown = new Uint8Array(end);
        grown.set(w.images.get(name)!);
        w.images.set(name, grown);
        dd.extent = end;
      }
      const img = w.images.get(name)!;
      if (flags & 0x08) {
        rec.kind = "ZERO";
        img.fill(0, rec.addr, end);
        dd.zero++;
        w.disk.zero++;
        it.blk0++;
        setWriter(name, rec.addr, chunk, { offset: at, kind: "ZERO_BLOCK" });
      } else {
        rec.kind = "DATA";
        need(chunk);
        img.set(d.subarray(o, o + chunk), rec.addr);
        o += chunk;
        dd.data++;
        w.disk.data++;
        it.blk++;
        setWriter(name, rec.addr, chunk, { offset: at, kind: "BLOCK" });
      }
      rec.length = o - at;
    }
  };
  for (;;) {
    const at = o;
    const type = u8();
    if (type === 0x00) {
      item(at, "EOF").length = 1;
      w.eof = at;
      break;
    }
    if (type === 0x08) {
      const cmd = be16();
      const len = be16();
      const known = COMMAND_NAMES[cmd];
      if (!known || known[1] !== len) throw new Error(`walk: COMMAND ${cmd} at ${at}`);
      need(len);
      o += len;
      item(at, "COMMAND", { name: known[0] }).length = o - at;
      continue;
    }
    const kind = ({ 1: "START", 2: "PART", 3: "END", 4: "FULL" } as Record<number, string>)[type];
    if (!kind) throw new Error(`walk: record type 0x${type.toString(16)} at ${at}`);
    const id = be32();
    if (type === 0x01 || type === 0x04) {
      const idstr = text(u8());
      sections.set(id, { idstr, instance: be32(), version: be32() });
    }
    const s = sections.get(id);
    if (!s) throw new Error(`walk: unknown section ${id} at ${at}`);
    const it = item(at, kind, { sectionId: id, name: s.idstr, ...s });
    if (type === 0x04) {
      const n = opts.bodies?.[s.idstr];
      if (n === undefined) throw new Error(`walk: no body length for device ${s.idstr}`);
      need(n);
      o += n;
    } else if (s.idstr === "ram") ramRecords(it);
    else if (s.idstr === "block") blockRecords(it);
    else throw new Error(`walk: iterable section ${s.idstr} is out of scope`);
    if (u8() !== 0x7e || be32() !== id) throw new Error(`walk: no footer for section ${id}`);
    it.length = o - at;
  }
  if (o < d.length) {
    const at = o;
    if (u8() !== 0x06) throw new Error(`walk: ${d.length - at} bytes after EOF`);
    const len = be32();
    const json = JSON.parse(text(len));
    if (o !== d.length) throw new Error("walk: bytes after the trailer");
    w.trailer = { offset: at, bytes: d.length - at, jsonLength: len, devices: json.devices.length };
    item(at, "VMDESCRIPTION").length = d.length - at;
  }
  for (const [name, dd] of diskBlocks) w.disks.push({ name, ...dd });
  return w;
}

/**
 * Applies an XBZRLE delta to `page` (ULEB128 zero-run / non-zero-run pairs, as QEMU's
 * xbzrle_decode_buffer reads them); returns the bytes of the page its runs cover.
 */
export function xbzrleApply(enc: Uint8Array, page: Uint8Array): number {
  let i = 0;
  let at = 0;
  const uleb = () => {
    let v = 0;
    for (let shift = 0;; shift += 7) {
      const b = enc[i++];
      if (b === undefined) throw new Error("walk: XBZRLE run length cut short");
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < enc.length) {
    at += uleb();
    if (i >= enc.length) break;
    const n = uleb();
    if (at + n > page.length || i + n > enc.length) throw new Error("walk: XBZRLE run too long");
    page.set(enc.subarray(i, i + n), at);
    i += n;
    at += n;
  }
  if (at > page.length) throw new Error("walk: XBZRLE covers more than a page");
  return at;
}
