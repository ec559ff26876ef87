/**
 * `migscope report` from the command line: the file written whole or not at all — bad input, a truncated stream, a bad output
 * directory, Ctrl-C each leave nothing and exit 2 / 130 with one line; stdin as input; and
 * --expect, whose replay's differing pages land on the map.
 */
import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";
import { embedded, MIGSCOPE, runReportCli } from "./_report.ts";

const SAMPLE = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "migscope-report-cli-" });
}

const files = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

function oneLine(stderr: string, pattern: RegExp) {
  assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
  assert.match(stderr, pattern);
}

Deno.test("report CLI: written whole, or nothing and one line (bad input, truncated, bad -o, usage)", async () => {
  const dir = await tempDir();
  try {
    const ok = await runReportCli([SAMPLE, "-o", `${dir}/ok.html`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /ok\.html: \d+ bytes/);
    assert.ok(embedded(await Deno.readTextFile(`${dir}/ok.html`)).summary.ram.xbzrle > 0);
    await Deno.writeTextFile(`${dir}/notes.txt`, "hello, not a stream\n");
    const text = await runReportCli([`${dir}/notes.txt`, "-o", `${dir}/t.html`]);
    assert.equal(text.code, 2);
    oneLine(text.stderr, /^migscope: report: .*not a QEMU migration stream/);
    const bytes = await Deno.readFile(SAMPLE);
    await Deno.writeFile(`${dir}/cut.mig`, bytes.subarray(0, bytes.length >> 1));
    const cut = await runReportCli([`${dir}/cut.mig`, "-o", `${dir}/cut.html`]);
    assert.equal(cut.code, 2);
    oneLine(cut.stderr, /^migscope: report: offset \d+ /);
    const noDir = await runReportCli([SAMPLE, "-o", `${dir}/missing/r.html`]);
    assert.equal(noDir.code, 2);
    oneLine(noDir.stderr, /does not exist/);
    const usage = await runReportCli([SAMPLE]);
    assert.equal(usage.code, 2);
    oneLine(usage.stderr, /report needs -o FILE .*see migscope help report/);
    const typo = await runReportCli([SAMPLE, "-o", `${dir}/x.html`, "--chanel", "a"]);
    oneLine(typo.stderr, /unknown option '--chanel' \(did you mean --channel\?\)/);
    const pipe = await runReportCli(["-", "--expect", `pc.ram=${SAMPLE}`, "-o", `${dir}/p.html`]);
    assert.equal(pipe.code, 2);
    oneLine(pipe.stderr, /--expect replays the input/);
    assert.deepEqual(files(dir), ["cut.mig", "notes.txt", "ok.html"], "nothing else was left");
    const help = await runReportCli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: migscope report INPUT -o REPORT.html/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report CLI: stdin as input; the same data as from the file", async () => {
  const dir = await tempDir();
  try {
    const r = await runReportCli(["-", "-o", `${dir}/in.html`], {
      stdin: await Deno.readFile(SAMPLE),
    });
    assert.equal(r.code, 0, r.stderr);
    await runReportCli([SAMPLE, "-o", `${dir}/file.html`]);
    const a = embedded(await Deno.readTextFile(`${dir}/in.html`));
    const b = embedded(await Deno.readTextFile(`${dir}/file.html`));
    assert.deepEqual(a.summary, b.summary);
    assert.deepEqual(a.ram, b.ram);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report CLI: Ctrl-C while the input is still arriving leaves nothing (exit 130)", async () => {
  const dir = await tempDir();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MIGSCOPE, "report", "-", "-o", `${dir}/r.html`],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    const bytes = await Deno.readFile(SAMPLE);
    await w.write(bytes.subarray(0, 100_000));
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    child.kill("SIGINT");
    const o = await child.output();
    await w.close().catch(() => {});
    assert.equal(o.code, 130, new TextDecoder().decode(o.stderr));
    assert.ok(performance.now() - t0 < 1500, "the read waiting for stdin ends at once");
    oneLine(new TextDecoder().decode(o.stderr), /^migscope: interrupted\n$/);
    assert.deepEqual(files(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report CLI: --expect replays and compares; the differing page is on the map", async () => {
  const dir = await tempDir();
  try {
    const rep = await runCli(["replay", SAMPLE, "--out", `${dir}/out`]);
    assert.equal(rep.code, 0, rep.stderr);
    const expected = await Deno.readFile(`${dir}/out/pc.ram.ram`);
    const same = await runReportCli([
      SAMPLE,
      "--expect",
      `pc.ram=${dir}/out/pc.ram.ram`,
      "-o",
      `${dir}/same.html`,
    ]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /every page as expected/);
    assert.equal(embedded(await Deno.readTextFile(`${dir}/same.html`)).verify?.equal, true);
    expected[5 * 4096 + 9] ^= 0xff;
    await Deno.writeFile(`${dir}/expected.ram`, expected);
    const r = await runReportCli([
      SAMPLE,
      "--expect",
      `pc.ram=${dir}/expected.ram`,
      "-o",
      `${dir}/diff.html`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 pages differ/);
    const data = embedded(await Deno.readTextFile(`${dir}/diff.html`));
    const v = data.verify!;
    const verify = JSON.parse(
      (await runCli(["verify", SAMPLE, "--expect", `pc.ram=${dir}/expected.ram`, "--json"])).stdout,
    );
    assert.deepEqual(
      v.images.map((i) => [i.pages, i.equal, i.different, i.diffs]),
      verify.verify.images.map(
        (
          i: { pages: number; equal: number; different: number; diffs: unknown },
        ) => [i.pages, i.equal, i.different, i.diffs],
      ),
      "the verdict and the last writer of verify --json",
    );
    const grid = data.ram.blocks.find((b) => b.name === "pc.ram")!;
    const cells = grid.diff!.flatMap((n, c) => (n ? [[c, n]] : []));
    assert.deepEqual(cells, [[Math.floor(5 / grid.cellPages), 1]]);
    assert.ok(!files(dir).some((f) => f.endsWith(".partial")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
