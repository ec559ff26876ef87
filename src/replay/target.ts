/**
 * A replay target: one image file written with positional I/O. Zero units written to a fresh
 * file are skipped (they stay holes, so outputs are sparse); a per-unit bitmap remembers what
 * was written, so a later ZERO over data really clears it. An image written in place keeps an
 * undo journal (journal.ts) so that a replay that fails leaves it as it was.
 * @module
 */
import { fileAccess, type RandomAccess, readPadded } from "../wire/random_access.ts";
import { isAllZero } from "../wire/zero.ts";
import { UndoJournal } from "./journal.ts";

/** Granularity of the written-bitmap and of sparse skipping. */
export const UNIT = 4096;

const ZEROS = new Uint8Array(1 << 20);
const PEND_SIZE = 1 << 20;

/** An image file being replayed into. */
export class ImageTarget {
  /** The file written now (a `.partial` until committed). */
  readonly path: string;
  /** Where the file ends up (the same as `path` for in-place targets). */
  readonly finalPath: string;
  readonly size: number;
  /** True when the file started as all holes (a new output), so unwritten units read as zero. */
  readonly fresh: boolean;
  #ra: RandomAccess;
  #closed = false;
  #journal?: UndoJournal;
  #written: Uint8Array;
  #growable: boolean;
  #extent = 0;
  /** Write-back buffer: contiguous writes are coalesced into one positional write. */
  #pend = new Uint8Array(PEND_SIZE);
  #pendPos = 0;
  #pendLen = 0;

  private constructor(
    path: string,
    finalPath: string,
    ra: RandomAccess,
    fresh: boolean,
    growable: boolean,
  ) {
    const size = ra.size;
    this.path = path;
    this.finalPath = finalPath;
    this.#ra = ra;
    this.size = size;
    this.fresh = fresh;
    this.#growable = growable;
    this.#written = new Uint8Array(Math.ceil(Math.ceil(size / UNIT) / 8) + 1);
  }

  /**
   * Creates a new, sparse, all-zero image of `size` bytes at `path` (`growable`: size is a lower
   * bound), to be renamed to `finalPath` when the replay succeeds.
   */
  static create(path: string, size: number, growable = false, finalPath = path): ImageTarget {
    const ra = fileAccess(path, { create: true });
    try {
      ra.truncate!(size);
    } catch (e) {
      ra.close();
      throw e;
    }
    return new ImageTarget(path, finalPath, ra, true, growable);
  }

  /**
   * Opens an existing image for writing (in place, or a copy that becomes `finalPath`). With
   * `journal`, the original bytes of every unit are saved before its first write, so that
   * {@link rollback} can restore the image.
   */
  static open(path: string, finalPath = path, journal = false): ImageTarget {
    const t = new ImageTarget(path, finalPath, fileAccess(path, { write: true }), false, false);
    if (journal) t.#journal = new UndoJournal(t.size, UNIT);
    return t;
  }

