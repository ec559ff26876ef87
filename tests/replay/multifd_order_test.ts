/**
 * Multifd ordering on hand-built channels: packets apply at the main stream's sync points, so a
 * page sent as data on a channel and later as a ZERO record on the main channel ends up zero —
 * with 7.2 framing (sync at every EOS) and 8.1+ framing (MULTIFD_FLUSH).
 */
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import { CMD } from "../../src/protocol/constants.ts";
import { runReplay } from "../../src/commands/replay.ts";
import { memoryOut } from "../../src/commands/io.ts";

const PAGE = 4096;

function channel(batches: { pages: [number, number][]; sync?: boolean }[]): Uint8Array {
  const w = new ByteWriter();
  w.be32(0x11223344).be32(1).zeros(56);
  let num = 0;
  for (const b of batches) {
    const start = w.offset;
    w.be32(0x11223344).be32(1).be32(b.sync ? 1 : 0).be32(128).be32(b.pages.length).be32(
      b.pages.length * PAGE,
    );
    w.be64(num++).zeros(32);
    const name = new Uint8Array(256);
    name.set(new TextEncoder().encode("pc.ram"));
    w.bytes(name);
    for (let i = 0; i < 128; i++) w.be64(i < b.pages.length ? b.pages[i][0] : 0);
    if (w.offset - start !== 320 + 1024) throw new Error("bad packet header size");
    for (const [, fill] of b.pages) w.bytes(new Uint8Array(PAGE).fill(fill));
  }
  return w.result();
}

