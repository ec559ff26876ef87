/**
 * emit: round trips through replay, --stats against inspect's counts, QEMU's XBZRLE cache
 * decisions in crafted scenarios, and byte-identical regeneration of the samples.
 */
import { bytesAccess } from "../../src/wire/random_access.ts";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  type EmitDisk,
  type EmitOptions,
  type EmitRamBlock,
  emitStream,
} from "../../src/emit/emitter.ts";
import { runReplay } from "../../src/commands/replay.ts";
import { memoryOut } from "../../src/commands/io.ts";
import { ramFileName } from "../../src/replay/names.ts";
import { parseBytes, summarize } from "../_helpers.ts";
import { dirtyRound, diskImage, prng, ramImage, writeInputs } from "../../tools/samples.ts";
import { main } from "../../src/cli/main.ts";
import { xbzrleEncode } from "../../src/xbzrle/encode.ts";
import type { RamRecord } from "../../src/protocol/records.ts";

const PAGE = 4096;

async function emitToBytes(ram: EmitRamBlock[], disks: EmitDisk[], opts: EmitOptions = {}) {
  const parts: Uint8Array[] = [];
  const stats = await emitStream(ram, disks, (b) => {
    parts.push(b);
    return Promise.resolve();
  }, opts);
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { bytes: out, stats };
}

async function replayBytes(bytes: Uint8Array): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/s.mig`, bytes);
  const r = await runReplay({ input: `${dir}/s.mig`, out: `${dir}/out` }, memoryOut());
  assert.equal(r.code, 0, r.error);
  return `${dir}/out`;
}

Deno.test("emit → replay gives back the last round's images and the disk (zero pages, dense XBZRLE, overflow, misses)", async () => {
  const r0 = ramImage(2048, 11);
  const r1 = dirtyRound(r0, 12, 600);
  const r2 = dirtyRound(r1, 13, 600);
  // Dense edits: every other byte of some pages (overflow), a few bytes of others.
  const r3 = r2.slice();
  const rand = prng(14);
  for (let p = 0; p < 40; p++) for (let i = 0; i < PAGE; i += 2) r3[p * PAGE + i] ^= 0xff;
  for (let p = 100; p < 400; p++) r3[p * PAGE + (rand() % PAGE)] ^= 0x5a;
  const rom = ramImage(16, 15);
  const disk = diskImage(6 * (1 << 20) + 12345, 16);
  const { bytes, stats } = await emitToBytes(
    [
      {
        name: "pc.ram",
        image: bytesAccess(r0),
        rounds: [bytesAccess(r1), bytesAccess(r2), bytesAccess(r3)],
      },
      { name: "/rom@etc/acpi/tables", image: bytesAccess(rom) },
    ],
    [{ name: "drive-virtio-disk0", image: bytesAccess(disk) }],
    { xbzrleCacheSize: 1 << 20, zeroBlocks: true },
  );
  assert.ok(stats.xbzrle!.records > 100, "XBZRLE used");
  assert.ok(stats.xbzrle!.overflow > 0, "overflows happened");
  assert.ok(stats.xbzrle!.cacheMiss > 0, "cache misses happened");
  assert.ok(stats.block!.zero > 0 && stats.block!.data > 0);
  const out = await replayBytes(bytes);
  assert.deepEqual(await Deno.readFile(`${out}/${ramFileName("pc.ram")}`), r3);
  assert.deepEqual(await Deno.readFile(`${out}/${ramFileName("/rom@etc/acpi/tables")}`), rom);
  const got = await Deno.readFile(`${out}/drive-virtio-disk0.disk`);
  // Without a size the disk ends at its last chunk's end; the device's bytes must match.
  assert.deepEqual(got.subarray(0, disk.length), disk);
  assert.ok(got.subarray(disk.length).every((b) => b === 0));
});

Deno.test("emit --stats equals what inspect counts in the emitted stream", async () => {
  const r0 = ramImage(1024, 21);
  const r1 = dirtyRound(r0, 22, 300);
  const r2 = dirtyRound(r1, 23, 300);
  const { bytes, stats } = await emitToBytes(
    [{ name: "pc.ram", image: bytesAccess(r0), rounds: [bytesAccess(r1), bytesAccess(r2)] }],
    [{ name: "d", image: bytesAccess(diskImage(3 << 20, 1)) }],
    { xbzrleCacheSize: 4 << 20, zeroBlocks: true },
  );
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/s.mig`, bytes);
  const { summary, error } = await summarize(`${dir}/s.mig`);
  assert.equal(error, undefined);
  assert.equal(summary.ram.page, stats.normal);
  assert.equal(summary.ram.zero, stats.duplicate);
  assert.equal(summary.ram.xbzrle, stats.xbzrle!.records);
  assert.equal(summary.ram.totalBytes, stats.ramBytes);
  assert.equal(summary.stream.bytes, stats.streamBytes);
  assert.equal(summary.passes.length, stats.passes);
  assert.equal(summary.block.data, stats.block!.data);
  assert.equal(summary.block.zero, stats.block!.zero);
  assert.equal(summary.block.progress, stats.block!.progress);
  // QEMU counts XBZRLE bytes as record bytes minus the 8-byte header, plus a page per overflow.
  assert.equal(
    stats.xbzrle!.bytes,
    summary.ram.xbzrleRecordBytes - 8 * summary.ram.xbzrle + 4096 * stats.xbzrle!.overflow,
  );
});

