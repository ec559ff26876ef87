/**
 * qcow2 snapshot state laid out by qemu-img itself (tools/qcow2_images.ts): compressed zlib and
 * zstd clusters, extended L2 subclusters, 4 KiB and 2 MiB clusters — the reader returns exactly
 * the bytes put there. Then hostile images made from one of them: each error is one line.
 */
import assert from "node:assert/strict";
import { openContainer, SnapshotChoiceError } from "../../src/container/open.ts";
import { StreamError } from "../../src/protocol/errors.ts";
import { readFully } from "../../src/wire/random_access.ts";
import { haveTool } from "../../tools/containers.ts";
import { patchFile, readAt, run, stateImage, stateOffset } from "../../tools/qcow2_images.ts";
import { prng } from "../../tools/samples.ts";

const ignore = !haveTool("qemu-img");

/** 300 KiB of state: random runs, text, and zero stretches (some subcluster-sized). */
function stateBytes(): Uint8Array {
  const r = prng(7);
  const b = new Uint8Array(300 * 1024 + 123);
  for (let i = 0; i < b.length; i += 4096) {
    const kind = r() % 4;
    const end = Math.min(b.length, i + 4096);
    if (kind === 0) continue;
    for (let j = i; j < end; j++) b[j] = kind === 1 ? r() & 0xff : 0x20 + (j % 90);
  }
  return b;
}

async function readState(path: string, snapshot?: string) {
  const c = await openContainer(path, { snapshot });
  const buf = new Uint8Array(c.streamSize!);
  readFully(c.source.random!, buf, 0);
  const kinds = c.qcow2!.state.clusterKinds();
  c.close();
  return { c, buf, kinds };
}

const VARIANTS = [
  { name: "zlib-compressed 64 KiB clusters", o: { compress: "zlib" as const }, kind: "compressed" },
  { name: "zstd-compressed 64 KiB clusters", o: { compress: "zstd" as const }, kind: "compressed" },
  { name: "extended L2, 64 KiB clusters", o: { extendedL2: true }, kind: "mixed" },
  {
    name: "4 KiB clusters, zlib",
    o: { clusterSize: 4096, compress: "zlib" as const },
    kind: "compressed",
  },
  { name: "2 MiB clusters", o: { clusterSize: 2 << 20 }, kind: "data" },
];

for (const v of VARIANTS) {
  Deno.test({
    name: `qcow2 state laid out by qemu-img (${v.name}) reads back exactly`,
    ignore,
    async fn() {
      const dir = await Deno.makeTempDir();
      const state = stateBytes();
      await Deno.writeFile(`${dir}/state.bin`, state);
      stateImage(`${dir}/x.qcow2`, `${dir}/state.bin`, v.o);
      assert.match(run("qemu-img", ["check", `${dir}/x.qcow2`]), /No errors/);
      const { c, buf, kinds } = await readState(`${dir}/x.qcow2`);
      assert.equal(buf.length, state.length);
      assert.ok(buf.every((x, i) => x === state[i]), "the state's bytes");
      assert.ok(kinds[v.kind as keyof typeof kinds] > 0, JSON.stringify(kinds));
      assert.equal(c.incomplete, false);
      const cs = v.o.clusterSize ?? 65536;
      assert.equal(c.streamOffset, stateOffset(cs, !!v.o.extendedL2, 1 << 20));
      await Deno.remove(dir, { recursive: true });
    },
  });
}

/** A zlib-compressed image and facts to patch it with. */
async function baseImage(dir: string) {
  const state = stateBytes();
  await Deno.writeFile(`${dir}/state.bin`, state);
  const path = `${dir}/base.qcow2`;
  stateImage(path, `${dir}/state.bin`, { compress: "zlib" });
  const h = readAt(path, 0, 72);
  const snap = Number(h.getBigUint64(64));
  const e = readAt(path, snap, 40);
  const l1 = Number(e.getBigUint64(0));
  const size = (await Deno.stat(path)).size;
  const l1Index = stateOffset(65536, false, 1 << 20) / (65536 * 8192);
  const l2 = Number(readAt(path, l1 + l1Index * 8, 8).getBigUint64(0) & 0x00fffffffffffe00n);
  return { path, snap, l1, l1Index, l2, size };
}

async function openError(path: string, snapshot?: string): Promise<string> {
  try {
    const c = await openContainer(path, { snapshot });
    const buf = new Uint8Array(1 << 20);
    for (let pos = 0; pos < c.streamSize!; pos += buf.length) c.source.random!.read(buf, pos);
    c.close();
    return "read";
  } catch (e) {
    assert.ok(e instanceof StreamError || e instanceof SnapshotChoiceError, String(e));
    assert.ok(!(e as Error).message.includes("\n"));
    return (e as Error).message;
  }
}

