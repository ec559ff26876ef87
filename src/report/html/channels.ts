/**
 * The other connections of a migration (`report MAIN --channel FILE…`), read once each after
 * the main stream by `inspect --channel`'s reader (the same checks and summaries), with a hook
 * that puts their pages onto the RAM map — a multifd channel's normal and zero pages by
 * offset, a postcopy-preempt channel's records from their batches.
 * @module
 */
import { readChannels } from "../../commands/inspect_channels.ts";
import { RAM_CODE } from "../../protocol/ram_batch.ts";
import type { ChannelReport } from "../channel_text.ts";
import type { Summary } from "../summary_types.ts";
import type { RamMap } from "./ram_map.ts";

/** What the channels held, up to the first error. */
export interface ChannelsCollected {
  channels: ChannelReport[];
  error?: Error;
}

/**
 * Reads each channel after the main stream (as `inspect --channel` does, with the same checks);
 * stops at the first error.
 */
export function collectChannels(
  paths: string[],
  main: Summary,
  map: RamMap,
): Promise<ChannelsCollected> {
  return readChannels(paths, main, {
    multifd: (p) => {
      if (p.kind !== "packet") return;
      const n = p.normalPages;
      map.addPages(p.block, p.offsets, 0, n, RAM_CODE.PAGE);
      map.addPages(p.block, p.offsets, n, n + p.zeroPages, RAM_CODE.ZERO);
    },
    preempt: (b) => map.addBatch(b, false),
  });
}