/** The RAM page records of a stream as [pass, type, addr] triples. */
async function decisions(bytes: Uint8Array): Promise<RamRecord[]> {
  return (await parseBytes(bytes)).filter((r): r is RamRecord =>
    r.kind === "ram" && r.type !== "eos" && r.type !== "mem_size"
  );
}

Deno.test("XBZRLE decisions: none in the bulk pass, miss then hit, overflow, zero resets the cache, final stage", async () => {
  const pages = 4;
  const img = (fill: (p: Uint8Array[]) => void, from?: Uint8Array) => {
    const b = from ? from.slice() : new Uint8Array(pages * PAGE);
    fill(Array.from({ length: pages }, (_, i) => b.subarray(i * PAGE, (i + 1) * PAGE)));
    return b;
  };
  const r0 = img((p) => p.forEach((x, i) => x.fill(i + 1)));
  const r1 = img((p) => {
    p[0][10] = 0xee;
    p[1][10] = 0xee;
    p[2].fill(0);
  }, r0);
  const r2 = img((p) => {
    p[0][11] = 0xdd;
    for (let i = 0; i < PAGE; i += 2) p[1][i] ^= 0xff;
    p[2][5] = 7;
  }, r1);
  const r3 = img((p) => {
    p[0][12] = 0xcc;
  }, r2);
  const { bytes, stats } = await emitToBytes(
    [{
      name: "pc.ram",
      image: bytesAccess(r0),
      rounds: [bytesAccess(r1), bytesAccess(r2), bytesAccess(r3)],
    }],
    [],
    { xbzrleCacheSize: 1 << 20 },
  );
  const d = (await decisions(bytes)).map((r) => `${r.pass}:${r.type}@${r.addr / PAGE}`);
  assert.deepEqual(d, [
    "1:page@0",
    "1:page@1",
    "1:page@2",
    "1:page@3", // bulk: never XBZRLE
    "2:page@0",
    "2:page@1",
    "2:zero@2", // first dirty pass: misses (inserted), zero page caches zeros
    "3:xbzrle@0",
    "3:page@1",
    "3:xbzrle@2", // hit; overflow → PAGE; delta against the zero page
    "4:xbzrle@0", // final stage
  ]);
  const recs = await decisions(bytes);
  const enc = new Uint8Array(PAGE);
  const n = xbzrleEncode(new Uint8Array(PAGE), r2.subarray(2 * PAGE, 3 * PAGE), enc);
  assert.deepEqual(recs[9].data, enc.subarray(0, n), "page 2 is diffed against zeros");
  assert.deepEqual(stats.xbzrle, {
    pages: 4,
    records: 3,
    bytes: stats.xbzrle!.bytes,
    cacheMiss: 2,
    overflow: 1,
    skipped: 0,
  });
});

