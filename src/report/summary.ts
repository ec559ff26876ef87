/**
 * Aggregates parser output into the inspect summary and the section-level timeline. RAM page
 * records are counted from {@link RamBatch} columns without an object per page; record objects
 * (from the per-record API) are counted the same way.
 * @module
 */
import { isSkipped } from "../parse/mapped_ram.ts";
import { RAM_FLAG } from "../protocol/constants.ts";
import { newRamBatch, RAM_CODE, type RamBatch } from "../protocol/ram_batch.ts";
import { initialStreamInfo } from "../protocol/stream_info.ts";
import type {
  BlockRecord,
  CommandRecord,
  MigRecord,
  RamBlockInfo,
  RamRecord,
} from "../protocol/records.ts";
import {
  emptySummary,
  type PassSummary,
  type RamBlockSummary,
  type Summary,
  type TimelineRow,
} from "./summary_types.ts";

export * from "./summary_types.ts";
export { commandDetail } from "./command_detail.ts";
import { commandDetail } from "./command_detail.ts";
import { plural } from "./table.ts";

const KIND_CODE: Record<string, number> = {
  zero: 1,
  page: 2,
  xbzrle: 3,
  compressed: 4,
  eos: 5,
  multifd_flush: 6,
};

type RowStart = Omit<
  TimelineRow,
  "page" | "zero" | "xbzrle" | "compressed" | "blockData" | "blockZero"
>;

/** Builds a {@link Summary} and timeline from records fed in stream order. */
export class Summarizer {
  readonly summary: Summary = emptySummary();
  readonly timeline: TimelineRow[] = [];
  /** Block summaries' indexes by name (= the stream's block table order). */
  #blockIndex = new Map<string, number>();
  #row?: TimelineRow;
  #pass?: PassSummary;
  #postcopyRun = false;
  #keepTimeline: boolean;

  constructor(opts: { timeline?: boolean } = {}) {
    this.#keepTimeline = opts.timeline ?? true;
  }

  #open(row: RowStart) {
    const full: TimelineRow = {
      page: 0,
      zero: 0,
      xbzrle: 0,
      compressed: 0,
      blockData: 0,
      blockZero: 0,
      ...row,
    };
    this.#row = full;
    if (this.#keepTimeline) this.timeline.push(full);
  }

