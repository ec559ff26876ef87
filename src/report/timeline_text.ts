/**
 * The timeline as text: a table sized to its rows (a file's report), or the live layout of
 * fixed-width columns printed row by row as the rows become final (a pipe or socket).
 * @module
 */
import type { TimelineRow } from "./summary_types.ts";
import { type Column, hexOffset, renderTable, type TableOptions, wrapWords } from "./table.ts";

function num(n: number | undefined): string {
  return n === undefined ? "" : String(n);
}

/** A timeline column, with its width in the live layout (0: the last column, not padded). */
interface TimelineColumn extends Column {
  live: number;
}

/**
 * The timeline's columns. The live widths are what the fields can hold, so that no later row
 * can need more: offsets and byte counts up to 12 digits (931 GiB), hex offsets `0x` and 10
 * digits (the same range), KIND the longest kind nested once in a PACKAGED payload
 * (`  └ PACKAGE END`), section ids (QEMU counts its handlers from 0) and instance ids 4
 * digits, versions 3, pages of one kind in one section 7 digits (38 GiB of 4 KiB pages) and
 * block chunks 5 (97 GiB of 1 MiB chunks). NAME (idstr, machine or command) is 24 wide.
 */
const TIMELINE_COLUMNS: TimelineColumn[] = [
  { header: "OFFSET", align: "right", live: 12 },
  { header: "HEX", align: "right", live: 12 },
  { header: "KIND", live: 15 },
  { header: "ID", align: "right", live: 4 },
  { header: "NAME", live: 24 },
  { header: "INST", align: "right", live: 4 },
  { header: "VER", align: "right", live: 3 },
  { header: "BYTES", align: "right", live: 12 },
  { header: "PAGE", align: "right", hideWhenEmpty: true, live: 7 },
  { header: "ZERO", align: "right", hideWhenEmpty: true, live: 7 },
  { header: "XBZRLE", align: "right", hideWhenEmpty: true, live: 7 },
  { header: "COMP", align: "right", hideWhenEmpty: true, live: 7 },
  { header: "BLK", align: "right", hideWhenEmpty: true, live: 5 },
  { header: "BLK0", align: "right", hideWhenEmpty: true, live: 5 },
  { header: "NOTE", live: 0 },
];

/** A timeline row's cells, in {@link TIMELINE_COLUMNS} order. */
function timelineCells(r: TimelineRow): string[] {
  const blank = (n: number) => (n ? String(n) : "");
  return [
    String(r.offset),
    hexOffset(r.offset),
    (r.depth ? "  ".repeat(r.depth) + "└ " : "") + r.kind,
    num(r.sectionId),
    r.name ?? "",
    num(r.instance),
    num(r.version),
    String(r.bytes),
    blank(r.page),
    blank(r.zero),
    blank(r.xbzrle),
    blank(r.compressed),
    blank(r.blockData),
    blank(r.blockZero),
    r.note ?? "",
  ];
}

/**
 * The timeline as a table, its columns sized to the rows (a column no row fills is left out).
 *
 * @example
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { inspectStream } from "./inspect_stream.ts";
 * import { timelineTable } from "./timeline_text.ts";
 * const input = await openInput("samples/small-block.mig");
 * const { timeline } = await inspectStream(input, { vmdesc: input.vmdesc });
 * input.close();
 * const lines = timelineTable(timeline).trimEnd().split("\n");
 * if (!lines[0].includes("OFFSET") || lines.length !== timeline.length + 2) {
 *   throw new Error("a header line, a rule, then one line per row");
 * }
 * ```
 */
export function timelineTable(rows: TimelineRow[], opts: TableOptions = {}): string {
  return renderTable(TIMELINE_COLUMNS, rows.map(timelineCells), opts);
}

/** NOTE is never wrapped narrower than this (as table.ts wraps a last column). */
const MIN_NOTE = 16;

/**
 * One line of the live layout: every column at its fixed width, two spaces apart. A text cell
 * longer than its column (an idstr over 24 characters, a kind nested deeper than once) is cut
 * to the width with `…` as its last character — not wrapped, so that a row stays one line;
 * the full idstr is in the summary's device table, --json and --ndjson. A number is never
 * cut: one wider than its column pushes the rest of its row right. With `width`, NOTE is
 * wrapped onto continuation lines under its column, as in {@link timelineTable}.
 */
function liveLines(cells: string[], width?: number): string {
  const last = TIMELINE_COLUMNS.length - 1;
  const fixed = TIMELINE_COLUMNS.slice(0, last).map((c, i) => {
    const cell = cells[i];
    if (c.align === "right") return cell.padStart(c.live);
    return cell.length > c.live ? cell.slice(0, c.live - 1) + "…" : cell.padEnd(c.live);
  });
  const start = TIMELINE_COLUMNS.slice(0, last).reduce((a, c) => a + c.live + 2, 0);
  const note = cells[last];
  const tail = width && start + note.length > width
    ? wrapWords(note, Math.max(MIN_NOTE, width - start))
    : [note];
  const out = [[...fixed, tail[0]].join("  ").trimEnd()];
  for (const t of tail.slice(1)) out.push(" ".repeat(start) + t);
  return out.join("\n") + "\n";
}

/**
 * The header line and rule of the live timeline: columns of fixed widths (see
 * {@link TIMELINE_COLUMNS}), every column shown, so that each row can be printed the moment
 * it is final (inspect of a pipe or socket) without knowing the rows after it.
 *
 * @example
 * ```ts
 * import { liveTimelineHeader } from "./timeline_text.ts";
 * const [head, rule] = liveTimelineHeader().split("\n");
 * if (!head.startsWith("      OFFSET           HEX  KIND") || rule.length !== head.length) {
 *   throw new Error("right-aligned OFFSET and HEX of 12, a rule as long as the header");
 * }
 * ```
 */
export function liveTimelineHeader(): string {
  const head = TIMELINE_COLUMNS.map((c) => c.header);
  const rule = TIMELINE_COLUMNS.map((c) => "-".repeat(c.live || c.header.length));
  return liveLines(head) + liveLines(rule);
}

/**
 * One row of the live timeline, under {@link liveTimelineHeader}; with `width` (a terminal's),
 * its NOTE is wrapped to fit.
 *
 * @example
 * ```ts
 * import { liveTimelineHeader, liveTimelineRow } from "./timeline_text.ts";
 * import type { TimelineRow } from "./summary_types.ts";
 * const row: TimelineRow = {
 *   offset: 4194609, kind: "PART", sectionId: 2, name: "ram", instance: 0, version: 4,
 *   bytes: 1250026, depth: 0, page: 303, zero: 721, xbzrle: 0, compressed: 0, blockData: 0,
 *   blockZero: 0,
 * };
 * const line = liveTimelineRow(row).trimEnd();
 * const head = liveTimelineHeader().split("\n")[0];
 * if (line.indexOf("0x400131") + 8 !== head.indexOf("HEX") + 3) throw new Error("HEX aligned");
 * ```
 */
export function liveTimelineRow(row: TimelineRow, opts: TableOptions = {}): string {
  return liveLines(timelineCells(row), opts.width);
}
