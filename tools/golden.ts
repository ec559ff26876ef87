/**
 * Regenerates the golden files of tests/report/ (`tests/golden/<case>`): runs each case's
 * command through the real CLI, normalises the output (the temporary directory only, see
 * tests/report/_golden.ts), and runs the case's independent check (README numbers, sample
 * inputs, the walker of tests/report/_walk.ts). A golden file is written only when its check
 * passes and the exit code and stderr are the expected ones; otherwise the problems are
 * printed and the file is left alone. Read every changed file before committing it.
 *
 *   deno run -A tools/golden.ts            regenerate all
 *   deno run -A tools/golden.ts NAME ...   only the cases whose file name contains NAME
 *   deno run -A tools/golden.ts --check    compare only; write nothing
 */
import { CASES } from "../tests/report/_cases.ts";
import { GOLDEN_DIR, readGolden, runCase } from "../tests/report/_golden.ts";

const checkOnly = Deno.args.includes("--check");
const only = Deno.args.filter((a) => !a.startsWith("--"));
let failed = 0;
await Deno.mkdir(GOLDEN_DIR, { recursive: true });
for (const c of CASES) {
  if (only.length && !only.some((o) => c.name.includes(o))) continue;
  const r = await runCase(c);
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
if (failed) {
  console.log(`${failed} case(s) failed their check`);
  Deno.exit(1);
}
