/**
 * Byte-level vectors for every record type and command, including the reference's own byte
 * examples, PACKAGED nesting, footer-less and configuration-less streams, and the optional
 * MEM_SIZE fields.
 */
import assert from "node:assert/strict";
import { hex, parseBytes } from "../_helpers.ts";
import { miniStream, page, TINY_VMDESC, writeTinyDeviceBody } from "../_build.ts";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import type {
  BlockRecord,
  CommandRecord,
  MigRecord,
  RamRecord,
} from "../../src/protocol/records.ts";

const HEADER = "5145564d 00000003";
const CONFIG = "07 0000000d 70632d6934343066782d372e32"; // "pc-i440fx-7.2"

function ram(recs: MigRecord[]): RamRecord[] {
  return recs.filter((r): r is RamRecord => r.kind === "ram");
}

Deno.test("the reference's RAM example bytes parse to MEM_SIZE, named PAGE, CONTINUE PAGE, CONTINUE ZERO, EOS", async () => {
  const acpi = "14 2f726f6d40657463 2f61637069 2f7461626c6573"; // "/rom@etc/acpi/tables"
  const bytes = hex(
    HEADER + CONFIG +
      "01 00000001 03 72616d 00000000 00000004" + // START 'ram' v4
      "0000000008020004 06 70632e72616d 0000000008000000 " + acpi +
      " 0000000000020000 0000000000000010" +
      "7e 00000001" +
      "02 00000001" +
      "0000000000001008 06 70632e72616d" + "11".repeat(4096) +
      "0000000000002028" + "22".repeat(4096) +
      "0000000000003022 00" +
      "0000000000000010 7e 00000001" +
      "00",
  );
  const recs = await parseBytes(bytes);
  const r = ram(recs);
  assert.deepEqual(r.map((x) => x.type), ["mem_size", "eos", "page", "page", "zero", "eos"]);
  assert.equal(r[0].total, 0x08020000);
  assert.deepEqual(r[0].blocks, [{ name: "pc.ram", size: 0x08000000 }, {
    name: "/rom@etc/acpi/tables",
    size: 0x20000,
  }]);
  assert.deepEqual([r[2].block, r[2].addr, r[2].cont, r[2].data![0]], [
    "pc.ram",
    0x1000,
    false,
    0x11,
  ]);
  assert.deepEqual([r[3].block, r[3].addr, r[3].cont, r[3].data![4095]], [
    "pc.ram",
    0x2000,
    true,
    0x22,
  ]);
  assert.deepEqual([r[4].type, r[4].addr, r[4].fill, r[4].cont], ["zero", 0x3000, 0, true]);
  assert.equal(r[2].offset, 8 + 18 + 17 + 52 + 8 + 5 + 5);
  assert.equal(r[2].length, 8 + 7 + 4096);
  assert.equal(recs.at(-1)!.kind, "eof");
});

Deno.test("every command decodes from the reference's bytes", async () => {
  const body = "08 0001 0000" + // OPEN_RETURN_PATH
    "08 0002 0004 00000001" + // PING 1
    "08 0003 0010 0000000000201000 0000000000001000" + // POSTCOPY_ADVISE 16 bytes
    "08 0003 0000" + // POSTCOPY_ADVISE 0 bytes
    "08 0008 0000" + // ENABLE_COLO
    "08 0009 0000" + // POSTCOPY_RESUME
    "08 000a 0007 06 70632e72616d" + // RECV_BITMAP pc.ram
    "08 0006 0029 00 06 70632e72616d 00 0000000000001000 0000000000002000 0000000000010000 0000000000001000" +
    "08 0004 0000" + // LISTEN
    "08 000b 0000" + // SWITCHOVER_START
    "00";
  const recs = await parseBytes(hex(HEADER + CONFIG + body));
  const cmds = recs.filter((r): r is CommandRecord => r.kind === "command");
  assert.deepEqual(cmds.map((c) => c.name), [
    "OPEN_RETURN_PATH",
    "PING",
    "POSTCOPY_ADVISE",
    "POSTCOPY_ADVISE",
    "ENABLE_COLO",
    "POSTCOPY_RESUME",
    "RECV_BITMAP",
    "POSTCOPY_RAM_DISCARD",
    "POSTCOPY_LISTEN",
    "SWITCHOVER_START",
  ]);
  assert.equal(cmds[1].value, 1);
  assert.equal(cmds[2].hostPageSizes, 0x201000);
  assert.equal(cmds[2].targetPageSize, 4096);
  assert.equal(cmds[3].targetPageSize, undefined);
  assert.equal(cmds[6].block, "pc.ram");
  assert.equal(cmds[7].block, "pc.ram");
  assert.deepEqual(cmds[7].ranges, [{ start: 0x1000, length: 0x2000 }, {
    start: 0x10000,
    length: 0x1000,
  }]);
  assert.equal(cmds[7].length, 5 + 0x29);
});

