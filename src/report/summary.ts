/**
 * Aggregates parser records into the inspect summary and the section-level timeline.
 * The JSON keys are a contract for scripts and regression tests (see README).
 * @module
 */
import { DEFAULT_PAGE_SIZE } from "../protocol/constants.ts";
import type { MigRecord, RamBlockInfo } from "../protocol/records.ts";

/** Per-RAM-block counters. */
export interface RamBlockSummary {
  name: string;
  size: number;
  page: number;
  zero: number;
  xbzrle: number;
  compressed: number;
  /** mapped-ram layout and bitmap counts (pages present in their slots, zero pages). */
  mappedRam?: {
    headerOffset: number;
    bitmapOffset: number;
    pagesOffset: number;
    present?: number;
    zero?: number;
  };
}

/** Per-device block-migration counters. */
export interface BlockDeviceSummary {
  name: string;
  data: number;
  zero: number;
  /** End of the highest chunk seen, in bytes (a lower bound of the device size). */
  extent: number;
}

/** One dirty pass over RAM. */
export interface PassSummary {
  index: number;
  pages: number;
  bytes: number;
  page: number;
  zero: number;
  xbzrle: number;
  compressed: number;
  /** Offset of the pass's first page record. */
  offset: number;
}

/** One row of the section-level timeline. */
export interface TimelineRow {
  offset: number;
  kind: string;
  sectionId?: number;
  name?: string;
  instance?: number;
  version?: number;
  bytes: number;
  depth: number;
  page: number;
  zero: number;
  xbzrle: number;
  compressed: number;
  blockData: number;
  blockZero: number;
  note?: string;
}

/** The inspect summary (stable JSON keys). */
export interface Summary {
  stream: { bytes: number; version?: number; footers: boolean; pageSize: number };
  configuration: {
    machine?: string;
    offset?: number;
    capabilities: string[];
    uuid?: string;
    targetPageBits?: number;
  };
  ram: {
    page: number;
    zero: number;
    xbzrle: number;
    compressed: number;
    eos: number;
    memSize: number;
    multifdFlush: number;
    continueHeaders: number;
    namedHeaders: number;
    zeroNonZeroFill: number;
    xbzrleBytes: number;
    xbzrleRecordBytes: number;
    /** 1 − (XBZRLE record bytes / full-page bytes those pages would have taken). */
    xbzrleSaving: number;
    totalBytes: number;
    blocks: RamBlockSummary[];
  };
  block: {
    data: number;
    zero: number;
    progress: number;
    eos: number;
    lastPercent?: number;
    devices: BlockDeviceSummary[];
  };
  sections: {
    START: number;
    PART: number;
    END: number;
    FULL: number;
    COMMAND: number;
    FOOTER: number;
    CONFIGURATION: number;
    EOF: number;
  };
  commands: { offset: number; name: string; depth: number; detail?: string }[];
  devices: { name: string; instance: number; version: number; size: number; offset: number }[];
  passes: PassSummary[];
  eof?: { offset: number };
  trailer?: {
    offset: number;
    bytes: number;
    jsonLength: number;
    devices: number;
    hasConfiguration: boolean;
  };
  trailing?: { offset: number; bytes: number };
}

/** Builds a {@link Summary} and timeline from records fed in stream order. */
export class Summarizer {
  readonly summary: Summary;
  readonly timeline: TimelineRow[] = [];
  #blocks = new Map<string, RamBlockSummary>();
  #devices = new Map<string, BlockDeviceSummary>();
  #row?: TimelineRow;
  #pass?: PassSummary;
  #keepTimeline: boolean;

  constructor(opts: { timeline?: boolean } = {}) {
    this.#keepTimeline = opts.timeline ?? true;
    this.summary = {
      stream: { bytes: 0, footers: false, pageSize: DEFAULT_PAGE_SIZE },
      configuration: { capabilities: [] },
      ram: {
        page: 0,
        zero: 0,
        xbzrle: 0,
        compressed: 0,
        eos: 0,
        memSize: 0,
        multifdFlush: 0,
        continueHeaders: 0,
        namedHeaders: 0,
        zeroNonZeroFill: 0,
        xbzrleBytes: 0,
        xbzrleRecordBytes: 0,
        xbzrleSaving: 0,
        totalBytes: 0,
        blocks: [],
      },
      block: { data: 0, zero: 0, progress: 0, eos: 0, devices: [] },
      sections: {
        START: 0,
        PART: 0,
        END: 0,
        FULL: 0,
        COMMAND: 0,
        FOOTER: 0,
        CONFIGURATION: 0,
        EOF: 0,
      },
      commands: [],
      devices: [],
      passes: [],
    };
  }