async function run(main: Uint8Array, ch: Uint8Array): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/main.mig`, main);
  await Deno.writeFile(`${dir}/ch.bin`, ch);
  const r = await runReplay({
    input: `${dir}/main.mig`,
    out: `${dir}/out`,
    channels: [`${dir}/ch.bin`],
  }, memoryOut());
  assert.equal(r.code, 0, r.error);
  return await Deno.readFile(`${dir}/out/pc.ram.ram`);
}

Deno.test("7.2 framing: channel data up to each SYNC applies at the matching EOS, before later ZERO records", async () => {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 4 * PAGE }]);
  F.writeRamEos(w); // sync 1 (setup)
  F.writeSectionShort(w, "PART", 1);
  F.writeRamEos(w); // sync 2: page 1 data arrives on the channel
  F.writeSectionShort(w, "END", 1);
  F.writeRamZero(w, PAGE, "pc.ram"); // then page 1 becomes zero on the main channel
  F.writeRamEos(w); // sync 3
  F.writeEof(w);
  const ch = channel([{ pages: [], sync: true }, { pages: [[PAGE, 0xaa], [2 * PAGE, 0xbb]] }, {
    pages: [],
    sync: true,
  }, {
    pages: [],
    sync: true,
  }]);
  const img = await run(w.result(), ch);
  assert.ok(img.subarray(PAGE, 2 * PAGE).every((b) => b === 0), "the later ZERO record wins");
  assert.ok(img.subarray(2 * PAGE, 3 * PAGE).every((b) => b === 0xbb));
});

Deno.test("8.1+ framing: channel data applies at MULTIFD_FLUSH, not at every EOS", async () => {
  // Pass 1 sends page 2 as a ZERO record on the main channel in a late PART; pass 2 sends it as
  // data on the channel. Draining a batch at every EOS (7.2 rules) would apply pass 2's data
  // too early and let the pass-1 ZERO record win.
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 4 * PAGE }]);
  w.be64(0x200); // setup flush
  F.writeRamEos(w);
  for (let k = 0; k < 2; k++) {
    F.writeSectionShort(w, "PART", 1);
    F.writeRamEos(w);
  }
  F.writeSectionShort(w, "PART", 1);
  F.writeRamZero(w, 2 * PAGE, "pc.ram"); // pass 1
  F.writeRamEos(w);
  for (let k = 0; k < 2; k++) {
    F.writeSectionShort(w, "PART", 1);
    w.be64(0x200); // end of pass 1, then end of pass 2
    F.writeRamEos(w);
  }
  F.writeSectionShort(w, "END", 1);
  F.writeRamEos(w);
  F.writeEof(w);
  const ch = channel([
    { pages: [], sync: true },
    { pages: [[PAGE, 0x55]] }, // pass 1
    { pages: [], sync: true },
    { pages: [[2 * PAGE, 0x44]] }, // pass 2
    { pages: [], sync: true },
  ]);
  const img = await run(w.result(), ch);
  assert.ok(img.subarray(PAGE, 2 * PAGE).every((b) => b === 0x55));
  assert.ok(
    img.subarray(2 * PAGE, 3 * PAGE).every((b) => b === 0x44),
    "pass-2 data after the pass-1 ZERO",
  );
});

/**
 * A channel: a SYNC packet (taken at the main stream's first EOS), then one packet of `normal`
 * pages of data (fill bytes) and `zero` page offsets (taken at the next EOS).
 */
function zeroPacketChannel(normal: [number, number][], zero: number[]): Uint8Array {
  const w = new ByteWriter();
  w.be32(0x11223344).be32(1).zeros(56);
  w.be32(0x11223344).be32(1).be32(1).be32(128).zeros(48).zeros(256).zeros(8 * 128);
  w.be32(0x11223344).be32(1).be32(0).be32(128).be32(normal.length).be32(normal.length * PAGE);
  w.be64(1).be32(zero.length).zeros(28);
  const name = new Uint8Array(256);
  name.set(new TextEncoder().encode("pc.ram"));
  w.bytes(name);
  const offs = [...normal.map(([o]) => o), ...zero];
  for (let i = 0; i < 128; i++) w.be64(offs[i] ?? 0);
  for (const [, fill] of normal) w.bytes(new Uint8Array(PAGE).fill(fill));
  return w.result();
}

Deno.test("multifd zero pages: a page never received keeps the destination's content; one received before is zeroed; postcopy zeroes both", async () => {
  for (const postcopy of [false, true]) {
    const w = new ByteWriter();
    F.writeHeader(w);
    if (postcopy) {
      const advise = new Uint8Array(16); // be64 host page size, be64 target page size
      new DataView(advise.buffer).setUint32(4, PAGE);
      new DataView(advise.buffer).setUint32(12, PAGE);
      F.writeCommand(w, CMD.POSTCOPY_ADVISE, advise);
    }
    F.writeSectionFull(w, "START", 1, "ram", 0, 4);
    F.writeRamMemSize(w, [{ name: "pc.ram", size: 4 * PAGE }]);
    F.writeRamEos(w);
    F.writeSectionShort(w, "END", 1);
    F.writeRamPage(w, 0, new Uint8Array(PAGE).fill(0x11), "pc.ram"); // page 0 received before
    F.writeRamEos(w);
    F.writeEof(w);
    const dir = await Deno.makeTempDir();
    await Deno.writeFile(`${dir}/main.mig`, w.result());
    await Deno.writeFile(`${dir}/ch.bin`, zeroPacketChannel([], [0, 2 * PAGE]));
    await Deno.writeFile(`${dir}/base`, new Uint8Array(4 * PAGE).fill(0x77));
    const r = await runReplay({
      input: `${dir}/main.mig`,
      out: `${dir}/out`,
      ram: new Map([["pc.ram", `${dir}/base`]]),
      channels: [`${dir}/ch.bin`],
    }, memoryOut());
    assert.equal(r.code, 0, r.error);
    const img = await Deno.readFile(`${dir}/out/pc.ram.ram`);
    assert.equal(img[0], 0, "page 0: received before, zeroed");
    assert.equal(img[2 * PAGE], postcopy ? 0 : 0x77, "page 2: never received");
    assert.equal(img[3 * PAGE], 0x77, "page 3: untouched");
    await Deno.remove(dir, { recursive: true });
  }
});
