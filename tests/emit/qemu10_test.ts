/**
 * QEMU 10.0 (Debian bookworm-backports, unpacked by .ci/run beside the system's 7.2): mapped-ram
 * files it saves replay equal to what it restores, it restores mapped-ram files migscope emits,
 * it loads emitted precopy streams with 10.x framing, and its multifd streams (MULTIFD_FLUSH,
 * zero pages inside packets) replay equal to its destination.
 */
import assert from "node:assert/strict";
import { loadIntoQemu, qemu10 } from "../../tools/qemu.ts";
import { capture, fileMigration } from "../../tools/capture.ts";
import { prng } from "../../tools/samples.ts";
import { main } from "../../src/cli/main.ts";
import { runCli, sha256, sha256File } from "../_helpers.ts";

const q10 = qemu10();
const ignore = q10 === undefined;

function sourceRam(seed: number): Uint8Array {
  const r = prng(seed);
  const ram = new Uint8Array(64 << 20);
  for (let p = 0; p < ram.length / 4096; p++) {
    const k = r() % 10;
    if (k < 6) continue;
    const page = ram.subarray(p * 4096, (p + 1) * 4096);
    if (k < 8) page.fill(p & 0xff, 0, 900);
    else for (let i = 0; i < 4096; i += 8) page[i] = r() & 0xff;
  }
  return ram;
}

/** The template's restored RAM with its upper half rewritten (low memory stays as devices saved it). */
function modified(base: Uint8Array, seed: number): Uint8Array {
  const r = prng(seed);
  const img = base.slice();
  for (let p = 8192; p < 16384; p++) {
    const k = r() % 4;
    const page = img.subarray(p * 4096, (p + 1) * 4096);
    if (k === 0) page.fill(0);
    else if (k === 1) page.fill(r() & 0xff, 0, 64 + (r() % 4000));
  }
  return img;
}

Deno.test({
  name:
    "QEMU 10.0 mapped-ram: its saved file replays equal to its restore; it restores what emit --mapped-ram writes",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const save = await fileMigration({
      dir,
      ram: sourceRam(5),
      qemu: q10!,
      capabilities: ["mapped-ram"],
    });
    assert.equal(save.error, undefined, save.error);
    const v = await runCli(["verify", save.file, "--json", "--expect", `pc.ram=${save.dstRam}`]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    const img = modified(await Deno.readFile(save.dstRam), 6);
    await Deno.writeFile(`${dir}/img`, img);
    assert.equal(
      await main([
        "emit",
        "--mapped-ram",
        "--template",
        save.file,
        "--ram",
        `pc.ram=${dir}/img`,
        "-o",
        `${dir}/e.mig`,
      ]),
      0,
    );
    const r = await loadIntoQemu({
      stream: `${dir}/e.mig`,
      qemu: q10,
      capabilities: ["mapped-ram"],
      uri: `file:${dir}/e.mig`,
    });
    assert.equal(r.status, "completed", `${r.error} ${r.stderr}`);
    assert.equal(await sha256File(r.ramPath), await sha256(img));
    await Deno.remove(r.dir, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "QEMU 10.0 loads an emitted precopy stream with XBZRLE rounds and SWITCHOVER_START from a 10.0 template",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const t = await capture({ mode: "precopy", dir, ram: sourceRam(7), qemu: q10 });
    assert.equal(t.dstStatus, "completed", t.error);
    const base = await Deno.readFile(t.dstRam);
    const r1 = modified(base, 8);
    const r2 = modified(r1, 9);
    await Deno.writeFile(`${dir}/r0`, base);
    await Deno.writeFile(`${dir}/r1`, r1);
    await Deno.writeFile(`${dir}/r2`, r2);
    assert.equal(
      await main([
        "emit",
        "--template",
        t.main,
        "--ram",
        `pc.ram=${dir}/r0`,
        "--round",
        `pc.ram=${dir}/r1`,
        "--round",
        `pc.ram=${dir}/r2`,
        "--xbzrle",
        "-o",
        `${dir}/x.mig`,
      ]),
      0,
    );
    const insp = JSON.parse((await runCli(["inspect", "--json", `${dir}/x.mig`])).stdout).summary;
    assert.deepEqual(insp.commands.map((c: { name: string }) => c.name), ["SWITCHOVER_START"]);
    assert.ok(insp.ram.xbzrle > 0);
    const r = await loadIntoQemu({ stream: `${dir}/x.mig`, qemu: q10 });
    assert.equal(r.status, "completed", `${r.error} ${r.stderr}`);
    assert.equal(await sha256File(r.ramPath), await sha256(r2));
    await Deno.remove(r.dir, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "QEMU 10.0 multifd over sockets: MULTIFD_FLUSH and zero pages inside packets replay equal to the destination",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const c = await capture({ mode: "multifd", dir, ram: sourceRam(10), qemu: q10 });
    assert.equal(c.dstStatus, "completed", c.error);
    const main0 = JSON.parse((await runCli(["inspect", "--json", c.main])).stdout).summary;
    assert.ok(main0.ram.multifdFlush > 0, "MULTIFD_FLUSH on the main channel");
    let zeroInPackets = 0;
    for (const ch of c.channels) {
      zeroInPackets +=
        JSON.parse((await runCli(["inspect", "--json", ch])).stdout).channel.zeroPages;
    }
    assert.ok(
      zeroInPackets > 0,
      "zero pages travel inside the packets (zero-page-detection=multifd)",
    );
    const v = await runCli([
      "verify",
      c.main,
      ...c.channels.flatMap((ch) => ["--channel", ch]),
      "--expect",
      `pc.ram=${c.dstRam}`,
    ]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    await Deno.remove(dir, { recursive: true });
  },
});