Deno.test("PACKAGED: the nested stream is parsed recursively and the outer stream resumes after it", async () => {
  const inner = new ByteWriter();
  F.writeCommand(inner, 4); // LISTEN
  F.writeSectionFull(inner, "FULL", 3, "dev0", 0, 1);
  writeTinyDeviceBody(inner);
  F.writeFooter(inner, 3);
  F.writePing(inner, 3);
  F.writePing(inner, 0x42);
  F.writeCommand(inner, 5); // RUN
  const pkg = inner.result();
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writePing(w, 2);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, pkg.length);
  F.writeCommand(w, 7, len);
  w.bytes(pkg);
  F.writePing(w, 4);
  F.writeEof(w);
  const recs = await parseBytes(w.result(), { vmdesc: TINY_VMDESC, decodeDevices: true });
  const shape = recs.map((r) => `${r.depth}:${r.kind}${r.kind === "command" ? ":" + r.name : ""}`);
  assert.deepEqual(shape, [
    "0:header",
    "0:configuration",
    "0:command:PING",
    "0:command:PACKAGED",
    "1:command:POSTCOPY_LISTEN",
    "1:section",
    "1:device",
    "1:footer",
    "1:command:PING",
    "1:command:PING",
    "1:command:POSTCOPY_RUN",
    "1:package-end",
    "0:command:PING",
    "0:eof",
  ]);
  const pe = recs.find((r) => r.kind === "package-end")!;
  const pk = recs.find((r) => r.kind === "command" && r.name === "PACKAGED")!;
  assert.equal(pe.offset, pk.offset + pk.length + pkg.length);
  const dev = recs.find((r) => r.kind === "device");
  assert.deepEqual(dev?.kind === "device" && dev.fields, {
    a: 0xdeadbeef,
    arr: [1, 2],
    le: -2,
    s: { x: 7, y: -3 },
    "dev0/sub": { __version: 1, flag: true },
  });
});

Deno.test("PACKAGED within PACKAGED nests two levels deep", async () => {
  const lvl2 = new ByteWriter();
  F.writeCommand(lvl2, 5);
  const l2 = lvl2.result();
  const lvl1 = new ByteWriter();
  F.writeCommand(lvl1, 7, Uint8Array.of(0, 0, 0, l2.length));
  lvl1.bytes(l2);
  F.writeCommand(lvl1, 5);
  const l1 = lvl1.result();
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeCommand(w, 7, Uint8Array.of(0, 0, 0, l1.length));
  w.bytes(l1);
  F.writeEof(w);
  const recs = await parseBytes(w.result());
  assert.deepEqual(recs.filter((r) => r.kind === "package-end").map((r) => r.depth), [2, 1]);
});

Deno.test("the mini stream: records, CONTINUE carried across records, passes, XBZRLE coverage", async () => {
  const recs = await parseBytes(miniStream({ device: true }), { decodeDevices: true });
  const r = ram(recs).filter((x) => x.type !== "eos" && x.type !== "mem_size");
  assert.deepEqual(r.map((x) => [x.type, x.block, x.addr, x.cont, x.pass]), [
    ["page", "pc.ram", 0x1000, false, 1],
    ["zero", "pc.ram", 0x2000, true, 1],
    ["xbzrle", "pc.ram", 0x1000, true, 2],
    ["page", "pc.rom", 0x1000, false, 2],
    ["zero", "pc.ram", 0x0, false, 3],
  ]);
  assert.equal(r[2].covered, 4096);
  assert.deepEqual([...r[2].data!], [0xff, 0x1f, 0x01, 0x01]);
  assert.equal(recs.filter((x) => x.kind === "footer").length, 4);
  assert.equal(recs.at(-1)!.kind, "vmdesc");
});

Deno.test("streams without footers and without configuration parse (footers detected as absent)", async () => {
  const recs = await parseBytes(miniStream({ footers: false, configuration: false }));
  assert.equal(recs.filter((r) => r.kind === "footer").length, 0);
  assert.equal(recs.filter((r) => r.kind === "configuration").length, 0);
  assert.equal(ram(recs).filter((r) => r.type === "page").length, 2);
  const forced = await parseBytes(miniStream({ footers: false }), { footers: "off" });
  assert.equal(forced.filter((r) => r.kind === "footer").length, 0);
});

Deno.test("x-ignore-shared: the configuration announces it and each MEM_SIZE entry carries an address", async () => {
  const recs = await parseBytes(miniStream({ capabilities: ["x-ignore-shared"], mrAddr: true }));
  const cfg = recs.find((r) => r.kind === "configuration");
  assert.deepEqual(cfg?.kind === "configuration" && cfg.capabilities, ["x-ignore-shared"]);
  const ms = ram(recs).find((r) => r.type === "mem_size")!;
  assert.deepEqual(ms.blocks, [
    { name: "pc.ram", size: 32768, mrAddr: 0 },
    { name: "pc.rom", size: 8192, mrAddr: 0xfffc0000 },
  ]);
});

