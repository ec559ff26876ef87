/**
 * emit, replay and verify draw inspect's progress line (bytes done of the total, rate, ETA) on a
 * terminal's stderr, and clears it; `--no-progress` and a stderr that is not a terminal get none.
 * The terminal is script(1)'s pseudo-terminal.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const haveScript = (() => {
  try {
    return Deno.statSync("/usr/bin/script").isFile;
  } catch {
    return false;
  }
})();

async function onTerminal(args: string[]): Promise<string> {
  const cmd = [Deno.execPath(), "run", "-A", MAIN, ...args].map((a) => `'${a}'`).join(" ");
  const out = await new Deno.Command("script", {
    args: ["-qec", cmd, "/dev/null"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "emit: a progress line on a terminal, cleared at the end; none with --no-progress",
  ignore: !haveScript,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const img = `${dir}/ram.img`;
      const f = await Deno.open(img, { write: true, create: true });
      await f.truncate(1 << 30);
      f.close();
      const tty = await onTerminal(["emit", "--ram", `pc.ram=${img}`, "-o", `${dir}/a.mig`]);
      const lines = tty.split("\r").filter((l) => l.startsWith("emit: "));
      assert.ok(lines.length >= 1, JSON.stringify(tty));
      for (const l of lines) {
        assert.ok(l.endsWith("\x1b[K"), JSON.stringify(l));
        assert.match(
          l.slice(0, -3),
          /^emit: [\d.]+ [KMG]?i?B of 1\.0 GiB \(\d+%\), [\d.]+ [KMG]?i?B\/s(, ETA \d+:\d\d)?$/,
        );
      }
      assert.ok(tty.endsWith("\r\x1b[K"), "the last thing written clears the line");
      const off = await onTerminal([
        "emit",
        "--no-progress",
        "--ram",
        `pc.ram=${img}`,
        "-o",
        `${dir}/b.mig`,
      ]);
      assert.equal(off, "");
      const piped = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "emit", "--ram", `pc.ram=${img}`, "-o", `${dir}/c.mig`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(piped.code, 0);
      assert.equal(new TextDecoder().decode(piped.stderr), "");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "verify: a progress line for the compare step on a terminal, cleared before the report",
  ignore: !haveScript,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const img = `${dir}/ram.img`;
      const f = await Deno.open(img, { write: true, create: true });
      await f.truncate(1 << 30);
      f.close();
      const made = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "emit", "--ram", `pc.ram=${img}`, "-o", `${dir}/a.mig`],
      }).output();
      assert.equal(made.code, 0);
      const tty = await onTerminal(["verify", `${dir}/a.mig`, "--expect", `pc.ram=${img}`]);
      const lines = tty.split("\r").filter((l) => l.startsWith("verify: compare: "));
      assert.ok(lines.length >= 1, JSON.stringify(tty.slice(0, 300)));
      for (const l of lines) {
        assert.ok(l.endsWith("\x1b[K"), JSON.stringify(l));
        assert.match(l.slice(0, -3), /^verify: compare: [\d.]+ [KMG]?i?B of 1\.0 GiB \(\d+%\)/);
      }
      const report = tty.slice(tty.lastIndexOf("\r\x1b[K") + 4);
      assert.match(report, /^Replayed .*Verify: all images equal/s);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "replay: a progress line on a terminal for a stream of RAM pages, cleared before the report",
  ignore: !haveScript,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const img = `${dir}/ram.img`;
      await Deno.writeFile(img, new Uint8Array(192 << 20).fill(0x5a));
      const made = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "emit", "--ram", `pc.ram=${img}`, "-o", `${dir}/a.mig`],
      }).output();
      assert.equal(made.code, 0);
      // Fed through a pipe with a pause, so the run outlasts the line's 300 ms delay on any machine.
      const replay = [Deno.execPath(), "run", "-A", MAIN, "replay", "-", "--out", `${dir}/out`]
        .map((a) => `'${a}'`).join(" ");
      const feed = `(head -c 50000000 '${dir}/a.mig'; sleep 0.6; tail -c +50000001 '${dir}/a.mig')`;
      const out = await new Deno.Command("script", {
        args: [
          "-qec",
          `sh -c "${feed.replaceAll('"', '\\"')} | ${replay.replaceAll('"', '\\"')}"`,
          "/dev/null",
        ],
        stdout: "piped",
      }).output();
      assert.equal(out.code, 0);
      const tty = new TextDecoder().decode(out.stdout);
      const lines = tty.split("\r").filter((l) => l.startsWith("replay: "));
      assert.ok(lines.length >= 1, JSON.stringify(tty.slice(0, 300)));
      for (const l of lines) {
        assert.ok(l.endsWith("\x1b[K"), JSON.stringify(l));
        assert.match(l.slice(0, -3), /^replay: [\d.]+ [KMG]?i?B, [\d.]+ [KMG]?i?B\/s$/);
      }
      // Drawn while the RAM pages stream by, not only at the section headers around them.
      const mib = lines.map((l) => Number(/^replay: ([\d.]+) MiB/.exec(l)?.[1] ?? NaN));
      assert.ok(mib.some((m) => m < 150), JSON.stringify(lines));
      const report = tty.slice(tty.lastIndexOf("\r\x1b[K") + 4);
      assert.match(report, /^Replayed 49152 page records/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
