/**
 * verify on disks names the block-migration record that last wrote each differing page, as it
 * does for RAM (it used to blame "no record wrote this page" for pages a data chunk or a
 * ZERO_BLOCK wrote, and `writer: null` in --json). Real capture c (block migration with zero
 * blocks) against its destination disk with two bytes changed: at 0x10 and at 0x300000.
 */
import assert from "node:assert/strict";
import { captureFile, runCli } from "../_helpers.ts";
import { parseStream } from "../../src/parse/stream.ts";
import { openInput } from "../../src/parse/input.ts";
import type { BlockRecord } from "../../src/protocol/records.ts";

/** The last block record whose chunk covers byte `at` of `device`, found independently. */
async function lastChunk(path: string, device: string, at: number): Promise<BlockRecord> {
  const input = await openInput(path);
  let last: BlockRecord | undefined;
  for await (const rec of parseStream(input.reader, { vmdesc: input.vmdesc, payloads: false })) {
    if (rec.kind !== "block" || rec.device !== device) continue;
    if (rec.type !== "data" && rec.type !== "zero") continue;
    const start = rec.sector * 512;
    if (start <= at && at < start + (1 << 20)) last = rec;
  }
  input.close();
  return last!;
}

Deno.test("verify c_block_zero_blocks: differing disk pages name the chunk that last wrote them", async () => {
  const capture = await captureFile("c_block_zero_blocks");
  const oracle = await captureFile("c_block_zero_blocks", "oracle.disk.raw");
  const dir = await Deno.makeTempDir();
  try {
    const expected = `${dir}/disk.raw`;
    const bytes = await Deno.readFile(oracle);
    bytes[0x10] ^= 0xff;
    bytes[0x300000] ^= 0xff;
    await Deno.writeFile(expected, bytes);
    const want = [
      await lastChunk(capture, "disk0", 0x10),
      await lastChunk(capture, "disk0", 0x300000),
    ];
    const kind = (r: BlockRecord) => (r.type === "data" ? "DEVICE_BLOCK" : "ZERO_BLOCK");

    const text = await runCli(["verify", capture, "--expect", `disk0=${expected}`]);
    assert.equal(text.code, 1, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(
        `  disk0 page 0x0: last written by ${kind(want[0])} at offset ${want[0].offset}\\n`,
      ),
    );
    assert.match(
      text.stdout,
      new RegExp(
        `  disk0 page 0x300000: last written by ${kind(want[1])} at offset ${want[1].offset}\\n`,
      ),
    );
    assert.doesNotMatch(text.stdout, /no record wrote this page/);

    const json = await runCli(["verify", "--json", capture, "--expect", `disk0=${expected}`]);
    assert.equal(json.code, 1, json.stderr);
    const doc = JSON.parse(json.stdout);
    const diffs = doc.verify.images[0].diffs;
    assert.deepEqual(diffs.map((d: { addr: number }) => d.addr), [0, 0x300000]);
    assert.deepEqual(diffs.map((d: { writer: unknown }) => d.writer), [
      { offset: want[0].offset, kind: kind(want[0]) },
      { offset: want[1].offset, kind: kind(want[1]) },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