Deno.test("postcopy MEM_SIZE: a hugepage block's page size is read (given, or inferred from POSTCOPY_ADVISE)", async () => {
  const build = () => {
    const w = new ByteWriter();
    F.writeHeader(w);
    F.writeConfiguration(w, "pc-q35-7.2");
    F.writeCommand(w, 3, hex("0000000000201000 0000000000001000"));
    F.writeSectionFull(w, "START", 1, "ram", 0, 4);
    F.writeRamMemSize(w, [{ name: "mem0", size: 0x400000, pageSize: 0x200000 }, {
      name: "pc.rom",
      size: 0x20000,
    }]);
    F.writeRamEos(w);
    F.writeFooter(w, 1);
    F.writeEof(w);
    return w.result();
  };
  for (const opts of [{}, { hugePageBlocks: ["mem0"] }]) {
    const ms = ram(await parseBytes(build(), opts)).find((r) => r.type === "mem_size")!;
    assert.deepEqual(ms.blocks, [{ name: "mem0", size: 0x400000, pageSize: 0x200000 }, {
      name: "pc.rom",
      size: 0x20000,
    }]);
  }
});

Deno.test("COMPRESS_PAGE and MULTIFD_FLUSH records", async () => {
  const { deflateSync } = await import("node:zlib");
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 4096 }]);
  w.be64(0x200); // MULTIFD_FLUSH
  F.writeRamEos(w);
  F.writeSectionShort(w, "END", 1);
  F.writeRamCompressed(w, 0, new Uint8Array(deflateSync(page(3))), "pc.ram");
  F.writeRamEos(w);
  F.writeEof(w);
  const r = ram(await parseBytes(w.result()));
  assert.deepEqual(r.map((x) => x.type), ["mem_size", "multifd_flush", "eos", "compressed", "eos"]);
});

Deno.test("block migration records from the reference's bytes: data, zero block, progress, EOS", async () => {
  const name = "12 " +
    Array.from(
      new TextEncoder().encode("drive-virtio-disk0"),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
  const body = "01 00000001 05 626c6f636b 00000000 00000001" + // START block v1
    "0000000000100001 " + name + "5a".repeat(1 << 20) +
    "0000000000100009 " + name +
    "0000000000006404" +
    "0000000000000002" +
    "00";
  const recs = await parseBytes(hex(HEADER + body));
  const b = recs.filter((r): r is BlockRecord => r.kind === "block");
  assert.deepEqual(b.map((x) => [x.type, x.device, x.sector, x.percent]), [
    ["data", "drive-virtio-disk0", 2048, undefined],
    ["zero", "drive-virtio-disk0", 2048, undefined],
    ["progress", undefined, 50, 50],
    ["eos", undefined, 0, undefined],
  ]);
  assert.equal(b[0].data!.length, 1 << 20);
  assert.equal(b[0].data![12345], 0x5a);
});

Deno.test("the trailer is found exactly even when its length holds a '{' byte (0x17B)", async () => {
  const { locateTrailer } = await import("../../src/parse/trailer.ts");
  const json = `{"page_size":4096,"devices":[]${" ".repeat(0x17b - 31)}}`;
  assert.equal(json.length, 0x17b);
  const w = new ByteWriter();
  w.be32(0x7e000000).be32(3);
  F.writeEof(w);
  F.writeVmdesc(w, json);
  const bytes = w.result();
  const loc = locateTrailer(bytes);
  assert.ok(loc && loc !== "more");
  assert.equal(loc.marker, 9);
  assert.equal(loc.jsonLength, 0x17b);
});

Deno.test("early-setup devices: a FULL section before the RAM START parses from a file and from a pipe", async () => {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-10.2");
  F.writeSectionFull(w, "FULL", 3, "dev0", 0, 1);
  writeTinyDeviceBody(w);
  F.writeFooter(w, 3);
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 2 * 4096 }]);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeCommand(w, 11);
  F.writeSectionShort(w, "END", 1);
  F.writeRamPage(w, 4096, page(9), "pc.ram");
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  F.writeVmdesc(w, JSON.stringify(TINY_VMDESC));
  const bytes = w.result();
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/early.mig`, bytes);
  const { summarize } = await import("../_helpers.ts");
  const file = await summarize(`${dir}/early.mig`);
  assert.equal(file.error, undefined, file.error?.message);
  assert.deepEqual(file.summary.devices.map((d) => d.name), ["dev0"]);
  assert.equal(file.summary.ram.page, 1);
  const pipe = await summarize(ReadableStream.from([bytes]));
  assert.deepEqual(pipe.summary, file.summary);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--vmdesc sources: a JSON file, a plain capture, a gzip capture; anything else is refused", async () => {
  const { loadVmdesc } = await import("../../src/parse/input.ts");
  const { captureFile, CAPTURES_DIR } = await import("../_helpers.ts");
  const plain = await loadVmdesc(await captureFile("a_precopy_idle"));
  assert.equal(plain.devices.length, 33);
  const gz = await loadVmdesc(`${CAPTURES_DIR}/a_precopy_idle/capture.bin.gz`);
  assert.deepEqual(gz, plain);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/d.json`, "  " + JSON.stringify(TINY_VMDESC));
  assert.deepEqual(await loadVmdesc(`${dir}/d.json`), TINY_VMDESC);
  await Deno.writeFile(`${dir}/junk`, new Uint8Array(100).fill(7));
  await assert.rejects(loadVmdesc(`${dir}/junk`));
  await Deno.remove(dir, { recursive: true });
});
