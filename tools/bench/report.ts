/**
 * BENCHMARKS.md as data: rendered from one run of tools/bench.ts, and — for a partial run
 * (`--only`) — merged with the file already there, so that the targets not measured this time
 * keep their rows, notes, analysis paragraphs and profiles, and the rows that were measured
 * again replace theirs. A note lists the targets measured on another day than the header says.
 * @module
 */

/** Everything BENCHMARKS.md says, by target id where it belongs to one. */
export interface Report {
  machine: string;
  /** Date of the run named in the header (YYYY-MM-DD). */
  date: string;
  reps: number;
  /** Rows of the target table: id, what, target, measured, baseline, met. */
  targets: string[][];
  /** Per target id: share of the CPUs busy when it started (`1 %`). */
  busy: [string, string][];
  /** Per target id measured by a later partial run: its date (and machine when another). */
  later: [string, string][];
  /** Other notes under the target table (`Target 7: …`, the analyze-migration.py line). */
  notes: string[];
  /** Rows of the other-measurements table: group id, what, measured, baseline. */
  extras: string[][];
  /** The `## Hot paths` section ("" when not run). */
  micro: string;
  /** The static part of `## How each target is measured…` (heading and list). */
  method: string;
  /** Per missed target id: the paragraph saying what limits it. */
  missed: [string, string][];
  /** Per missed target id: its `### Profile: …` section. */
  profiles: [string, string][];
}

/** The group of a target id: `4a` → `4`, `13b` → `13`. */
export const group = (id: string) => /^\d+/.exec(id)?.[0] ?? id;

/** A Markdown table with padded columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)]
    .join("\n");
}

export const TARGET_HEADER = ["#", "what", "target", "measured", "baseline (same run)", "met?"];
export const EXTRA_HEADER = ["#", "what", "measured", "baseline (same run)"];
const BUSY =
  "Each target waited until other processes used < 10 % of the CPUs over 2 s (at most 3 min); " +
  "share busy when it started: ";
const LATER = "Measured later by `deno task bench --only …`: ";

/** The Markdown of a report (before `deno fmt`). */
export function renderReport(r: Report): string {
  const notes = [
    ...r.notes.filter((n) => /^Target \S+:/.test(n)),
    ...(r.later.length ? [LATER + byValue(r.later).join("; ") + "."] : []),
    BUSY + r.busy.map(([id, b]) => `${id}: ${b}`).join(", ") + ".",
    ...r.notes.filter((n) => !/^Target \S+:/.test(n)),
  ];
  return [
    "# Benchmarks",
    "",
    `Measured by \`deno task bench\` on ${r.machine}, ${r.date}.`,
    `Process times are wall times of the whole process (start-up included), median of ${r.reps}`,
    "runs (after an untimed warm-up run, except replay and the copies of target 4), with the",
    "input in the page cache unless said otherwise; in-process rates are medians of rounds that",
    "time every case once. Every baseline is measured in the same run.",
    "",
    "## Targets",
    "",
    table(TARGET_HEADER, r.targets),
    "",
    ...notes.map((n) => `- ${n}`),
    "",
    "## Other measurements",
    "",
    r.extras.length ? table(EXTRA_HEADER, r.extras) : "",
    "",
    r.micro,
    r.method,
    ...r.missed.flatMap(([id, p]) => [`**Target ${id} missed.** ${p}`, ""]),
    ...r.profiles.flatMap(([, p]) => [p, ""]),
  ].join("\n");
}

/** `id: value` pairs grouped by value: `8a, 8b: 2026-11-23`. */
function byValue(pairs: [string, string][]): string[] {
  const m = new Map<string, string[]>();
  for (const [id, v] of pairs) m.set(v, [...(m.get(v) ?? []), id]);
  return [...m].map(([v, ids]) => `${ids.join(", ")}: ${v}`);
}

/** Table rows (cells) of the lines that start with `|`, header and rule skipped. */
function rows(lines: string[]): string[][] {
  return lines.filter((l) => l.startsWith("|")).slice(2).map((l) =>
    l.slice(1, -1).split(" | ").map((c) => c.trim())
  );
}

/** Paragraphs and bullets of Markdown prose, each joined into one line. */
function blocks(lines: string[]): string[] {
  const out: string[] = [];
  let cur = "";
  for (const l of lines) {
    if (!l.trim() || l.startsWith("- ")) {
      if (cur) out.push(cur);
      cur = l.trim() ? l.slice(2) : "";
    } else cur = cur ? `${cur} ${l.trim()}` : l.trim();
  }
  if (cur) out.push(cur);
  return out;
}

/** The lines of `md` from the heading starting with `from` up to the next `## ` heading. */
function section(lines: string[], from: string): string[] {
  const i = lines.findIndex((l) => l.startsWith(from));
  if (i < 0) return [];
  const j = lines.findIndex((l, k) => k > i && l.startsWith("## "));
  return lines.slice(i + 1, j < 0 ? lines.length : j);
}

