/**
 * Applying block-migration records: data chunks are written and clipped at the device end,
 * ZERO_BLOCK chunks become zeros, chunks past a known end are reported and skipped.
 * @module
 */
import { BLK_CHUNK_SIZE, BLK_SECTOR_SIZE } from "../protocol/constants.ts";
import { printable } from "../protocol/errors.ts";
import type { BlockRecord } from "../protocol/records.ts";
import { openTarget, ReplayError } from "./errors.ts";
import type { Findings } from "./findings.ts";
import { Slot } from "./slot.ts";
import type { ReplayTargets } from "./targets.ts";
import { WRITER } from "./writers.ts";

/** Largest disk replayed without a known size (a chunk beyond it needs --disk-size). */
export const MAX_UNSIZED_DISK = 2 ** 40;

/** Applies block-migration chunks, one image per device. */
export class BlockApplier {
  readonly slots = new Map<string, Slot>();
  readonly #targets: ReplayTargets;
  readonly #findings: Findings;
  readonly #track: boolean;
  /** Unit of the writer map (the stream's page size, so verify speaks in pages). */
  unit = 4096;

  constructor(targets: ReplayTargets, findings: Findings, trackWriters: boolean) {
    this.#targets = targets;
    this.#findings = findings;
    this.#track = trackWriters;
  }

  /** Applies one record (data and zero chunks; PROGRESS and EOS change nothing). */
  apply(rec: BlockRecord): void {
    if (rec.type !== "data" && rec.type !== "zero") return;
    const device = rec.device!;
    let s = this.slots.get(device);
    if (!s) {
      const target = openTarget(rec.offset, () => this.#targets.openDisk(device));
      s = new Slot(target, device, this.unit, this.#track);
      this.slots.set(device, s);
    }
    const t = s.target;
    const pos = rec.sector * BLK_SECTOR_SIZE;
    const bounded = t.size > 0;
    if (bounded && pos >= t.size) {
      this.#findings.note(
        "chunk-past-end",
        rec.offset,
        device,
        pos,
        `chunk at byte ${pos} starts past the device end (${t.size}): ignored`,
      );
      return;
    }
    const len = bounded ? Math.min(BLK_CHUNK_SIZE, t.size - pos) : BLK_CHUNK_SIZE;
    if (!bounded && pos + len > MAX_UNSIZED_DISK) {
      throw new ReplayError(
        rec.offset,
        `chunk at byte ${pos} of disk '${
          printable(device)
        }' is beyond ${MAX_UNSIZED_DISK} bytes; ` +
          "give its size with --disk-size or a base image with --disk",
      );
    }
    if (rec.type === "data") {
      t.write(rec.data!.subarray(0, len), pos);
      s.stats.data++;
    } else {
      t.zero(pos, len);
      s.stats.zeroBlocks++;
    }
    const kind = rec.type === "data" ? WRITER.DEVICE_BLOCK : WRITER.ZERO_BLOCK;
    s.wrote(
      pos / this.unit,
      Math.ceil((pos + len) / this.unit),
      rec.offset,
      kind,
      rec.type === "data",
    );
  }
}
