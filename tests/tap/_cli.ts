/**
 * `migscope tap` as a child process, for tests that drive it: started with --listen
 * 127.0.0.1:0 (or any listen address), the port read from its `migscope: listening on …` line.
 */
import { fileURLToPath as fromFileUrl } from "node:url";

const MAIN = fromFileUrl(new URL("../../src/cli/main.ts", import.meta.url));

/** A running `migscope tap`. */
export interface TapProcess {
  child: Deno.ChildProcess;
  /** The port it listens on (0 for a unix socket). */
  port: number;
  /** stderr so far (the listening line at least). */
  stderr(): string;
  /** Waits for the exit: code, stdout, the whole stderr. */
  result(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * Starts `migscope tap ARGS` (add `--listen 127.0.0.1:0` to ARGS) and waits for its listening
 * line; stdout is piped (not a terminal: NDJSON events).
 */
export async function spawnTap(args: string[]): Promise<TapProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "tap", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const dec = new TextDecoder();
  let err = "";
  const reader = child.stderr.getReader();
  const stdout = new Response(child.stdout).text();
  let more = true;
  while (more && !/listening on .*\n/.test(err)) {
    const r = await reader.read();
    if (r.done) more = false;
    else err += dec.decode(r.value, { stream: true });
  }
  const rest = (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      err += dec.decode(r.value, { stream: true });
    }
  })();
  const m = /listening on (?:\[[^\]]*\]|[^:\s]+):(\d+)/.exec(err);
  return {
    child,
    port: m ? Number(m[1]) : 0,
    stderr: () => err,
    async result() {
      const status = await child.status;
      await rest;
      return { code: status.code, stdout: await stdout, stderr: err };
    },
  };
}
