/**
 * The replay engine: applies a parsed stream to RAM images and disks exactly as a QEMU
 * destination loads it, by handing each record to its applier — RAM (batches and MEM_SIZE),
 * mapped-ram, block migration, RAM_DISCARD — and synchronising multifd channels at EOS and
 * MULTIFD_FLUSH. Nested PACKAGED records are applied like any other.
 * @module
 */
import { hasRegion } from "../parse/mapped_ram.ts";
import type { StreamItem } from "../parse/stream.ts";
import { pacer } from "../wire/pace.ts";
import type { RandomAccess } from "../wire/random_access.ts";
import { BlockApplier } from "./block_applier.ts";
import { applyDiscard } from "./discard_applier.ts";
import { openTarget } from "./errors.ts";
import { type Finding, type FindingKind, Findings } from "./findings.ts";
import { applyMappedRam } from "./mapped_ram_applier.ts";
import { type ChannelInput, MultifdScheduler, NO_CHANNELS } from "./multifd_scheduler.ts";
import { RamApplier } from "./ram_applier.ts";
import type { Slot, TargetStats } from "./slot.ts";
import type { ReplayTargets } from "./targets.ts";
import type { WriterMap } from "./writers.ts";

export { ReplayError } from "./errors.ts";
export { MAX_UNSIZED_DISK } from "./block_applier.ts";

/** Options of {@link replayItems}. */
export interface ReplayOptions {
  /** Remember the last record that wrote each page, for verify. */
  trackWriters?: boolean;
  /** Check pages no record wrote for non-zero content in base images. */
  checkUnwritten?: boolean;
  /** QEMU ≥ 8.2 semantics: a non-zero ZERO fill byte is an error, not a memset. */
  strictZeroFill?: boolean;
  /** Examples kept per finding kind (counts are always complete). */
  maxFindingsPerKind?: number;
  /** Positional access to the input, needed for mapped-ram files. */
  input?: RandomAccess;
  /** mapped-ram: read the slots of clear-bit pages and report stale (non-zero) ones. */
  checkStaleSlots?: boolean;
  /** Multifd channel captures replayed with the main stream. */
  channels?: ChannelInput[];
  /** Called now and then with the stream offset reached. */
  onProgress?: (offset: number) => void;
  /**
   * Stops the replay with the signal's reason once it is aborted (checked between records;
   * the event loop gets a turn every 50 ms so that signal listeners run).
   */
  signal?: AbortSignal;
}

/** Result of a replay. */
export interface ReplayResult {
  /** The stream's target page size (the unit of verify). */
  pageSize: number;
  ram: TargetStats[];
  disks: TargetStats[];
  findings: Finding[];
  findingCounts: Partial<Record<FindingKind, number>>;
  /** Last writer per page, by RAM block name and `disk:` + device name (when tracked). */
  writers: Map<string, WriterMap>;
  /** Records of the main stream applied (every record, page records included). */
  records: number;
  /** Page records applied from the channels (multifd pages, postcopy-preempt records). */
  channelPages: number;
}

const PROGRESS_STEP = 16 << 20;

function collect(slots: Map<string, Slot>, prefix: string, writers: Map<string, WriterMap>) {
  const stats: TargetStats[] = [];
  for (const [name, s] of slots) {
    stats.push(s.finish());
    if (s.writers) writers.set(prefix + name, s.writers);
  }
  return stats;
}

/**
 * The main stream ended: the channels' rest is applied; a multifd main stream without its
 * channels is an error (8.1+: {@link MultifdScheduler.finish}; 7.2: see
 * {@link RamApplier.multifdWithoutChannels}); then the end-of-replay findings.
 */
async function finishReplay(
  multifd: MultifdScheduler,
  ram: RamApplier,
  findings: Findings,
  checkUnwritten: boolean,
) {
  await multifd.finish();
  const unsent = multifd.hasMultifd ? undefined : ram.multifdWithoutChannels();
  if (unsent) {
    throw new Error(
      `${NO_CHANNELS} (the main stream sent zero pages but no data page, and no page of ` +
        `'${unsent}')`,
    );
  }
  ram.checkUnsent(findings, multifd.hasMultifd);
  if (checkUnwritten) ram.checkUnwritten(findings);
}

/**
 * Applies the items of {@link parseStreamItems} to the targets. Throws ReplayError where a
 * destination would fail (and StreamError from the parser). Closes the targets it opened.
 */
export async function replayItems(
  items: AsyncIterable<StreamItem>,
  targets: ReplayTargets,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  const findings = new Findings(opts.maxFindingsPerKind ?? 20);
  const track = !!opts.trackWriters;
  const ram = new RamApplier(targets, findings, {
    trackWriters: track,
    strictZeroFill: opts.strictZeroFill,
  });
  const blocks = new BlockApplier(targets, findings, track);
  const pace = pacer(opts.signal);
  const multifd = new MultifdScheduler(opts.channels ?? [], ram, pace);
  let n = 0;
  let nextProgress = PROGRESS_STEP;
  try {
    for await (const rec of items) {
      const paced = pace();
      if (paced) await paced;
      // A batch's first record tells how far the stream is (RAM sections are mostly batches).
      const at = rec.kind !== "ram-batch" ? rec.offset : rec.count ? rec.offset[0] : -1;
      if (opts.onProgress && at >= nextProgress) {
        opts.onProgress(at);
        nextProgress = at + PROGRESS_STEP;
      }
      if (rec.kind === "ram-batch") {
        n += rec.count;
        for (let i = 0; i < rec.count; i++) {
          i = ram.applyUntilSync(rec, i);
          if (i < rec.count) await multifd.atSync(rec.code[i], rec.offset[i]);
        }
        continue;
      }
      n++;
      if (rec.kind === "ram" && rec.type === "mem_size") {
        blocks.unit = rec.pageSize!;
        openTarget(rec.offset, () => targets.checkRam?.(rec.blocks!));
        for (const { block, slot } of ram.memSize(rec.blocks!, rec.pageSize!, rec.offset)) {
          if (hasRegion(block)) {
            await applyMappedRam(
              slot,
              block,
              opts.input,
              rec.pageSize!,
              findings,
              !!opts.checkStaleSlots,
              pace,
            );
          }
        }
      } else if (rec.kind === "block") blocks.apply(rec);
      else if (rec.kind === "configuration" && rec.uuid) multifd.mainUuid(rec.uuid);
      else if (rec.kind === "command" && rec.name === "POSTCOPY_ADVISE") multifd.postcopy();
      else if (rec.kind === "command" && rec.name === "POSTCOPY_RAM_DISCARD") {
        applyDiscard(rec, ram);
      }
    }
    await finishReplay(multifd, ram, findings, !!opts.checkUnwritten);
  } catch (e) {
    for (const s of [...ram.slots.values(), ...blocks.slots.values()]) {
      try {
        s.target.close();
      } catch { /* the replay's own error is the one to report */ }
    }
    throw e;
  }
  const writers = new Map<string, WriterMap>();
  return {
    pageSize: ram.pageSize || blocks.unit,
    ram: collect(ram.slots, "", writers),
    disks: collect(blocks.slots, "disk:", writers),
    findings: findings.list,
    findingCounts: findings.counts,
    writers,
    records: n,
    channelPages: multifd.pages,
  };
}
