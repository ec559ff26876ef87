/**
 * A libvirt `sparse` save image (mapped-ram stream with absolute file offsets) of a mapped-ram
 * stream emitted by migscope: the container hands the parser the whole file positionally with
 * the stream's base offset, so replay reads every page from its slot.
 */
import assert from "node:assert/strict";
import { openContainer } from "../../src/container/open.ts";
import { describeContainer } from "../../src/container/describe.ts";
import { emitMappedRam } from "../../src/emit/mapped_ram.ts";
import { parseStream } from "../../src/parse/stream.ts";
import { replayStream } from "../../src/replay/replay_stream.ts";
import { bytesAccess } from "../../src/wire/random_access.ts";
import { ByteReader } from "../../src/wire/reader.ts";
import { fileSource } from "../../src/wire/source.ts";
import { domainXml, writeSparseImage } from "../../tools/containers.ts";
import { ramImage } from "../../tools/samples.ts";
import { sha256, sha256File } from "../_helpers.ts";
import { containerInput } from "./_saved_vms.ts";

Deno.test("libvirt sparse image: positional at its base offset, replays every page from its slot", async () => {
  const dir = await Deno.makeTempDir();
  const img = ramImage(1024, 5);
  await emitMappedRam([{ name: "pc.ram", image: bytesAccess(img) }], `${dir}/m.mig`);
  const headers: number[] = [];
  for await (const r of parseStream(new ByteReader(fileSource(`${dir}/m.mig`)))) {
    if (r.kind === "ram" && r.type === "mem_size") {
      for (const b of r.blocks ?? []) headers.push(b.mappedRam!.headerOffset);
    }
  }
  const at = await writeSparseImage(`${dir}/s.img`, `${dir}/m.mig`, domainXml("sparse"), headers);
  const c = await openContainer(`${dir}/s.img`);
  assert.equal(c.libvirt?.format, "sparse");
  assert.equal(c.baseOffset, at);
  assert.equal(c.streamOffset, at);
  assert.ok(c.source.random);
  c.close();
  const input = await containerInput(`${dir}/s.img`);
  await Deno.mkdir(`${dir}/out`);
  await replayStream(input, { targets: { dir: `${dir}/out` } });
  input.close();
  assert.equal(await sha256File(`${dir}/out/pc.ram.ram`), await sha256(img));
  const report = await describeContainer(`${dir}/s.img`);
  assert.equal(report.streams[0].head?.mappedRam, true);
  assert.equal(report.streams[0].head?.error, undefined);
  const tail = (await Deno.readFile(`${dir}/s.img`)).subarray(at);
  assert.equal(report.streams[0].sha256, await sha256(tail));
  assert.equal(report.streams[0].size, tail.length);
  await Deno.remove(dir, { recursive: true });
});
