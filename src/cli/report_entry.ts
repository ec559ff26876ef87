/**
 * `migscope report` on its own, until src/cli/main.ts dispatches it:
 * `deno run -A src/cli/report_entry.ts INPUT -o REPORT.html [options]` (the same arguments and
 * exit codes).
 * @module
 */
import { reportMain } from "./report.ts";

if (import.meta.main) {
  Deno.exitCode = await reportMain(Deno.args);
}
