/**
 * RAM records (`ram` section, version 4): the be64 header `offset | flags` (flags in the low
 * page-size bits), an optional block name, and the payload of each kind. Records are parsed in
 * batches straight from the reader's buffer into a {@link RamBatch}: no object, promise or
 * copy per page. MEM_SIZE is left to mem_size.ts.
 * @module
 */
import { RAM_FLAG, ramFlagNames, XBZRLE_ENCODING_FLAG } from "../protocol/constants.ts";
import { printable } from "../protocol/errors.ts";
import { RAM_CODE, type RamBatch } from "../protocol/ram_batch.ts";
import { inflatePage, inflateReady } from "../wire/inflate.ts";
import { xbzrleValidate } from "../xbzrle/decode.ts";
import { decodeName, type ParseState } from "./state.ts";

/** {@link readRamBatch} stopped after an EOS record (the section's RAM data is over). */
export const RAM_STOP_EOS = -1;
/** {@link readRamBatch} stopped before a MEM_SIZE record (read it with readMemSize). */
export const RAM_STOP_MEM_SIZE = -2;
/** {@link readRamBatch} stopped because the batch is full. */
export const RAM_STOP_FULL = 0;
/** {@link readRamBatch} stopped before a COMPRESS_PAGE: load the inflater (loadInflate). */
export const RAM_STOP_INFLATE = -3;

/** Record names in messages, by kind code (COMPRESS_PAGE lengths say "COMPRESS_PAGE"). */
const NAMES = ["RAM", "ZERO", "PAGE", "XBZRLE", "COMPRESSED", "EOS", "MULTIFD_FLUSH"];

/** zlib's compressBound(n): the largest legal COMPRESS_PAGE payload for an n-byte page. */
function compressBound(n: number): number {
  return n + (n >>> 12) + (n >>> 14) + (n >>> 25) + 13;
}

function fail(st: ParseState, code: number, offset: number, detail: string, at = offset): never {
  detail += st.pageSizeHint;
  st.record = code === 6 ? `MULTIFD_FLUSH at ${offset}` : `${NAMES[code]} record at ${offset}`;
  st.fail(detail, at);
}

/** The record's kind code; 0 for MEM_SIZE, -1 for a COMPRESS_PAGE before loadInflate. */
function kindCode(st: ParseState, flags: number, offset: number): number {
  switch (flags & ~RAM_FLAG.CONTINUE) {
    case RAM_FLAG.ZERO:
      return RAM_CODE.ZERO;
    case RAM_FLAG.PAGE:
      return RAM_CODE.PAGE;
    case RAM_FLAG.XBZRLE:
      return RAM_CODE.XBZRLE;
    case RAM_FLAG.COMPRESS_PAGE:
      // Its payload is checked by inflating it: stop first until the inflater is loaded.
      return inflateReady() ? RAM_CODE.COMPRESSED : -1;
    case RAM_FLAG.EOS:
      return RAM_CODE.EOS;
    case RAM_FLAG.MULTIFD_FLUSH:
      if (st.mappedRam) fail(st, 6, offset, "MULTIFD_FLUSH is not allowed with mapped-ram");
      return RAM_CODE.MULTIFD_FLUSH;
    case RAM_FLAG.MEM_SIZE:
      return 0;
    case RAM_FLAG.HOOK:
      return fail(st, 0, offset, "RAM_SAVE_FLAG_HOOK (RDMA) in a non-RDMA stream");
  }
  fail(
    st,
    0,
    offset,
    `unknown RAM flag combination 0x${flags.toString(16)} (${ramFlagNames(flags)})`,
  );
}

/** Validates an XBZRLE payload header at `q` (absolute `qAt`); returns its length. */
function xbzrleLength(st: ParseState, buf: Uint8Array, q: number, qAt: number, offset: number) {
  if (buf[q] !== XBZRLE_ENCODING_FLAG) {
    fail(st, 3, offset, `XBZRLE encoding byte 0x${buf[q].toString(16)} is not 0x01`, qAt);
  }
  const len = (buf[q + 1] << 8) | buf[q + 2];
  if (len > st.pageSize) {
    fail(st, 3, offset, `XBZRLE length ${len} exceeds the page size ${st.pageSize}`, qAt + 1);
  }
  return len;
}

