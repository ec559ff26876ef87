/**
 * Streams whose replay alone is not the guest's RAM: diff says so instead of comparing images
 * that are not the guest's memory, and its verdict rests on the other aspects.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { runDiffCli } from "./_run.ts";

const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));
const REPO = fileURLToPath(new URL("../../", import.meta.url));

async function unzipped(dir: string, gz: string, name: string): Promise<string> {
  await Deno.writeFile(`${dir}/${name}`, gunzipSync(await Deno.readFile(gz)));
  return `${dir}/${name}`;
}

Deno.test("diff: a multifd migration's main stream (real QEMU 10.0, n1_multifd_zlib) — RAM content not compared, and why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const main = await unzipped(
      dir,
      `${SHARED}channels/n1_multifd_zlib/capture.conn0.s2d.bin.gz`,
      "main.bin",
    );
    const r = await runDiffCli([main, main]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.stdout.includes(
        "\nRAM content: not compared (A is the main stream of a multifd migration: its pages " +
          "travel on the other connections, which diff does not read)\n",
      ),
      r.stdout,
    );
    assert.ok(r.stdout.endsWith("\nResult: equal (RAM content not compared)\n"));
    const j = JSON.parse((await runDiffCli(["--json", main, main])).stdout);
    assert.deepEqual([j.equal, j.ram.compared, j.ram.blocks], [true, false, []]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diff: a cpr-transfer main stream (real QEMU 10.0, no page data) — RAM content not compared", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const main = await unzipped(dir, `${REPO}tests/data/cpr/main.bin.gz`, "main.bin");
    const r = await runDiffCli([main, main]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /\nRAM content: not compared \(A carries no page data for its RAM blocks: /,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
