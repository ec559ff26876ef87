/**
 * Summaries of the extra connections of a migration: a multifd channel's packets, SYNCs, pages
 * by block, payload bytes and compression, device state; a postcopy-preempt channel's pages.
 * @module
 */
import type { MultifdDeviceState, MultifdItem, MultifdPacket } from "../parse/multifd.ts";
import { MULTIFD_INIT_SIZE } from "../protocol/multifd.ts";
import { RAM_CODE, type RamBatch } from "../protocol/ram_batch.ts";
import type { ChannelSummary } from "./channel_text.ts";

/**
 * Pages per block keyed by names read off the wire: no prototype, so a block named
 * "constructor" or "__proto__" counts like any other (JSON output is the same).
 */
function blockCounts(): Record<string, number> {
  return Object.create(null) as Record<string, number>;
}

/**
 * An empty multifd channel summary. `compression` stays unset (and out of the JSON) until a
 * packet with pages names its method ("none" included).
 */
export function newChannelSummary(): ChannelSummary {
  return {
    packets: 0,
    syncs: 0,
    normalPages: 0,
    zeroPages: 0,
    payloadBytes: 0,
    pageBytes: 0,
    bytes: 0,
    blocks: blockCounts(),
    deviceState: [],
  };
}

function addPacket(s: ChannelSummary, p: MultifdPacket) {
  if (p.sync) s.syncs++;
  s.normalPages += p.normalPages;
  s.zeroPages += p.zeroPages;
  if (p.normalPages + p.zeroPages) {
    s.compression ??= p.compression;
    s.blocks[p.block] = (s.blocks[p.block] ?? 0) + p.normalPages + p.zeroPages;
  }
  s.payloadBytes += p.payloadBytes;
  s.pageBytes += p.data.length;
}

function addDeviceState(s: ChannelSummary, p: MultifdDeviceState) {
  let d = s.deviceState.find((x) => x.idstr === p.idstr && x.instanceId === p.instanceId);
  if (!d) {
    s.deviceState.push(d = { idstr: p.idstr, instanceId: p.instanceId, packets: 0, bytes: 0 });
  }
  d.packets++;
  d.bytes += p.size;
}

/** Adds one item of a multifd channel to its summary. */
export function addChannelItem(s: ChannelSummary, p: MultifdItem): void {
  if (p.kind === "init") {
    s.id = p.id;
    s.uuid = p.uuid;
    s.bytes = Math.max(s.bytes, p.offset + MULTIFD_INIT_SIZE);
    return;
  }
  s.packets++;
  s.bytes = p.offset + p.length;
  if (p.kind === "device-state") addDeviceState(s, p);
  else addPacket(s, p);
}

/** Summary of a postcopy-preempt channel. */
export interface PreemptSummary {
  page: number;
  zero: number;
  eos: number;
  bytes: number;
  /** Pages per RAM block. */
  blocks: Record<string, number>;
}

/** An empty preempt channel summary. */
export function newPreemptSummary(): PreemptSummary {
  return { page: 0, zero: 0, eos: 0, bytes: 0, blocks: blockCounts() };
}

/** Adds a batch of a preempt channel's records to its summary. */
export function addPreemptBatch(s: PreemptSummary, b: RamBatch): void {
  const names = b.info.blocks;
  for (let i = 0; i < b.count; i++) {
    const code = b.code[i];
    s.bytes = b.offset[i] + b.length[i];
    if (code === RAM_CODE.EOS) {
      s.eos++;
      continue;
    }
    if (code === RAM_CODE.PAGE) s.page++;
    else s.zero++;
    const name = names[b.block[i]].name;
    s.blocks[name] = (s.blocks[name] ?? 0) + 1;
  }
}
