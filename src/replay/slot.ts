/**
 * One replay target with its bookkeeping: counters, what state each page is in (untouched, zeroed,
 * data), and optionally the last writer of each page for verify.
 * @module
 */
import type { ImageTarget } from "./target.ts";
import { type WriterKind, WriterMap } from "./writers.ts";

/** Per-target counters (the replay report's rows). */
export interface TargetStats {
  /** RAM block or device name. */
  name: string;
  /** The image file (its final name). */
  path: string;
  /** Final size in bytes. */
  size: number;
  zero: number;
  page: number;
  xbzrle: number;
  compressed: number;
  /** Block migration: data chunks and ZERO_BLOCK chunks. */
  data: number;
  zeroBlocks: number;
  /** Pages discarded by POSTCOPY_RAM_DISCARD. */
  discarded: number;
}

/** Page state: never written by this replay. */
export const UNTOUCHED = 0;
/** Page state: last written with zeros. */
export const ZEROED = 1;
/** Page state: last written with data. */
export const DATA = 2;

/** A target being replayed into. */
export class Slot {
  readonly target: ImageTarget;
  readonly stats: TargetStats;
  /** Bytes per unit of `state` and `writers` (the stream's target page size). */
  readonly unit: number;
  /** Per unit: UNTOUCHED, ZEROED or DATA. */
  state: Uint8Array;
  readonly writers?: WriterMap;

  constructor(target: ImageTarget, name: string, unit: number, trackWriters: boolean) {
    this.target = target;
    this.unit = unit;
    const units = Math.ceil(target.size / unit);
    this.state = new Uint8Array(units);
    this.writers = trackWriters ? new WriterMap(units) : undefined;
    this.stats = {
      name,
      path: target.finalPath,
      size: target.size,
      zero: 0,
      page: 0,
      xbzrle: 0,
      compressed: 0,
      data: 0,
      zeroBlocks: 0,
      discarded: 0,
    };
  }

  /** Records that the record at `offset` wrote units `[from, to)`. */
  wrote(from: number, to: number, offset: number, kind: WriterKind, data: boolean): void {
    if (to > this.state.length) {
      const next = new Uint8Array(Math.max(to, this.state.length * 2));
      next.set(this.state);
      this.state = next;
    }
    this.state.fill(data ? DATA : ZEROED, from, to);
    if (this.writers) { for (let u = from; u < to; u++) this.writers.set(u, offset, kind); }
  }

  /** Closes the image; the stats then hold its final path and size. */
  finish(): TargetStats {
    this.target.close();
    this.stats.path = this.target.finalPath;
    this.stats.size = this.target.extent;
    return this.stats;
  }
}
