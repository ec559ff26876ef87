/**
 * The MEM_SIZE record: the total of all migratable RAM, then one entry per block (idstr,
 * used_length, [page size under postcopy with hugepages], [mr_addr with x-ignore-shared],
 * [mapped-ram header]). It sets the stream's block table.
 * @module
 */
import { RAM_FLAG } from "../protocol/constants.ts";
import { printable } from "../protocol/errors.ts";
import type { MappedRamHeader, RamBlockInfo, RamRecord } from "../protocol/records.ts";
import { isSkipped, mappedRamProblem } from "./mapped_ram.ts";
import { countedString, type ParseState } from "./state.ts";

/** Bound on RAM blocks in one MEM_SIZE list. */
export const MAX_RAM_BLOCKS = 4096;

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

/** Whether this entry carries a page size: given, or inferred from POSTCOPY_ADVISE. */
async function hasPageSize(st: ParseState, name: string): Promise<boolean> {
  const huge = st.opts.hugePageBlocks;
  if (huge) return huge.includes(name);
  const host = st.info.postcopyHostPageSizes;
  if (host === 0 || (host & ~st.pageSize) === 0 || st.ignoreShared) return false;
  await st.r.peekUpTo(8);
  if (!st.r.has(8) || st.r.peekU8() !== 0) return false;
  const v = st.r.peekBe32(0) * 4294967296 + st.r.peekBe32(4);
  return isPageSizeValue(v, st.pageSize) && (host & v) !== 0;
}

async function mappedRamHeader(st: ParseState, size: number): Promise<MappedRamHeader> {
  const headerOffset = st.r.pos;
  await st.need(28, "mapped-ram header");
  const h: MappedRamHeader = {
    headerOffset,
    version: st.r.be32(),
    pageSize: safeBe64(st, "mapped-ram page size"),
    bitmapOffset: safeBe64(st, "mapped-ram bitmap offset"),
    pagesOffset: safeBe64(st, "mapped-ram pages offset"),
  };
  const problem = mappedRamProblem(h, size, st.pageSize, st.r.pos, st.limit, st.ignoreShared);
  if (problem) st.fail(problem, headerOffset);
  if (!isSkipped(h)) await st.r.skip(h.pagesOffset + size - st.r.pos);
  return h;
}

async function blockEntry(
  st: ParseState,
  blocks: RamBlockInfo[],
  room: number,
  total: number,
): Promise<RamBlockInfo> {
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
  if (size > room) {
    st.fail(
      `RAM block '${printable(name)}' length ${size} overshoots the MEM_SIZE total ${total} ` +
        `(sum so far ${total - room})`,
      entryAt,
    );
  }
  const info: RamBlockInfo = { name, size };
  if (await hasPageSize(st, name)) {
    await st.need(8, "RAM block page size");
    info.pageSize = safeBe64(st, "RAM block page size");
  }
  if (st.ignoreShared) {
    await st.need(8, "RAM block address");
    info.mrAddr = safeBe64(st, "RAM block address");
  }
  if (st.mappedRam) info.mappedRam = await mappedRamHeader(st, size);
  return info;
}

/** Reads a MEM_SIZE record and adds its blocks to the stream's block table. */
export async function readMemSize(
  st: ParseState,
  sectionId: number,
  depth: number,
): Promise<RamRecord> {
  const offset = st.r.pos;
  st.record = `MEM_SIZE record at ${offset}`;
  await st.need(8, "MEM_SIZE header");
  const [hi, lo] = st.r.be64Parts();
  const flags = lo & (st.pageSize - 1);
  const total = hi * 4294967296 + ((lo - flags) >>> 0);
  if (flags & RAM_FLAG.CONTINUE) st.fail("MEM_SIZE must not carry CONTINUE", offset);
  const blocks: RamBlockInfo[] = [];
  let sum = 0;
  while (sum < total) {
    if (blocks.length >= MAX_RAM_BLOCKS) {
      st.fail(`more than ${MAX_RAM_BLOCKS} RAM blocks in MEM_SIZE`);
    }
    const b = await blockEntry(st, blocks, total - sum, total);
    blocks.push(b);
    sum += b.size;
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
    pageSize: st.pageSize,
  };
}
