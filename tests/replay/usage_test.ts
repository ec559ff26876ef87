/**
 * replay and verify refuse what they would not act on, before any work, with one line and
 * exit 2: names the stream does not have (--ram/--disk/--disk-size/--expect), options that
 * contradict each other, output directories they cannot write, base images that are outputs.
 * Nothing is left behind and no input changes. Real captures through the real CLI.
 */
import assert from "node:assert/strict";
import { captureFile, runCli, sha256File } from "../_helpers.ts";

/** Exit 2 and exactly one line on stderr, matching `re`. */
function oneLineError(r: { code: number; stdout: string; stderr: string }, re: RegExp) {
  assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^migscope: /);
  assert.match(lines[0], re);
}

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("replay --ram NAME=IMG for a block the stream lacks: exit 2 naming it and the stream's blocks; no output", async () => {
  const cap = await captureFile("a_precopy_idle");
  const oracle = await captureFile("a_precopy_idle", "oracle.pc.ram");
  const dir = await Deno.makeTempDir();
  const r = await runCli(["replay", cap, "--out", `${dir}/out`, "--ram", `nosuch=${oracle}`]);
  oneLineError(r, /--ram nosuch: the stream has no RAM block .*'pc\.ram'.*'pc\.bios'/);
  assert.equal(r.stdout, "");
  assert.deepEqual(entries(`${dir}/out`), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replay --disk / --disk-size for a disk the stream lacks: exit 2 naming disk0; no output", async () => {
  const cap = await captureFile("c_block_zero_blocks");
  const disk = await captureFile("c_block_zero_blocks", "oracle.disk.raw");
  const dir = await Deno.makeTempDir();
  const before = await sha256File(disk);
  const a = await runCli(["replay", cap, "--out", `${dir}/a`, "--disk", `hd9=${disk}`]);
  oneLineError(a, /--disk hd9: the stream has no block-migration disk .*\(it has: 'disk0'\)/);
  assert.deepEqual(entries(`${dir}/a`), []);
  const b = await runCli(["replay", cap, "--out", `${dir}/b`, "--disk-size", "hd9=64M"]);
  oneLineError(b, /--disk-size hd9: the stream has no block-migration disk .*'disk0'/);
  assert.deepEqual(entries(`${dir}/b`), []);
  // In place too: the image is not touched, and the error is the same.
  const c = await runCli([
    "replay",
    cap,
    "--out",
    `${dir}/c`,
    "--in-place",
    "--disk",
    `hd9=${disk}`,
  ]);
  oneLineError(c, /--disk hd9: the stream has no block-migration disk/);
  assert.equal(await sha256File(disk), before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("verify --out with an --expect name the stream lacks: exit 2 before the outputs are committed", async () => {
  const cap = await captureFile("a_precopy_idle");
  const oracle = await captureFile("a_precopy_idle", "oracle.pc.ram");
  const dir = await Deno.makeTempDir();
  const r = await runCli(["verify", cap, "--out", `${dir}/out`, "--expect", `pc.rum=${oracle}`]);
  oneLineError(r, /--expect pc\.rum: the stream has no RAM block or disk of that name/);
  assert.equal(r.stdout, "");
  assert.deepEqual(entries(`${dir}/out`), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replay: options nothing would act on, or that contradict each other, are exit 2", async () => {
  const cap = await captureFile("c_block_zero_blocks");
  const disk = await captureFile("c_block_zero_blocks", "oracle.disk.raw");
  const dir = await Deno.makeTempDir();
  const out = `${dir}/out`;
  oneLineError(
    await runCli(["replay", cap, "--out", out, "--in-place"]),
    /--in-place writes into the --ram\/--disk images/,
  );
  oneLineError(
    await runCli([
      "replay",
      cap,
      "--out",
      out,
      "--disk",
      `disk0=${disk}`,
      "--disk-size",
      "disk0=1M",
    ]),
    /--disk-size disk0: disk 'disk0' has a base image/,
  );
  oneLineError(
    await runCli(["replay", cap, "--out", out, "--json", "--quiet"]),
    /--quiet .* --json/,
  );
  assert.throws(() => Deno.statSync(out), Deno.errors.NotFound, "no work was done");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replay --quiet prints nothing and exits 0; verify --quiet says it with the exit code", async () => {
  const cap = await captureFile("a_precopy_idle");
  const oracle = await captureFile("a_precopy_idle", "oracle.pc.ram");
  const dir = await Deno.makeTempDir();
  const r = await runCli(["replay", cap, "--out", `${dir}/out`, "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, "");
  assert.ok(entries(`${dir}/out`).includes("pc.ram.ram"));
  const v = await runCli(["verify", cap, "--expect", `pc.ram=${oracle}`, "--quiet"]);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout + v.stderr, "");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replay --out that is a file, or under a file: exit 2 naming the path, before any work", async () => {
  const cap = await captureFile("a_precopy_idle");
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/file`, "keep me");
  oneLineError(
    await runCli(["replay", cap, "--out", `${dir}/file`]),
    new RegExp(`--out ${dir}/file: exists and is not a directory`),
  );
  oneLineError(
    await runCli(["replay", cap, "--out", `${dir}/file/sub/out`]),
    new RegExp(`--out ${dir}/file/sub/out: cannot create the directory: Not a directory`),
  );
  assert.equal(await Deno.readTextFile(`${dir}/file`), "keep me");
  assert.deepEqual(entries(dir), ["file"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replay --ram whose image is the file the replay writes: exit 2, the image is not replaced", async () => {
  const cap = await captureFile("a_precopy_idle");
  const dir = await Deno.makeTempDir();
  const base = `${dir}/pc.ram.ram`;
  await Deno.writeFile(base, new Uint8Array(64 << 20).fill(1, 0, 4096));
  const before = await sha256File(base);
  const r = await runCli(["replay", cap, "--out", dir, "--ram", `pc.ram=${base}`]);
  oneLineError(r, /--ram pc\.ram=.*: this is the file the replay writes for 'pc\.ram'/);
  assert.equal(await sha256File(base), before);
  assert.deepEqual(entries(dir), ["pc.ram.ram"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("verify with an unusable --vmdesc: exit 2, one line, no migscope-verify-* folder left in TMPDIR", async () => {
  const cap = await captureFile("a_precopy_idle");
  const oracle = await captureFile("a_precopy_idle", "oracle.pc.ram");
  const tmp = await Deno.makeTempDir();
  await Deno.writeTextFile(`${tmp}/bad.json`, "{ not json");
  const env = { TMPDIR: `${tmp}/t` };
  await Deno.mkdir(env.TMPDIR);
  for (const vmdesc of [`${tmp}/bad.json`, `${tmp}/missing.json`]) {
    const r = await runCli(["verify", cap, "--expect", `pc.ram=${oracle}`, "--vmdesc", vmdesc], {
      env,
    });
    oneLineError(r, new RegExp(`--vmdesc ${vmdesc}`));
    assert.deepEqual(entries(env.TMPDIR), [], "nothing left in the temporary directory");
  }
  await Deno.remove(tmp, { recursive: true });
});
