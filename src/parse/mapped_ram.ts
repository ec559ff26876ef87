/**
 * The mapped-ram layout (QEMU 9.0+ `mapped-ram` capability), shared by the parser, replay,
 * emit and inspect. Each RAM block's MEM_SIZE entry carries a 28-byte header (be32 version,
 * be64 page size, be64 bitmap offset, be64 pages offset); its bitmap has `ceil(pages / 64)`
 * little-endian u64 words (bit i, LSB first, set when page i's slot at
 * `pages_offset + i * page_size` holds the page; clear means a zero page whatever the slot
 * holds); the slots start at a 1 MiB boundary and the stream resumes after them. Read with
 * positional reads.
 *
 * Offsets 0/0 mark a skipped block (after 10.2, QEMU 11.0 development: "migration: Fix
 * writing mapped_ram + ignore_shared snapshots", migration/ram.c `mapped_ram_setup_ramblock`):
 * a shared block under x-ignore-shared gets a header with both offsets 0 and nothing else — no
 * bitmap, no slots, no hole — and the loader (`parse_ramblock_mapped_ram`) leaves such a block
 * alone only when x-ignore-shared is on; without it 0/0 would read the file's first bytes as the
 * bitmap, so it is an error here.
 * @module
 */
import { MAPPED_RAM } from "../protocol/constants.ts";
import type { MappedRamHeader, RamBlockInfo } from "../protocol/records.ts";
import { type RandomAccess, readFully } from "../wire/random_access.ts";

/** Bytes of a block's bitmap. */
export function bitmapBytes(pages: number): number {
  return Math.ceil(pages / 64) * 8;
}

/** Where QEMU places a block's bitmap and slots for a header written at `headerOffset`. */
export function mappedRamLayout(
  headerOffset: number,
  blockSize: number,
  pageSize: number,
): { bitmapOffset: number; bitmapBytes: number; pagesOffset: number; end: number } {
  const bitmapOffset = headerOffset + MAPPED_RAM.HEADER_SIZE;
  const bytes = bitmapBytes(blockSize / pageSize);
  const align = MAPPED_RAM.FILE_OFFSET_ALIGNMENT;
  const pagesOffset = Math.ceil((bitmapOffset + bytes) / align) * align;
  return { bitmapOffset, bitmapBytes: bytes, pagesOffset, end: pagesOffset + blockSize };
}

/** True for the header of a block skipped by x-ignore-shared (both offsets 0). */
export function isSkipped(h: Pick<MappedRamHeader, "bitmapOffset" | "pagesOffset">): boolean {
  return h.bitmapOffset === 0 && h.pagesOffset === 0;
}

/**
 * Checks a parsed header against the block and the stream; returns the problem, or undefined.
 * `after` is the first byte after the header; `limit` the end of the enclosing payload;
 * `ignoreShared` whether the configuration announces x-ignore-shared (which alone allows 0/0).
 */
export function mappedRamProblem(
  h: MappedRamHeader,
  blockSize: number,
  targetPageSize: number,
  after: number,
  limit: number,
  ignoreShared: boolean,
): string | undefined {
  if (h.version > MAPPED_RAM.HEADER_VERSION) {
    return `mapped-ram header version ${h.version} is newer than ${MAPPED_RAM.HEADER_VERSION}`;
  }
  if (h.pageSize !== targetPageSize) {
    return `mapped-ram page size ${h.pageSize} differs from the target page size ${targetPageSize}`;
  }
  if (h.pagesOffset % targetPageSize !== 0) {
    return `mapped-ram pages offset 0x${h.pagesOffset.toString(16)} is not page aligned`;
  }
  if (isSkipped(h)) {
    if (ignoreShared) return undefined;
    return "mapped-ram bitmap and pages offsets are both 0, which marks a block skipped by " +
      "x-ignore-shared, but the configuration does not announce x-ignore-shared";
  }
  const bytes = bitmapBytes(blockSize / targetPageSize);
  if (h.bitmapOffset < after || h.bitmapOffset + bytes > h.pagesOffset) {
    return `mapped-ram bitmap at 0x${h.bitmapOffset.toString(16)} does not fit before the pages`;
  }
  if (h.pagesOffset + blockSize > limit) {
    return "mapped-ram region runs past the end of the payload";
  }
  return undefined;
}

/** True when bit `i` of `bm` is set. */
export function bitSet(bm: Uint8Array, i: number): boolean {
  return (bm[i >>> 3] & (1 << (i & 7))) !== 0;
}

/** Set bits among the first `pages` bits (bits past the block's last page are not counted). */
export function countSet(bm: Uint8Array, pages: number): number {
  let n = 0;
  const full = pages >>> 3;
  for (let i = 0; i < full; i++) {
    let b = bm[i];
    while (b) {
      b &= b - 1;
      n++;
    }
  }
  for (let i = full * 8; i < pages; i++) if (bitSet(bm, i)) n++;
  return n;
}

/** Set bits past the last page (in the final word's padding): QEMU never sets them. */
export function paddingBits(bm: Uint8Array, pages: number): number {
  let n = 0;
  for (let i = pages; i < bm.length * 8; i++) if (bitSet(bm, i)) n++;
  return n;
}

/** True when the block has a data region (not one skipped by x-ignore-shared). */
export function hasRegion(b: RamBlockInfo): boolean {
  return !!b.mappedRam && !isSkipped(b.mappedRam);
}

/** Reads a block's bitmap; throws an Error naming the offset when the file is too short. */
export function readBitmap(ra: RandomAccess, b: RamBlockInfo, pageSize: number): Uint8Array {
  const m = b.mappedRam!;
  const bm = new Uint8Array(bitmapBytes(b.size / pageSize));
  if (readFully(ra, bm, m.bitmapOffset) !== bm.length) {
    throw new Error(
      `offset ${m.bitmapOffset}: the mapped-ram bitmap of '${b.name}' (${bm.length} bytes) runs past the end of the file`,
    );
  }
  return bm;
}

/** Present and zero page counts of a block of `pages` pages, from its bitmap `bm`. */
export function bitmapCounts(bm: Uint8Array, pages: number): { present: number; zero: number } {
  const present = countSet(bm, pages);
  return { present, zero: pages - present };
}
