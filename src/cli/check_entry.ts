/**
 * `migscope check` on its own, until src/cli/main.ts dispatches it:
 * `deno run -A src/cli/check_entry.ts INPUT --qemu PATH [options]` (the same arguments and
 * exit codes).
 * @module
 */
import { checkMain } from "./check.ts";

if (import.meta.main) {
  Deno.exitCode = await checkMain(Deno.args);
}
