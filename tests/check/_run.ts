/** Runs `migscope check` in a subprocess (the CLI, src/cli/main.ts). */
import { fileURLToPath } from "node:url";

const MIGSCOPE = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** Exit code, stdout and stderr of `migscope check ARGS`. */
export async function runCheckCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--allow-run",
      "--allow-ffi",
      MIGSCOPE,
      "check",
      ...args,
    ],
    cwd: opts.cwd,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