  #extendTo(end: number) {
    const row = this.#row;
    if (row) row.bytes = end - row.offset;
    if (end > this.summary.stream.bytes) this.summary.stream.bytes = end;
  }

  #blockInfo(b: RamBlockInfo) {
    if (this.#blockIndex.has(b.name)) return;
    const s: RamBlockSummary = {
      name: b.name,
      size: b.size,
      page: 0,
      zero: 0,
      xbzrle: 0,
      compressed: 0,
    };
    if (b.mappedRam) {
      const m = b.mappedRam;
      s.mappedRam = {
        headerOffset: m.headerOffset,
        bitmapOffset: m.bitmapOffset,
        pagesOffset: m.pagesOffset,
      };
      if (isSkipped(m)) s.mappedRam.skipped = true;
    }
    this.#blockIndex.set(b.name, this.summary.ram.blocks.length);
    this.summary.ram.blocks.push(s);
  }

  #k = new Float64Array(8);
  #seg = new Float64Array(8);
  #d = new Float64Array(8);
  #one?: RamBatch;

  #newPass(index: number, offset: number, postcopy: boolean): PassSummary {
    const p = { index, pages: 0, bytes: 0, page: 0, zero: 0, xbzrle: 0, compressed: 0, offset };
    const pass: PassSummary = postcopy ? { ...p, postcopy: true } : p;
    this.#pass = pass;
    this.summary.passes.push(pass);
    return pass;
  }

  /** Adds per-kind counts `c` (indexed by RAM_CODE) to a pass, row or block summary. */
  #addKinds(
    to: { page: number; zero: number; xbzrle: number; compressed: number },
    c: Float64Array,
    at = 0,
  ) {
    to.zero += c[at + RAM_CODE.ZERO];
    to.page += c[at + RAM_CODE.PAGE];
    to.xbzrle += c[at + RAM_CODE.XBZRLE];
    to.compressed += c[at + RAM_CODE.COMPRESSED];
  }

  /** Adds a batch of RAM records: counted per kind in one tight pass, by runs of pass and block. */
  addBatch(b: RamBatch): void {
    const r = this.summary.ram;
    const k = this.#k.fill(0);
    const seg = this.#seg.fill(0);
    let pass = this.#pass;
    let blk = -2;
    let segBytes = 0;
    let bytes = 0;
    let named = 0;
    let nonZeroFill = 0;
    let xbBytes = 0;
    let xbRecordBytes = 0;
    for (let i = 0; i < b.count; i++) {
      const code = b.code[i];
      if (
        code < RAM_CODE.EOS &&
        (b.block[i] !== blk || pass === undefined || b.pass[i] !== pass.index)
      ) {
        this.#segment(pass, blk, k, seg, bytes - segBytes);
        segBytes = bytes;
        if (pass === undefined || b.pass[i] !== pass.index) {
          pass = this.#newPass(b.pass[i], b.offset[i], b.pass[i] === b.info.postcopyPass);
        }
        blk = b.block[i];
      }
      k[code]++;
      if (code >= RAM_CODE.EOS) continue;
      bytes += b.length[i];
      if ((b.flags[i] & RAM_FLAG.CONTINUE) === 0) named++;
      if (code === RAM_CODE.ZERO) {
        if (b.fill[i] !== 0) nonZeroFill++;
      } else if (code === RAM_CODE.XBZRLE) {
        xbBytes += b.dataLength[i];
        xbRecordBytes += b.length[i];
      }
    }
    this.#segment(pass, blk, k, seg, bytes - segBytes);
    this.#addKinds(r, k);
    if (this.#row) this.#addKinds(this.#row, k);
    const pages = k[1] + k[2] + k[3] + k[4];
    r.eos += k[RAM_CODE.EOS];
    r.multifdFlush += k[RAM_CODE.MULTIFD_FLUSH];
    r.namedHeaders += named;
    r.continueHeaders += pages - named;
    r.zeroNonZeroFill += nonZeroFill;
    r.xbzrleBytes += xbBytes;
    r.xbzrleRecordBytes += xbRecordBytes;
    r.totalBytes += bytes;
    if (b.count) this.#extendTo(b.offset[b.count - 1] + b.length[b.count - 1]);
    this.summary.stream.pageSize = b.info.pageSize;
  }

  /** Adds the page counts since `seg` (then moves `seg` to `k`) to a pass and a block. */
  #segment(
    pass: PassSummary | undefined,
    blk: number,
    k: Float64Array,
    seg: Float64Array,
    bytes: number,
  ) {
    const d = this.#d;
    for (let c = 1; c <= 4; c++) d[c] = k[c] - seg[c];
    seg.set(k);
    if (pass) {
      this.#addKinds(pass, d);
      pass.pages += d[1] + d[2] + d[3] + d[4];
      pass.bytes += bytes;
    }
    const block = blk >= 0 ? this.summary.ram.blocks[blk] : undefined;
    if (block) this.#addKinds(block, d);
  }

  /** A page record object counted as a batch of one (one counting path for both APIs). */
  #ramRecord(rec: RamRecord) {
    const one = this.#one ??= newRamBatch(initialStreamInfo(this.summary.stream.pageSize), 1);
    one.info.pageSize = this.summary.stream.pageSize;
    one.count = 1;
    one.code[0] = KIND_CODE[rec.type];
    one.flags[0] = rec.flags;
    one.offset[0] = rec.offset;
    one.length[0] = rec.length;
    one.block[0] = this.#blockIndex.get(rec.block) ?? 0x7fffffff;
    one.dataAt[0] = 0;
    one.pass[0] = rec.pass;
    if (this.#postcopyRun && one.code[0] < RAM_CODE.EOS) one.info.postcopyPass ??= rec.pass;
    one.fill[0] = rec.fill ?? 0;
    one.dataLength[0] = rec.dataLength;
    this.addBatch(one);
  }

  #ram(rec: RamRecord) {
    const r = this.summary.ram;
    if (rec.type === "mem_size") {
      r.memSize++;
      for (const b of rec.blocks!) this.#blockInfo(b);
      if (rec.pageSize) this.summary.stream.pageSize = rec.pageSize;
    } else this.#ramRecord(rec);
  }

  #block(rec: BlockRecord) {
    const b = this.summary.block;
    if (rec.type === "progress") {
      b.progress++;
      b.lastPercent = rec.percent;
      return;
    }
    if (rec.type === "eos") {
      b.eos++;
      return;
    }
    let d = b.devices.find((x) => x.name === rec.device);
    if (!d) {
      d = { name: rec.device!, data: 0, zero: 0, extent: 0 };
      b.devices.push(d);
    }
    d.extent = Math.max(d.extent, (rec.sector + 2048) * 512);
    const data = rec.type === "data";
    if (data) b.data++;
    else b.zero++;
    if (data) d.data++;
    else d.zero++;
    if (this.#row && data) this.#row.blockData++;
    else if (this.#row) this.#row.blockZero++;
  }

  /** Adds one record, or a batch of RAM records. */
  add(rec: MigRecord | RamBatch): void {
    if (rec.kind === "ram-batch") return this.addBatch(rec);
    const s = this.summary;
    if (rec.offset + rec.length > s.stream.bytes) s.stream.bytes = rec.offset + rec.length;
    switch (rec.kind) {
      case "header":
        s.stream.version = rec.version;
        return this.#open({
          offset: rec.offset,
          kind: "HEADER",
          bytes: rec.length,
          depth: 0,
          note: `QEVM v${rec.version}`,
        });
      case "configuration":
        return this.#configuration(rec);
      case "section":
        s.sections[rec.type]++;
        return this.#open({
          offset: rec.offset,
          kind: rec.type,
          sectionId: rec.sectionId,
          name: rec.idstr,
          instance: rec.instanceId,
          version: rec.version,
          bytes: rec.length,
          depth: rec.depth,
        });
      case "footer":
        s.sections.FOOTER++;
        s.stream.footers = true;
        return this.#extendTo(rec.offset + rec.length);
      case "command":
        return this.#command(rec);
      case "package-end":
        return this.#open({ offset: rec.offset, kind: "PACKAGE END", bytes: 0, depth: rec.depth });
      case "ram":
        this.#ram(rec);
        return this.#extendTo(rec.offset + rec.length);
      case "block":
        this.#block(rec);
        return this.#extendTo(rec.offset + rec.length);
      case "device":
        s.devices.push({
          name: rec.idstr,
          instance: rec.instanceId,
          version: rec.version,
          size: rec.length,
          offset: rec.offset,
        });
        return this.#extendTo(rec.offset + rec.length);
      case "undelimited":
        (s.undelimited ??= []).push({ offset: rec.offset, bytes: rec.length, depth: rec.depth });
        return this.#open({
          offset: rec.offset,
          kind: "UNDELIMITED",
          name: rec.idstr,
          bytes: rec.length,
          depth: rec.depth,
          note: rec.reason,
        });
      default:
        return this.#end(rec);
    }
  }

  #configuration(rec: Extract<MigRecord, { kind: "configuration" }>) {
    const s = this.summary;
    s.sections.CONFIGURATION++;
    s.configuration = {
      machine: rec.machine,
      offset: rec.offset,
      capabilities: rec.capabilities,
      uuid: rec.uuid,
      targetPageBits: rec.targetPageBits,
    };
    if (rec.targetPageBits) s.stream.pageSize = 2 ** rec.targetPageBits;
    this.#open({
      offset: rec.offset,
      kind: "CONFIGURATION",
      bytes: rec.length,
      depth: 0,
      name: rec.machine,
      note: rec.capabilities.length ? `capabilities: ${rec.capabilities.join(", ")}` : undefined,
    });
  }

  #command(rec: CommandRecord) {
    const s = this.summary;
    s.sections.COMMAND++;
    const detail = commandDetail(rec);
    s.commands.push({ offset: rec.offset, name: rec.name, depth: rec.depth, detail });
    if (rec.name === "POSTCOPY_RUN") this.#postcopyRun = true;
    this.#open({
      offset: rec.offset,
      kind: "COMMAND",
      name: rec.name,
      bytes: rec.length,
      depth: rec.depth,
      note: detail,
    });
  }

  #end(rec: Extract<MigRecord, { kind: "eof" | "vmdesc" | "trailing" }>) {
    const s = this.summary;
    if (rec.kind === "eof") {
      s.sections.EOF++;
      if (rec.depth === 0) s.eof = { offset: rec.offset };
      return this.#open({ offset: rec.offset, kind: "EOF", bytes: 1, depth: rec.depth });
    }
    if (rec.kind === "trailing") {
      s.trailing = { offset: rec.offset, bytes: rec.length };
      return this.#open({
        offset: rec.offset,
        kind: "TRAILING",
        bytes: rec.length,
        depth: 0,
        note: "not a VMDESCRIPTION",
      });
    }
    s.trailer = {
      offset: rec.offset,
      bytes: rec.length,
      jsonLength: rec.jsonLength,
      devices: rec.json.devices.length,
      hasConfiguration: rec.json.configuration !== undefined,
    };
    if (typeof rec.json.page_size === "number") s.stream.pageSize = rec.json.page_size;
    this.#open({
      offset: rec.offset,
      kind: "VMDESCRIPTION",
      bytes: rec.length,
      depth: 0,
      note: `JSON ${rec.jsonLength} bytes, ${plural(rec.json.devices.length, "device")}`,
    });
  }

  /** Finalises derived numbers and returns the summary. */
  finish(): Summary {
    const r = this.summary.ram;
    const full = r.xbzrle * this.summary.stream.pageSize;
    r.xbzrleSaving = full > 0 ? 1 - r.xbzrleRecordBytes / full : 0;
    return this.summary;
  }
}
