/**
 * Ground truth for `check`: real QEMU sources and destinations (7.2 system-wide, 10.0 from
 * tools/qemu.ts qemu10()). For each pair the stream is captured from a paused guest, `check`
 * predicts, and the real destination loads it (`-incoming defer`, `migrate-incoming exec:cat`);
 * the verdicts must agree, and when it does not load, the section of the predicted first error
 * must be the one QEMU's stderr names (and QEMU's words, where check quotes them, must be in
 * its stderr). Ignored without QEMU 7.2; the pairs that need 10.0 are ignored without it.
 */
import assert from "node:assert/strict";
import { qemu10, qemu72, type QemuBinary } from "../../tools/qemu.ts";
import { capture, COMMON, errorLines, load, qemuSection, type Side, wrapper } from "./_qemu.ts";
import { runCheckCli } from "./_run.ts";

const q72 = qemu72();
const q10 = qemu10();
let dir = "";
const streams = new Map<string, string>();

/** A capture of `s`, made once per test run. */
async function stream(name: string, s: Side, capabilities: string[] = []): Promise<string> {
  if (!dir) dir = await Deno.makeTempDir({ prefix: "migscope-check-pairs-" });
  const have = streams.get(name);
  if (have) return have;
  const file = `${dir}/${name}.mig`;
  const r = await capture(s, file, capabilities);
  assert.equal(r.status, "completed", `capture ${name}: ${r.error} ${r.stderr}`);
  streams.set(name, file);
  return file;
}

/** The binary to hand to `check --qemu`: a wrapper when QEMU needs its own paths. */
async function checkBinary(q: QemuBinary): Promise<string> {
  if (!q.args.length && !q.env) return q.bin;
  if (!dir) dir = await Deno.makeTempDir({ prefix: "migscope-check-pairs-" });
  return await wrapper(q, dir);
}

/** check's words QEMU prints too (its subsection errors name only the device). */
const QUOTED = new Set([
  "capability-unknown",
  "capability-off",
  "machine-mismatch",
  "section-unknown",
  "version-too-new",
  "version-too-old",
  "ramblock-size",
  "ramblock-unknown",
]);

const squash = (s: string) => s.replace(/\s+/g, " ");

/** Runs check and the real load; asserts they agree; returns both for the log. */
async function agree(file: string, checkArgs: string[], dest: Side) {
  const c = await runCheckCli([file, "--json", ...checkArgs]);
  assert.ok(c.code === 0 || c.code === 1, `check exit ${c.code}: ${c.stderr}`);
  const doc = JSON.parse(c.stdout);
  const real = await load(dest, file);
  const loaded = real.status === "completed";
  const named = qemuSection(real.stderr);
  const lines = errorLines(real.stderr);
  console.log(`    check: ${doc.verdictText}\n    QEMU:  ${loaded ? "loaded" : lines.join(" | ")}`);
  assert.equal(
    doc.loads,
    loaded,
    `check says ${doc.verdictText}; QEMU: ${real.status} ${real.stderr}`,
  );
  assert.equal(c.code, loaded ? 0 : 1);
  if (!loaded) {
    assert.equal(doc.firstError.section, named, `QEMU names ${named}: ${real.stderr}`);
    if (QUOTED.has(doc.firstError.kind)) {
      assert.ok(squash(real.stderr).includes(squash(doc.firstError.message)), real.stderr);
    }
  }
  return doc;
}

const M72 = "pc-i440fx-7.2";
const src72 = (extra: string[] = [], mib = 64): Side => ({ qemu: q72!, machine: M72, mib, extra });

