/**
 * RAM records in batches: the parser's fast path hands page records to the summarizer and the
 * replay appliers as columns of numbers (one typed array per field) instead of one object per
 * page. Objects are made only where a user asks for records ({@link ramRecordAt}).
 * @module
 */
import { RAM_FLAG } from "./constants.ts";
import type { RamBlockInfo, RamKind, RamRecord } from "./records.ts";
import type { StreamInfo } from "./stream_info.ts";

/**
 * Kind codes in {@link RamBatch.code}; 1–4 double as writer kinds (see replay/writers.ts).
 *
 * @example Count XBZRLE records straight from the batches
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { parseStreamItems } from "../parse/stream.ts";
 * import { RAM_CODE } from "./ram_batch.ts";
 * const input = await openInput("samples/small-xbzrle.mig");
 * let xbzrle = 0;
 * const opts = { vmdesc: input.vmdesc, payloads: false };
 * for await (const item of parseStreamItems(input.reader, opts)) {
 *   if (item.kind !== "ram-batch") continue;
 *   for (let i = 0; i < item.count; i++) if (item.code[i] === RAM_CODE.XBZRLE) xbzrle++;
 * }
 * input.close();
 * if (xbzrle !== 623) throw new Error("the sample has 623 XBZRLE records");
 * ```
 */
export const RAM_CODE = {
  ZERO: 1,
  PAGE: 2,
  XBZRLE: 3,
  COMPRESSED: 4,
  EOS: 5,
  MULTIFD_FLUSH: 6,
} as const;

/** Kind names by code. */
export const RAM_CODE_KIND: readonly (RamKind | "")[] = [
  "",
  "zero",
  "page",
  "xbzrle",
  "compressed",
  "eos",
  "multifd_flush",
];

/** Records one batch holds at most. */
export const RAM_BATCH_CAPACITY = 2048;

/**
 * A run of RAM records of one section, in stream order. `bytes` is a view of the reader's
 * buffer, and `dataAt` indexes into it: payloads are valid only until the next batch.
 */
export interface RamBatch {
  kind: "ram-batch";
  count: number;
  sectionId: number;
  depth: number;
  /** The stream's facts (page size, block table). */
  info: StreamInfo;
  /** Kind code per record ({@link RAM_CODE}). */
  code: Uint8Array;
  /** Raw flag bits per record. */
  flags: Uint16Array;
  /** Absolute offset per record. */
  offset: Float64Array;
  /** Bytes on the wire per record. */
  length: Uint32Array;
  /** Page offset within the block. */
  addr: Float64Array;
  /** Index of the block in `info.blocks` (-1 before any block was named). */
  block: Int32Array;
  /** Dirty pass. */
  pass: Uint32Array;
  /** ZERO fill byte. */
  fill: Uint8Array;
  /** Payload start within `bytes`. */
  dataAt: Int32Array;
  /** Payload length on the wire. */
  dataLength: Uint32Array;
  /** XBZRLE: page bytes the delta covers. */
  covered: Uint32Array;
  /** The buffer the payloads live in. */
  bytes: Uint8Array;
}

/** An empty batch with room for `capacity` records. */
export function newRamBatch(info: StreamInfo, capacity = RAM_BATCH_CAPACITY): RamBatch {
  return {
    kind: "ram-batch",
    count: 0,
    sectionId: 0,
    depth: 0,
    info,
    code: new Uint8Array(capacity),
    flags: new Uint16Array(capacity),
    offset: new Float64Array(capacity),
    length: new Uint32Array(capacity),
    addr: new Float64Array(capacity),
    block: new Int32Array(capacity),
    pass: new Uint32Array(capacity),
    fill: new Uint8Array(capacity),
    dataAt: new Int32Array(capacity),
    dataLength: new Uint32Array(capacity),
    covered: new Uint32Array(capacity),
    bytes: new Uint8Array(0),
  };
}

/** The payload of record `i` (a transient view). */
export function batchData(b: RamBatch, i: number): Uint8Array {
  const at = b.dataAt[i];
  return b.bytes.subarray(at, at + b.dataLength[i]);
}

/** The block of record `i`. */
export function batchBlock(b: RamBatch, i: number): RamBlockInfo | undefined {
  const k = b.block[i];
  return k >= 0 ? b.info.blocks[k] : undefined;
}

/**
 * Record `i` of a batch as a {@link RamRecord} object (payload: a transient view).
 *
 * @example The first XBZRLE record of a capture as an object
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { parseStreamItems } from "../parse/stream.ts";
 * import type { RamRecord } from "./records.ts";
 * import { RAM_CODE, ramRecordAt } from "./ram_batch.ts";
 * const input = await openInput("samples/small-xbzrle.mig");
 * let first: RamRecord | undefined;
 * for await (const item of parseStreamItems(input.reader, { vmdesc: input.vmdesc })) {
 *   if (item.kind !== "ram-batch") continue;
 *   const i = item.code.subarray(0, item.count).indexOf(RAM_CODE.XBZRLE);
 *   if (i >= 0) {
 *     first = ramRecordAt(item, i, false); // no payload view: it would not outlive the batch
 *     break;
 *   }
 * }
 * input.close();
 * if (first?.type !== "xbzrle" || first.block !== "pc.ram" || !first.covered) {
 *   throw new Error("an XBZRLE record of pc.ram, with the page bytes its delta covers");
 * }
 * ```
 */
export function ramRecordAt(b: RamBatch, i: number, payloads = true): RamRecord {
  const code = b.code[i];
  const type = RAM_CODE_KIND[code] as RamKind;
  const flags = b.flags[i];
  const rec: RamRecord = {
    kind: "ram",
    type,
    offset: b.offset[i],
    length: b.length[i],
    depth: b.depth,
    sectionId: b.sectionId,
    flags,
    block: batchBlock(b, i)?.name ?? "",
    addr: b.addr[i],
    cont: (flags & RAM_FLAG.CONTINUE) !== 0,
    pass: b.pass[i],
    dataLength: b.dataLength[i],
  };
  if (code === RAM_CODE.ZERO) rec.fill = b.fill[i];
  if (code === RAM_CODE.XBZRLE) rec.covered = b.covered[i];
  if (payloads && b.dataLength[i] > 0) rec.data = batchData(b, i);
  return rec;
}
