/**
 * Replay semantics on hand-built streams: every rule a QEMU destination applies, findings,
 * path safety of names, and inputs that are never damaged.
 */
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import { runReplay } from "../../src/commands/replay.ts";
import { memoryOut } from "../../src/commands/io.ts";
import { diskFileName, ramFileName, safeName } from "../../src/replay/names.ts";
import { page } from "../_build.ts";
import { runCli, sha256 } from "../_helpers.ts";

const PAGE = 4096;

function stream(
  body: (w: ByteWriter) => void,
  blocks = [{ name: "pc.ram", size: 8 * PAGE }],
): Uint8Array {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, blocks);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "END", 1);
  body(w);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  return w.result();
}

async function replay(bytes: Uint8Array, extra: Partial<Parameters<typeof runReplay>[0]> = {}) {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/s.mig`, bytes);
  const out = memoryOut();
  const r = await runReplay(
    { input: `${dir}/s.mig`, out: `${dir}/out`, json: true, ...extra },
    out,
  );
  return { r, dir, doc: r.code !== 2 ? JSON.parse(out.text()) : undefined };
}

Deno.test("a ZERO record after data clears the page (and is reported); the last record of a page wins", async () => {
  const { r, dir, doc } = await replay(stream((w) => {
    F.writeRamPage(w, PAGE, page(0xaa), "pc.ram");
    F.writeRamZero(w, PAGE);
    F.writeRamPage(w, 2 * PAGE, page(0xbb));
    F.writeRamXbzrle(w, 2 * PAGE, Uint8Array.of(0, 1, 0xcc));
    F.writeRamPage(w, 3 * PAGE, page(0x11));
  }));
  assert.equal(r.code, 0, r.error);
  const img = await Deno.readFile(`${dir}/out/pc.ram.ram`);
  assert.ok(img.subarray(PAGE, 2 * PAGE).every((b) => b === 0), "ZERO after data cleared the page");
  assert.equal(img[2 * PAGE], 0xcc);
  assert.ok(img.subarray(2 * PAGE + 1, 3 * PAGE).every((b) => b === 0xbb));
  assert.equal(doc.findingCounts["zero-after-data"], 1);
  assert.equal(doc.findings[0].addr, PAGE);
});

Deno.test("XBZRLE decodes against the page's current, non-zero content of a base image", async () => {
  const base = new Uint8Array(8 * PAGE).fill(0x42);
  const dir0 = await Deno.makeTempDir();
  await Deno.writeFile(`${dir0}/base.ram`, base);
  const { r, dir } = await replay(
    stream((w) => F.writeRamXbzrle(w, 5 * PAGE, Uint8Array.of(0x0a, 0x02, 0x01, 0x02), "pc.ram")),
    { ram: new Map([["pc.ram", `${dir0}/base.ram`]]) },
  );
  assert.equal(r.code, 0, r.error);
  const img = await Deno.readFile(`${dir}/out/pc.ram.ram`);
  const expect = base.slice();
  expect[5 * PAGE + 10] = 1;
  expect[5 * PAGE + 11] = 2;
  assert.deepEqual(img, expect);
  assert.deepEqual(await Deno.readFile(`${dir0}/base.ram`), base, "the base image is untouched");
});

Deno.test("pages no record wrote keep the base image's content, and non-zero ones are reported", async () => {
  const base = new Uint8Array(8 * PAGE);
  base[6 * PAGE + 3] = 9;
  const dir0 = await Deno.makeTempDir();
  await Deno.writeFile(`${dir0}/base.ram`, base);
  const { r, doc, dir } = await replay(stream((w) => F.writeRamZero(w, 0, "pc.ram")), {
    ram: new Map([["pc.ram", `${dir0}/base.ram`]]),
  });
  assert.equal(r.code, 0);
  assert.equal(doc.findingCounts["unwritten-nonzero"], 1);
  assert.equal(doc.findings[0].addr, 6 * PAGE);
  assert.equal((await Deno.readFile(`${dir}/out/pc.ram.ram`))[6 * PAGE + 3], 9);
});

Deno.test("--in-place writes into the given image; without it the image is copied", async () => {
  const dir0 = await Deno.makeTempDir();
  await Deno.writeFile(`${dir0}/base.ram`, new Uint8Array(8 * PAGE));
  const s = stream((w) => F.writeRamPage(w, 0, page(7), "pc.ram"));
  const { r } = await replay(s, { ram: new Map([["pc.ram", `${dir0}/base.ram`]]), inPlace: true });
  assert.equal(r.code, 0, r.error);
  assert.equal((await Deno.readFile(`${dir0}/base.ram`))[0], 7);
});

Deno.test("a ZERO record with a non-zero fill byte fills the page (7.2) and is reported; --strict-zero-fill rejects it", async () => {
  const s = stream((w) => F.writeRamZero(w, PAGE, "pc.ram", 0x5a));
  const { r, doc, dir } = await replay(s);
  assert.equal(r.code, 0);
  assert.equal(doc.findingCounts["zero-fill"], 1);
  assert.ok(
    (await Deno.readFile(`${dir}/out/pc.ram.ram`)).subarray(PAGE, 2 * PAGE).every((b) =>
      b === 0x5a
    ),
  );
  const strict = await replay(s, { strictZeroFill: true });
  assert.equal(strict.r.code, 2);
  assert.match(strict.r.error!, /fill byte 0x5a/);
});

Deno.test("POSTCOPY_RAM_DISCARD zeroes its byte ranges", async () => {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 8 * PAGE }]);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "PART", 1);
  for (let p = 0; p < 8; p++) F.writeRamPage(w, p * PAGE, page(p + 1), p ? undefined : "pc.ram");
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  const payload = new ByteWriter();
  payload.u8(0).counted("pc.ram").u8(0).be64(2 * PAGE).be64(2 * PAGE).be64(7 * PAGE).be64(PAGE);
  F.writeCommand(w, 6, payload.result());
  F.writeEof(w);
  const { r, dir, doc } = await replay(w.result());
  assert.equal(r.code, 0, r.error);
  const img = await Deno.readFile(`${dir}/out/pc.ram.ram`);
  const zeroPages = [...Array(8).keys()].filter((p) =>
    img.subarray(p * PAGE, (p + 1) * PAGE).every((b) => b === 0)
  );
  assert.deepEqual(zeroPages, [2, 3, 7]);
  assert.equal(doc.ram[0].discarded, 3);
});

Deno.test("incremental block migration onto a base disk: only sent chunks change, zero blocks clear, tails are clipped", async () => {
  const size = 3 * (1 << 20) + 8192;
  const base = new Uint8Array(size).fill(0x33);
  const dir0 = await Deno.makeTempDir();
  await Deno.writeFile(`${dir0}/base.disk`, base);
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "START", 1, "block", 0, 1);
  F.writeBlockEos(w);
  F.writeSectionShort(w, "END", 1);
  F.writeBlockChunk(w, 2048, "hd0", null); // chunk 1 → zeros
  F.writeBlockChunk(w, 3 * 2048, "hd0", new Uint8Array(1 << 20).fill(0x77)); // last, partial chunk
  F.writeBlockChunk(w, 5 * 2048, "hd0", new Uint8Array(1 << 20).fill(0x99)); // past the end
  F.writeBlockProgress(w, 100);
  F.writeBlockEos(w);
  F.writeEof(w);
  const { r, dir, doc } = await replay(w.result(), {
    disks: new Map([["hd0", `${dir0}/base.disk`]]),
  });
  assert.equal(r.code, 0, r.error);
  const got = await Deno.readFile(`${dir}/out/${diskFileName("hd0")}`);
  const want = base.slice();
  want.fill(0, 1 << 20, 2 << 20);
  want.fill(0x77, 3 << 20);
  assert.equal(got.length, size, "the device size is kept");
  assert.equal(await sha256(got), await sha256(want));
  assert.equal(doc.findingCounts["chunk-past-end"], 1);
  assert.deepEqual(await Deno.readFile(`${dir0}/base.disk`), base, "the base disk is untouched");
});

Deno.test("hostile block and device names never escape the output directory", async () => {
  const names = [
    "../x",
    "/etc/passwd",
    "..",
    ".",
    "a/../../b",
    "nul\u0000byte",
    "x".repeat(255),
    "%2E%2E",
  ];
  const mapped = names.map(ramFileName);
  for (const m of mapped) {
    assert.ok(!m.includes("/") && m !== "." && m !== ".." && !m.startsWith("."), m);
    assert.ok(m.length <= 255, `${m.length} chars`);
  }
  assert.equal(new Set(mapped).size, names.length, "the mapping is one-to-one");
  assert.equal(safeName("0000:00:02.0/vga.vram"), "0000%3A00%3A02.0%2Fvga.vram");
  assert.equal(safeName("/rom@etc/acpi/tables"), "%2From%40etc%2Facpi%2Ftables");
  const blocks = names.map((name) => ({ name, size: PAGE }));
  const { r, dir } = await replay(stream((w) => {
    for (const b of blocks) F.writeRamPage(w, 0, page(1), b.name);
  }, blocks));
  assert.equal(r.code, 0, r.error);
  const files = [...Deno.readDirSync(`${dir}/out`)].map((e) => e.name).sort();
  assert.deepEqual(files, [...mapped].sort());
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["out", "s.mig"]);
});

Deno.test("a target image of the wrong size is refused, and nothing is left behind", async () => {
  const dir0 = await Deno.makeTempDir();
  await Deno.writeFile(`${dir0}/small.ram`, new Uint8Array(PAGE));
  const { r, dir } = await replay(stream((w) => F.writeRamZero(w, 0, "pc.ram")), {
    ram: new Map([["pc.ram", `${dir0}/small.ram`]]),
  });
  assert.equal(r.code, 2);
  assert.match(r.error!, /pc\.ram: image .* is 4096 bytes, the stream says 32768/);
  assert.deepEqual([...Deno.readDirSync(`${dir}/out`)], []);
});

Deno.test("a truncated stream: exit 2 with offset, inputs untouched, no output left looking complete", async () => {
  const full = stream((w) => {
    for (let p = 0; p < 8; p++) F.writeRamPage(w, p * PAGE, page(p + 3), p ? undefined : "pc.ram");
  });
  const dir = await Deno.makeTempDir();
  const base = new Uint8Array(8 * PAGE).fill(1);
  await Deno.writeFile(`${dir}/base.ram`, base);
  await Deno.writeFile(`${dir}/cut.mig`, full.subarray(0, full.length - 3 * PAGE));
  const before = await sha256(await Deno.readFile(`${dir}/cut.mig`));
  const res = await runCli([
    "replay",
    `${dir}/cut.mig`,
    "--out",
    `${dir}/out`,
    "--ram",
    `pc.ram=${dir}/base.ram`,
  ]);
  assert.equal(res.code, 2);
  assert.match(
    res.stderr.trim(),
    /^migscope: offset \d+ \(0x[0-9a-f]+\), section 1 'ram' END at \d+, .*truncated/,
  );
  assert.equal(res.stderr.trim().split("\n").length, 1);
  assert.deepEqual([...Deno.readDirSync(`${dir}/out`)], []);
  assert.deepEqual(await Deno.readFile(`${dir}/base.ram`), base);
  assert.equal(await sha256(await Deno.readFile(`${dir}/cut.mig`)), before);
});

Deno.test("COMPRESS_PAGE inflates one page; a payload that inflates to the wrong size is an error", async () => {
  const { deflateSync } = await import("node:zlib");
  const good = stream((w) =>
    F.writeRamCompressed(w, PAGE, new Uint8Array(deflateSync(page(0x61))), "pc.ram")
  );
  const a = await replay(good);
  assert.equal(a.r.code, 0, a.r.error);
  assert.ok(
    (await Deno.readFile(`${a.dir}/out/pc.ram.ram`)).subarray(PAGE, 2 * PAGE).every((b) =>
      b === 0x61
    ),
  );
  const bad = stream((w) =>
    F.writeRamCompressed(w, 0, new Uint8Array(deflateSync(new Uint8Array(100))), "pc.ram")
  );
  const b = await replay(bad);
  assert.equal(b.r.code, 2);
  assert.match(b.r.error!, /inflates to 100 bytes/);
});

Deno.test("--disk-size bounds a disk without a base image; without it the disk ends at its last chunk", async () => {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "START", 1, "block", 0, 1);
  F.writeBlockChunk(w, 0, "hd0", new Uint8Array(1 << 20).fill(1));
  F.writeBlockChunk(w, 3 * 2048, "hd0", new Uint8Array(1 << 20).fill(2));
  F.writeBlockEos(w);
  F.writeEof(w);
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/s.mig`, w.result());
  const sized = await runCli([
    "replay",
    `${dir}/s.mig`,
    "--out",
    `${dir}/a`,
    "--disk-size",
    "hd0=2M",
    "--json",
  ]);
  assert.equal(sized.code, 0, sized.stderr);
  assert.equal((await Deno.stat(`${dir}/a/hd0.disk`)).size, 2 << 20);
  assert.equal(JSON.parse(sized.stdout).findingCounts["chunk-past-end"], 1);
  const unsized = await runCli(["replay", `${dir}/s.mig`, "--out", `${dir}/b`]);
  assert.equal(unsized.code, 0, unsized.stderr);
  const got = await Deno.readFile(`${dir}/b/hd0.disk`);
  assert.equal(got.length, 4 << 20);
  assert.equal(got[(3 << 20) + 5], 2);
  assert.ok(got.subarray(1 << 20, 3 << 20).every((b) => b === 0));
  const bad = await runCli([
    "replay",
    `${dir}/s.mig`,
    "--out",
    `${dir}/c`,
    "--disk-size",
    "hd0=lots",
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad size 'lots'/);
  await Deno.remove(dir, { recursive: true });
});
