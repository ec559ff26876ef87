/**
 * Plain-text tables for terminals: columns sized to content, numbers right-aligned.
 * @module
 */

/** A column: header text and alignment. */
export interface Column {
  header: string;
  align?: "left" | "right";
}

/** Renders rows (already strings) under `columns`, two spaces between columns. */
export function renderTable(columns: Column[], rows: string[][]): string {
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length))
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const w = widths[i];
        return columns[i].align === "right" ? cell.padStart(w) : cell.padEnd(w);
      })
      .join("  ")
      .trimEnd();
  const out = [line(columns.map((c) => c.header)), line(widths.map((w) => "-".repeat(w)))];
  for (const r of rows) out.push(line(columns.map((_, i) => r[i] ?? "")));
  return out.join("\n") + "\n";
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