/** A report read back from BENCHMARKS.md (what {@link renderReport} wrote, formatted). */
export function parseReport(md: string): Report | undefined {
  const lines = md.split("\n");
  const head = blocks(lines.slice(0, lines.findIndex((l) => l.startsWith("## "))))
    .find((b) => b.startsWith("Measured by"));
  const m = head && /^Measured by `deno task bench` on (.+), (\d{4}-\d\d-\d\d)\./.exec(head);
  if (!m) return undefined;
  const targetLines = section(lines, "## Targets");
  const tableEnd = targetLines.findIndex((l, i) => i > 0 && l === "" && targetLines[i - 1]);
  const notes = blocks(targetLines.slice(tableEnd));
  const busyNote = notes.find((n) => n.startsWith(BUSY));
  const laterNote = notes.find((n) => n.startsWith(LATER));
  const later: [string, string][] = [];
  for (const part of laterNote?.slice(LATER.length, -1).split("; ") ?? []) {
    const g = /^(.*?): (\d{4}-\d\d-\d\d.*)$/.exec(part);
    if (g) { for (const id of g[1].split(", ")) later.push([id, g[2]]); }
  }
  const analysis = lines.findIndex((l) => l.startsWith("## How each target"));
  const firstProfile = lines.findIndex((l) => l.startsWith("### Profile: target "));
  const analysisLines = analysis < 0
    ? []
    : lines.slice(analysis, firstProfile < 0 ? lines.length : firstProfile);
  const missed: [string, string][] = [];
  for (const b of blocks(analysisLines)) {
    const g = /^\*\*Target (\S+) missed\.\*\* (.*)$/.exec(b);
    if (g) missed.push([g[1], g[2]]);
  }
  const profiles: [string, string][] = [];
  if (firstProfile >= 0) {
    const text = lines.slice(firstProfile).join("\n").trim();
    for (const p of text.split(/\n(?=### Profile: target )/)) {
      profiles.push([/^### Profile: target (\S+)/.exec(p)![1], p.trim()]);
    }
  }
  const micro = section(lines, "## Hot paths");
  return {
    machine: m[1],
    date: m[2],
    reps: Number(/median of (\d+) runs/.exec(head)?.[1] ?? 0),
    targets: rows(targetLines),
    busy: (busyNote?.slice(BUSY.length, -1).split(", ") ?? []).map((s) => {
      const [id, ...rest] = s.split(": ");
      return [id, rest.join(": ")];
    }),
    later,
    notes: notes.filter((n) => n !== busyNote && n !== laterNote),
    extras: rows(section(lines, "## Other measurements")),
    micro: micro.length ? ["## Hot paths (`deno bench`)", ...micro].join("\n") : "",
    method: "",
    missed,
    profiles,
  };
}

/**
 * Rows of `old` with those of the keys in `fresh` replaced where the first of them stood, and
 * fresh rows of keys `old` lacks appended.
 */
function mergeRows<T>(old: T[], fresh: T[], key: (t: T) => string): T[] {
  const keys = new Set(fresh.map(key));
  const placed = new Set<string>();
  const out: T[] = [];
  for (const o of old) {
    const k = key(o);
    if (!keys.has(k)) out.push(o);
    else if (!placed.has(k)) {
      placed.add(k);
      out.push(...fresh.filter((f) => key(f) === k));
    }
  }
  return [...out, ...fresh.filter((f) => !placed.has(key(f)))];
}

/**
 * `fresh` (a partial run) merged into `old`: header kept, fresh targets replace theirs (by id),
 * fresh other measurements replace their group's, and everything of the other targets stays.
 */
export function mergeReports(old: Report, fresh: Report): Report {
  const ids = new Set(fresh.targets.map((t) => t[0]));
  const groups = new Set([
    ...fresh.targets.map((t) => group(t[0])),
    ...fresh.extras.map((e) => e[0]),
  ]);
  const stays = (id: string) => !ids.has(id);
  let when = fresh.machine === old.machine ? fresh.date : `${fresh.date} on ${fresh.machine}`;
  if (old.reps && fresh.reps !== old.reps) when += ` (median of ${fresh.reps} runs)`;
  const targetNote = (n: string) => /^Target (\S+):/.exec(n)?.[1];
  const oldNotes = old.notes.filter((n) => {
    const id = targetNote(n);
    return id ? stays(id) : !fresh.notes.some((f) => f.split(":")[0] === n.split(":")[0]);
  });
  return {
    ...old,
    targets: mergeRows(old.targets, fresh.targets, (t) => t[0]),
    busy: mergeRows(old.busy, fresh.busy, (b) => b[0]),
    later: mergeRows(
      old.later.filter(([id]) => stays(id)),
      [...ids].map((id): [string, string] => [id, when]),
      (l) => l[0],
    ),
    notes: [...oldNotes, ...fresh.notes],
    extras: mergeRows(
      old.extras,
      fresh.extras,
      (e) => (groups.has(group(e[0])) ? group(e[0]) : `=${e[0]}`),
    ),
    micro: fresh.micro || old.micro,
    method: fresh.method,
    missed: mergeRows(old.missed.filter(([id]) => stays(id)), fresh.missed, (x) => x[0]),
    profiles: mergeRows(old.profiles.filter(([id]) => stays(id)), fresh.profiles, (x) => x[0]),
  };
}
