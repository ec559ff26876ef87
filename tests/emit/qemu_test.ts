/**
 * Real QEMU (Debian's 7.2, installed by .ci/run) loads migscope's emitted streams and ends up
 * with exactly the bytes migscope says it sent: RAM after XBZRLE rounds, and a disk sent by block
 * migration with zero blocks.
 *
 * The RAM images start from the template capture's own destination RAM: device state loaded
 * from the template's FULL sections (kvm-tpr-opt/vapic) reads guest RAM while loading, so the low
 * memory must stay what those devices saved. The rounds dirty the upper 32 MiB.
 */
import assert from "node:assert/strict";
import { haveQemu, loadIntoQemu } from "../../tools/qemu.ts";
import { captureFile, CAPTURES_DIR, sha256, sha256File } from "../_helpers.ts";
import { diskImage, prng } from "../../tools/samples.ts";
import { main } from "../../src/cli/main.ts";

const PAGE = 4096;
const ignore = !haveQemu();

/** A new round: small edits, page rewrites and zero toggles in pages [from, to). */
function dirtyUpper(prev: Uint8Array, seed: number, from: number, to: number): Uint8Array {
  const r = prng(seed);
  const img = prev.slice();
  const span = to - from;
  for (let k = 0; k < 1500; k++) {
    const p = from + (k * 7) % span;
    const at = p * PAGE + (r() % (PAGE - 8));
    for (let i = 0; i < 3; i++) img[at + i] = r() & 0xff;
  }
  for (let k = 0; k < 200; k++) {
    const p = from + (r() % span);
    for (let i = 0; i < PAGE; i++) img[p * PAGE + i] = r() & 0xff;
  }
  for (let k = 0; k < 64; k++) {
    const page = img.subarray((to - 64 + k) * PAGE, (to - 63 + k) * PAGE);
    if (page.some((b) => b !== 0)) page.fill(0);
    else page[k] = 0x11;
  }
  return img;
}

Deno.test({
  name:
    "QEMU 7.2 loads an emitted stream with XBZRLE rounds (template a_precopy_idle): its RAM equals the last round",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const base = await Deno.readFile(await captureFile("a_precopy_idle", "oracle.pc.ram"));
    const pages = base.length / PAGE;
    const rounds = [dirtyUpper(base, 1, pages / 2, pages)];
    rounds.push(dirtyUpper(rounds[0], 2, pages / 2, pages));
    rounds.push(dirtyUpper(rounds[1], 3, pages / 2, pages));
    await Deno.writeFile(`${dir}/r0`, base);
    for (const [i, r] of rounds.entries()) await Deno.writeFile(`${dir}/r${i + 1}`, r);
    const code = await main([
      "emit",
      "--template",
      `${CAPTURES_DIR}/a_precopy_idle/capture.bin.gz`,
      "--ram",
      `pc.ram=${dir}/r0`,
      ...rounds.flatMap((_, i) => ["--round", `pc.ram=${dir}/r${i + 1}`]),
      "--xbzrle",
      "--xbzrle-cache",
      "16M",
      "-o",
      `${dir}/x.mig`,
    ]);
    assert.equal(code, 0);
    const { summary } = await import("../_helpers.ts").then((h) => h.summarize(`${dir}/x.mig`));
    assert.ok(summary.ram.xbzrle > 1000, `stream uses XBZRLE (${summary.ram.xbzrle} records)`);
    const res = await loadIntoQemu({ stream: `${dir}/x.mig` });
    assert.equal(res.status, "completed", `${res.error} ${res.stderr}`);
    assert.equal(await sha256File(res.ramPath), await sha256(rounds[2]));
    await Deno.remove(res.dir, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "QEMU 7.2 loads an emitted block migration with zero blocks (template c_block_zero_blocks): disk and RAM equal",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const ram = await captureFile("c_block_zero_blocks", "oracle.pc.ram");
    const disk = diskImage(64 << 20, 77);
    await Deno.writeFile(`${dir}/disk`, disk);
    const code = await main([
      "emit",
      "--template",
      `${CAPTURES_DIR}/c_block_zero_blocks/capture.bin.gz`,
      "--ram",
      `pc.ram=${ram}`,
      "--disk",
      `disk0=${dir}/disk`,
      "--zero-blocks",
      "-o",
      `${dir}/b.mig`,
    ]);
    assert.equal(code, 0);
    const res = await loadIntoQemu({ stream: `${dir}/b.mig`, disks: { disk0: 64 << 20 } });
    assert.equal(res.status, "completed", `${res.error} ${res.stderr}`);
    assert.equal(await sha256File(res.diskPaths.disk0), await sha256(disk));
    assert.equal(await sha256File(res.ramPath), await sha256File(ram));
    await Deno.remove(res.dir, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  },
});
