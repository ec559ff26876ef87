/**
 * A disk replayed without a size ends at the end of its last chunk, also when that chunk is a
 * data chunk of zeros (outputs stay sparse, but the size is the stream's).
 */
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import { runCli } from "../_helpers.ts";

Deno.test("an unsized disk whose last chunks are zeros sent as data: the disk ends at the last chunk", async () => {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "START", 1, "block", 0, 1);
  F.writeBlockChunk(w, 0, "hd0", new Uint8Array(1 << 20).fill(1));
  F.writeBlockChunk(w, 2048, "hd0", new Uint8Array(1 << 20)); // zeros, as data
  F.writeBlockChunk(w, 4096, "hd0", new Uint8Array(1 << 20)); // zeros, as data
  F.writeBlockEos(w);
  F.writeEof(w);
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/s.mig`, w.result());
  const r = await runCli(["replay", `${dir}/s.mig`, "--out", `${dir}/out`, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await Deno.stat(`${dir}/out/hd0.disk`)).size, 3 << 20);
  assert.equal(JSON.parse(r.stdout).disks[0].size, 3 << 20);
  await Deno.remove(dir, { recursive: true });
});
