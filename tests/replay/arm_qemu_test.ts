/**
 * A fresh 1 KiB-page capture from Debian's qemu-system-arm (versatilepb, tools/arm_capture.ts):
 * migscope's replay equals the destination QEMU's RAM and flash. Skipped without qemu-system-arm.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ramFileName } from "../../src/replay/names.ts";
import {
  ARM_RAM_ID,
  ARM_RAM_MIB,
  armCapture,
  armPattern,
  countStream,
  qemuArm,
  sha256Hex,
} from "../../tools/arm_capture.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const qemu = qemuArm();

Deno.test({
  name: "fresh qemu-system-arm versatilepb capture: replay equals the destination's RAM and flash",
  ignore: qemu === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "migscope-arm-qemu-" });
    try {
      const src = armPattern(ARM_RAM_MIB << 20);
      const r = await armCapture({ dir, ram: src, qemu, timeoutMs: 20_000 });
      assert.equal(r.error, undefined, r.error);
      const dst = await Deno.readFile(r.dstRam);
      // QEMU's own truth first: the destination holds the source's RAM, 1 KiB pages.
      assert.equal(await sha256Hex(dst), await sha256Hex(src));
      assert.equal(r.stats?.["page-size"], 1024);
      const facts = countStream(await Deno.readFile(r.capture));
      assert.equal(facts.records.page, r.stats?.normal);
      assert.equal(facts.records.zero, r.stats?.duplicate);

      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "replay", r.capture, "--out", `${dir}/out`],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const replayed = await Deno.readFile(`${dir}/out/${ramFileName(ARM_RAM_ID)}`);
      assert.equal(replayed.length, dst.length);
      assert.equal(await sha256Hex(replayed), await sha256Hex(dst));
      assert.ok(r.dstFlash, "the destination's flash was saved");
      assert.equal(
        await sha256Hex(await Deno.readFile(`${dir}/out/${ramFileName("versatile.flash")}`)),
        await sha256Hex(await Deno.readFile(r.dstFlash)),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
