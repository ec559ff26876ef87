/**
 * Where a replay writes: one image per RAM block and per block-migration device, in an output
 * directory (as `.partial` files renamed only when the whole stream applied) or in place in the
 * user's base images. Names are made path-safe (names.ts).
 * @module
 */
import { join } from "node:path";
import { printable } from "../protocol/errors.ts";
import type { RamBlockInfo } from "../protocol/records.ts";
import { diskFileName, ramFileName } from "./names.ts";
import { ImageTarget } from "./target.ts";

/** A target that cannot be opened (the replay stops with this message). */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetError";
  }
}

/** An image written in place that could not be restored after a failed replay. */
export class RestoreError extends TargetError {
  constructor(message: string) {
    super(message);
    this.name = "RestoreError";
  }
}

/** Opens images for the engine as the stream names blocks and devices. */
export interface ReplayTargets {
  /** MEM_SIZE lists the stream's RAM blocks (before their images are opened). */
  checkRam?(blocks: RamBlockInfo[]): void;
  /** Opens the image for a RAM block announced by MEM_SIZE. */
  openRam(block: RamBlockInfo): ImageTarget;
  /** Opens the image for a block-migration device on its first chunk. */
  openDisk(device: string): ImageTarget;
}

/** How {@link DirectoryTargets} places images. */
export interface DirectoryTargetOptions {
  /** Output directory (must exist). */
  dir: string;
  /** Base images of RAM blocks, by block name (the destination's memory before the load). */
  ram?: Map<string, string>;
  /** Base images of disks, by device name (incremental block migration). */
  disks?: Map<string, string>;
  /** Sizes of disks without a base image (otherwise: the end of the last chunk). */
  diskSizes?: Map<string, number>;
  /** Write into the base images themselves. */
  inPlace?: boolean;
}

/** `(it has: a, b)`: the names a stream has, for an error about a name it does not have. */
function has(names: Iterable<string>): string {
  const list = [...names].map((n) => `'${printable(n)}'`);
  return `(it has: ${list.length ? list.join(", ") : "none"})`;
}

/**
 * Images in an output directory, written as `.partial` and committed all at once; images
 * written in place keep an undo journal and are restored when the replay is aborted.
 */
export class DirectoryTargets implements ReplayTargets {
  readonly #o: DirectoryTargetOptions;
  readonly #used = new Set<string>();
  readonly #ramNames = new Set<string>();
  readonly #diskNames = new Set<string>();
  #settled = false;
  readonly opened: ImageTarget[] = [];

  constructor(opts: DirectoryTargetOptions) {
    this.#o = opts;
  }

  /** MEM_SIZE lists every RAM block: a `--ram` image for another name is an error. */
  checkRam(blocks: RamBlockInfo[]): void {
    for (const b of blocks) this.#ramNames.add(b.name);
    this.#checkNames("--ram", this.#o.ram, this.#ramNames, "RAM block");
  }

  /**
   * At the end of the stream (before {@link commit}): every name given for a base image or a
   * disk size must be a RAM block or disk the stream has.
   */
  checkNames(): void {
    this.#checkNames("--ram", this.#o.ram, this.#ramNames, "RAM block");
    this.#checkNames("--disk", this.#o.disks, this.#diskNames, "block-migration disk");
    this.#checkNames("--disk-size", this.#o.diskSizes, this.#diskNames, "block-migration disk");
  }

  #checkNames(
    flag: string,
    given: Map<string, unknown> | undefined,
    have: Set<string>,
    what: string,
  ) {
    for (const name of given?.keys() ?? []) {
      if (!have.has(name)) {
        throw new TargetError(
          `${flag} ${printable(name)}: the stream has no ${what} of that name ${has(have)}`,
        );
      }
    }
  }

  openRam(b: RamBlockInfo): ImageTarget {
    this.#ramNames.add(b.name);
    return this.#place(ramFileName(b.name), b.name, this.#o.ram?.get(b.name), b.size);
  }

  openDisk(device: string): ImageTarget {
    this.#diskNames.add(device);
    return this.#place(diskFileName(device), device, this.#o.disks?.get(device), undefined);
  }

  #place(file: string, name: string, base: string | undefined, size: number | undefined) {
    if (this.#used.has(file)) {
      throw new TargetError(`two targets map to the same file name '${file}'`);
    }
    this.#used.add(file);
    const final = join(this.#o.dir, file);
    const t = this.#open(final, name, base, size);
    this.opened.push(t);
    return t;
  }

  #open(final: string, name: string, base: string | undefined, size: number | undefined) {
    const mismatch = (have: number) =>
      new TargetError(
        `${printable(name)}: image ${base} is ${have} bytes, the stream says ${size}`,
      );
    if (base && this.#o.inPlace) {
      const t = ImageTarget.open(base, base, true);
      if (size !== undefined && t.size !== size) {
        t.close();
        throw mismatch(t.size);
      }
      return t;
    }
    const partial = `${final}.partial`;
    if (base) {
      const baseSize = Deno.statSync(base).size;
      if (size !== undefined && baseSize !== size) throw mismatch(baseSize);
      Deno.copyFileSync(base, partial);
      return ImageTarget.open(partial, final);
    }
    const known = size ?? this.#o.diskSizes?.get(name);
    return ImageTarget.create(partial, known ?? 0, known === undefined, final);
  }

  /**
   * Closes every image, renames the partial files to their final names and keeps what was
   * written in place (a failure before the renames aborts everything).
   */
  commit(): void {
    if (this.#settled) return;
    try {
      this.close();
    } catch (e) {
      this.abort();
      throw e;
    }
    for (const t of this.opened) if (t.path !== t.finalPath) Deno.renameSync(t.path, t.finalPath);
    this.#settled = true;
    for (const t of this.opened) t.keep();
  }

  /**
   * Removes the partial files and restores the images written in place (synchronous and
   * idempotent, so a signal handler may call it; nothing after {@link commit}). Throws a
   * RestoreError when an in-place image cannot be restored, naming its undo journal.
   */
  abort(): void {
    if (this.#settled) return;
    this.#settled = true;
    const failed: string[] = [];
    for (const t of this.opened) {
      if (t.path === t.finalPath) {
        const journal = t.journalPath;
        try {
          t.rollback();
        } catch (e) {
          failed.push(
            `${t.path} could not be restored (${(e as Error).message.split("\n")[0]})` +
              (journal ? `; its original bytes are in ${journal}` : ""),
          );
        }
        continue;
      }
      try {
        t.close();
      } catch { /* removed below */ }
      try {
        Deno.removeSync(t.path);
      } catch { /* already gone */ }
    }
    if (failed.length) throw new RestoreError(failed.join("; "));
  }

  /** Closes every image (idempotent). */
  close(): void {
    for (const t of this.opened) t.close();
  }
}
