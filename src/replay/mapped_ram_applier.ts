/**
 * Applying a mapped-ram block: a set bit copies the page's slot, a clear bit is a zero page
 * even when the slot still holds older bytes (reported as stale when asked). Read with
 * positional reads from the input file. A block skipped by x-ignore-shared (offsets 0/0) has
 * neither: its target is left as it is, as QEMU's loader leaves the destination's own (shared)
 * memory.
 * @module
 */
import { printable } from "../protocol/errors.ts";
import type { RamBlockInfo } from "../protocol/records.ts";
import { bitSet, isSkipped, paddingBits, readBitmap } from "../parse/mapped_ram.ts";
import type { Pace } from "../wire/pace.ts";
import { type RandomAccess, readFully } from "../wire/random_access.ts";
import { isAllZero } from "../wire/zero.ts";
import { ReplayError } from "./errors.ts";
import type { Findings } from "./findings.ts";
import type { Slot } from "./slot.ts";
import { WRITER } from "./writers.ts";

const RUN_PAGES = 256;

function reportStale(
  findings: Findings,
  buf: Uint8Array,
  b: RamBlockInfo,
  first: number,
  ps: number,
) {
  const m = b.mappedRam!;
  for (let u = 0; u * ps < buf.length; u++) {
    if (isAllZero(buf.subarray(u * ps, (u + 1) * ps))) continue;
    findings.note(
      "stale-slot",
      m.pagesOffset + (first + u) * ps,
      b.name,
      (first + u) * ps,
      "bitmap bit clear but the slot holds older bytes: the page is zero (slot ignored)",
    );
  }
}

/**
 * Loads block `b` into `s` from its bitmap and slots (`pace` is called once per run of pages);
 * a skipped block's target is not touched.
 */
export async function applyMappedRam(
  s: Slot,
  b: RamBlockInfo,
  input: RandomAccess | undefined,
  ps: number,
  findings: Findings,
  checkStale: boolean,
  pace?: Pace,
): Promise<void> {
  const m = b.mappedRam!;
  if (isSkipped(m)) return;
  if (!input) {
    throw new ReplayError(
      m.headerOffset,
      `'${printable(b.name)}' uses mapped-ram: its pages sit at fixed file offsets, ` +
        "so the input must be a seekable, uncompressed file",
    );
  }
  let bm: Uint8Array;
  try {
    bm = readBitmap(input, b, ps);
  } catch (e) {
    throw new ReplayError(m.bitmapOffset, (e as Error).message.replace(/^offset \d+: /, ""));
  }
  const pages = b.size / ps;
  const pad = paddingBits(bm, pages);
  if (pad) {
    findings.note(
      "bitmap-padding",
      m.bitmapOffset,
      b.name,
      b.size,
      `${pad} bits set past the block's last page (ignored)`,
    );
  }
  const run = new Uint8Array(RUN_PAGES * ps);
  for (let i = 0; i < pages;) {
    await pace?.();
    const set = bitSet(bm, i);
    let j = i + 1;
    while (j < pages && j - i < RUN_PAGES && bitSet(bm, j) === set) j++;
    const buf = run.subarray(0, (j - i) * ps);
    const at = m.pagesOffset + i * ps;
    if (set) {
      if (readFully(input, buf, at) !== buf.length) {
        throw new ReplayError(
          at,
          `mapped-ram page slots of '${printable(b.name)}' run past the end of the file`,
        );
      }
      s.target.write(buf, i * ps);
      s.stats.page += j - i;
      for (let u = i; u < j; u++) {
        s.wrote(u, u + 1, m.pagesOffset + u * ps, WRITER.MAPPED_RAM_SLOT, true);
      }
    } else {
      if (checkStale) {
        buf.fill(0, readFully(input, buf, at));
        reportStale(findings, buf, b, i, ps);
      }
      s.target.zero(i * ps, buf.length);
      s.wrote(i, j, m.bitmapOffset, WRITER.MAPPED_RAM_ZERO, false);
      s.stats.zero += j - i;
    }
    i = j;
  }
}
