/**
 * Running `migscope diff` as users do: the CLI in a subprocess (src/cli/diff_entry.ts, which
 * runs src/cli/diff.ts `diffMain` exactly as src/cli/main.ts does for `migscope diff`).
 */
import { fileURLToPath } from "node:url";

/** The entry the tests run. */
export const DIFF_ENTRY = fileURLToPath(new URL("../../src/cli/diff_entry.ts", import.meta.url));

/** Runs `migscope diff ARGS`; resolves the exit code and both outputs. */
export async function runDiffCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const perms = ["--allow-read", "--allow-write", "--allow-env", "--allow-run", "--allow-net"];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...perms, DIFF_ENTRY, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    cwd: opts.cwd,
    env: opts.env,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