Deno.test({
  name:
    "hostile qcow2 images: tables past EOF, loops, huge sizes, bad compressed clusters, unsupported features",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const b = await baseImage(dir);
    const cases: [string, (p: string) => void, RegExp][] = [
      [
        "L1 past EOF",
        (p) => patchFile(p, [{ at: b.snap, u64: Math.ceil(b.size / 65536) * 65536 + (1 << 20) }]),
        /L1 table at \d+ \(\d+ entries\) runs past the end of the file/,
      ],
      [
        "L2 past EOF",
        (p) =>
          patchFile(p, [{
            at: b.l1 + b.l1Index * 8,
            u64: (1n << 63n) | BigInt(b.size + (1 << 30)),
          }]),
        /L2 table at \d+ lies past the end of the file/,
      ],
      [
        "L2 is the L1 table",
        (p) => patchFile(p, [{ at: b.l1 + b.l1Index * 8, u64: b.l1 }]),
        /overlaps the header or the L1 table \(a metadata loop\)/,
      ],
      [
        "L2 entry maps its own table",
        (p) => patchFile(p, [{ at: b.l2, u64: b.l2 }]),
        /is the header or the L2 table itself \(a metadata loop\)/,
      ],
      [
        "data cluster past EOF",
        (p) => patchFile(p, [{ at: b.l2, u64: Math.ceil(b.size / 65536) * 65536 + (1 << 24) }]),
        /data cluster at \d+ lies past the end of the file/,
      ],
      [
        "huge extra_data_size",
        (p) => patchFile(p, [{ at: b.snap + 36, u32: 0xffffffff }]),
        /extra_data_size 4294967295 exceeds 1024/,
      ],
      [
        "huge l1_size",
        (p) => patchFile(p, [{ at: b.snap + 8, u32: 0x7fffffff }]),
        /l1_size 2147483647 exceeds/,
      ],
      [
        "huge vm_state_size",
        (p) => patchFile(p, [{ at: b.snap + 40, u64: 2 ** 52 }]),
        /lies beyond what its L1 table \(\d+ entries\) maps/,
      ],
      [
        "huge nb_snapshots",
        (p) => patchFile(p, [{ at: 60, u32: 1 << 20 }]),
        /1048576 snapshots exceed QEMU's 65536/,
      ],
      [
        "external data file",
        (p) => patchFile(p, [{ at: 72, u64: 4 }]),
        /external data file, which is not supported/,
      ],
      [
        "unknown incompatible feature",
        (p) => patchFile(p, [{ at: 72, u64: 1 << 20 }]),
        /unknown incompatible features 0x100000/,
      ],
      ["encrypted", (p) => patchFile(p, [{ at: 32, u32: 1 }]), /encrypted/],
      ["no snapshots", (p) => patchFile(p, [{ at: 60, u32: 0 }]), /no internal snapshots/],
      [
        "disk-only snapshot chosen",
        (p) => patchFile(p, [{ at: b.snap + 32, u32: 0 }, { at: b.snap + 40, u64: 0 }]),
        /no snapshot has VM state/,
      ],
    ];
    for (const [what, patch, want] of cases) {
      const p = `${dir}/${what.replaceAll(" ", "_")}.qcow2`;
      await Deno.copyFile(b.path, p);
      patch(p);
      const msg = await openError(p);
      assert.match(msg, want, `${what}: ${msg}`);
    }
    assert.match(await openError(b.path, "nope"), /no snapshot 'nope'; the image has: 1 'state'/);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "a compressed cluster that inflates past one cluster is one line naming its offset",
  ignore,
  async fn() {
    const { deflateRawSync } = await import("node:zlib");
    const dir = await Deno.makeTempDir();
    const b = await baseImage(dir);
    // Two clusters of text, compressed, appended at a sector boundary; the first compressed L2
    // entry of the state now points there.
    const big = deflateRawSync(new Uint8Array(2 * 65536).fill(0x61));
    const at = Math.ceil(b.size / 512) * 512;
    const f = await Deno.open(b.path, { write: true });
    await f.seek(at, Deno.SeekMode.Start);
    await f.write(big);
    f.close();
    const x = 62 - (16 - 8);
    const sectors = BigInt(Math.ceil(big.length / 512) - 1);
    let entry = b.l2;
    while (!(readAt(b.path, entry, 8).getBigUint64(0) & (1n << 62n))) entry += 8;
    patchFile(b.path, [{ at: entry, u64: (1n << 62n) | (sectors << BigInt(x)) | BigInt(at) }]);
    assert.match(
      await openError(b.path),
      new RegExp(
        `^offset ${at} .*compressed cluster: the compressed cluster inflates past one cluster$`,
      ),
    );
    await Deno.remove(dir, { recursive: true });
  },
});
