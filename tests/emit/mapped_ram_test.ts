/**
 * mapped-ram: the QEMU 10.2 capture (bitmaps, stale slots, oracle), and files written by
 * `emit --mapped-ram` — layout rules, bitmap edge cases, round trips through replay.
 */
import assert from "node:assert/strict";
import { captureFile, CAPTURES_DIR, runCli, sha256File, summarize } from "../_helpers.ts";
import { bytesAccess } from "../../src/wire/random_access.ts";
import { emitMappedRam } from "../../src/emit/mapped_ram.ts";
import { runReplay } from "../../src/commands/replay.ts";
import { memoryOut } from "../../src/commands/io.ts";
import { runInspect } from "../../src/commands/inspect.ts";
import { ramFileName } from "../../src/replay/names.ts";
import { ramImage } from "../../tools/samples.ts";

const PAGE = 4096;
const layout = JSON.parse(
  Deno.readTextFileSync(`${CAPTURES_DIR}/m1b_mapped_ram_single/mapped-ram-layout.json`),
);

async function inspectJson(path: string) {
  const out = memoryOut();
  const r = await runInspect(
    { input: path, format: "json", records: false, deviceState: false },
    out,
  );
  return { r, doc: JSON.parse(out.text()) };
}

Deno.test("m1b_mapped_ram_single: inspect counts each block's bitmap like the layout file", async () => {
  const { r, doc } = await inspectJson(await captureFile("m1b_mapped_ram_single"));
  assert.equal(r.code, 0, r.error);
  for (const [i, b] of layout.blocks.entries()) {
    const got = doc.summary.ram.blocks[i];
    assert.equal(got.name, b.idstr);
    assert.equal(got.mappedRam.present, b.bitmap_set_bits, b.idstr);
    assert.equal(got.mappedRam.zero, b.pages - b.bitmap_set_bits);
    assert.equal(got.mappedRam.pagesOffset, b.pages_offset);
  }
});

Deno.test("m1b_mapped_ram_single: replay equals QEMU's destination RAM; verify reports the 32 stale slots", async () => {
  const dir = await Deno.makeTempDir();
  const out = memoryOut();
  const r = await runReplay({
    input: await captureFile("m1b_mapped_ram_single"),
    out: dir,
    json: true,
    expect: new Map([["pc.ram", await captureFile("m1b_mapped_ram_single", "oracle.pc.ram")]]),
  }, out);
  assert.equal(r.code, 0, r.error);
  const doc = JSON.parse(out.text());
  assert.equal(doc.verify.equal, true);
  assert.equal(
    doc.findingCounts["stale-slot"],
    layout.blocks[0].check_vs_oracle.clear_bit_pages_whose_file_slot_is_nonzero_stale,
  );
  const m = JSON.parse(
    Deno.readTextFileSync(`${CAPTURES_DIR}/m1b_mapped_ram_single/manifest.json`),
  );
  assert.equal(
    await sha256File(`${dir}/${ramFileName("pc.ram")}`),
    m.files["oracle.pc.ram.gz"].sha256_uncompressed,
  );
  const vram = `${CAPTURES_DIR}/m1b_mapped_ram_single/oracle-other.0000_00_02.0_vga.vram.bin.gz`;
  assert.equal(
    await sha256File(`${dir}/${ramFileName("0000:00:02.0/vga.vram")}`),
    m.files["oracle-other.0000_00_02.0_vga.vram.bin.gz"]?.sha256_uncompressed ??
      await sha256File(vram),
  );
});

