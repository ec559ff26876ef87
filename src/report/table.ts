/**
 * Plain-text tables for terminals: columns sized to content, numbers right-aligned.
 * @module
 */

/** A column: header text and alignment. */
export interface Column {
  header: string;
  align?: "left" | "right";
  /** Leave the column out when every cell is empty (`""` or `"0"`). */
  hideWhenEmpty?: boolean;
}

/** How a table is laid out. */
export interface TableOptions {
  /**
   * Fit lines to this many characters (a terminal's width) by wrapping the last column's
   * cells at spaces onto continuation lines; without it, lines are as long as their content.
   */
  width?: number;
}

/** The last column is never wrapped narrower than this. */
const MIN_LAST = 16;

/** Packs `parts` (joined by spaces) greedily into lines of at most `width` characters. */
function pack(parts: string[], width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const part of parts) {
    if (line && line.length + 1 + part.length <= width) {
      line += " " + part;
      continue;
    }
    if (line) out.push(line);
    line = part;
  }
  out.push(line);
  return out;
}

/**
 * Splits `text` into lines of at most `width` characters: at a space after `,` or `;` where it
 * can, else at any space, and a word longer than `width` is cut.
 *
 * @example
 * ```ts
 * import { wrapWords } from "./table.ts";
 * const lines = wrapWords("3 EOS, 1 MEM_SIZE; 8.1 KiB of page records", 24);
 * if (lines.join("|") !== "3 EOS, 1 MEM_SIZE;|8.1 KiB of page records") throw new Error(lines.join("|"));
 * ```
 */
export function wrapWords(text: string, width: number): string[] {
  const out: string[] = [];
  for (const clause of pack(text.split(/(?<=[,;]) /), width)) {
    if (clause.length <= width) {
      out.push(clause);
      continue;
    }
    const words = clause.split(" ").flatMap((w) => {
      const cut: string[] = [];
      for (let i = 0; i < w.length; i += width) cut.push(w.slice(i, i + width));
      return cut.length ? cut : [""];
    });
    out.push(...pack(words, width));
  }
  return out;
}

/**
 * Renders rows (already strings) under `columns`, two spaces between columns; columns marked
 * `hideWhenEmpty` are left out when all their cells are empty.
 *
 * @example
 * ```ts
 * import { renderTable } from "./table.ts";
 * const text = renderTable(
 *   [{ header: "N", align: "right" }, { header: "COMP", hideWhenEmpty: true }, { header: "NOTE" }],
 *   [["1", "", "a note that is long"], ["22", "0", ""]],
 *   { width: 20 },
 * );
 * if (text !== " N  NOTE\n--  ----------------\n 1  a note that is\n    long\n22\n") {
 *   throw new Error(text);
 * }
 * ```
 */
export function renderTable(columns: Column[], rows: string[][], opts: TableOptions = {}): string {
  const keep = columns.map((c, i) =>
    !c.hideWhenEmpty || rows.some((r) => (r[i] ?? "") !== "" && r[i] !== "0")
  );
  const cols = columns.filter((_, i) => keep[i]);
  const body = rows.map((r) => r.filter((_, i) => keep[i]));
  const widths = cols.map((c, i) =>
    Math.max(c.header.length, ...body.map((r) => (r[i] ?? "").length))
  );
  const last = cols.length - 1;
  const start = widths.slice(0, last).reduce((a, w) => a + w + 2, 0);
  if (
    opts.width && last >= 0 && cols[last].align !== "right" && start + widths[last] > opts.width
  ) {
    widths[last] = Math.max(MIN_LAST, opts.width - start, cols[last].header.length);
  }
  const line = (cells: string[]) =>
    cells
      .map((
        cell,
        i,
      ) => (cols[i].align === "right" ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const out = [line(cols.map((c) => c.header)), line(widths.map((w) => "-".repeat(w)))];
  for (const r of body) {
    const cells = cols.map((_, i) => r[i] ?? "");
    const tail = last >= 0 && cells[last].length > widths[last]
      ? wrapWords(cells[last], widths[last])
      : [cells[last]];
    out.push(line([...cells.slice(0, last), tail[0]]));
    for (const t of tail.slice(1)) out.push(" ".repeat(start) + t);
  }
  return out.join("\n") + "\n";
}

/**
 * Fits one line of prose to `width` by wrapping it at spaces; continuation lines start with
 * `indent` spaces. Without a width (or when it fits), the line is returned as it is.
 */
export function fitLine(text: string, width: number | undefined, indent: number): string {
  if (!width || text.length <= width) return text;
  const lead = text.length - text.trimStart().length;
  const head = wrapWords(text.trimStart(), width - lead);
  const first = " ".repeat(lead) + head[0];
  const rest = wrapWords(text.trimStart().slice(head[0].length).trimStart(), width - indent);
  return [first, ...rest.filter((l) => l !== "").map((l) => " ".repeat(indent) + l)].join("\n");
}

/** `n` and the word, singular or plural: `1 record`, `2 records`, `1 device`. */
export function plural(n: number, word: string, many = word + "s"): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** Formats a byte count with a binary unit, e.g. `14.1 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Formats an offset as decimal and hex, e.g. `4096 (0x1000)`. */
export function hexOffset(n: number): string {
  return `0x${n.toString(16)}`;
}
