/**
 * Golden tests of `check` (cases in tests/report/_check_cases.ts): the real CLI in a
 * subprocess, stdout compared byte for byte with tests/golden/check_*, the exit code (0 loads,
 * 1 will not load) and an empty stderr, and each output checked against tests/check/_oracle.ts
 * (sections and subsections found in the capture's raw bytes, QEMU's loader rules applied to
 * the raw -dump-vmstate JSON). Regenerate: `deno run -A tests/report/_check_cases.ts`.
 *
 * The capture is the shared a_precopy_idle (QEMU 7.2, pc-i440fx-7.2, 1 START + 33 FULL
 * sections, 9 subsections in its vmdesc: cpu ×3, fw_cfg ×2, fdrive/media_rate ×2 (two
 * drives), pckbd, piix4_pm).
 */
import assert from "node:assert/strict";
import { captureNames } from "../_helpers.ts";
import { CHECK_CASES, runCheckCase } from "./_check_cases.ts";
import { GOLDEN_DIR } from "./_golden.ts";

const ignore = !captureNames().includes("a_precopy_idle");

// QEMU 7.2's own schema: loads; 25 of 34 sections described (the 9 others — timer, cpu_common,
// cpu, apic, PCIBUS, ide, i2c_bus, acpi_build, globalstate — are registered without a device
// class, so -dump-vmstate has no description of them); 6 of 9 subsections (cpu's 3 are not).
// QEMU 10.0's schema of pc-i440fx-7.2 also loads; it describes 'ide' (26 of 34).
// The edited schema (machine pc-i440fx-7.1, mc146818rtc version_id 2, PIIX3 minimum 4,
// fw_cfg without fw_cfg/acpi_mr, fdrive/media_rate version_id 0): six errors in stream order,
// the first (the verdict) the machine type at the CONFIGURATION section, offset 8; as text and
// as JSON.
// --destination with QEMU 7.2's own facts (tests/check/data, saved by --save-destination from
// a -nodefaults probe): loads; vga, serial and parallel_isa assumed on the command line (and
// vga's two RAM blocks not checked); cpu/fpop_ip_dp and cpu/msr_smi_count not checkable (cpu
// has no -dump-vmstate description and the paused destination did not send them). The same
// facts edited (no device assumed, 16 KiB pages, RAM sizes, fdc v1, piix4_pm without memhp,
// cpu/fpop_ip_dp sent at v0, a section and a block the stream lacks): every row in order
// against tests/check/_oracle_facts.ts, the verdict the target page bits at offset 8.
for (const c of CHECK_CASES) {
  Deno.test({
    name: `${c.title} (tests/golden/${c.name})`,
    ignore,
    async fn() {
      const r = await runCheckCase(c);
      assert.equal(r.stderr, c.stderr ?? "", "stderr");
      assert.equal(r.code, c.code, "exit code");
      const golden = await Deno.readTextFile(`${GOLDEN_DIR}${c.name}`);
      assert.equal(r.golden, golden, `stdout differs from tests/golden/${c.name}`);
      assert.deepEqual(await c.check(r.stdout), [], "independent check");
    },
  });
}
