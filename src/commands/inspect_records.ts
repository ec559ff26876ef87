/**
 * `inspect --records`: the header, the rows the filters select (streamed), the count of rows
 * shown, and the check, once the stream is read, that every `--block`, `--pass` and
 * `--section` named something the stream has.
 * @module
 */
import type { MigRecord } from "../protocol/records.ts";
import {
  filterEmpty,
  type RecordFilter,
  recordMatches,
  recordRow,
  recordsHeader,
} from "../report/records_text.ts";
import type { Summary, TimelineRow } from "../report/summary_types.ts";
import { plural } from "../report/table.ts";
import type { TextOut } from "./io.ts";

/** The filter as the options that made it, e.g. `--block pc.ram --kind zero`. */
export function describeFilter(f: RecordFilter): string {
  const parts: string[] = [];
  for (const b of f.blocks ?? []) parts.push(`--block ${b}`);
  for (const p of f.passes ?? []) parts.push(`--pass ${p}`);
  for (const k of f.kinds ?? []) parts.push(`--kind ${k}`);
  for (const s of f.sections ?? []) parts.push(`--section ${s}`);
  return parts.join(" ");
}

/** Writes the rows `filter` selects and counts them. */
export class RecordsWriter {
  /** Rows written. */
  shown = 0;
  /** Records that have a row. */
  total = 0;
  readonly #out: TextOut;
  readonly #filter: RecordFilter;

  constructor(out: TextOut, filter: RecordFilter = {}) {
    this.#out = out;
    this.#filter = filter;
  }

  /** The header line and rule. */
  header(): Promise<void> {
    return this.#out.write(recordsHeader());
  }

  /** One record: its row, when it has one and the filter selects it. */
  visit = async (rec: MigRecord): Promise<void> => {
    const row = recordRow(rec);
    if (!row) return;
    this.total++;
    if (!recordMatches(rec, this.#filter)) return;
    this.shown++;
    await this.#out.write(row + "\n");
  };

  /** With filters: `3 of 17 records match --kind zero` (nothing without filters). */
  footer(): string | undefined {
    if (filterEmpty(this.#filter)) return undefined;
    const verb = this.shown === 1 ? "matches" : "match";
    return `${this.shown} of ${plural(this.total, "record")} ${verb} ${
      describeFilter(this.#filter)
    }`;
  }
}

/** Names in a one-line list, cut after `max` with how many more. */
function listed(names: string[], max = 12): string {
  const shown = names.slice(0, max).join(", ");
  return names.length > max ? `${shown}, … ${names.length - max} more` : shown || "none";
}

/**
 * What a filter names that the stream does not have, as the one-line error (exit 2), or
 * undefined. Checked once the whole stream is read.
 */
export function filterProblem(
  f: RecordFilter,
  summary: Summary,
  timeline: TimelineRow[],
): string | undefined {
  const names = [
    ...summary.ram.blocks.map((b) => b.name),
    ...summary.block.devices.map((d) => d.name),
  ];
  for (const b of f.blocks ?? []) {
    if (!names.includes(b)) {
      return `--block ${b}: the stream has no RAM block or disk of that name ` +
        `(it has ${listed(names)})`;
    }
  }
  for (const p of f.passes ?? []) {
    if (p > summary.passes.length) {
      return `--pass ${p}: the stream has ${
        plural(summary.passes.length, "dirty pass", "dirty passes")
      }`;
    }
  }
  const sections = new Map<number, string>();
  for (const r of timeline) {
    if (r.sectionId !== undefined && !sections.has(r.sectionId)) {
      sections.set(r.sectionId, `${r.sectionId} '${r.name}'`);
    }
  }
  for (const s of f.sections ?? []) {
    if (!sections.has(s)) {
      return `--section ${s}: the stream has no section ${s} (it has ${
        listed([...sections.values()])
      })`;
    }
  }
  return undefined;
}
