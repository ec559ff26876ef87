/**
 * The words after a command in the timeline and the command list.
 * @module
 */
import type { CommandRecord } from "../protocol/records.ts";

/** What a command carries, in words (PING value, ADVISE page sizes, DISCARD ranges, …). */
export function commandDetail(rec: CommandRecord): string | undefined {
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
