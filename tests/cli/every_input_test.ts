/**
 * diff and check on every shared capture and saved-VM container: each input against itself is
 * equal (exit 0, RAM compared where a replay of the stream alone is the guest's RAM), and check
 * against QEMU 7.2's -dump-vmstate gives a verdict (exit 0 or 1, never bad input) whose first
 * error, if any, is QEMU 7.2's answer to that machine type.
 */
import assert from "node:assert/strict";
import { captureFile, captureNames, runCli } from "../_helpers.ts";
import { savedVmFile, savedVmNames } from "../container/_saved_vms.ts";

const DUMP =
  new URL("../check/data/vmstate-7.2.22-pc-i440fx-7.2.json.gz", import.meta.url).pathname;

/** Every shared input: its path and, for qcow2, the snapshots to read. */
async function inputs(): Promise<
  { name: string; path: string; snapshots: (string | undefined)[] }[]
> {
  const out = [];
  for (const c of captureNames()) {
    out.push({ name: c, path: await captureFile(c), snapshots: [undefined] });
  }
  for (const v of savedVmNames()) {
    const file = v.includes("qcow2") ? "container.qcow2" : "container.save";
    const snapshots = v.includes("qcow2") ? ["snapA", "snapB"] : [undefined];
    out.push({ name: v, path: await savedVmFile(v, file), snapshots });
  }
  return out;
}

Deno.test("diff: every shared capture and container is equal to itself", async () => {
  const all = await inputs();
  assert.ok(all.length >= 9, `${all.length} shared inputs`);
  for (const { name, path, snapshots } of all) {
    for (const s of snapshots) {
      const snap = s ? ["--snapshot-a", s, "--snapshot-b", s] : [];
      const r = await runCli(["diff", path, path, ...snap, "--json"]);
      assert.equal(r.code, 0, `${name} ${s ?? ""}: ${r.stderr}`);
      const doc = JSON.parse(r.stdout);
      assert.equal(doc.format, "migscope-diff");
      assert.equal(doc.equal, true, name);
    }
  }
});

Deno.test("check: every shared capture and container gets a verdict against QEMU 7.2's schema", async () => {
  for (const { name, path, snapshots } of await inputs()) {
    for (const s of snapshots) {
      const r = await runCli([
        "check",
        path,
        ...(s ? ["--snapshot", s] : []),
        "--against",
        DUMP,
        "--json",
      ]);
      assert.ok(r.code === 0 || r.code === 1, `${name} ${s ?? ""}: exit ${r.code}: ${r.stderr}`);
      const doc = JSON.parse(r.stdout);
      assert.equal(doc.format, "migscope-check");
      assert.equal(doc.loads, r.code === 0, name);
      const machine = JSON.parse(
        (await runCli(["inspect", path, ...(s ? ["--snapshot", s] : []), "--json"])).stdout,
      )
        .summary.configuration.machine as string;
      // The dump is pc-i440fx-7.2's: a stream of another machine type cannot load into it.
      if (machine !== "pc-i440fx-7.2") assert.equal(r.code, 1, `${name}: ${machine}`);
    }
  }
});
