/**
 * `inspect --records` as text: a header line, then one aligned row per record (streamed, so the
 * columns have fixed widths), and the filters that select rows (`--block`, `--pass`, `--kind`,
 * `--section`).
 * @module
 */
import { ramFlagNames } from "../protocol/constants.ts";
import type { MigRecord } from "../protocol/records.ts";
import { hexOffset } from "./table.ts";

/** Widths of the fixed columns: OFFSET, HEX, RECORD, FLAGS (`DEVICE_BLOCK|ZERO_BLOCK`). */
const W = [12, 10, 7, 23];

/**
 * The record kinds `--kind` takes, as the FLAGS column names them: RAM page records, RAM
 * markers, block-migration records (`chunk` = DEVICE_BLOCK with data, `zero-chunk` =
 * ZERO_BLOCK), and the stream's other rows.
 */
export const RECORD_KINDS = [
  "page",
  "zero",
  "xbzrle",
  "compressed",
  "eos",
  "mem-size",
  "multifd-flush",
  "chunk",
  "zero-chunk",
  "progress",
  "section",
  "device",
  "command",
  "eof",
] as const;

/** A `--kind` value. */
export type RecordKind = typeof RECORD_KINDS[number];

const RAM_KIND: Record<string, RecordKind> = {
  page: "page",
  zero: "zero",
  xbzrle: "xbzrle",
  compressed: "compressed",
  eos: "eos",
  mem_size: "mem-size",
  multifd_flush: "multifd-flush",
};
const BLOCK_KIND: Record<string, RecordKind> = {
  data: "chunk",
  zero: "zero-chunk",
  progress: "progress",
  eos: "eos",
};

/** The `--kind` of a record that has a row, or undefined. */
export function recordKind(rec: MigRecord): RecordKind | undefined {
  switch (rec.kind) {
    case "ram":
      return RAM_KIND[rec.type];
    case "block":
      return BLOCK_KIND[rec.type];
    case "section":
    case "device":
    case "command":
    case "eof":
      return rec.kind;
    case "undelimited":
      return "device";
    default:
      return undefined;
  }
}

/** Which rows `--records` shows: a record must match every filter given (any of its values). */
export interface RecordFilter {
  /** RAM block (page records) or block-migration device (chunks). */
  blocks?: string[];
  /** Dirty pass of RAM page records (1 = the first pass). */
  passes?: number[];
  kinds?: RecordKind[];
  /** Section id (the section's header, its records, its device body). */
  sections?: number[];
}

/** True when the filter has no condition. */
export function filterEmpty(f: RecordFilter): boolean {
  return !f.blocks?.length && !f.passes?.length && !f.kinds?.length && !f.sections?.length;
}

function target(rec: MigRecord): string | undefined {
  if (rec.kind === "ram" && ["page", "zero", "xbzrle", "compressed"].includes(rec.type)) {
    return rec.block;
  }
  if (rec.kind === "block" && (rec.type === "data" || rec.type === "zero")) return rec.device;
  return undefined;
}

/**
 * True when `rec` has a row and `f` selects it.
 *
 * @example
 * ```ts
 * import type { MigRecord } from "../protocol/records.ts";
 * import { recordMatches } from "./records_text.ts";
 * const zero = {
 *   kind: "ram", type: "zero", offset: 99, length: 9, depth: 0, sectionId: 2, flags: 0x22,
 *   block: "pc.ram", addr: 0x2000, cont: true, pass: 1, fill: 0, dataLength: 0,
 * } as MigRecord;
 * if (!recordMatches(zero, { kinds: ["zero"], blocks: ["pc.ram"], passes: [1] })) {
 *   throw new Error("a ZERO record of pc.ram in pass 1");
 * }
 * if (recordMatches(zero, { kinds: ["page"] })) throw new Error("not a PAGE record");
 * ```
 */
export function recordMatches(rec: MigRecord, f: RecordFilter): boolean {
  const kind = recordKind(rec);
  if (!kind) return false;
  if (f.kinds?.length && !f.kinds.includes(kind)) return false;
  if (f.blocks?.length && !f.blocks.includes(target(rec) ?? "\0")) return false;
  if (f.passes?.length) {
    if (rec.kind !== "ram" || target(rec) === undefined || !f.passes.includes(rec.pass)) {
      return false;
    }
  }
  if (f.sections?.length) {
    const id = (rec as { sectionId?: number }).sectionId;
    if (id === undefined || !f.sections.includes(id)) return false;
  }
  return true;
}

function row(rec: MigRecord, record: string, flags: string, detail: string): string {
  const cells = [
    String(rec.offset).padStart(W[0]),
    hexOffset(rec.offset).padStart(W[1]),
    record.padEnd(W[2]),
    flags.padEnd(W[3]),
    detail,
  ];
  return cells.join("  ").trimEnd();
}

/** The header line and rule above the rows. */
export function recordsHeader(): string {
  const head = ["OFFSET".padStart(W[0]), "HEX".padStart(W[1]), "RECORD".padEnd(W[2])];
  const rule = W.map((w) => "-".repeat(w));
  return `${[...head, "FLAGS".padEnd(W[3]), "DETAIL"].join("  ")}\n${
    [...rule, "------"].join("  ")
  }\n`;
}

function ramDetail(rec: Extract<MigRecord, { kind: "ram" }>): string {
  if (rec.type === "mem_size") {
    return `total=${rec.total} blocks=${rec.blocks!.map((b) => `${b.name}:${b.size}`).join(",")}`;
  }
  if (rec.type === "eos" || rec.type === "multifd_flush") return "";
  let extra = "";
  if (rec.type === "zero") extra = ` fill=${rec.fill}`;
  else if (rec.type === "xbzrle") extra = ` len=${rec.dataLength} covers=${rec.covered}`;
  else if (rec.type === "compressed") extra = ` len=${rec.dataLength}`;
  return `${rec.block} +0x${rec.addr.toString(16)} pass=${rec.pass}${extra}`;
}

function blockRow(rec: Extract<MigRecord, { kind: "block" }>): string {
  const names = ["DEVICE_BLOCK", "EOS", "PROGRESS", "ZERO_BLOCK"].filter((_, i) =>
    rec.flags & (1 << i)
  );
  const what = rec.type === "progress"
    ? `${rec.percent}%`
    : rec.type === "eos"
    ? ""
    : `${rec.device} sector ${rec.sector} (+0x${(rec.sector * 512).toString(16)})`;
  return row(rec, "BLK", names.join("|"), what);
}

/**
 * One `--records` row, or undefined for records that have none (header, configuration,
 * footers, trailer).
 */
export function recordRow(rec: MigRecord): string | undefined {
  switch (rec.kind) {
    case "ram":
      return row(rec, "RAM", ramFlagNames(rec.flags), ramDetail(rec));
    case "block":
      return blockRow(rec);
    case "section":
      return row(rec, rec.type, "", `section ${rec.sectionId} '${rec.idstr}'`);
    case "device":
      return row(rec, "DEVICE", "", `'${rec.idstr}' body, ${rec.length} bytes`);
    case "undelimited":
      return row(
        rec,
        "DEVICE",
        "",
        `undelimited from '${rec.idstr}', ${rec.length} bytes: ${rec.reason}`,
      );
    case "command":
      return row(rec, "COMMAND", "", rec.name);
    case "eof":
      return row(rec, "EOF", "", "");
    default:
      return undefined;
  }
}
