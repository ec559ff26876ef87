/**
 * A postcopy-preempt channel applied to the RAM targets. Its pages are all postcopy pages: the
 * source opens the channel when postcopy starts and sends on it the pages the destination
 * faulted on. During postcopy the source is stopped and sends each dirty page once, on one
 * channel or the other (a requested page already sent is not sent again), so the preempt
 * channel's pages and the main channel's postcopy pages are disjoint, and both replace what
 * precopy sent. Applying the preempt channel after the whole main stream therefore gives what
 * the destination holds, whatever the interleaving of the two connections was.
 * @module
 */
import { parsePreemptChannel } from "../parse/preempt.ts";
import type { Pace } from "../wire/pace.ts";
import type { ByteReader } from "../wire/reader.ts";
import { ReplayError } from "./errors.ts";
import type { RamApplier } from "./ram_applier.ts";
import { printable } from "../protocol/errors.ts";

/** Parses one preempt channel with the main stream's blocks and applies its pages; their count. */
export async function applyPreempt(
  ch: { name: string; reader: ByteReader },
  ram: RamApplier,
  pace?: Pace,
): Promise<number> {
  if (ram.blocks.length === 0) {
    throw new ReplayError(
      0,
      `channel ${printable(ch.name)} has no magic (a postcopy-preempt channel) but the main ` +
        "stream sized no RAM block",
    );
  }
  const batches = parsePreemptChannel(ch.reader, ch.name, {
    pageSize: ram.pageSize,
    blocks: ram.blocks,
  });
  let pages = 0;
  for await (const b of batches) {
    await pace?.();
    pages += b.count;
    for (let i = 0; i < b.count; i++) i = ram.applyUntilSync(b, i);
  }
  return pages;
}
