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
import { regenerate, runCase } from "../tests/report/_golden.ts";

const failed = await regenerate(CASES, runCase, Deno.args);
if (failed) {
  console.log(`${failed} case(s) failed their check`);
  Deno.exit(1);
}
