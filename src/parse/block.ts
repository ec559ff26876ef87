/**
 * Block-migration records (`block` section, version 1): be64 `sector << 9 | flags`, then for
 * DEVICE_BLOCK a counted device name and a 1 MiB chunk (none with ZERO_BLOCK); PROGRESS
 * carries a percentage in the sector bits; EOS ends the section's data.
 * @module
 */
import { BLK_CHUNK_SIZE, BLK_FLAG } from "../protocol/constants.ts";
import type { BlockRecord } from "../protocol/records.ts";
import { decodeName, type ParseState } from "./state.ts";

/** The DEVICE_BLOCK record at the reader (data or ZERO_BLOCK chunk), or the bytes it needs. */
function deviceBlock(st: ParseState, base: BlockRecord): BlockRecord | number {
  const r = st.r;
  const offset = base.offset;
  if (!r.has(9)) return 9;
  const len = r.peekU8(8);
  if (len === 0) st.fail("block device name is empty", offset + 8);
  const zero = (base.flags & BLK_FLAG.ZERO_BLOCK) !== 0;
  const total = 9 + len + (zero ? 0 : BLK_CHUNK_SIZE);
  if (offset + total > st.limit) st.fail("block record runs past the end of the PACKAGED payload");
  if (!r.has(total)) return total;
  const device = decodeName(r.peekBytes(len, 9));
  const data = zero || st.opts.payloads === false
    ? undefined
    : r.peekBytes(BLK_CHUNK_SIZE, 9 + len);
  r.advance(total);
  const type = zero ? "zero" : "data";
  return { ...base, type, length: total, device, data, dataLength: zero ? 0 : BLK_CHUNK_SIZE };
}

/** Parses one block-migration record from buffered bytes (or says how many bytes it needs). */
export function readBlockRecord(
  st: ParseState,
  sectionId: number,
  depth: number,
): BlockRecord | number {
  const r = st.r;
  if (!r.has(8)) return 8;
  const offset = r.pos;
  const hi = r.peekBe32(0);
  const lo = r.peekBe32(4);
  const flags = lo & 0x1ff;
  const sector = hi * 8388608 + (lo >>> 9);
  st.record = `block record at ${offset}`;
  if (hi >= 0x200000) {
    const hex = `0x${hi.toString(16)}${(lo >>> 0).toString(16).padStart(8, "0")}`;
    st.fail(`block sector ${hex} >> 9 is out of range`, offset);
  }
  const base: BlockRecord = {
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
  if (flags & BLK_FLAG.DEVICE_BLOCK) return deviceBlock(st, base);
  if (flags & BLK_FLAG.PROGRESS) {
    r.advance(8);
    if (sector > 100) st.fail(`block PROGRESS ${sector}% is over 100`, offset);
    return { ...base, type: "progress", percent: sector };
  }
  if (flags & BLK_FLAG.EOS) {
    r.advance(8);
    return base;
  }
  st.fail(`unknown block migration flags 0x${flags.toString(16)}`, offset);
}
