/**
 * replay and verify straight from a saved VM: a qcow2 snapshot's VM state (--snapshot) and a
 * libvirt save image replay to the guest RAM at save time (../shared/saved-vms oracles), and
 * the replay JSON document carries its format and version.
 */
import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";
import { savedVmFile, savedVmNames } from "./_saved_vms.ts";

const present = savedVmNames().length > 0;

Deno.test({
  name: "verify a qcow2 snapshot and a libvirt image against the guest RAM at save time",
  ignore: !present,
  async fn() {
    const qcow2 = await savedVmFile("q1_qcow2_savevm", "container.qcow2");
    for (const snap of ["snapA", "snapB"]) {
      const oracle = await savedVmFile("q1_qcow2_savevm", `oracle.${snap}.pc.ram`);
      const r = await runCli([
        "verify",
        "--json",
        "--snapshot",
        snap,
        qcow2,
        "--expect",
        `pc.ram=${oracle}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.equal(doc.format, "migscope-replay");
      assert.equal(doc.version, 1);
      assert.equal(doc.verify.equal, true);
      assert.equal(doc.verify.images[0].different, 0);
    }
    const save = await savedVmFile("l2_libvirt_save_gzip", "container.save");
    const oracle = await savedVmFile("l2_libvirt_save_gzip", "oracle.pc.ram");
    const r = await runCli(["verify", save, "--expect", `pc.ram=${oracle}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Verify: all images equal/);
    const dir = await Deno.makeTempDir();
    const none = await runCli(["replay", qcow2, "--out", `${dir}/out`]);
    await Deno.remove(dir, { recursive: true });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--snapshot NAME\|ID: 1 'snapA', 2 'snapB'/);
  },
});
