/**
 * Findings: what a migration engineer should know about a replay, declared once (id, severity,
 * summary) and raised by id, so every report words them the same way.
 * @module
 */

/** Severity of a finding. */
export type Severity = "note" | "warning";

/**
 * Every kind of finding, with its severity and what it means.
 *
 * @example
 * ```ts
 * import { FINDING_KINDS, type FindingKind } from "./findings.ts";
 * const kinds = Object.keys(FINDING_KINDS) as FindingKind[];
 * const warnings = kinds.filter((k) => FINDING_KINDS[k].severity === "warning");
 * if (!warnings.includes("zero-fill")) throw new Error("a non-zero ZERO fill is a warning");
 * console.log(FINDING_KINDS["zero-fill"].summary);
 * ```
 */
export const FINDING_KINDS = {
  "zero-fill": {
    severity: "warning",
    summary: "ZERO record with a non-zero fill byte (QEMU 7.2 fills the page, ≥ 8.2 rejects it)",
  },
  "zero-after-data": {
    severity: "note",
    summary: "ZERO record after data for the same page (the page is cleared)",
  },
  "unwritten-nonzero": {
    severity: "note",
    summary: "no record wrote a page whose base image is non-zero (kept as is)",
  },
  "chunk-past-end": {
    severity: "warning",
    summary: "block chunk starts past the device end (ignored)",
  },
  "discard": { severity: "note", summary: "pages discarded by POSTCOPY_RAM_DISCARD" },
  "stale-slot": {
    severity: "note",
    summary: "mapped-ram slot holds older bytes but its bit is clear (the page is zero)",
  },
  "block-not-sent": {
    severity: "warning",
    summary: "no page of a RAM block travelled on any connection given (multifd channels not " +
      "given with --channel; or cpr-transfer or x-ignore-shared: the destination gets that " +
      "memory otherwise); its image is the base image or zeros, not the guest's memory",
  },
  "bitmap-padding": {
    severity: "warning",
    summary: "mapped-ram bitmap has bits set past the block's last page (ignored)",
  },
} as const satisfies Record<string, { severity: Severity; summary: string }>;

/** Kinds of finding. */
export type FindingKind = keyof typeof FINDING_KINDS;

/** One observation, with where it happened. */
export interface Finding {
  kind: FindingKind;
  /** Stream offset of the record (-1: none, e.g. a page no record wrote). */
  offset: number;
  /** RAM block or disk. */
  target: string;
  /** Byte address within the target. */
  addr: number;
  detail: string;
}

/** Collects findings: complete counts, and up to `maxPerKind` examples of each kind. */
export class Findings {
  readonly list: Finding[] = [];
  readonly counts: Partial<Record<FindingKind, number>> = {};
  readonly #max: number;

  constructor(maxPerKind = 20) {
    this.#max = maxPerKind;
  }

  /** Raises one finding. */
  note(kind: FindingKind, offset: number, target: string, addr: number, detail: string): void {
    const n = (this.counts[kind] ?? 0) + 1;
    this.counts[kind] = n;
    if (n <= this.#max) this.list.push({ kind, offset, target, addr, detail });
  }
}
