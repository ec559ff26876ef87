/**
 * Applying POSTCOPY_RAM_DISCARD: each byte range of the named block is zeroed, as the
 * destination discards those pages before postcopy.
 * @module
 */
import { printable } from "../protocol/errors.ts";
import type { CommandRecord } from "../protocol/records.ts";
import { ReplayError } from "./errors.ts";
import type { RamApplier } from "./ram_applier.ts";
import { WRITER } from "./writers.ts";

/** Zeroes the ranges of a RAM_DISCARD command. */
export function applyDiscard(rec: CommandRecord, ram: RamApplier): void {
  const name = rec.block ?? "";
  const s = ram.slots.get(name);
  if (!s) throw new ReplayError(rec.offset, `RAM_DISCARD names unknown block '${printable(name)}'`);
  const ps = ram.pageSize;
  for (const r of rec.ranges!) {
    if (r.start % ps || r.length % ps || r.start + r.length > s.target.size) {
      throw new ReplayError(
        rec.offset,
        `RAM_DISCARD range 0x${r.start.toString(16)}+0x${r.length.toString(16)} is outside '${
          printable(name)
        }' or not page aligned`,
      );
    }
    s.target.zero(r.start, r.length);
    s.stats.discarded += r.length / ps;
    s.wrote(r.start / ps, (r.start + r.length) / ps, rec.offset, WRITER.RAM_DISCARD, false);
  }
}
