/**
 * The golden-file machinery: run the real CLI in a subprocess inside a fresh temporary
 * directory, normalise its output (see {@link normalise}: the temporary directory, nothing
 * else), and compare it byte for byte with `tests/golden/<case>`.
 *
 * Regenerate with `deno run -A tools/golden.ts`; it writes a golden file only when the output
 * passes its case's independent check (numbers from the captures' READMEs, from the inputs the
 * samples were made from, or from a walker that does not use src/).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runCli } from "../_helpers.ts";

/** Folder of the expected outputs. */
export const GOLDEN_DIR = fileURLToPath(new URL("../golden/", import.meta.url));

/** The placeholder that stands for the run's temporary directory in golden files. */
export const TMP = "<TMP>";

/** One golden case: inputs, command line, expected exit code and stderr, and its check. */
export interface GoldenCase {
  /** File name under tests/golden/ (`.txt`, `.json` or `.ndjson`). */
  name: string;
  /** What the case pins, as the test's name. */
  title: string;
  /** Puts the inputs into `dir` (the subprocess's cwd); returns the CLI arguments. */
  setup(dir: string): Promise<string[]>;
  code: number;
  /**
   * Run with stdout on a terminal this many columns wide (a pseudo-terminal made by
   * script(1); stderr stays a file); without it, stdout is a pipe.
   */
  columns?: number;
  /** Expected stderr (default: empty). */
  stderr?: string;
  /** The part of the (normalised) stdout the golden file keeps (default: all of it). */
  excerpt?(stdout: string): string;
  /**
   * Checks the normalised stdout against numbers migscope did not compute; resolves the
   * problems found (none: the output may become the golden file).
   */
  check(stdout: string): Promise<string[]>;
}

/** Result of running a case. */
export interface CaseRun {
  code: number;
  stdout: string;
  stderr: string;
  /** What the golden file must hold. */
  golden: string;
}

/**
 * The only normalisation of the CLI's output: every occurrence of the run's temporary
 * directory `dir` becomes `<TMP>`. The text tables size a column to its longest cell, so in a
 * table whose last column held such a path (replay's FILE, verify's EXPECTED) the rule under
 * that column is re-drawn to the width of the normalised cells — but only if the program drew
 * it to the width of the original cells; otherwise it is left as printed, for the golden
 * comparison to show.
 */
export function normalise(text: string, dir: string): string {
  if (!text.includes(dir)) return text;
  const raw = text.split("\n");
  const lines = raw.map((l) => l.replaceAll(dir, TMP));
  for (let i = 1; i < lines.length; i++) {
    if (!/^-+( {2}-+)*$/.test(lines[i])) continue;
    let end = i + 1;
    while (end < lines.length && lines[end] !== "") end++;
    if (!raw.slice(i + 1, end).some((l) => l.includes(dir))) continue;
    const last = lines[i].lastIndexOf(" ") + 1;
    const width = (ls: string[]) =>
      Math.max(...[ls[i - 1], ...ls.slice(i + 1, end)].map((l) => l.slice(last).length));
    if (lines[i].length - last === width(raw)) {
      lines[i] = lines[i].slice(0, last) + "-".repeat(width(lines));
    }
  }
  return lines.join("\n");
}

