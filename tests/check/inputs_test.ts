/**
 * `check` inputs it cannot act on: --snapshot on what is no qcow2 image (was ignored, exit 0),
 * and a multifd or cpr-transfer channel capture (one connection, not the main stream; the
 * message no longer points at a --channel that check has not): exit 2, one line.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runCheckCli } from "./_run.ts";
import { channelFile } from "../report/_inputs.ts";

const SAMPLE = fileURLToPath(new URL("../../samples/small-block.mig", import.meta.url));
const CPR = fileURLToPath(new URL("../data/cpr/cpr.bin", import.meta.url));
const DUMP = fileURLToPath(new URL("./data/vmstate-7.2.22-pc-i440fx-7.2.json.gz", import.meta.url));

async function rejected(args: string[], line: RegExp): Promise<void> {
  const r = await runCheckCli(args);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], line);
}

Deno.test("check --snapshot on a bare stream: exit 2, one line (as diff)", async () => {
  await rejected(
    [SAMPLE, "--snapshot", "foo", "--against", DUMP],
    /^migscope: check: cannot open .*small-block\.mig: --snapshot applies to qcow2 images, not to a bare stream$/,
  );
  // Without --snapshot the same input is checked (exit 0 loads or 1 will not).
  const r = await runCheckCli([SAMPLE, "--against", DUMP]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
});

Deno.test("check of a multifd channel capture: says so, no --channel advice", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ch = `${dir}/channel1.bin`;
    await Deno.writeFile(ch, channelFile().bytes);
    await rejected(
      [ch, "--against", DUMP],
      /channel1\.bin: a multifd channel capture \(magic 0x11223344\): check cannot check .*check the main stream$/,
    );
    const r = await runCheckCli([ch, "--against", DUMP]);
    assert.doesNotMatch(r.stderr, /--channel/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check of a cpr-transfer capture: names it (magic QCPR)", async () => {
  await rejected(
    [CPR, "--against", DUMP],
    /cpr\.bin: a cpr-transfer channel capture \(magic QCPR\): check cannot check .*check the main stream$/,
  );
});
