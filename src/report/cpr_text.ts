/**
 * A cpr-transfer channel capture as text: its header, the file descriptors it hands over
 * (name, id, offset of the element), and totals.
 * @module
 */
import { printable } from "../protocol/errors.ts";
import { fitLine, plural, renderTable, type TableOptions } from "./table.ts";

/** Summary of a cpr channel. */
export interface CprSummary {
  /** Unset until the header was read. */
  magic?: number;
  version?: number;
  fds: number;
  /** Distinct names among the fds. */
  names: number;
  /** Offset of the end-of-list byte, once read. */
  endOffset?: number;
  /** Bytes of the channel read (all of it once the end was read). */
  bytes: number;
}

/** An fd's fields the table shows. */
export interface CprFdFields {
  offset: number;
  name: string;
  id: number;
}

/**
 * One row of the fd table: NAME, ID, OFFSET (of the element's list byte). Control characters
 * in the name are escaped and long names cut.
 *
 * @example
 * ```ts
 * import { cprFdRow } from "./cpr_text.ts";
 * const row = cprFdRow({ offset: 8, name: "pc.ram", id: 0 });
 * if (row.join("|") !== "pc.ram|0|8") throw new Error(row.join("|"));
 * ```
 */
export function cprFdRow(fd: CprFdFields): string[] {
  return [printable(fd.name, 120), String(fd.id), String(fd.offset)];
}

/** The totals under the table. */
function totalsLine(s: CprSummary): string {
  const names = s.names === s.fds ? "" : ` (${plural(s.names, "distinct name")})`;
  const end = s.endOffset === undefined
    ? "no end of the fd list"
    : `end of the fd list at ${s.endOffset}`;
  return `${plural(s.fds, "fd")}${names}, ${plural(s.bytes, "byte")}; ${end}`;
}

/**
 * The channel report: header line, fd table, totals.
 *
 * @example
 * ```ts
 * import { cprText } from "./cpr_text.ts";
 * const text = cprText("cpr.bin", { magic: 0x51435052, version: 1, fds: 0, names: 0, endOffset: 8, bytes: 9 }, []);
 * const head = "cpr channel cpr.bin: cpr-transfer state, QCPR version 1 (the fds travel as SCM_RIGHTS)";
 * if (!text.startsWith(head + "\n\nNAME  ID  OFFSET\n") || !text.endsWith("\n0 fds, 9 bytes; end of the fd list at 8\n")) {
 *   throw new Error(text);
 * }
 * ```
 */
export function cprText(
  name: string,
  s: CprSummary,
  rows: string[][],
  opts: TableOptions = {},
): string {
  const head = s.magic === undefined ? "no header" : `QCPR version ${s.version}`;
  return (
    `cpr channel ${name}: cpr-transfer state, ${head} (the fds travel as SCM_RIGHTS)\n\n` +
    renderTable(
      [
        { header: "NAME" },
        { header: "ID", align: "right" },
        { header: "OFFSET", align: "right" },
      ],
      rows,
      opts,
    ) +
    `\n${fitLine(totalsLine(s), opts.width, 2)}\n`
  );
}
