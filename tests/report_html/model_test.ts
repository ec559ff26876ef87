/**
 * The report's data model against `inspect --json` on real QEMU captures (../shared): the
 * embedded summary is inspect's, and the RAM map, passes and timeline bands — counted by the
 * report's own batch pass — add up to inspect's numbers; for every kind of input migscope
 * reads (bare, gzip, libvirt save, qcow2 snapshot, mapped-ram, multifd main stream with its
 * channels) and for the bundled samples.
 */
import assert from "node:assert/strict";
import { captureFile, captureNames } from "../_helpers.ts";
import { SAVED_VMS, savedVmFile, savedVmNames } from "../container/_saved_vms.ts";
import { checkAgainstInspect, inspectJson, makeReport } from "./_report.ts";

const SAMPLES = new URL("../../samples/", import.meta.url).pathname;
const CHANNELS = new URL("../../../shared/channels/n1_multifd_zlib/", import.meta.url).pathname;

for (const name of captureNames()) {
  Deno.test(`report model: ${name} equals inspect --json`, async () => {
    const file = await captureFile(name);
    const { data, dir } = await makeReport({ input: file });
    try {
      checkAgainstInspect(data, await inspectJson([file]));
      assert.equal(data.input.name, file);
      assert.ok(data.ram.blocks.every((b) => b.cells <= 4096));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("report model: the samples, gzip-compressed capture as given", async () => {
  for (const f of [`${SAMPLES}small-xbzrle.mig`, `${SAMPLES}small-block.mig`]) {
    const { data, dir } = await makeReport({ input: f });
    await Deno.remove(dir, { recursive: true });
    const doc = await inspectJson([f]);
    checkAgainstInspect(data, doc);
    const blocks = data.summary.block.devices;
    if (f.endsWith("block.mig")) assert.ok(blocks.length > 0 && blocks[0].data > 0);
  }
  const names = captureNames();
  if (!names.includes("b_xbzrle")) return;
  const gz = `${SAVED_VMS}/../captures/b_xbzrle/capture.bin.gz`;
  const { data, dir } = await makeReport({ input: gz });
  await Deno.remove(dir, { recursive: true });
  checkAgainstInspect(data, await inspectJson([gz]));
  assert.equal(data.input.gzip, true);
});

Deno.test("report model: libvirt save images and a qcow2 snapshot", async () => {
  const vms = savedVmNames();
  if (!vms.includes("q1_qcow2_savevm")) return console.log("skipped: no ../shared/saved-vms");
  const raw = await savedVmFile("l1_libvirt_save_raw", "container.save");
  const qcow2 = await savedVmFile("q1_qcow2_savevm", "container.qcow2");
  const cases: [string, string | undefined][] = [[raw, undefined], [qcow2, "snapB"]];
  for (const [input, snapshot] of cases) {
    const { data, dir } = await makeReport({ input, snapshot });
    await Deno.remove(dir, { recursive: true });
    checkAgainstInspect(
      data,
      await inspectJson([input, ...(snapshot ? ["--snapshot", snapshot] : [])]),
    );
    assert.match(data.input.container ?? "", snapshot ? /snapB/ : /libvirt/i);
  }
});

Deno.test("report model: a multifd main stream with its two zlib channels (real QEMU 10.0)", async () => {
  try {
    await Deno.stat(CHANNELS);
  } catch {
    return console.log("skipped: no ../shared/channels");
  }
  const main = `${CHANNELS}capture.conn0.s2d.bin.gz`;
  const channels = [1, 2].map((i) => `${CHANNELS}capture.conn${i}.s2d.bin.gz`);
  const { data, dir } = await makeReport({ input: main, channels });
  await Deno.remove(dir, { recursive: true });
  const doc = await inspectJson([main, ...channels.flatMap((c) => ["--channel", c])]);
  assert.deepEqual(data.channels, doc.channels, "the channels as inspect --channel counts them");
  const page = doc.channels.reduce(
    (a: number, c: { multifd: { normalPages: number } }) => a + c.multifd.normalPages,
    0,
  );
  const zero = doc.channels.reduce(
    (a: number, c: { multifd: { zeroPages: number } }) => a + c.multifd.zeroPages,
    0,
  );
  assert.ok(page > 0 && zero > 0);
  checkAgainstInspect(data, doc, { page, zero });
  const manifest = JSON.parse(await Deno.readTextFile(`${CHANNELS}manifest.json`));
  assert.equal(
    page,
    manifest.source_final_query_migrate.ram.normal,
    "query-migrate's normal pages",
  );
});
