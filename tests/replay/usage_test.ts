/**
 * replay and verify refuse what they would not act on, with one line and exit 2: names the
 * stream does not have (--ram/--disk/--disk-size/--expect). Nothing is left behind and no input
 * changes. Real captures through the real CLI.
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
