/**
 * A postcopy stream carries no vmdesc trailer, and its device sections sit inside PACKAGED,
 * whose length is on the wire: without a vmdesc they are reported as one undelimited range and
 * the stream is read on after the package, so the RAM pages sent after the switchover count and
 * replay.
 */
import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";
import { verifyPcRam } from "./_qemu10x_build.ts";
import { page, TINY_VMDESC, writeTinyDeviceBody } from "../_build.ts";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import { CMD } from "../../src/protocol/constants.ts";

const PAGE = 4096;

/** The nested stream of a postcopy package: LISTEN, two devices, PING 3, RUN. */
function packagePayload(o: { run?: boolean } = {}): Uint8Array {
  const w = new ByteWriter();
  F.writeCommand(w, CMD.POSTCOPY_LISTEN);
  F.writeSectionFull(w, "FULL", 3, "dev0", 0, 1);
  writeTinyDeviceBody(w);
  F.writeFooter(w, 3);
  F.writeSectionFull(w, "FULL", 4, "dev0", 1, 1);
  writeTinyDeviceBody(w);
  F.writeFooter(w, 4);
  F.writePing(w, 3);
  if (o.run ?? true) F.writeCommand(w, CMD.POSTCOPY_RUN);
  else F.writePing(w, 5);
  return w.result();
}

/**
 * A postcopy stream: precopy pages 0-3, a discard of page 2, the package, then pages 4-11
 * (and a ZERO for page 1) after it, EOF, no trailer. Returns the stream, the offset of the
 * first device section in the package and the end of the package.
 */
function postcopyStream(o: { run?: boolean } = {}) {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 2, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 16 * PAGE }]);
  F.writeRamEos(w);
  F.writeFooter(w, 2);
  F.writeSectionShort(w, "PART", 2);
  for (let p = 0; p < 4; p++) F.writeRamPage(w, p * PAGE, page(p + 1), p ? undefined : "pc.ram");
  F.writeRamEos(w);
  F.writeFooter(w, 2);
  const discard = new ByteWriter();
  discard.u8(0).counted("pc.ram").u8(0).be64(2 * PAGE).be64(PAGE);
  F.writeCommand(w, CMD.POSTCOPY_RAM_DISCARD, discard.result());
  F.writePing(w, 2);
  const pkg = packagePayload(o);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, pkg.length);
  F.writeCommand(w, CMD.PACKAGED, len);
  const pkgStart = w.offset;
  w.bytes(pkg);
  const firstDevice = pkgStart + 5;
  F.writePing(w, 4);
  F.writeSectionShort(w, "PART", 2);
  for (let p = 4; p < 10; p++) {
    F.writeRamPage(w, p * PAGE, page(p + 1), p === 4 ? "pc.ram" : undefined);
  }
  F.writeRamZero(w, PAGE);
  F.writeRamEos(w);
  F.writeFooter(w, 2);
  F.writeSectionShort(w, "END", 2);
  F.writeRamPage(w, 10 * PAGE, page(11));
  F.writeRamPage(w, 11 * PAGE, page(12));
  F.writeRamEos(w);
  F.writeFooter(w, 2);
  F.writeEof(w);
  return { bytes: w.result(), firstDevice, pkgEnd: pkgStart + pkg.length };
}

/** What the destination's RAM holds after the stream. */
function expectedRam(): Uint8Array {
  const ram = new Uint8Array(16 * PAGE);
  for (let p = 0; p < 12; p++) ram.fill(p + 1, p * PAGE, (p + 1) * PAGE);
  ram.fill(0, PAGE, 3 * PAGE); // ZERO for page 1 after the package, discard of page 2
  return ram;
}

Deno.test("postcopy without a vmdesc: inspect counts every RAM page, reporting the package's device sections as undelimited", async () => {
  const dir = await Deno.makeTempDir();
  const { bytes, firstDevice, pkgEnd } = postcopyStream();
  await Deno.writeFile(`${dir}/postcopy.mig`, bytes);
  for (const args of [[`${dir}/postcopy.mig`], ["-"]]) {
    const stdin = args[0] === "-" ? bytes : undefined;
    const r = await runCli(["inspect", "--json", ...args], { stdin });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    const s = doc.summary;
    assert.equal(s.ram.page, 12, "4 pages before the package and 8 after it");
    assert.equal(s.ram.zero, 1);
    assert.equal(s.ram.blocks[0].page, 12);
    // The range ends at the device sections' last footer: PING 3 (9 bytes) and POSTCOPY_RUN
    // (5) after it are read as commands.
    assert.deepEqual(s.undelimited, [{
      offset: firstDevice,
      bytes: pkgEnd - 5 - 9 - firstDevice,
      depth: 1,
    }]);
    const row = doc.timeline.find((t: { kind: string }) => t.kind === "UNDELIMITED");
    assert.equal(row.offset, firstDevice);
    assert.equal(row.bytes, pkgEnd - 5 - 9 - firstDevice);
    assert.equal(row.name, "dev0");
    assert.match(row.note, /not delimited without the vmdesc JSON/);
    const names = s.commands.map((c: { name: string }) => c.name);
    assert.deepEqual(names.slice(-4), ["POSTCOPY_LISTEN", "PING", "POSTCOPY_RUN", "PING"]);
    assert.equal(s.eof.offset, bytes.length - 1);
  }
  const text = await runCli(["inspect", `${dir}/postcopy.mig`]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /UNDELIMITED/);
  // With the vmdesc, the same package's devices are read field by field.
  const two = {
    ...TINY_VMDESC,
    devices: [0, 1].map((i) => ({ ...TINY_VMDESC.devices[0], instance_id: i })),
  };
  await Deno.writeFile(`${dir}/vmdesc.json`, new TextEncoder().encode(JSON.stringify(two)));
  const full = await runCli([
    "inspect",
    "--json",
    "--vmdesc",
    `${dir}/vmdesc.json`,
    `${dir}/postcopy.mig`,
  ]);
  assert.equal(full.code, 0, full.stderr);
  const fs = JSON.parse(full.stdout).summary;
  assert.equal(fs.undelimited, undefined);
  assert.equal(fs.devices.length, 2);
  assert.equal(fs.ram.page, 12);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("postcopy without a vmdesc: replay applies the pages sent after the package, verify agrees", async () => {
  const dir = await Deno.makeTempDir();
  const { bytes } = postcopyStream();
  await Deno.writeFile(`${dir}/postcopy.mig`, bytes);
  const r = await runCli(["replay", `${dir}/postcopy.mig`, "--out", `${dir}/out`]);
  assert.equal(r.code, 0, r.stderr);
  const ram = await Deno.readFile(`${dir}/out/pc.ram.ram`);
  assert.deepEqual(ram, expectedRam());
  await Deno.writeFile(`${dir}/expected.ram`, expectedRam());
  await verifyPcRam(dir, "postcopy.mig");
});

Deno.test("postcopy without a vmdesc: a package that does not end with POSTCOPY_RUN is one error line", async () => {
  const dir = await Deno.makeTempDir();
  const { bytes, pkgEnd } = postcopyStream({ run: false });
  await Deno.writeFile(`${dir}/bad.mig`, bytes);
  const r = await runCli(["inspect", `${dir}/bad.mig`]);
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    new RegExp(`^migscope: offset ${pkgEnd - 5} .*does not end with POSTCOPY_RUN`),
  );
  await Deno.remove(dir, { recursive: true });
});