/** Validates a COMPRESS_PAGE length at `q` (absolute `qAt`); returns it. */
function compressedLength(st: ParseState, dv: DataView, q: number, qAt: number, offset: number) {
  const len = dv.getUint32(q);
  const bound = compressBound(st.pageSize);
  if (len > bound) {
    st.record = `COMPRESS_PAGE record at ${offset}`;
    st.fail(`COMPRESS_PAGE length ${len} exceeds compressBound ${bound}`, qAt);
  }
  return len;
}

/** Resolves a named header's block; -1 when the name is not fully buffered yet. */
function namedBlock(
  st: ParseState,
  buf: Uint8Array,
  p: number,
  end: number,
  code: number,
  offset: number,
): number {
  const len = buf[p + 8];
  if (end - p < 9 + len) return -1;
  const name = decodeName(buf.subarray(p + 9, p + 9 + len));
  const idx = st.blockIndex.get(name);
  if (idx === undefined) {
    fail(st, code, offset, `unknown RAM block '${printable(name)}'`, offset + 8);
  }
  return idx;
}

function checkPlacement(st: ParseState, code: number, offset: number, blk: number, addr: number) {
  if (blk < 0) fail(st, code, offset, "CONTINUE record before any RAM block was named");
  const block = st.blocks[blk];
  if (addr >= block.size) {
    fail(
      st,
      code,
      offset,
      `illegal RAM offset 0x${addr.toString(16)} in block '${
        printable(block.name)
      }' of ${block.size} bytes`,
    );
  }
  if (st.mappedRam) {
    fail(st, code, offset, `${NAMES[code]} records are not allowed with mapped-ram`);
  }
}

/** Bytes between the block name and the payload, by kind code (fill, XBZRLE and length fields). */
const KIND_HEADER = [0, 1, 0, 3, 4];

/** Payload length of an XBZRLE or COMPRESS_PAGE record whose kind header is at `q`. */
function payloadLength(
  st: ParseState,
  code: number,
  b: RamBatch,
  dv: DataView,
  q: number,
  offset: number,
): number {
  const at = st.r.base + q;
  if (code === RAM_CODE.XBZRLE) return xbzrleLength(st, b.bytes, q, at, offset);
  return compressedLength(st, dv, q, at, offset);
}

/** Validates the XBZRLE delta at `buf[q, q+len)` without the old page; returns what it covers. */
function xbzrleCovered(st: ParseState, buf: Uint8Array, q: number, len: number, offset: number) {
  const v = xbzrleValidate(buf.subarray(q, q + len), st.pageSize);
  if (typeof v !== "number") {
    const at = st.r.base + q + v.at;
    fail(st, RAM_CODE.XBZRLE, offset, `invalid XBZRLE delta: ${v.reason} (delta byte ${v.at})`, at);
  }
  return v;
}

/**
 * Checks a COMPRESS_PAGE payload inflates to exactly one page, with nothing after its zlib
 * stream (a length that swallowed the next record). QEMU 7.2's loader would take the page and
 * lose the swallowed bytes silently; the sender never writes such a payload, so it is an error.
 */
function checkCompressed(st: ParseState, buf: Uint8Array, q: number, len: number, offset: number) {
  const page = inflatePage(buf.subarray(q, q + len), st.pageSize);
  if (typeof page === "string") {
    st.record = `COMPRESS_PAGE record at ${offset}`;
    st.fail(`COMPRESS_PAGE payload of ${len} bytes ${page}`, st.r.base + q);
  }
}

/** Stores record `n` of the batch. */
function put(
  b: RamBatch,
  n: number,
  code: number,
  flags: number,
  offset: number,
  length: number,
  addr: number,
  blk: number,
  pass: number,
  fill: number,
  dataAt: number,
  dataLength: number,
) {
  b.code[n] = code;
  b.flags[n] = flags;
  b.offset[n] = offset;
  b.length[n] = length;
  b.addr[n] = addr;
  b.block[n] = blk;
  b.pass[n] = pass;
  b.fill[n] = fill;
  b.dataAt[n] = dataAt;
  b.dataLength[n] = dataLength;
}

