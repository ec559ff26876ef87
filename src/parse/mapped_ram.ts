/**
 * mapped-ram page bitmaps: `ceil(pages / 64)` little-endian u64 words per block (x86 hosts), bit i
 * (LSB first) set when page i's slot at `pages_offset + i * page_size` holds the page; a clear bit
 * means the page is zero, whatever the slot holds. Read with positional reads.
 * @module
 */
import type { RamBlockInfo } from "../protocol/records.ts";

/** Bytes of a block's bitmap. */
export function bitmapBytes(pages: number): number {
  return Math.ceil(pages / 64) * 8;
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

/** True when the block has a data region (x-ignore-shared blocks have both offsets 0). */
export function hasRegion(b: RamBlockInfo): boolean {
  return !!b.mappedRam && (b.mappedRam.bitmapOffset !== 0 || b.mappedRam.pagesOffset !== 0);
}

/** Reads a block's bitmap; throws an Error naming the offset when the file is too short. */
export async function readBitmap(
  readAt: (buf: Uint8Array, position: number) => Promise<number>,
  b: RamBlockInfo,
  pageSize: number,
): Promise<Uint8Array> {
  const m = b.mappedRam!;
  const bm = new Uint8Array(bitmapBytes(b.size / pageSize));
  const got = await readAt(bm, m.bitmapOffset);
  if (got !== bm.length) {
    throw new Error(
      `offset ${m.bitmapOffset}: the mapped-ram bitmap of '${b.name}' (${bm.length} bytes) runs past the end of the file`,
    );
  }
  return bm;
}
