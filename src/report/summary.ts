/**
 * Aggregates parser output into the inspect summary and the section-level timeline. RAM page
 * records are counted from {@link RamBatch} columns without an object per page; record objects
 * (from the per-record API) are counted the same way.
 * @module
 */
import { RAM_CODE, type RamBatch } from "../protocol/ram_batch.ts";
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

const KIND_CODE: Record<string, number> = { zero: 1, page: 2, xbzrle: 3, compressed: 4 };

/** The words after a command in the timeline and the command list. */
export function commandDetail(rec: CommandRecord): string | undefined {
  switch (rec.name) {
    case "PING":
      return `value ${rec.value}`;
    case "POSTCOPY_ADVISE":
      return rec.targetPageSize === undefined
        ? "no RAM postcopy (dirty bitmaps only)"
        : `host page sizes 0x${rec.hostPageSizes!.toString(16)}, target page ${rec.targetPageSize}`;
    case "POSTCOPY_RAM_DISCARD":
      return `${rec.block}: ${rec.ranges!.length} ranges, ${
        rec.ranges!.reduce((a, x) => a + x.length, 0)
      } bytes`;
    case "PACKAGED":
      return `${rec.packageLength} bytes of nested stream`;
    case "RECV_BITMAP":
      return rec.block;
  }
  return undefined;
}

type RowStart = Omit<
  TimelineRow,
  "page" | "zero" | "xbzrle" | "compressed" | "blockData" | "blockZero"
>;

/** Builds a {@link Summary} and timeline from records fed in stream order. */
export class Summarizer {
  readonly summary: Summary = emptySummary();
  readonly timeline: TimelineRow[] = [];
  #blocks = new Map<string, RamBlockSummary>();
  #row?: TimelineRow;
  #pass?: PassSummary;
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
    if (this.#blocks.has(b.name)) return;
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
    }
    this.#blocks.set(b.name, s);
    this.summary.ram.blocks.push(s);
  }

  /** Counts one page record: kind code, block summary, pass, wire length, payload, fill. */
  #page(
    code: number,
    blk: RamBlockSummary | undefined,
    passIndex: number,
    offset: number,
    length: number,
    dataLength: number,
    fill: number,
  ) {
    const r = this.summary.ram;
    const row = this.#row;
    let pass = this.#pass;
    if (!pass || pass.index !== passIndex) {
      pass = {
        index: passIndex,
        pages: 0,
        bytes: 0,
        page: 0,
        zero: 0,
        xbzrle: 0,
        compressed: 0,
        offset,
      };
      this.#pass = pass;
      this.summary.passes.push(pass);
    }
    pass.pages++;
    pass.bytes += length;
    r.totalBytes += length;
    if (code === RAM_CODE.PAGE) {
      r.page++;
      pass.page++;
      if (blk) blk.page++;
      if (row) row.page++;
    } else if (code === RAM_CODE.ZERO) {
      r.zero++;
      pass.zero++;
      if (fill !== 0) r.zeroNonZeroFill++;
      if (blk) blk.zero++;
      if (row) row.zero++;
    } else if (code === RAM_CODE.XBZRLE) {
      r.xbzrle++;
      pass.xbzrle++;
      r.xbzrleBytes += dataLength;
      r.xbzrleRecordBytes += length;
      if (blk) blk.xbzrle++;
      if (row) row.xbzrle++;
    } else {
      r.compressed++;
      pass.compressed++;
      if (blk) blk.compressed++;
      if (row) row.compressed++;
    }
  }

  /** Adds a batch of RAM records. */
  addBatch(b: RamBatch): void {
    const r = this.summary.ram;
    const blocks = r.blocks;
    for (let i = 0; i < b.count; i++) {
      const code = b.code[i];
      if (code === RAM_CODE.EOS) r.eos++;
      else if (code === RAM_CODE.MULTIFD_FLUSH) r.multifdFlush++;
      else {
        if (b.flags[i] & 0x20) r.continueHeaders++;
        else r.namedHeaders++;
        this.#page(
          code,
          blocks[b.block[i]],
          b.pass[i],
          b.offset[i],
          b.length[i],
          b.dataLength[i],
          b.fill[i],
        );
      }
    }
    if (b.count) this.#extendTo(b.offset[b.count - 1] + b.length[b.count - 1]);
    this.summary.stream.pageSize = b.info.pageSize;
  }

  #ram(rec: RamRecord) {
    const r = this.summary.ram;
    if (rec.type === "mem_size") {
      r.memSize++;
      for (const b of rec.blocks!) this.#blockInfo(b);
      if (rec.pageSize) this.summary.stream.pageSize = rec.pageSize;
    } else if (rec.type === "eos") r.eos++;
    else if (rec.type === "multifd_flush") r.multifdFlush++;
    else {
      if (rec.cont) r.continueHeaders++;
      else r.namedHeaders++;
      const blk = this.#blocks.get(rec.block);
      this.#page(
        KIND_CODE[rec.type],
        blk,
        rec.pass,
        rec.offset,
        rec.length,
        rec.dataLength,
        rec.fill ?? 0,
      );
    }
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
      note: `JSON ${rec.jsonLength} bytes, ${rec.json.devices.length} devices`,
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
