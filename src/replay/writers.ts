/**
 * What wrote each page last: named writer kinds shared by replay (which records them) and
 * verify (which names them for every differing page).
 * @module
 */

/** Writer kinds; ZERO..COMPRESS_PAGE equal the RAM batch kind codes. */
export const WRITER = {
  NONE: 0,
  ZERO: 1,
  PAGE: 2,
  XBZRLE: 3,
  COMPRESS_PAGE: 4,
  RAM_DISCARD: 5,
  DEVICE_BLOCK: 6,
  ZERO_BLOCK: 7,
  MAPPED_RAM_SLOT: 8,
  MAPPED_RAM_ZERO: 9,
  MULTIFD_PAGE: 10,
  MULTIFD_ZERO: 11,
} as const;

/** A writer kind. */
export type WriterKind = (typeof WRITER)[keyof typeof WRITER];

/**
 * Names of writer kinds, as reports print them.
 *
 * @example The record that last wrote page 0 of a replay
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { replayStream } from "./replay_stream.ts";
 * import { WRITER_NAMES } from "./writers.ts";
 * const dir = await Deno.makeTempDir();
 * const input = await openInput("samples/small-xbzrle.mig");
 * const result = await replayStream(input, {
 *   targets: { dir },
 *   parse: { vmdesc: input.vmdesc },
 *   trackWriters: true,
 * });
 * input.close();
 * await Deno.remove(dir, { recursive: true });
 * const last = result.writers.get("pc.ram")?.get(0); // { offset, kind: a WRITER_NAMES value }
 * if (!last || !Object.values(WRITER_NAMES).includes(last.kind) || WRITER_NAMES[3] !== "XBZRLE") {
 *   throw new Error("writers are named as WRITER_NAMES names them");
 * }
 * ```
 */
export const WRITER_NAMES: Record<WriterKind, string> = {
  0: "none",
  1: "ZERO",
  2: "PAGE",
  3: "XBZRLE",
  4: "COMPRESS_PAGE",
  5: "RAM_DISCARD",
  6: "DEVICE_BLOCK",
  7: "ZERO_BLOCK",
  8: "mapped-ram slot",
  9: "mapped-ram clear bit",
  10: "multifd page",
  11: "multifd zero page",
};

const KINDS = 16;

/**
 * Last writer per page unit, packed as `offset * 16 + kind` (exact below 2^48 offsets); grows
 * for disks whose size is learned from their chunks.
 */
export class WriterMap {
  #units: Float64Array;

  constructor(units: number) {
    this.#units = new Float64Array(units);
  }

  /** Records that the record at `offset` of `kind` wrote `unit`. */
  set(unit: number, offset: number, kind: WriterKind): void {
    if (unit >= this.#units.length) {
      const next = new Float64Array(Math.max(unit + 1, this.#units.length * 2));
      next.set(this.#units);
      this.#units = next;
    }
    this.#units[unit] = offset * KINDS + kind;
  }

  /** The last writer of `unit`, or undefined when none wrote it. */
  get(unit: number): { offset: number; kind: string } | undefined {
    const w = unit < this.#units.length ? this.#units[unit] : 0;
    if (!w) return undefined;
    return { offset: Math.floor(w / KINDS), kind: WRITER_NAMES[(w % KINDS) as WriterKind] };
  }
}