  /** Bytes up to which data has been written (for growable disks). */
  get extent(): number {
    return Math.max(this.#extent, this.size);
  }

  /** True when any byte of unit `u` was written by this replay. */
  wasWritten(u: number): boolean {
    return u >> 3 < this.#written.length && (this.#written[u >> 3] & (1 << (u & 7))) !== 0;
  }

  #mark(u: number) {
    if (u >> 3 >= this.#written.length) {
      const next = new Uint8Array(Math.max((u >> 3) + 1, this.#written.length * 2));
      next.set(this.#written);
      this.#written = next;
    }
    this.#written[u >> 3] |= 1 << (u & 7);
  }

  #writeNow(buf: Uint8Array, pos: number) {
    this.#journal?.save(this.#ra, pos, buf.length);
    this.#ra.write!(buf, pos);
  }

  /** Queues a write; contiguous writes are merged and flushed in 1 MiB positional writes. */
  #write(buf: Uint8Array, pos: number) {
    this.#extent = Math.max(this.#extent, pos + buf.length);
    const end = this.#pendPos + this.#pendLen;
    if (this.#pendLen > 0 && pos === end && this.#pendLen + buf.length <= PEND_SIZE) {
      this.#pend.set(buf, this.#pendLen);
      this.#pendLen += buf.length;
      return;
    }
    this.flush();
    if (buf.length >= PEND_SIZE) {
      this.#writeNow(buf, pos);
      return;
    }
    this.#pend.set(buf, 0);
    this.#pendPos = pos;
    this.#pendLen = buf.length;
  }

  /** Writes out queued bytes. */
  flush(): void {
    if (this.#pendLen === 0) return;
    this.#writeNow(this.#pend.subarray(0, this.#pendLen), this.#pendPos);
    this.#pendLen = 0;
  }

  /**
   * Writes `data` at `pos` (unit-aligned). Zero units that were never written on a fresh
   * image are skipped; runs of units to write are coalesced into one write.
   */
  write(data: Uint8Array, pos: number): void {
    if (this.#growable) this.#extent = Math.max(this.#extent, pos + data.length);
    let runStart = -1;
    for (let off = 0; off < data.length; off += UNIT) {
      const unit = data.subarray(off, Math.min(off + UNIT, data.length));
      const u = Math.floor((pos + off) / UNIT);
      const skip = this.fresh && !this.wasWritten(u) && isAllZero(unit);
      if (skip) {
        if (runStart >= 0) {
          this.#write(data.subarray(runStart, off), pos + runStart);
          runStart = -1;
        }
        continue;
      }
      this.#mark(u);
      if (runStart < 0) runStart = off;
    }
    if (runStart >= 0) this.#write(data.subarray(runStart), pos + runStart);
  }

  /** Makes `[pos, pos+len)` read as zero, writing only where needed. */
  zero(pos: number, len: number): void {
    for (let off = 0; off < len; off += UNIT) {
      const u = Math.floor((pos + off) / UNIT);
      const n = Math.min(UNIT, len - off);
      if (this.fresh && !this.wasWritten(u)) continue;
      this.#mark(u);
      this.#write(ZEROS.subarray(0, n), pos + off);
    }
    if (this.#growable) this.#extent = Math.max(this.#extent, pos + len);
  }

  /** Fills `[pos, pos+len)` with `byte`. */
  fill(pos: number, len: number, byte: number): void {
    if (byte === 0) return this.zero(pos, len);
    const buf = new Uint8Array(len).fill(byte);
    for (let off = 0; off < len; off += UNIT) this.#mark(Math.floor((pos + off) / UNIT));
    this.#write(buf, pos);
  }

  /** Reads `buf.length` bytes at `pos` (holes read as zero). */
  read(buf: Uint8Array, pos: number): void {
    this.flush();
    readPadded(this.#ra, buf, pos);
  }

  /** Sets the final size of a growable image, flushes and closes (once). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.flush();
      if (this.#growable && this.#extent > this.size) this.#ra.truncate!(this.#extent);
    } finally {
      this.#ra.close();
    }
  }

  /**
   * Undoes this replay's writes to an image with a journal (queued writes are dropped, saved
   * units written back), then closes it and deletes the journal. Without a journal: closes.
   */
  rollback(): void {
    const j = this.#journal;
    if (!j) return this.close();
    this.#pendLen = 0;
    if (!this.#closed) {
      this.#closed = true;
      this.#ra.close();
    }
    const image = fileAccess(this.path, { write: true });
    try {
      j.restore(image);
    } finally {
      image.close();
    }
    this.#journal = undefined;
    j.discard();
  }

  /** Keeps this replay's writes: deletes the undo journal (if any). */
  keep(): void {
    this.#journal?.discard();
    this.#journal = undefined;
  }

  /** The undo journal's file, while it exists. */
  get journalPath(): string | undefined {
    return this.#journal?.path;
  }
}