Deno.test({
  name:
    "check ground truth, QEMU 7.2 → 7.2: same setup loads; an extra device, -m, versions and a subsection do not",
  ignore: !q72,
  async fn(t) {
    const base = await stream("72", src72());
    const bin = await checkBinary(q72!);
    await t.step("(1) 7.2 capture into 7.2: loads (default and exact destination)", async () => {
      await agree(base, ["--qemu", bin], src72());
      await agree(base, ["--qemu", bin, "--", ...COMMON], src72());
    });
    const rng = await stream("72-rng", src72(["-device", "virtio-rng-pci"]));
    await t.step(
      "(4) a virtio-rng-pci guest into a destination without it: Unknown section",
      async () => {
        const doc = await agree(rng, ["--qemu", bin, "--", ...COMMON], src72());
        assert.equal(doc.firstError.section, "0000:00:03.0/virtio-rng");
        // Without the destination's command line, the device is assumed there, as it is here:
        await agree(rng, ["--qemu", bin], src72(["-device", "virtio-rng-pci"]));
      },
    );
    await t.step(
      "(5) a 64 MiB capture into a 128 MiB destination: Size mismatch for pc.ram",
      async () => {
        const doc = await agree(
          base,
          ["--qemu", bin, "--", "-m", "128M", ...COMMON],
          src72([], 128),
        );
        assert.match(doc.firstError.hint, /-m \(command line\): start it with -m 64M/);
      },
    );
    await t.step(
      "(7) an x-ignore-shared capture into a destination without it: Capability … off",
      async () => {
        const xis = await stream("72-xis", src72(), ["x-ignore-shared"]);
        const doc = await agree(xis, ["--qemu", bin], src72());
        assert.equal(doc.firstError.kind, "capability-off");
      },
    );
    const bytes = await Deno.readFile(base);
    const patched = async (name: string, edit: (b: Uint8Array) => void) => {
      const b = bytes.slice();
      edit(b);
      await Deno.writeFile(`${dir}/${name}.mig`, b);
      return `${dir}/${name}.mig`;
    };
    const rtc = new TextEncoder().encode("\x0bmc146818rtc\0\0\0\0\0\0\0\x03");
    const at = bytes.findIndex((_, i) => rtc.every((c, k) => bytes[i + k] === c));
    for (const [v, kind] of [[4, "version-too-new"], [0, "version-too-old"]] as const) {
      await t.step(`(6) mc146818rtc's section version set to ${v}: ${kind}`, async () => {
        const f = await patched(`rtc${v}`, (b) => b[at + rtc.length - 1] = v);
        const doc = await agree(f, ["--qemu", bin], src72());
        assert.equal(doc.firstError.kind, kind);
      });
    }
    await t.step(
      "(6) subsection fw_cfg/acpi_mr renamed fw_cfg/acpi_mX (stream and vmdesc)",
      async () => {
        const from = new TextEncoder().encode("fw_cfg/acpi_mr");
        const f = await patched("sub", (b) => {
          for (let i = 0; i < b.length - from.length; i++) {
            if (from.every((c, k) => b[i + k] === c)) b[i + from.length - 1] = 0x58;
          }
        });
        const doc = await agree(f, ["--qemu", bin], src72());
        assert.equal(doc.firstError.kind, "subsection-unknown");
      },
    );
  },
});

Deno.test({
  name: "check ground truth across versions: 7.2 → 10.0 (-M pc-i440fx-7.2) and 10.0 → 7.2",
  ignore: !q72 || !q10,
  async fn(t) {
    const b72 = await checkBinary(q72!);
    const b10 = await checkBinary(q10!);
    const d10 = (extra: string[] = []): Side => ({ qemu: q10!, machine: M72, mib: 64, extra });
    await t.step("(2) 7.2 capture into 10.0 with -M pc-i440fx-7.2: loads", async () => {
      const base = await stream("72", src72());
      await agree(base, ["--qemu", b10, "--machine", M72], d10());
    });
    await t.step(
      "(2) the same into 10.0 started as -M pc (pc-i440fx-10.0): Machine type",
      async () => {
        const base = await stream("72", src72());
        const doc = await agree(base, ["--qemu", b10, "--machine", "pc"], {
          ...d10(),
          machine: "pc",
        });
        assert.equal(doc.firstError.kind, "machine-mismatch");
      },
    );
    const c10 = await stream("10", { qemu: q10!, machine: "pc", mib: 64 });
    await t.step(
      "(3) 10.0 capture (pc = pc-i440fx-10.0) into 7.2: unknown machine type",
      async () => {
        const doc = await agree(c10, ["--qemu", b72], { ...src72(), machine: "pc-i440fx-10.0" });
        assert.equal(doc.firstError.kind, "machine-unknown");
      },
    );
    await t.step("(3) the same into 7.2 started as -M pc: Machine type received …", async () => {
      const doc = await agree(c10, ["--qemu", b72, "--machine", "pc"], {
        ...src72(),
        machine: "pc",
      });
      assert.equal(doc.firstError.kind, "machine-mismatch");
    });
    await t.step("(3) 10.0 capture with -M pc-i440fx-7.2 into 7.2: loads", async () => {
      const c1072 = await stream("10-72", d10());
      await agree(c1072, ["--qemu", b72], src72());
    });
    await t.step("(7) a 10.0 mapped-ram file into 7.2: Received unknown capability", async () => {
      const mr = await stream("10-72-mapped-ram", d10(), ["mapped-ram"]);
      const doc = await agree(mr, ["--qemu", b72], src72());
      assert.equal(doc.firstError.kind, "capability-unknown");
    });
    await t.step(
      "(3) 10.0 -M pc-i440fx-7.2 with -device vmclock into 7.2: Unknown ramblock",
      async () => {
        const vmclock = await stream("10-72-vmclock", d10(["-device", "vmclock"]));
        const doc = await agree(vmclock, ["--qemu", b72], src72());
        assert.equal(doc.firstError.kind, "ramblock-unknown");
      },
    );
  },
});

Deno.test({
  name: "check ground truth: temporary files removed",
  ignore: !q72,
  async fn() {
    if (dir) await Deno.remove(dir, { recursive: true });
  },
});
