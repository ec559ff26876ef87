/**
 * `migscope diff` on its own, until src/cli/main.ts dispatches it:
 * `deno run -A src/cli/diff_entry.ts A B [options]` (the same arguments and exit codes).
 * @module
 */
import { diffMain } from "./diff.ts";

if (import.meta.main) {
  Deno.exitCode = await diffMain(Deno.args);
}
