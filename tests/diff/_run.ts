/** Running `migscope diff` as users do: the CLI (src/cli/main.ts) in a subprocess. */
import { fileURLToPath } from "node:url";

/** The CLI the tests run. */
export const MIGSCOPE = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** Runs `migscope diff ARGS`; resolves the exit code and both outputs. */
export async function runDiffCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const perms = [
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "--allow-net",
    "--allow-ffi",
  ];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...perms, MIGSCOPE, "diff", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    cwd: opts.cwd,
    env: opts.env,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
