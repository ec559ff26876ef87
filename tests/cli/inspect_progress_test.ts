/**
 * inspect's progress line end to end, on a slow input (a FIFO fed in 64 KiB pieces): drawn on
 * stderr only when stderr is a terminal (a pseudo-terminal from script(1)) and cleared before
 * the result; nothing with stderr piped, with --no-progress, or when --records rows stream to
 * the same terminal.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runCli } from "../_helpers.ts";

const SAMPLE = fileURLToPath(new URL("../../samples/small-xbzrle.mig", import.meta.url));
const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

function have(cmd: string): boolean {
  try {
    return new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}
const ignore = !have("script") || !have("mkfifo");

/** A FIFO in `dir` fed with the sample, 64 KiB every 10 ms once a reader opens it. */
async function slowFifo(dir: string): Promise<{ path: string; fed: Promise<void> }> {
  const path = `${dir}/slow.mig`;
  await new Deno.Command("mkfifo", { args: [path] }).output();
  const bytes = await Deno.readFile(SAMPLE);
  const fed = (async () => {
    const f = await Deno.open(path, { write: true });
    try {
      for (let i = 0; i < bytes.length; i += 64 << 10) {
        await f.write(bytes.subarray(i, i + (64 << 10)));
        await new Promise((r) => setTimeout(r, 10));
      }
    } catch {
      /* the reader went away */
    } finally {
      f.close();
    }
  })();
  return { path, fed };
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Runs inspect with stderr (and stdout unless `stdoutFile`) on a pseudo-terminal. */
async function onTerminal(args: string[], stdoutFile?: string): Promise<string> {
  const perms = ["--allow-read", "--allow-write", "--allow-net", "--allow-env"];
  const cmd = [Deno.execPath(), "run", ...perms, MAIN, "inspect", ...args].map(quote).join(" ");
  const redirect = stdoutFile ? ` >${quote(stdoutFile)}` : "";
  const out = await new Deno.Command("script", {
    args: ["-qec", `stty cols 100 rows 50 && exec ${cmd}${redirect}`, "/dev/null"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0);
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "inspect progress: drawn and cleared on a terminal's stderr; off with --no-progress",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      let f = await slowFifo(dir);
      const tty = await onTerminal([f.path], `${dir}/out.txt`);
      await f.fed;
      const lines = tty.split("\r").filter((l) => l.startsWith("inspect: "));
      assert.ok(lines.length >= 2, JSON.stringify(tty));
      for (const l of lines) {
        assert.ok(l.endsWith("\x1b[K"), JSON.stringify(l));
        assert.match(l.slice(0, -3), /^inspect: [\d.]+ [KM]i?B, [\d.]+ [KM]iB\/s$/);
      }
      assert.ok(tty.endsWith("\r\x1b[K"), "the last thing on stderr clears the line");
      assert.match(await Deno.readTextFile(`${dir}/out.txt`), /^migscope inspect .*\n\nTimeline\n/);
      await Deno.remove(f.path);

      f = await slowFifo(dir);
      const off = await onTerminal(["--no-progress", f.path], `${dir}/out.txt`);
      await f.fed;
      assert.ok(!off.includes("inspect: "), JSON.stringify(off));
      await Deno.remove(f.path);

      f = await slowFifo(dir);
      const rows = await onTerminal(["--records", "--kind", "eos", f.path]);
      await f.fed;
      assert.ok(!rows.includes("\rinspect: "), "no progress line among rows on the same terminal");
      assert.match(rows, /5 of 3149 records match --kind eos/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "inspect progress: nothing at all on a stderr that is not a terminal",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const f = await slowFifo(dir);
      const r = await runCli(["inspect", f.path]);
      await f.fed;
      assert.equal(r.code, 0);
      assert.equal(r.stderr, "");
      assert.match(r.stdout, /^migscope inspect /);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
