/**
 * Emitting block migration: each disk in 1 MiB chunks (DEVICE_BLOCK, or ZERO_BLOCK for all-zero
 * chunks when asked), with a PROGRESS record whenever the percentage changes.
 * @module
 */
import { BLK_CHUNK_SIZE, BLK_SECTOR_SIZE } from "../protocol/constants.ts";
import type { Pace } from "../wire/pace.ts";
import { readPadded } from "../wire/random_access.ts";
import type { ByteWriter } from "../wire/writer.ts";
import { isAllZero } from "../wire/zero.ts";
import type { EmitDisk, EmitStats } from "./types.ts";
import * as F from "./frame.ts";

/** Writes every disk's chunks and PROGRESS records; counts them in `stats`. */
export async function emitDisks(
  w: ByteWriter,
  disks: EmitDisk[],
  zeroBlocks: boolean,
  stats: NonNullable<EmitStats["block"]>,
  pace?: Pace,
): Promise<void> {
  const chunk = new Uint8Array(BLK_CHUNK_SIZE);
  const sectorsOf = (d: EmitDisk) => Math.ceil(d.image.size / BLK_SECTOR_SIZE);
  const total = disks.reduce((a, d) => a + sectorsOf(d), 0);
  let done = 0;
  let prevProgress = -1;
  for (const d of disks) {
    if (d.image.size === 0) throw new Error(`disk '${d.name}' is empty`);
    const sectors = sectorsOf(d);
    for (let sector = 0; sector < sectors; sector += BLK_CHUNK_SIZE / BLK_SECTOR_SIZE) {
      await pace?.();
      readPadded(d.image, chunk, sector * BLK_SECTOR_SIZE);
      const n = Math.min(BLK_CHUNK_SIZE / BLK_SECTOR_SIZE, sectors - sector);
      if (zeroBlocks && isAllZero(chunk)) {
        F.writeBlockChunk(w, sector, d.name, null);
        stats.zero++;
      } else {
        F.writeBlockChunk(w, sector, d.name, chunk);
        stats.data++;
      }
      done += n;
      const progress = total ? Math.floor((done * 100) / total) : 100;
      if (progress !== prevProgress) {
        prevProgress = progress;
        F.writeBlockProgress(w, progress);
        stats.progress++;
      }
      await w.maybeFlush();
    }
  }
}