/** Runs a case's command in a fresh temporary directory; removes the directory after. */
export async function runCase(c: GoldenCase): Promise<CaseRun> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-golden-" });
  try {
    const args = await c.setup(dir);
    const r = c.columns ? await runCliTty(args, c.columns, dir) : await runCli(args, { cwd: dir });
    const stdout = normalise(r.stdout, dir);
    return {
      code: r.code,
      stdout,
      stderr: normalise(r.stderr, dir),
      golden: c.excerpt ? c.excerpt(stdout) : stdout,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Runs the CLI with stdout on a pseudo-terminal `columns` wide (script(1) from util-linux) and
 * stderr to a file; the terminal's CR LF line ends are read back as LF.
 */
export async function runCliTty(
  args: string[],
  columns: number,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  const err = await Deno.makeTempFile({ prefix: "migscope-tty-stderr-" });
  const perms = ["--allow-read", "--allow-write", "--allow-net", "--allow-env"];
  const cmd = [Deno.execPath(), "run", ...perms, main, ...args].map(quote).join(" ");
  try {
    const out = await new Deno.Command("script", {
      args: ["-qec", `stty cols ${columns} rows 50 && exec ${cmd} 2>${quote(err)}`, "/dev/null"],
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout).replaceAll("\r\n", "\n");
    return { code: out.code, stdout, stderr: await Deno.readTextFile(err) };
  } finally {
    await Deno.remove(err);
  }
}

/** The committed expected output of a case. */
export async function readGolden(c: GoldenCase): Promise<string> {
  return await Deno.readTextFile(`${GOLDEN_DIR}${c.name}`);
}

/** Keeps the first `head` and the last `tail` lines, with one line saying how many it left out. */
export function headTail(text: string, head: number, tail: number): string {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines.length <= head + tail) return text;
  const left = lines.length - head - tail;
  return [
    ...lines.slice(0, head),
    `[golden excerpt: ${left} lines left out here; the test checks every one of them]`,
    ...lines.slice(-tail),
  ].join("\n") + "\n";
}

// ---- reading the text reports back, for the checks ----

/** The lines from the one equal to (or, with `prefix`, starting with) `title` to the next blank line. */
export function block(text: string, title: string, prefix = false): string[] {
  const lines = text.split("\n");
  const i = lines.findIndex((l) => prefix ? l.startsWith(title) : l === title);
  if (i < 0) return [];
  let end = i + 1;
  while (end < lines.length && lines[end] !== "") end++;
  return lines.slice(i, end);
}

/**
 * Reads a rendered table (header line, rule of dashes, rows) back into rows keyed by the
 * header: each column spans its run of dashes; the last column runs to the end of the line.
 */
export function parseTable(lines: string[]): Record<string, string>[] {
  const r = lines.findIndex((l, i) => i > 0 && /^-+( {2}-+)*$/.test(l));
  if (r < 0) return [];
  const spans: [number, number | undefined][] = [];
  for (const m of lines[r].matchAll(/-+/g)) spans.push([m.index!, m.index! + m[0].length]);
  spans[spans.length - 1][1] = undefined;
  const cells = (l: string) => spans.map(([s, e]) => l.slice(s, e).trim());
  const head = cells(lines[r - 1]);
  return lines.slice(r + 1).map((l) => {
    const c = cells(l);
    return Object.fromEntries(head.map((h, i) => [h, c[i]]));
  });
}

/** Collects mismatches between what a report says and what a source says. */
export class Problems {
  readonly list: string[] = [];
  eq(what: string, actual: unknown, expected: unknown): void {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      this.list.push(
        `${what}: report says ${JSON.stringify(actual)}, source says ${JSON.stringify(expected)}`,
      );
    }
  }
  ok(what: string, cond: boolean): void {
    if (!cond) this.list.push(what);
  }
}

/**
 * Runs a case and asserts: the exit code, stderr, the golden file byte for byte, and the
 * case's independent check.
 */
export async function assertGolden(c: GoldenCase): Promise<void> {
  const r = await runCase(c);
  assert.equal(r.stderr, c.stderr ?? "", "stderr");
  assert.equal(r.code, c.code, "exit code");
  assert.equal(r.golden, await readGolden(c), `stdout differs from tests/golden/${c.name}`);
  assert.deepEqual(await c.check(r.stdout), [], "independent check");
}

/**
 * Regenerates (or, with `--check` in `argv`, only compares) the golden files of `cases`: runs
 * each case with `run`, runs its independent check, compares the exit code and stderr with the
 * expected ones, and writes `tests/golden/<case>` only when there is no problem. The other
 * arguments of `argv` select the cases whose name contains one of them; `skip` says why a case
 * cannot run here (it is then skipped). Prints one line per case; resolves the number of
 * cases that failed.
 */
export async function regenerate<C extends GoldenCase>(
  cases: readonly C[],
  run: (c: C) => Promise<CaseRun>,
  argv: readonly string[],
  skip?: (c: C) => string | undefined,
): Promise<number> {
  const checkOnly = argv.includes("--check");
  const only = argv.filter((a) => !a.startsWith("--"));
  let failed = 0;
  await Deno.mkdir(GOLDEN_DIR, { recursive: true });
  for (const c of cases) {
    if (only.length && !only.some((o) => c.name.includes(o))) continue;
    const why = skip?.(c);
    if (why) {
      console.log(`skip ${c.name}: needs ${why}`);
      continue;
    }
    const r = await run(c);
    const problems = await c.check(r.stdout);
    if (r.code !== c.code) problems.push(`exit code ${r.code}, expected ${c.code}`);
    if (r.stderr !== (c.stderr ?? "")) problems.push(`stderr: ${JSON.stringify(r.stderr)}`);
    const old = await readGolden(c).catch(() => undefined);
    const status = old === r.golden ? "unchanged" : old === undefined ? "new" : "changed";
    if (problems.length) {
      failed++;
      console.log(`FAIL ${c.name} (${status}): not written`);
      for (const p of problems) console.log(`     ${p}`);
      continue;
    }
    if (status !== "unchanged" && !checkOnly) {
      await Deno.writeTextFile(`${GOLDEN_DIR}${c.name}`, r.golden);
    }
    console.log(
      `ok   ${c.name} (${status}${status !== "unchanged" && !checkOnly ? ", written" : ""})`,
    );
  }
  return failed;
}
