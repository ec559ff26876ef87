/**
 * Replay against QEMU itself: every shared capture's replay equals the destination's RAM and
 * disk (sha256 from the README or manifest), and the blocks read back with pmemsave — from the
 * file and from stdin.
 */
import assert from "node:assert/strict";
import {
  captureFile,
  captureNames,
  CAPTURES_DIR,
  readmeExpectations,
  runCli,
  sha256File,
} from "../_helpers.ts";
import { ramFileName } from "../../src/replay/names.ts";
import { memoryOut } from "../../src/commands/io.ts";
import { runReplay } from "../../src/commands/replay.ts";

const readme = readmeExpectations();

function manifest(name: string) {
  return JSON.parse(Deno.readTextFileSync(`${CAPTURES_DIR}/${name}/manifest.json`));
}

function oracleSha(name: string, file: string): string | undefined {
  return readme.get(name)?.sha256[file] ??
    manifest(name).files?.[`${file}.gz`]?.sha256_uncompressed;
}

const OTHER: Record<string, string> = {
  "0000:00:02.0/vga.vram": "oracle-other.0000_00_02.0_vga.vram.bin",
  "pc.bios": "oracle-other.pc.bios.bin",
};

for (const name of captureNames()) {
  if (manifest(name).source_capabilities?.["mapped-ram"]) continue; // mapped-ram: see issue 7 tests
  Deno.test(`replay ${name}: pc.ram (and disk) are sha256-equal to the QEMU destination's`, async () => {
    const dir = await Deno.makeTempDir();
    const r = await runReplay({ input: await captureFile(name), out: dir }, memoryOut());
    assert.equal(r.code, 0, r.error);
    assert.equal(
      await sha256File(`${dir}/${ramFileName("pc.ram")}`),
      oracleSha(name, "oracle.pc.ram"),
    );
    if (oracleSha(name, "oracle.disk.raw")) {
      assert.equal(await sha256File(`${dir}/disk0.disk`), oracleSha(name, "oracle.disk.raw"));
      const st = await Deno.stat(`${dir}/disk0.disk`);
      assert.equal(st.size, 64 << 20);
      assert.ok(
        (st.blocks ?? 0) * 512 < 16 << 20,
        `disk output stays sparse (${st.blocks! * 512} bytes allocated)`,
      );
    }
    for (const [block, file] of Object.entries(OTHER)) {
      const want = oracleSha(name, file);
      if (want) assert.equal(await sha256File(`${dir}/${ramFileName(block)}`), want, block);
    }
    await Deno.remove(dir, { recursive: true });
  });

  Deno.test(`verify ${name} from stdin against the oracles: exit 0, every page equal`, async () => {
    const args = [
      "verify",
      "-",
      "--json",
      "--expect",
      `pc.ram=${await captureFile(name, "oracle.pc.ram")}`,
    ];
    for (const [block, file] of Object.entries(OTHER)) {
      try {
        await Deno.stat(`${CAPTURES_DIR}/${name}/${file}.gz`);
        args.push("--expect", `${block}=${await captureFile(name, file)}`);
      } catch { /* not shipped for this capture */ }
    }
    if (oracleSha(name, "oracle.disk.raw")) {
      args.push("--expect", `disk0=${await captureFile(name, "oracle.disk.raw")}`);
    }
    const r = await runCli(args, { stdin: await captureFile(name) });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.verify.equal, true);
    for (const img of doc.verify.images) {
      assert.equal(img.different, 0, img.name);
      assert.equal(img.equal, img.pages, img.name);
    }
  });
}

Deno.test("verify explains a difference: the page, and the offset and kind of the record that last wrote it", async () => {
  const oracle = await Deno.readFile(await captureFile("b_xbzrle", "oracle.pc.ram"));
  const dir = await Deno.makeTempDir();
  // Flip one byte of a page the stream wrote with XBZRLE last.
  const { parseStream } = await import("../../src/parse/stream.ts");
  const { openInput } = await import("../../src/parse/input.ts");
  const inp = await openInput(await captureFile("b_xbzrle"));
  const last = new Map<number, { offset: number; type: string }>();
  for await (const rec of parseStream(inp.reader, { vmdesc: inp.vmdesc })) {
    if (
      rec.kind === "ram" && rec.block === "pc.ram" && rec.type !== "eos" && rec.type !== "mem_size"
    ) {
      last.set(rec.addr, { offset: rec.offset, type: rec.type });
    }
  }
  inp.close();
  const [xAddr, xRec] = [...last].find(([, v]) => v.type === "xbzrle")!;
  const bad = oracle.slice();
  bad[xAddr + 17] ^= 0xff;
  await Deno.writeFile(`${dir}/expected.ram`, bad);
  const r = await runCli([
    "verify",
    await captureFile("b_xbzrle"),
    "--expect",
    `pc.ram=${dir}/expected.ram`,
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /pc\.ram\s+16384\s+16383\s+1/);
  assert.match(
    r.stdout,
    new RegExp(
      `pc\\.ram page 0x${xAddr.toString(16)}: last written by XBZRLE at offset ${xRec.offset}`,
    ),
  );
  await Deno.remove(dir, { recursive: true });
});
