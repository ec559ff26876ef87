/**
 * What emit takes and returns: images, disks, options, and query-migrate-style counters.
 * @module
 */
import type { RandomAccess } from "../wire/random_access.ts";
import type { Template } from "./template.ts";

/** Image content to emit from: any random-access container (a file, bytes in memory). */
export type ImageSource = RandomAccess;

/** A RAM block to emit: its initial image and, per later round, its image then (or none: unchanged). */
export interface EmitRamBlock {
  name: string;
  image: ImageSource;
  rounds?: (ImageSource | undefined)[];
}

/** A disk for block migration. */
export interface EmitDisk {
  name: string;
  image: ImageSource;
}

/** How to emit. */
export interface EmitOptions {
  /** Machine type for the configuration section (ignored with a template). */
  machine?: string;
  /** Write section footers (default true; a template decides). */
  footers?: boolean;
  /** Enable XBZRLE with a cache of this many bytes (QEMU's xbzrle-cache-size). */
  xbzrleCacheSize?: number;
  /** Send all-zero 1 MiB disk chunks as ZERO_BLOCK (the zero-blocks capability). */
  zeroBlocks?: boolean;
  /** Framing, device sections and trailer taken from a real capture. */
  template?: Template;
  /** Target page size (default 4096). */
  pageSize?: number;
  /** Stops the emission with the signal's reason once aborted (checked per 256 pages / chunk). */
  signal?: AbortSignal;
  /** Called per 256 pages with the RAM bytes read so far and the total the passes will read. */
  onProgress?: (done: number, total: number) => void;
}

/** Counters as QEMU's query-migrate reports them for the same migration. */
export interface EmitStats {
  /** PAGE records (QEMU's `normal`). */
  normal: number;
  /** ZERO records (QEMU's `duplicate`). */
  duplicate: number;
  /** Bytes of RAM page records (QEMU's `transferred` counts these). */
  ramBytes: number;
  /** Total bytes of the stream written. */
  streamBytes: number;
  /** Bitmap syncs: 1 at setup plus one per round. */
  dirtySyncCount: number;
  passes: number;
  xbzrle?: {
    /** Cache hits (encoded, overflowed and unchanged-skipped pages). */
    pages: number;
    /** XBZRLE records written. */
    records: number;
    /** XBZRLE bytes as QEMU counts them (record minus 8-byte header, plus a page per overflow). */
    bytes: number;
    cacheMiss: number;
    overflow: number;
    /** Hits whose content equalled the cache: not sent at all. */
    skipped: number;
  };
  block?: { data: number; zero: number; progress: number };
}