Deno.test("mapped-ram from a pipe: a clear one-line error (the pages sit at fixed offsets)", async () => {
  const r = await runCli(["replay", "-", "--out", await Deno.makeTempDir()], {
    stdin: await captureFile("m1b_mapped_ram_single"),
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^migscope: offset \d+ .*mapped-ram.*seekable/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});

Deno.test("emit --mapped-ram: QEMU's layout rules, and a round trip with stale slots and a partial last bitmap word", async () => {
  const dir = await Deno.makeTempDir();
  // 70 pages: the bitmap is two u64 words, the second one partial.
  const r0 = ramImage(70, 3);
  for (let p = 0; p < 70; p += 5) r0.fill(0x40 + p, p * PAGE, p * PAGE + 100); // non-zero pages to zero later
  const r1 = r0.slice();
  const zeroed: number[] = [];
  for (let p = 0; p < 70; p += 10) {
    r1.fill(0, p * PAGE, (p + 1) * PAGE);
    zeroed.push(p);
  }
  r1[69 * PAGE + 7] = 0x99; // the last page ends non-zero
  const rom = ramImage(3, 4);
  const st = await emitMappedRam(
    [{ name: "pc.ram", image: bytesAccess(r0), rounds: [bytesAccess(r1)] }, {
      name: "pc.rom",
      image: bytesAccess(rom),
    }],
    `${dir}/m.mig`,
  );
  const { summary, error } = await summarize(`${dir}/m.mig`);
  assert.equal(error, undefined);
  const [a, b] = summary.ram.blocks;
  // header 8, configuration 18 + capabilities subsection 47, START 17, MEM_SIZE 8, "pc.ram" 7, length 8
  assert.equal(a.mappedRam!.headerOffset, 8 + 18 + 47 + 17 + 8 + 7 + 8);
  assert.equal(a.mappedRam!.bitmapOffset, a.mappedRam!.headerOffset + 28);
  for (const blk of [a, b]) assert.equal(blk.mappedRam!.pagesOffset % (1 << 20), 0);
  // The next entry starts right after the previous block's slots.
  assert.equal(b.mappedRam!.headerOffset, a.mappedRam!.pagesOffset + 70 * PAGE + 1 + 6 + 8);
  const present = Array.from(
    { length: 70 },
    (_, p) => r1.subarray(p * PAGE, (p + 1) * PAGE).some((x) => x !== 0),
  );
  const romPresent =
    [0, 1, 2].filter((p) => rom.subarray(p * PAGE, (p + 1) * PAGE).some((x) => x !== 0)).length;
  assert.equal(st.present, present.filter(Boolean).length + romPresent);
  const out = memoryOut();
  await Deno.writeFile(`${dir}/expect.ram`, r1);
  const r = await runReplay({
    input: `${dir}/m.mig`,
    out: `${dir}/out`,
    json: true,
    expect: new Map([["pc.ram", `${dir}/expect.ram`]]),
  }, out);
  assert.equal(r.code, 0, r.error);
  const doc = JSON.parse(out.text());
  assert.equal(doc.verify.equal, true);
  assert.deepEqual(await Deno.readFile(`${dir}/out/${ramFileName("pc.rom")}`), rom);
  // Pages non-zero in round 0 and zero in round 1 keep their old bytes in the slot: stale.
  const stale = zeroed.filter((p) => r0.subarray(p * PAGE, (p + 1) * PAGE).some((x) => x !== 0));
  assert.equal(doc.findingCounts["stale-slot"], stale.length);
});

Deno.test("mapped-ram bitmap edge cases: padding bits are ignored and reported; header checks", async () => {
  const dir = await Deno.makeTempDir();
  const img = ramImage(66, 5);
  img.fill(1, 65 * PAGE, 66 * PAGE);
  await emitMappedRam([{ name: "pc.ram", image: bytesAccess(img) }], `${dir}/m.mig`);
  const bytes = await Deno.readFile(`${dir}/m.mig`);
  const { summary } = await summarize(`${dir}/m.mig`);
  const m = summary.ram.blocks[0].mappedRam!;
  // Set bit 66 (past the 66 pages) in the second word.
  const padded = bytes.slice();
  padded[m.bitmapOffset + 8] |= 1 << 2;
  await Deno.writeFile(`${dir}/pad.mig`, padded);
  await Deno.writeFile(`${dir}/expect.ram`, img);
  const out = memoryOut();
  const r = await runReplay({
    input: `${dir}/pad.mig`,
    out: `${dir}/o1`,
    json: true,
    expect: new Map([["pc.ram", `${dir}/expect.ram`]]),
  }, out);
  assert.equal(r.code, 0, r.error);
  const doc = JSON.parse(out.text());
  assert.equal(doc.findingCounts["bitmap-padding"], 1);
  assert.equal(doc.verify.equal, true);
  // Header version 2 and a misaligned pages offset are rejected by the parser.
  const v2 = bytes.slice();
  v2[m.headerOffset + 3] = 2;
  await Deno.writeFile(`${dir}/v2.mig`, v2);
  const e1 = await summarize(`${dir}/v2.mig`);
  assert.match(e1.error!.message, /mapped-ram header version 2 is newer than 1/);
  const mis = bytes.slice();
  mis[m.headerOffset + 27] = 0x10;
  await Deno.writeFile(`${dir}/mis.mig`, mis);
  const e2 = await summarize(`${dir}/mis.mig`);
  assert.match(e2.error!.message, /pages offset .* is not page aligned/);
  // A file cut inside the page slots cannot be replayed.
  await Deno.writeFile(`${dir}/cut.mig`, bytes.subarray(0, m.pagesOffset + 10 * PAGE));
  const cut = await runReplay({ input: `${dir}/cut.mig`, out: `${dir}/o2` }, memoryOut());
  assert.equal(cut.code, 2);
  assert.match(cut.error!, /truncated|past the end/);
});