function pastPackage(st: ParseState, code: number, offset: number): never {
  fail(st, code, offset, `record runs past the end of the PACKAGED payload at offset ${st.limit}`);
}

/**
 * Parses RAM records from the reader's buffer into `batch` (appending) until the batch is full,
 * an EOS was added, a MEM_SIZE record is next, or the next record is not fully buffered.
 * Returns {@link RAM_STOP_FULL}, {@link RAM_STOP_EOS}, {@link RAM_STOP_MEM_SIZE},
 * {@link RAM_STOP_INFLATE}, or the number of bytes that must be buffered before calling again. Consumes exactly the records added.
 * Throws StreamError at the first bad record; the records added before it stay in the batch.
 */
export function readRamBatch(st: ParseState, batch: RamBatch): number {
  const r = st.r;
  const buf = batch.bytes = r.raw;
  const dv = r.rawView;
  const end = r.end;
  const base = r.base;
  const limit = st.limit - base;
  const mask = st.pageSize - 1;
  const cap = batch.code.length;
  const blocks = st.info.blocks;
  const mapped = st.mappedRam;
  let n = batch.count;
  let p = r.start;
  let blk = st.lastBlock;
  let posBlock = st.lastPosBlock;
  let posAddr = st.lastPosAddr;
  let pass = st.pass;
  const wraps = st.info.postcopyPass === undefined; // after POSTCOPY_RUN: one pass, no wraps
  try {
    while (n < cap) {
      if (end - p < 8) return 8;
      const lo = dv.getUint32(p + 4);
      const flags = lo & mask;
      const addr = dv.getUint32(p) * 4294967296 + ((lo - flags) >>> 0);
      const offset = base + p;
      const kind = flags & ~RAM_FLAG.CONTINUE;
      const code = kind === RAM_FLAG.ZERO
        ? RAM_CODE.ZERO
        : kind === RAM_FLAG.PAGE
        ? RAM_CODE.PAGE
        : kindCode(st, flags, offset);
      if (code <= 0) return code === 0 ? RAM_STOP_MEM_SIZE : RAM_STOP_INFLATE;
      if (code >= RAM_CODE.EOS) {
        if (p + 8 > limit) pastPackage(st, code, offset);
        put(batch, n++, code, flags, offset, 8, addr, blk, pass, 0, 0, 0);
        p += 8;
        if (code === RAM_CODE.EOS) return RAM_STOP_EOS;
        continue;
      }
      let q = p + 8;
      if ((flags & RAM_FLAG.CONTINUE) === 0) {
        if (end - p < 9 || end - p < 9 + buf[p + 8]) return end - p < 9 ? 9 : 9 + buf[p + 8];
        blk = namedBlock(st, buf, p, end, code, offset);
        q = p + 9 + buf[p + 8];
      }
      if (blk < 0 || addr >= blocks[blk].size || mapped) {
        checkPlacement(st, code, offset, blk, addr);
      }
      const hdr = KIND_HEADER[code];
      if (end - q < hdr) return q + hdr - p;
      const len = code === RAM_CODE.PAGE
        ? mask + 1
        : code === RAM_CODE.ZERO
        ? 0
        : payloadLength(st, code, batch, dv, q, offset);
      const total = q + hdr + len - p;
      if (p + total > limit) pastPackage(st, code, offset);
      if (end - p < total) return total;
      if (code === RAM_CODE.XBZRLE) {
        batch.covered[n] = xbzrleCovered(st, buf, q + 3, len, offset);
      } else if (code === RAM_CODE.COMPRESSED) checkCompressed(st, buf, q + 4, len, offset);
      if (wraps && (blk < posBlock || (blk === posBlock && addr <= posAddr))) pass++;
      else if (pass === 0) pass = 1;
      posBlock = blk;
      posAddr = addr;
      const fill = code === RAM_CODE.ZERO ? buf[q] : 0;
      put(batch, n++, code, flags, offset, total, addr, blk, pass, fill, q + hdr, len);
      p += total;
    }
    return RAM_STOP_FULL;
  } finally {
    batch.count = n;
    r.advanceTo(p);
    st.lastBlock = blk;
    st.lastPosBlock = posBlock;
    st.lastPosAddr = posAddr;
    st.pass = pass;
  }
}
