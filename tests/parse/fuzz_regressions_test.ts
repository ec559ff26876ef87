/**
 * Minimal reproducers of bugs the fuzzer (tools/fuzz.ts) found, each kept as a regression test.
 */
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import { runInspect } from "../../src/commands/inspect.ts";
import { runReplay } from "../../src/commands/replay.ts";
import { memoryOut } from "../../src/commands/io.ts";

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
