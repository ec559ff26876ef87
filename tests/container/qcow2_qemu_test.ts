/**
 * Real QEMU 7.2 internal snapshots: a paused guest whose file-backed RAM holds a known pattern,
 * `savevm snapA`, a new pattern, `savevm snapB` (HMP over QMP). migscope lists both, refuses to
 * guess, and replays each snapshot's state (read through that snapshot's own L1 table) to the
 * pattern; `loadvm` in a fresh QEMU restores the same RAM. The state, laid out again by qemu-img
 * with compressed (zlib, zstd) clusters or extended L2, still loads in QEMU and reads the same.
 */
import assert from "node:assert/strict";
import { runInfo } from "../../src/commands/info.ts";
import { memoryOut } from "../../src/commands/io.ts";
import { extractStream } from "../../src/commands/extract.ts";
import { openContainer, SnapshotChoiceError } from "../../src/container/open.ts";
import { replayStream } from "../../src/replay/replay_stream.ts";
import { haveQemu } from "../../tools/qemu.ts";
import { PausedVm, run, stateImage } from "../../tools/qcow2_images.ts";
import { ramImage } from "../../tools/samples.ts";
import { sha256, sha256File } from "../_helpers.ts";
import { containerInput } from "./_saved_vms.ts";

const ignore = !haveQemu();
const RAM_MIB = 16;
const PAGES = (RAM_MIB << 20) / 4096;

interface Saved {
  dir: string;
  image: string;
  oracle: Record<string, string>;
}

let saved: Promise<Saved> | undefined;

/** The image with snapA and snapB, made once. */
function savedImage(): Promise<Saved> {
  saved ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "migscope-savevm-" });
    const image = `${dir}/disk.qcow2`;
    run("qemu-img", ["create", "-f", "qcow2", image, "1M"]);
    const vm = await PausedVm.start(dir, image, `${dir}/src.pc.ram`, RAM_MIB);
    const oracle: Record<string, string> = {};
    try {
      for (const [i, name] of ["snapA", "snapB"].entries()) {
        const ram = ramImage(PAGES, 11 + i);
        await Deno.writeFile(vm.ramPath, ram);
        oracle[name] = await sha256(ram);
        await vm.hmp(`savevm ${name}`);
        assert.equal(await sha256File(vm.ramPath), oracle[name], "savevm leaves RAM as it was");
      }
    } finally {
      await vm.quit();
    }
    return { dir, image, oracle };
  })();
  return saved;
}

/** pc.ram after `loadvm NAME` of `image` in a fresh QEMU. */
async function loadvmRam(dir: string, image: string, names: string[]): Promise<string[]> {
  const copy = `${dir}/loadvm-${crypto.randomUUID().slice(0, 8)}.qcow2`;
  await Deno.copyFile(image, copy);
  const vm = await PausedVm.start(dir, copy, `${copy}.pc.ram`, RAM_MIB);
  const out: string[] = [];
  try {
    for (const name of names) {
      await vm.hmp(`loadvm ${name}`);
      out.push(await sha256File(vm.ramPath));
    }
  } finally {
    await vm.quit();
  }
  return out;
}

async function replayedRam(path: string, snapshot: string, dir: string): Promise<string> {
  const out = await Deno.makeTempDir({ dir });
  const input = await containerInput(path, snapshot);
  try {
    await replayStream(input, { targets: { dir: out } });
  } finally {
    input.close();
  }
  return await sha256File(`${out}/pc.ram.ram`);
}

Deno.test({
  name:
    "QEMU 7.2 savevm: info lists both snapshots, no guessing, each replays to its RAM, loadvm agrees",
  ignore,
  async fn() {
    const s = await savedImage();
    const out = memoryOut();
    assert.equal((await runInfo(s.image, { json: true }, out)).code, 0);
    const doc = JSON.parse(out.text());
    assert.deepEqual(
      doc.container.qcow2.snapshots.map((x: { id: string; name: string }) => [x.id, x.name]),
      [["1", "snapA"], ["2", "snapB"]],
    );
    assert.equal(doc.streams.length, 2);
    assert.ok(doc.streams.every((x: { machine: string }) => /^pc-i440fx-7\.2$/.test(x.machine)));
    await assert.rejects(
      () => openContainer(s.image),
      (e) => e instanceof SnapshotChoiceError && /1 'snapA', 2 'snapB'/.test(e.message),
    );
    await assert.rejects(
      () => openContainer(s.image, { snapshot: "snapC" }),
      /no snapshot 'snapC'/,
    );
    assert.equal(await replayedRam(s.image, "snapA", s.dir), s.oracle.snapA);
    assert.equal(await replayedRam(s.image, "2", s.dir), s.oracle.snapB);
    const loaded = await loadvmRam(s.dir, s.image, ["snapA", "snapB"]);
    assert.deepEqual(loaded, [s.oracle.snapA, s.oracle.snapB]);
  },
});

const LAYOUTS = [
  { name: "zlib-compressed clusters", o: { compress: "zlib" as const } },
  { name: "zstd-compressed clusters", o: { compress: "zstd" as const } },
  { name: "extended L2 subclusters", o: { extendedL2: true } },
];

for (const l of LAYOUTS) {
  Deno.test({
    name:
      `QEMU 7.2 loadvm of snapA's state laid out with ${l.name} restores its RAM; migscope replays the same`,
    ignore,
    async fn() {
      const s = await savedImage();
      const state = `${s.dir}/snapA.state`;
      await extractStream(s.image, state, "snapA");
      const image = `${s.dir}/${l.name.replaceAll(" ", "-")}.qcow2`;
      stateImage(image, state, { ...l.o, snapshot: "snapA" });
      const c = await openContainer(image);
      const kinds = c.qcow2!.state.clusterKinds();
      c.close();
      if (l.o.compress) assert.ok(kinds.compressed > 0, JSON.stringify(kinds));
      assert.equal(await replayedRam(image, "snapA", s.dir), s.oracle.snapA);
      assert.deepEqual(await loadvmRam(s.dir, image, ["snapA"]), [s.oracle.snapA]);
    },
  });
}

Deno.test({
  name: "QEMU 7.2 savevm image: clean up",
  ignore,
  async fn() {
    if (saved) await Deno.remove((await saved).dir, { recursive: true });
  },
});
