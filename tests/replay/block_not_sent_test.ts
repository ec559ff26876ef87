/**
 * A cpr-transfer main stream (real, QEMU 10.0, tests/data/cpr) sizes its RAM blocks but sends
 * none of their pages (the destination maps them from the fds of the cpr channel): replay says
 * so for every block instead of presenting zero-filled images as the guest's memory.
 */
import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";

const DATA = new URL("../data/cpr/", import.meta.url).pathname;

Deno.test("replay of a cpr-transfer main stream: block-not-sent for every block it sized", async () => {
  const dir = await Deno.makeTempDir();
  const r = await runCli(["replay", `${DATA}main.bin.gz`, "--out", dir, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const saved: { name: string }[] = JSON.parse(await Deno.readTextFile(`${DATA}expect.json`)).saved;
  const flagged = doc.findings
    .filter((f: { kind: string }) => f.kind === "block-not-sent")
    .map((f: { target: string }) => f.target);
  assert.deepEqual(flagged.toSorted(), saved.map((s) => s.name).toSorted());
  // An ordinary stream raises none.
  const plain = await runCli(["replay", "samples/small-xbzrle.mig", "--out", `${dir}/p`, "--json"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(JSON.parse(plain.stdout).findingCounts["block-not-sent"], undefined);
  await Deno.remove(dir, { recursive: true });
});