  #open(
    row: Omit<TimelineRow, "page" | "zero" | "xbzrle" | "compressed" | "blockData" | "blockZero">,
  ) {
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

  #extend(rec: MigRecord) {
    const row = this.#row;
    if (row) row.bytes = rec.offset + rec.length - row.offset;
  }

  #blockInfo(b: RamBlockInfo) {
    if (!this.#blocks.has(b.name)) {
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
  }

  /** Adds one record. */
  add(rec: MigRecord): void {
    const s = this.summary;
    s.stream.bytes = Math.max(s.stream.bytes, rec.offset + rec.length);
    switch (rec.kind) {
      case "header":
        s.stream.version = rec.version;
        this.#open({
          offset: rec.offset,
          kind: "HEADER",
          bytes: rec.length,
          depth: 0,
          note: `QEVM v${rec.version}`,
        });
        break;
      case "configuration":
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
          note: rec.capabilities.length
            ? `capabilities: ${rec.capabilities.join(", ")}`
            : undefined,
        });
        break;
      case "section":
        s.sections[rec.type]++;
        this.#open({
          offset: rec.offset,
          kind: rec.type,
          sectionId: rec.sectionId,
          name: rec.idstr,
          instance: rec.instanceId,
          version: rec.version,
          bytes: rec.length,
          depth: rec.depth,
        });
        break;
      case "footer":
        s.sections.FOOTER++;
        s.stream.footers = true;
        this.#extend(rec);
        break;
      case "command": {
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
        break;
      }
      case "package-end":
        this.#open({ offset: rec.offset, kind: "PACKAGE END", bytes: 0, depth: rec.depth });
        break;
      case "ram":
        this.#ram(rec);
        this.#extend(rec);
        break;
      case "block": {
        const b = s.block;
        if (rec.type === "data" || rec.type === "zero") {
          let d = this.#devices.get(rec.device!);
          if (!d) {
            d = { name: rec.device!, data: 0, zero: 0, extent: 0 };
            this.#devices.set(rec.device!, d);
            b.devices.push(d);
          }
          d.extent = Math.max(d.extent, (rec.sector + 2048) * 512);
          if (rec.type === "data") {
            b.data++;
            d.data++;
            if (this.#row) this.#row.blockData++;
          } else {
            b.zero++;
            d.zero++;
            if (this.#row) this.#row.blockZero++;
          }
        } else if (rec.type === "progress") {
          b.progress++;
          b.lastPercent = rec.percent;
        } else b.eos++;
        this.#extend(rec);
        break;
      }
      case "device":
        s.devices.push({
          name: rec.idstr,
          instance: rec.instanceId,
          version: rec.version,
          size: rec.length,
          offset: rec.offset,
        });
        this.#extend(rec);
        break;
      case "eof":
        s.sections.EOF++;
        if (rec.depth === 0) s.eof = { offset: rec.offset };
        this.#open({ offset: rec.offset, kind: "EOF", bytes: 1, depth: rec.depth });
        break;
      case "vmdesc":
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
        break;
      case "trailing":
        s.trailing = { offset: rec.offset, bytes: rec.length };
        this.#open({
          offset: rec.offset,
          kind: "TRAILING",
          bytes: rec.length,
          depth: 0,
          note: "not a VMDESCRIPTION",
        });
        break;
    }
  }

  #ram(rec: Extract<MigRecord, { kind: "ram" }>) {
    const r = this.summary.ram;
    const row = this.#row;
    switch (rec.type) {
      case "mem_size":
        r.memSize++;
        for (const b of rec.blocks!) this.#blockInfo(b);
        return;
      case "eos":
        r.eos++;
        return;
      case "multifd_flush":
        r.multifdFlush++;
        return;
    }
    if (rec.cont) r.continueHeaders++;
    else r.namedHeaders++;
    const blk = this.#blocks.get(rec.block);
    let pass = this.#pass;
    if (!pass || pass.index !== rec.pass) {
      pass = {
        index: rec.pass,
        pages: 0,
        bytes: 0,
        page: 0,
        zero: 0,
        xbzrle: 0,
        compressed: 0,
        offset: rec.offset,
      };
      this.#pass = pass;
      this.summary.passes.push(pass);
    }
    pass.pages++;
    pass.bytes += rec.length;
    r.totalBytes += rec.length;
    switch (rec.type) {
      case "page":
        r.page++;
        pass.page++;
        if (blk) blk.page++;
        if (row) row.page++;
        break;
      case "zero":
        r.zero++;
        pass.zero++;
        if (rec.fill !== 0) r.zeroNonZeroFill++;
        if (blk) blk.zero++;
        if (row) row.zero++;
        break;
      case "xbzrle":
        r.xbzrle++;
        pass.xbzrle++;
        r.xbzrleBytes += rec.dataLength;
        r.xbzrleRecordBytes += rec.length;
        if (blk) blk.xbzrle++;
        if (row) row.xbzrle++;
        break;
      case "compressed":
        r.compressed++;
        pass.compressed++;
        if (blk) blk.compressed++;
        if (row) row.compressed++;
        break;
    }
  }

  /** Finalises derived numbers and returns the summary. */
  finish(): Summary {
    const r = this.summary.ram;
    const full = r.xbzrle * this.summary.stream.pageSize;
    r.xbzrleSaving = full > 0 ? 1 - r.xbzrleRecordBytes / full : 0;
    return this.summary;
  }
}

function commandDetail(rec: Extract<MigRecord, { kind: "command" }>): string | undefined {
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
