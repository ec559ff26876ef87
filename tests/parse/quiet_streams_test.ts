/**
 * Streams that must not pass quietly, and fail the same way in inspect, replay and verify:
 * a stray `00` read as QEMU_VM_EOF before sections that follow, a COMPRESS_PAGE whose length
 * swallows the next record, a POSTCOPY_RAM_DISCARD for a block the stream never announced.
 */
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { captureFile, runCli } from "../_helpers.ts";
import { page } from "../_build.ts";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import { CMD } from "../../src/protocol/constants.ts";
import { openInput } from "../../src/parse/input.ts";
import { parseStream } from "../../src/parse/stream.ts";

const PAGE = 4096;

/** inspect, replay and verify on `path`; each must exit 2 with the same single line. */
async function allFail(path: string, dir: string, pattern: RegExp): Promise<string> {
  await Deno.writeFile(`${dir}/zero.ram`, new Uint8Array(16 * PAGE));
  const runs = [
    await runCli(["inspect", path]),
    await runCli(["replay", path, "--out", `${dir}/r`]),
    await runCli(["verify", path, "--out", `${dir}/v`, "--expect", `pc.ram=${dir}/zero.ram`]),
  ];
  const lines = runs.map((r, k) => {
    assert.equal(r.code, 2, `command ${k}: ${r.stderr}`);
    const l = r.stderr.trim().split("\n");
    assert.equal(l.length, 1, r.stderr);
    assert.match(l[0], /^migscope: offset \d+ \(0x[0-9a-f]+\)/);
    assert.match(l[0], pattern);
    return l[0];
  });
  assert.equal(lines[1], lines[0], "replay fails where inspect does");
  assert.equal(lines[2], lines[0], "verify fails where inspect does");
  for (const out of ["r", "v"]) {
    const left = [];
    try {
      for await (const e of Deno.readDir(`${dir}/${out}`)) left.push(e.name);
    } catch { /* no directory */ }
    assert.ok(!left.some((n) => n.endsWith(".ram")), `${out}: ${left}`);
  }
  return lines[0];
}

/** Offset of the first record of `kind` matching `pred` in a capture. */
async function findOffset(
  path: string,
  pred: (r: { kind: string; type?: string; idstr?: string }) => boolean,
) {
  const input = await openInput(path);
  try {
    for await (const rec of parseStream(input.reader, { vmdesc: input.vmdesc, payloads: false })) {
      if (pred(rec as { kind: string })) return rec.offset;
    }
  } finally {
    input.close();
  }
  throw new Error("not found");
}

function insertByte(bytes: Uint8Array, at: number, b: number): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes.subarray(0, at));
  out[at] = b;
  out.set(bytes.subarray(at), at + 1);
  return out;
}

Deno.test("a stray 00 before the RAM END section of a real capture: inspect, replay and verify fail at it", async () => {
  const path = await captureFile("a_precopy_idle");
  const end = await findOffset(path, (r) => r.kind === "section" && r.type === "END");
  const bytes = insertByte(await Deno.readFile(path), end, 0);
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/stray.mig`, bytes);
  const line = await allFail(`${dir}/stray.mig`, dir, /END of section \d+ 'ram'.*stray/);
  assert.match(line, new RegExp(`^migscope: offset ${end} `));
  // inspect still prints what it read before the stray byte.
  const r = await runCli(["inspect", `${dir}/stray.mig`]);
  assert.match(r.stdout, /Timeline/);
  assert.match(r.stdout, /stopped: offset \d+/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a stray 00 before the first device section is an error too; real trailing garbage stays a warning", async () => {
  const path = await captureFile("a_precopy_idle");
  const full = await findOffset(path, (r) => r.kind === "section" && r.type === "FULL");
  const original = await Deno.readFile(path);
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/stray.mig`, insertByte(original, full, 0));
  await allFail(`${dir}/stray.mig`, dir, /a FULL section header for 'timer'/);
  // Bytes after EOF that are no record at all: QEMU only warns, and so does inspect.
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeEof(w);
  w.bytes(new TextEncoder().encode("garbage"));
  await Deno.writeFile(`${dir}/trailing.mig`, w.result());
  const t = await runCli(["inspect", `${dir}/trailing.mig`]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /warning: 7 bytes after EOF/);
  await Deno.remove(dir, { recursive: true });
});

/** A stream with one COMPRESS_PAGE (page 1) followed by a ZERO record and a PAGE. */
function compressedStream(grow: number): Uint8Array {
  const z = new Uint8Array(deflateSync(page(0x42)));
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 16 * PAGE }]);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "PART", 1);
  F.writeRamPage(w, 0, page(1), "pc.ram");
  const at = w.offset;
  F.writeRamCompressed(w, PAGE, z);
  F.writeRamZero(w, 2 * PAGE); // 9 bytes
  F.writeRamPage(w, 3 * PAGE, page(3));
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  const bytes = w.result();
  new DataView(bytes.buffer).setUint32(at + 8, z.length + grow);
  return bytes;
}

Deno.test("a COMPRESS_PAGE whose length grew by 10 swallows the next record: an error everywhere", async () => {
  const dir = await Deno.makeTempDir();
  // The unchanged stream replays and verifies.
  await Deno.writeFile(`${dir}/ok.mig`, compressedStream(0));
  const expected = new Uint8Array(16 * PAGE);
  expected.fill(1, 0, PAGE);
  expected.fill(0x42, PAGE, 2 * PAGE);
  expected.fill(3, 3 * PAGE, 4 * PAGE);
  await Deno.writeFile(`${dir}/expected.ram`, expected);
  const ok = await runCli([
    "verify",
    `${dir}/ok.mig`,
    "--out",
    `${dir}/o`,
    "--expect",
    `pc.ram=${dir}/expected.ram`,
  ]);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  await Deno.writeFile(`${dir}/grown.mig`, compressedStream(10));
  await allFail(
    `${dir}/grown.mig`,
    dir,
    /COMPRESS_PAGE record at \d+: COMPRESS_PAGE payload of \d+ bytes has 10 bytes after the end of its zlib stream/,
  );
  await Deno.remove(dir, { recursive: true });
});

function discardStream(block: string, start: number, length: number): Uint8Array {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 16 * PAGE }]);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  const payload = new ByteWriter();
  payload.u8(0).counted(block).u8(0).be64(start).be64(length);
  F.writeCommand(w, CMD.POSTCOPY_RAM_DISCARD, payload.result());
  F.writeSectionShort(w, "END", 1);
  F.writeRamPage(w, 0, page(1), "pc.ram");
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  return w.result();
}

Deno.test("POSTCOPY_RAM_DISCARD for a block MEM_SIZE did not announce, or outside its block: rejected by the parser", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/unknown.mig`, discardStream("pc.rom", 0, PAGE));
  await allFail(
    `${dir}/unknown.mig`,
    dir,
    /names RAM block 'pc\.rom', which MEM_SIZE did not announce/,
  );
  await Deno.writeFile(`${dir}/outside.mig`, discardStream("pc.ram", 15 * PAGE, 2 * PAGE));
  await allFail(`${dir}/outside.mig`, dir, /range 0xf000\+0x2000 is outside 'pc\.ram'/);
  await Deno.writeFile(`${dir}/unaligned.mig`, discardStream("pc.ram", 100, PAGE));
  await allFail(`${dir}/unaligned.mig`, dir, /not in whole 4096-byte pages/);
  await Deno.remove(dir, { recursive: true });
});
