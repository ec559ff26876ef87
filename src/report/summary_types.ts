/**
 * The inspect summary and timeline: their shapes (stable JSON keys, a contract for scripts and
 * regression tests; see README) and an empty summary to count into.
 * @module
 */
import { DEFAULT_PAGE_SIZE } from "../protocol/constants.ts";

/** Per-RAM-block counters. */
export interface RamBlockSummary {
  name: string;
  size: number;
  page: number;
  zero: number;
  xbzrle: number;
  compressed: number;
  /**
   * mapped-ram layout and bitmap counts (pages present in their slots, zero pages); `skipped`
   * for a block skipped by x-ignore-shared (offsets 0/0: no bitmap, no pages in the file).
   */
  mappedRam?: {
    headerOffset: number;
    bitmapOffset: number;
    pagesOffset: number;
    present?: number;
    zero?: number;
    skipped?: true;
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
  /** The pages sent after POSTCOPY_RUN (in no address order: one pass, not one per wrap). */
  postcopy?: true;
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
  /**
   * Byte ranges of device sections that could not be delimited (inside PACKAGED, without a
   * vmdesc JSON): skipped by the payload's length, the stream read on after them.
   */
  undelimited?: { offset: number; bytes: number; depth: number }[];
}

/** A summary with every counter at zero. */
export function emptySummary(): Summary {
  return {
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