Deno.test("XBZRLE cache age rule: a fresh slot blocks inserts until age + 2 ≤ the sync count", async () => {
  // A 2-slot cache: pages 0 and 2 share slot 0.
  const pages = 4;
  let cur = new Uint8Array(pages * PAGE).fill(1);
  const rounds: Uint8Array[] = [];
  for (let k = 0; k < 5; k++) {
    cur = cur.slice();
    cur[(k === 0 ? 0 : 2) * PAGE + k] ^= 0x80; // round 1 dirties page 0, later rounds page 2
    if (k === 0) cur[2 * PAGE + 100] ^= 0x40; // and page 2 too
    rounds.push(cur);
  }
  const { bytes, stats } = await emitToBytes(
    [{
      name: "pc.ram",
      image: bytesAccess(new Uint8Array(pages * PAGE).fill(1)),
      rounds: rounds.map(bytesAccess),
    }],
    [],
    { xbzrleCacheSize: 2 * PAGE },
  );
  const d = (await decisions(bytes)).filter((r) => r.pass > 1).map((r) =>
    `${r.pass}:${r.type}@${r.addr / PAGE}`
  );
  assert.deepEqual(d, [
    "2:page@0",
    "2:page@2", // sync 2: page 0 inserted; page 2's insert fails (slot fresh: 2+2 > 2)
    "3:page@2", // sync 3: still fresh (2+2 > 3): miss again
    "4:page@2", // sync 4: 2+2 ≤ 4 → page 2 replaces page 0 in the slot (miss, inserted)
    "5:xbzrle@2", // sync 5: hit
    "6:xbzrle@2", // final stage: hit
  ]);
  assert.equal(stats.xbzrle!.cacheMiss, 4);
});

Deno.test("samples/ are regenerated byte-identically by their recorded emit commands", async () => {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const dir = await Deno.makeTempDir();
  for (const [name, args] of Object.entries(await writeInputs(dir))) {
    assert.equal(await main(["emit", ...args, "-o", `${dir}/${name}`]), 0);
    assert.deepEqual(
      await Deno.readFile(`${dir}/${name}`),
      await Deno.readFile(`${root}samples/${name}`),
      name,
    );
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("emit refuses mismatched inputs with one-line errors", async () => {
  await assert.rejects(
    emitToBytes([{ name: "pc.ram", image: bytesAccess(new Uint8Array(1000)) }], []),
    /not a multiple of the page size/,
  );
  await assert.rejects(
    emitToBytes([{
      name: "pc.ram",
      image: bytesAccess(new Uint8Array(8192)),
      rounds: [bytesAccess(new Uint8Array(4096))],
    }], []),
    /round 1 image of 'pc.ram' is 4096 bytes/,
  );
});

Deno.test("emit --no-footers --machine: a footer-less stream with that machine type, replayed exactly", async () => {
  const dir = await Deno.makeTempDir();
  const img = ramImage(64, 31);
  await Deno.writeFile(`${dir}/ram`, img);
  assert.equal(
    await main([
      "emit",
      "--ram",
      `pc.ram=${dir}/ram`,
      "--no-footers",
      "--machine",
      "pc-q35-7.2",
      "-o",
      `${dir}/s.mig`,
    ]),
    0,
  );
  const { summary, error } = await summarize(`${dir}/s.mig`);
  assert.equal(error, undefined);
  assert.equal(summary.sections.FOOTER, 0);
  assert.equal(summary.stream.footers, false);
  assert.equal(summary.configuration.machine, "pc-q35-7.2");
  const out = await replayBytes(await Deno.readFile(`${dir}/s.mig`));
  assert.deepEqual(await Deno.readFile(`${out}/${ramFileName("pc.ram")}`), img);
});
