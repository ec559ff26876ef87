/**
 * `replay --in-place` is all or nothing: a replay that fails part-way (a truncated capture, an
 * XBZRLE delta that does not apply) leaves the user's image byte-identical, and its undo journal
 * is gone; a replay that succeeds leaves no journal either.
 */
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import { page } from "../_build.ts";
import { captureFile, runCli, sha256, sha256File } from "../_helpers.ts";

const PAGE = 4096;

/** A copy of `src` with a few bytes changed in pages a full replay writes. */
async function changedCopy(src: string, dst: string) {
  await Deno.copyFile(src, dst);
  const f = await Deno.open(dst, { write: true });
  for (const [at, bytes] of [[0x1005, [0x11, 0x22, 0x33]], [0x200000, [0x44]], [0x300ffc, [9]]]) {
    await f.seek(at as number, Deno.SeekMode.Start);
    await f.write(Uint8Array.from(bytes as number[]));
  }
  f.close();
}

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name);
}

Deno.test("--in-place with a capture truncated in its RAM section: exit 2, the image is byte-identical, no journal left", async () => {
  const cap = await captureFile("a_precopy_idle");
  const oracle = await captureFile("a_precopy_idle", "oracle.pc.ram");
  const dir = await Deno.makeTempDir();
  const tmp = `${dir}/tmp`;
  await Deno.mkdir(tmp);
  // Half of a_precopy_idle: the bulk pass has written the first half of pc.ram by then.
  const bytes = await Deno.readFile(cap);
  await Deno.writeFile(`${dir}/cut.bin`, bytes.subarray(0, 7_000_000));
  await changedCopy(oracle, `${dir}/base.ram`);
  const before = await sha256File(`${dir}/base.ram`);
  const r = await runCli([
    "replay",
    `${dir}/cut.bin`,
    "--out",
    `${dir}/out`,
    "--ram",
    `pc.ram=${dir}/base.ram`,
    "--in-place",
  ], { env: { TMPDIR: tmp } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^migscope: offset 7000000 .*truncated/);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1);
  assert.equal(await sha256File(`${dir}/base.ram`), before, "the in-place image is unchanged");
  assert.deepEqual(entries(`${dir}/out`), []);
  assert.deepEqual(entries(tmp), [], "the undo journal is deleted");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--in-place: an XBZRLE delta that does not apply after pages were written restores the image; a good replay keeps its writes", async () => {
  const dir = await Deno.makeTempDir();
  const tmp = `${dir}/tmp`;
  await Deno.mkdir(tmp);
  const base = new Uint8Array(8 * PAGE).fill(0x42, 0, 3 * PAGE);
  base.fill(7, 7 * PAGE);
  await Deno.writeFile(`${dir}/base.ram`, base);
  const size = base.length;
  const stream = (bad: boolean) => {
    const w = new ByteWriter();
    F.writeHeader(w);
    F.writeSectionFull(w, "START", 1, "ram", 0, 4);
    F.writeRamMemSize(w, [{ name: "pc.ram", size }]);
    F.writeRamEos(w);
    F.writeFooter(w, 1);
    F.writeSectionShort(w, "PART", 1);
    F.writeRamPage(w, 0, page(0xaa), "pc.ram");
    F.writeRamZero(w, PAGE);
    F.writeRamPage(w, 5 * PAGE, page(0xbb));
    F.writeRamEos(w);
    F.writeFooter(w, 1);
    F.writeSectionShort(w, "END", 1);
    // A data run past the end of the page when `bad`: the delta does not apply.
    const delta = bad ? Uint8Array.of(0x00, 0xa0, 0x40, 1) : Uint8Array.of(0, 1, 9);
    F.writeRamXbzrle(w, 2 * PAGE, delta, "pc.ram");
    F.writeRamEos(w);
    F.writeFooter(w, 1);
    F.writeEof(w);
    return w.result();
  };
  await Deno.writeFile(`${dir}/bad.mig`, stream(true));
  await Deno.writeFile(`${dir}/good.mig`, stream(false));
  const args = (s: string) => [
    "replay",
    `${dir}/${s}.mig`,
    "--out",
    `${dir}/out`,
    "--ram",
    `pc.ram=${dir}/base.ram`,
    "--in-place",
  ];
  const bad = await runCli(args("bad"), { env: { TMPDIR: tmp } });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /^migscope: offset \d+ .*XBZRLE.*data run passes the page end/);
  assert.equal(
    await sha256File(`${dir}/base.ram`),
    await sha256(base),
    "identical after the failure",
  );
  assert.deepEqual(entries(tmp), []);
  const good = await runCli(args("good"), { env: { TMPDIR: tmp } });
  assert.equal(good.code, 0, good.stderr);
  const img = await Deno.readFile(`${dir}/base.ram`);
  const want = base.slice();
  want.fill(0xaa, 0, PAGE);
  want.fill(0, PAGE, 2 * PAGE);
  want[2 * PAGE] = 9;
  want.fill(0xbb, 5 * PAGE, 6 * PAGE);
  assert.equal(
    await sha256(img),
    await sha256(want),
    "the writes of a replay that succeeds are kept",
  );
  assert.deepEqual(entries(tmp), [], "no journal after success");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--in-place disk: a capture cut after a chunk was applied leaves the disk (with a partial last 4 KiB unit) byte-identical", async () => {
  const dir = await Deno.makeTempDir();
  const size = (2 << 20) + 512;
  const disk = new Uint8Array(size).fill(0x5a);
  disk.fill(0, 4096, 8192);
  await Deno.writeFile(`${dir}/disk.raw`, disk);
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "START", 1, "block", 0, 1);
  F.writeBlockChunk(w, 0, "hd0", new Uint8Array(1 << 20).fill(1));
  F.writeBlockChunk(w, 2048, "hd0", null); // ZERO_BLOCK over the second MiB
  F.writeBlockChunk(w, 4096, "hd0", new Uint8Array(1 << 20).fill(3)); // the tail: 512 bytes
  F.writeBlockEos(w);
  F.writeEof(w);
  const full = w.result();
  await Deno.writeFile(`${dir}/cut.mig`, full.subarray(0, full.length - 100));
  const r = await runCli([
    "replay",
    `${dir}/cut.mig`,
    "--out",
    `${dir}/out`,
    "--disk",
    `hd0=${dir}/disk.raw`,
    "--in-place",
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /truncated/);
  assert.equal(
    await sha256File(`${dir}/disk.raw`),
    await sha256(disk),
    "identical after the failure",
  );
  await Deno.remove(dir, { recursive: true });
});
