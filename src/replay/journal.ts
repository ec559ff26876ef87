/**
 * The undo journal of an image replayed in place: before the first write to each 4 KiB unit,
 * the unit's original bytes are appended to a journal file in the temporary directory (units
 * that were all zero are only remembered in a bitmap). A replay that fails or is interrupted
 * writes them back, so the image ends byte-identical to what it was; a replay that succeeds
 * deletes the journal. The journal is written before the image, so a failure to keep it (a full
 * disk) stops the replay before the image changes.
 * @module
 */
import {
  type FileAccess,
  fileAccess,
  type RandomAccess,
  readPadded,
} from "../wire/random_access.ts";
import { isAllZero } from "../wire/zero.ts";

const RUN = 1 << 20;

function bitSet(bits: Uint8Array, u: number): boolean {
  return (bits[u >> 3] & (1 << (u & 7))) !== 0;
}

/** Original bytes of the units of one image that this replay overwrote. */
export class UndoJournal {
  readonly #unit: number;
  readonly #size: number;
  /** Units whose original bytes are saved (data in the file, or zero). */
  readonly #saved: Uint8Array;
  /** Units that were all zero. */
  readonly #zero: Uint8Array;
  /** Units saved in the file, in file order (unit i of the file is at i × unit). */
  #units = new Uint32Array(1024);
  #count = 0;
  #file?: FileAccess;
  #path?: string;
  #buf = new Uint8Array(RUN);

  /** A journal for an image of `size` bytes (its size before the replay), in `unit`s. */
  constructor(size: number, unit: number) {
    this.#unit = unit;
    this.#size = size;
    const units = Math.ceil(size / unit);
    this.#saved = new Uint8Array((units >> 3) + 1);
    this.#zero = new Uint8Array((units >> 3) + 1);
  }

  /** Where the journal is kept (once something was saved). */
  get path(): string | undefined {
    return this.#path;
  }

  /** Saves the original bytes of the units of `[pos, pos+len)` not saved yet, read from `image`. */
  save(image: RandomAccess, pos: number, len: number): void {
    const unit = this.#unit;
    const last = Math.ceil(Math.min(pos + len, this.#size) / unit);
    let u = Math.floor(pos / unit);
    while (u < last) {
      if (bitSet(this.#saved, u)) {
        u++;
        continue;
      }
      let v = u + 1;
      while (v < last && !bitSet(this.#saved, v) && (v - u) * unit < RUN) v++;
      this.#saveRun(image, u, v);
      u = v;
    }
  }

  /** Saves units `[u, v)`, none saved yet. */
  #saveRun(image: RandomAccess, u: number, v: number) {
    const unit = this.#unit;
    const buf = this.#buf;
    readPadded(image, buf.subarray(0, (v - u) * unit), u * unit);
    let kept = 0;
    const keptUnits: number[] = [];
    for (let i = u; i < v; i++) {
      const bytes = buf.subarray((i - u) * unit, (i - u + 1) * unit);
      if (isAllZero(bytes)) this.#zero[i >> 3] |= 1 << (i & 7);
      else {
        if (kept !== i - u) buf.copyWithin(kept * unit, (i - u) * unit, (i - u + 1) * unit);
        kept++;
        keptUnits.push(i);
      }
    }
    if (kept) this.#append(buf.subarray(0, kept * unit), keptUnits);
    for (let i = u; i < v; i++) this.#saved[i >> 3] |= 1 << (i & 7);
  }

  #append(bytes: Uint8Array, units: number[]) {
    if (!this.#file) {
      this.#path = Deno.makeTempFileSync({ prefix: "migscope-undo-" });
      this.#file = fileAccess(this.#path, { write: true });
    }
    this.#file.write(bytes, this.#count * this.#unit);
    if (this.#count + units.length > this.#units.length) {
      const next = new Uint32Array(Math.max(this.#count + units.length, this.#units.length * 2));
      next.set(this.#units);
      this.#units = next;
    }
    this.#units.set(units, this.#count);
    this.#count += units.length;
  }

  /** Writes every saved unit back into `image` and cuts it to its original size. */
  restore(image: FileAccess): void {
    const unit = this.#unit;
    const buf = this.#buf;
    const per = RUN / unit;
    for (let i = 0; i < this.#count; i += per) {
      const n = Math.min(per, this.#count - i);
      readPadded(this.#file!, buf.subarray(0, n * unit), i * unit);
      for (let k = 0; k < n;) {
        const u = this.#units[i + k];
        let m = 1;
        while (k + m < n && this.#units[i + k + m] === u + m) m++;
        const len = Math.min(m * unit, this.#size - u * unit);
        image.write(buf.subarray(k * unit, k * unit + len), u * unit);
        k += m;
      }
    }
    this.#restoreZeros(image);
    if (image.size !== this.#size) image.truncate(this.#size);
  }

  /** Writes zeros over the units that were all zero, in runs of up to 1 MiB. */
  #restoreZeros(image: FileAccess) {
    const unit = this.#unit;
    const zeros = new Uint8Array(RUN);
    const units = Math.ceil(this.#size / unit);
    for (let u = 0; u < units;) {
      if (this.#zero[u >> 3] === 0) {
        u = (u | 7) + 1;
        continue;
      }
      if (!bitSet(this.#zero, u)) {
        u++;
        continue;
      }
      let v = u + 1;
      while (v < units && bitSet(this.#zero, v) && (v - u) * unit < RUN) v++;
      const len = Math.min(v * unit, this.#size) - u * unit;
      image.write(zeros.subarray(0, len), u * unit);
      u = v;
    }
  }

  /** Closes and deletes the journal file (idempotent). */
  discard(): void {
    const path = this.#path;
    this.#file?.close();
    this.#file = undefined;
    this.#path = undefined;
    if (path) Deno.removeSync(path);
  }
}
