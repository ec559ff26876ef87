/**
 * Every command that takes an input opens saved VMs where they live: `inspect` of a libvirt save
 * image (raw, gzip, and one kept gzip-compressed as the shared files are) and of a qcow2
 * snapshot's VM state, counted as the independent parser of ../shared/saved-vms counted the
 * inner stream (mstream-summary*.json); a qcow2 with several snapshots and no --snapshot is
 * exit 2 listing them.
 */
import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";
import { SAVED_VMS, savedVmFile, savedVmNames } from "./_saved_vms.ts";

const present = savedVmNames().length > 0;

function expected(name: string, summary = "mstream-summary.json") {
  const d = JSON.parse(Deno.readTextFileSync(`${SAVED_VMS}/${name}/${summary}`));
  return { page: d.ram.page, zero: d.ram.zero, eos: d.ram.eos };
}

async function inspectCounts(args: string[]) {
  const r = await runCli(["inspect", "--json", ...args]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout).summary;
  return { page: s.ram.page, zero: s.ram.zero, eos: s.ram.eos };
}

Deno.test({
  name:
    "inspect reads libvirt save images (raw, gzip, and kept gzip-compressed) as their inner stream",
  ignore: !present,
  async fn() {
    for (const name of ["l1_libvirt_save_raw", "l2_libvirt_save_gzip"]) {
      const file = await savedVmFile(name, "container.save");
      assert.deepEqual(await inspectCounts([file]), expected(name), name);
      const gz = `${SAVED_VMS}/${name}/container.save.gz`;
      assert.deepEqual(await inspectCounts([gz]), expected(name), `${name} (.gz)`);
      const text = await runCli(["inspect", file]);
      assert.match(text.stdout.split("\n")[0], /\(libvirt save image \((raw|gzip)\)\)$/);
    }
  },
});

Deno.test({
  name:
    "inspect reads a qcow2 snapshot's VM state with --snapshot, and asks for one when there are two",
  ignore: !present,
  async fn() {
    const name = "q1_qcow2_savevm";
    const file = await savedVmFile(name, "container.qcow2");
    for (const [snap, id] of [["snapA", "1"], ["snapB", "2"]]) {
      const want = expected(name, `mstream-summary.${snap}.json`);
      assert.deepEqual(await inspectCounts(["--snapshot", snap, file]), want, snap);
      assert.deepEqual(await inspectCounts(["--snapshot", id, file]), want, id);
    }
    const r = await runCli(["inspect", file]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /choose one with --snapshot NAME\|ID: 1 'snapA', 2 'snapB'/);
  },
});

Deno.test({
  name:
    "--snapshot on what is no qcow2 image (a bare capture, a libvirt save image): exit 2, one line, for inspect, replay and report",
  ignore: !present,
  async fn() {
    const bare = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;
    const save = await savedVmFile("l1_libvirt_save_raw", "container.save");
    const out = await Deno.makeTempDir();
    try {
      for (const [file, what] of [[bare, "a bare stream"], [save, "a libvirt save image (raw)"]]) {
        for (
          const args of [
            ["inspect", file],
            ["replay", file, "--out", `${out}/r`],
            ["report", file, "-o", `${out}/r.html`],
          ]
        ) {
          const r = await runCli([...args, "--snapshot", "snapA"]);
          assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
          const err = r.stderr.trim();
          assert.equal(err.split("\n").length, 1, err);
          assert.ok(err.endsWith(`--snapshot applies to qcow2 images, not to ${what}`), err);
        }
      }
      const files = (dir: string): string[] =>
        [...Deno.readDirSync(dir)].flatMap((e) =>
          e.isDirectory ? files(`${dir}/${e.name}`) : [e.name]
        );
      assert.deepEqual(files(out), [], "no file written");
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
