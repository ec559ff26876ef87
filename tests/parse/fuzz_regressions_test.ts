/**
 * Minimal reproducers of bugs the fuzzer (tools/fuzz.ts) found, each kept as a regression test.
 */
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import { runInspect } from "../../src/commands/inspect.ts";
import { runReplay } from "../../src/commands/replay.ts";
import { memoryOut } from "../../src/commands/io.ts";
import { deflateSync, gzipSync } from "node:zlib";
import { TINY_VMDESC, writeTinyDeviceBody } from "../_build.ts";
import type { VmDesc } from "../../src/protocol/records.ts";

async function both(bytes: Uint8Array) {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/case.mig`, bytes);
  const i = await runInspect({
    input: `${dir}/case.mig`,
    format: "text",
    records: false,
    deviceState: false,
  }, memoryOut());
  const r = await runReplay({ input: `${dir}/case.mig`, out: `${dir}/out` }, memoryOut());
  return { i, r };
}

Deno.test("fuzz #1: a section idstr full of control bytes gives a one-line, bounded error", async () => {
  // Found as "name length := 255" over a device section: the idstr swallowed the following bytes.
  const w = new ByteWriter();
  F.writeHeader(w);
  w.u8(4).be32(3).counted(Uint8Array.from({ length: 255 }, (_, k) => (k * 7) & 0xff)).be32(0).be32(
    1,
  );
  F.writeEof(w);
  const { i, r } = await both(w.result());
  for (const res of [i, r]) {
    assert.equal(res.code, 2);
    assert.ok(!res.error!.includes("\n") && !res.error!.includes("\r"), JSON.stringify(res.error));
    assert.ok(res.error!.length < 600, `${res.error!.length} characters`);
    assert.match(res.error!, /^offset \d+/);
  }
});

Deno.test("fuzz #2: a block chunk at an absurd sector of a disk of unknown size is an error, not a crash", async () => {
  // Found as "delete 5 bytes" inside a block section: a chunk header landed at sector ~2^54.
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "START", 1, "block", 0, 1);
  w.be64((1n << 62n) | 9n).counted("disk0"); // DEVICE_BLOCK | ZERO_BLOCK at a huge sector
  F.writeBlockEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  const { i, r } = await both(w.result());
  assert.equal(i.code, 2, "the parser rejects a chunk offset past 2^53 bytes");
  assert.match(i.error!, /sector .* out of range/);
  assert.equal(r.code, 2);
});

Deno.test("fuzz #2b: a chunk far beyond any plausible size of an unsized disk is refused with advice", async () => {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "START", 1, "block", 0, 1);
  w.be64((1n << 50n) | 9n).counted("disk0"); // 2^50 bytes = 1 PiB
  F.writeBlockEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  const { r } = await both(w.result());
  assert.equal(r.code, 2);
  assert.match(r.error!, /beyond .* --disk-size/);
});

// Classes found by the structure-aware mutator (tools/fuzz_structure.ts), one reproducer each.

/** A small valid stream: two pages, a device section and a vmdesc trailer. */
function smallStream(vmdesc: unknown = TINY_VMDESC): Uint8Array {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 4 * 4096 }]);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "END", 1);
  F.writeRamPage(w, 0, new Uint8Array(4096).fill(1), "pc.ram");
  F.writeRamZero(w, 4096);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionFull(w, "FULL", 3, "dev0", 0, 1);
  writeTinyDeviceBody(w);
  F.writeFooter(w, 3);
  F.writeEof(w);
  F.writeVmdesc(w, JSON.stringify(vmdesc));
  return w.result();
}

function failsWithOneLine(res: { code: number; error?: string }, pattern: RegExp) {
  assert.equal(res.code, 2, res.error);
  assert.ok(!res.error!.includes("\n"), res.error);
  assert.match(res.error!, /^offset \d+ \(0x[0-9a-f]+\)/);
  assert.match(res.error!, pattern);
}

Deno.test("fuzz #3: a case gzipped in several members reads as one stream (was: failed to write whole buffer)", async () => {
  const bytes = smallStream();
  const gz = [bytes.subarray(0, 100), bytes.subarray(100, 5000), bytes.subarray(5000)]
    .map((p) => new Uint8Array(gzipSync(p)));
  const { i, r } = await both(Uint8Array.from(gz.flatMap((m) => [...m])));
  assert.equal(i.code, 0, i.error);
  assert.equal(r.code, 0, r.error);
});

Deno.test("fuzz #4: a gzip case truncated or with a flipped bit is one line with the offset (was: no offset)", async () => {
  const gz = new Uint8Array(gzipSync(smallStream()));
  const { i, r } = await both(gz.subarray(0, gz.length - 20));
  failsWithOneLine(i, /gzip input \S+ is truncated/);
  failsWithOneLine(r, /gzip input \S+ is truncated/);
  const flipped = gz.slice();
  flipped[gz.length - 6] ^= 1; // inside the CRC-32 of the only member
  const f = await both(flipped);
  failsWithOneLine(f.i, /gzip input \S+ is corrupt/);
  failsWithOneLine(f.r, /gzip input \S+ is corrupt/);
});

Deno.test("fuzz #5: vmdesc array_len 2^24 of structs of 2^24 elements is refused at once (was: hang, out of memory)", async () => {
  const vmdesc = structuredClone(TINY_VMDESC);
  vmdesc.devices[0].fields![0] = {
    name: "a",
    type: "struct",
    size: 0,
    array_len: 1 << 24,
    struct: {
      vmsd_name: "s",
      version: 1,
      fields: [{ name: "in", type: "struct", size: 0, array_len: 1 << 24 }],
    },
  };
  const t0 = performance.now();
  const { i, r } = await both(smallStream(vmdesc));
  assert.ok(performance.now() - t0 < 10_000);
  failsWithOneLine(i, /describes at least \d+ bytes/);
  failsWithOneLine(r, /describes at least \d+ bytes/);
});

Deno.test("fuzz #6: hostile vmdesc shapes are one line with the offset (was: TypeError)", async () => {
  for (
    const edit of [
      (d: VmDesc) => (d.devices as unknown[])[0] = null,
      (d: VmDesc) => {
        (d.devices[0] as unknown as Record<string, unknown>).fields = {};
      },
      (d: VmDesc) => d.devices[0].fields![1].array_len = -256,
      (d: VmDesc) => d.page_size = 0,
    ]
  ) {
    const vmdesc = structuredClone(TINY_VMDESC);
    edit(vmdesc);
    const { i, r } = await both(smallStream(vmdesc));
    failsWithOneLine(i, /vmdesc JSON/);
    failsWithOneLine(r, /vmdesc JSON/);
  }
});

Deno.test("fuzz #7: a stray 00 at a record boundary is an error, not a stream that ends early (was: exit 0)", async () => {
  const bytes = smallStream();
  const at = 26; // the RAM START section, right after the configuration
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes.subarray(0, at));
  out.set(bytes.subarray(at), at + 1);
  const { i, r } = await both(out);
  failsWithOneLine(i, /QEMU_VM_EOF is followed by a START section header for 'ram'/);
  failsWithOneLine(r, /QEMU_VM_EOF is followed by/);
});

Deno.test("fuzz #8: a COMPRESS_PAGE length nudged by ±1 or +10 is an error (was: exit 0 for +1 and +10)", async () => {
  const z = new Uint8Array(deflateSync(new Uint8Array(4096).fill(7)));
  for (const delta of [1, 10, -1]) {
    const w = new ByteWriter();
    F.writeHeader(w);
    F.writeSectionFull(w, "START", 1, "ram", 0, 4);
    F.writeRamMemSize(w, [{ name: "pc.ram", size: 4 * 4096 }]);
    F.writeRamEos(w);
    F.writeSectionShort(w, "END", 1);
    const at = w.offset + 8 + 7; // after the be64 header and the counted "pc.ram"
    F.writeRamCompressed(w, 0, z, "pc.ram");
    F.writeRamZero(w, 4096); // 9 bytes
    F.writeRamZero(w, 8192); // 9 bytes
    F.writeRamEos(w);
    F.writeEof(w);
    const bytes = w.result();
    new DataView(bytes.buffer).setUint32(at, z.length + delta);
    const { i, r } = await both(bytes);
    failsWithOneLine(i, /COMPRESS_PAGE/);
    failsWithOneLine(r, /COMPRESS_PAGE/);
  }
});
