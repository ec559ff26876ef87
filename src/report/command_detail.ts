/**
 * The words after a command in the timeline and the command list.
 * @module
 */
import type { CommandRecord } from "../protocol/records.ts";

/**
 * PING values with a meaning of their own. QEMU 10.2 (savevm.h `QEMU_VM_PING_PACKAGED_LOADED`)
 * puts PING 0x42 in the postcopy package after PING 3: the destination's PONG to it tells the
 * source the package's device state is loaded (postcopy-device to postcopy-active). The other
 * values (1 after OPEN_RETURN_PATH, 2, 3, 4 around the package) only line traces up.
 */
const PING_MEANING: Record<number, string> = {
  0x42: "0x42 (PACKAGED_LOADED: answered once the package's device state is loaded, QEMU 10.2+)",
};

/** What a command carries, in words (PING value, ADVISE page sizes, DISCARD ranges, …). */
export function commandDetail(rec: CommandRecord): string | undefined {
  switch (rec.name) {
    case "PING":
      return `value ${PING_MEANING[rec.value!] ?? rec.value}`;
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
