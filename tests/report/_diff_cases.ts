/**
 * The golden cases of `migscope diff` (text and JSON), each with its independent check
 * (tests/diff/_checks.ts: section headers found by byte pattern, device bodies between header
 * and footer, each stream's vmdesc JSON, replays compared byte by byte, the shared captures'
 * README and oracles). Run through the CLI (src/cli/main.ts diff).
 *
 *   deno run -A tests/report/_diff_cases.ts [NAME ...] [--check]   regenerate (or compare)
 *
 * A golden file is written only when the case's check passes with the expected exit code and
 * stderr. The QEMU cases make their captures in the case's directory: a paused guest (-S, the
 * vCPU never runs) with the same prefilled RAM and `-rtc clock=vm`, so every run writes the
 * same bytes.
 */
import assert from "node:assert/strict";
import { captureFile, CAPTURES_DIR, readmeExpectations, sha256 } from "../_helpers.ts";
import { savedVmFile } from "../container/_saved_vms.ts";
import { haveQemu, qemu10 } from "../../tools/qemu.ts";
import { pausedCapture, prefilledRam } from "../diff/_capture.ts";
import {
  aspect,
  checkConfiguration,
  checkDeviceState,
  checkRamContent,
  checkResult,
  checkSections,
  checkVmdesc,
} from "../diff/_checks.ts";
import { pageDiff, ramTruth, sectionsByPattern } from "../diff/_independent.ts";
import { runDiffCli } from "../diff/_run.ts";
import {
  type CaseRun,
  type GoldenCase,
  normalise,
  Problems,
  readGolden,
  regenerate,
  TMP,
} from "./_golden.ts";

/** A diff case: what it needs to run. */
export interface DiffCase extends GoldenCase {
  needs?: ("qemu72" | "qemu10")[];
}

/** Whether a case cannot run here (its QEMU is missing). */
export function missing(c: DiffCase): string | undefined {
  if (c.needs?.includes("qemu72") && !haveQemu()) return "QEMU 7.2";
  if (c.needs?.includes("qemu10") && !qemu10()) return "QEMU 10";
  return undefined;
}

function runProblems(fn: (p: Problems) => void | Promise<void>): Promise<string[]> {
  const p = new Problems();
  return Promise.resolve(fn(p)).then(() => p.list);
}

async function link(dir: string, name: string, target: string): Promise<string> {
  await Deno.symlink(target, `${dir}/${name}`);
  return `${dir}/${name}`;
}

/** Inputs of a case, by the name they have in its directory, read back for its check. */
const inputs = new Map<string, Uint8Array>();
const keep = async (path: string) => {
  inputs.set(path.slice(path.lastIndexOf("/") + 1), await Deno.readFile(path));
  return path;
};
const input = (name: string) => inputs.get(name)!;

// ---- shared captures ----

const README = readmeExpectations().get("a_precopy_idle")!;
/** The i8254 device's `channels[1].count` (int32): body + irq_disabled (4) + channel 0 (32). */
const COUNT_AT = 4 + 32;

/** Where the byte flipped lies, and the value before and after (int32, big-endian). */
function flipped(bytes: Uint8Array): { at: number; before: number; after: number } {
  const s = sectionsByPattern(bytes).find((x) => x.name === "i8254")!;
  const at = s.offset + 14 + s.name.length + COUNT_AT;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const before = dv.getInt32(at);
  return { at, before, after: before ^ 0x5a };
}

/** The report of the idle capture against itself, every line from its README and bytes. */
function equalReport(a: string, b: string, devices: string[]): string {
  const blocks = README.blocks.length;
  const pages = README.blocks.reduce((n, x) => n + x.size / 4096, 0);
  const sections = README.sections.SECTION_START + README.sections.SECTION_FULL;
  const full = README.sections.SECTION_FULL;
  return [
    `migscope diff\n  A  ${TMP}/${a}\n  B  ${TMP}/${b}`,
    "Configuration: equal (machine pc-i440fx-7.2, capabilities none, page-size 4096, " +
    "target-page-bits not sent, uuid not sent)",
    `Sections: equal (${sections} in both, same order, types and versions)`,
    `RAM blocks: equal (${blocks} blocks in both)`,
    devices.length
      ? devices.join("\n")
      : `Device state: equal (${full} devices in both, field by field)`,
    `vmdesc: equal (${full} devices described in both)`,
    `RAM content: equal (${blocks} blocks, ${pages} pages of 4096 bytes)`,
    devices.length ? "Result: different: device state" : "Result: equal",
  ].join("\n\n") + "\n";
}

const selfCase: DiffCase = {
  name: "diff_self_gzip.txt",
  title: "diff text: a_precopy_idle gzip against the same stream decompressed (exit 0, equal)",
  setup: async (dir) => [
    "diff",
    await link(dir, "capture.bin.gz", `${CAPTURES_DIR}/a_precopy_idle/capture.bin.gz`),
    await link(dir, "capture.bin", await captureFile("a_precopy_idle")),
  ],
  code: 0,
  check: (out) =>
    runProblems((p) => p.eq("report", out, equalReport("capture.bin.gz", "capture.bin", []))),
};

async function flipSetup(dir: string, json: boolean): Promise<string[]> {
  const bytes = await Deno.readFile(await captureFile("a_precopy_idle"));
  const f = flipped(bytes);
  bytes[f.at + 3] ^= 0x5a;
  await Deno.writeFile(`${dir}/flipped.bin`, bytes);
  const a = await link(dir, "capture.bin", await captureFile("a_precopy_idle"));
  return ["diff", ...(json ? ["--json"] : []), a, `${dir}/flipped.bin`];
}

const hex = (n: number) => `0x${n.toString(16)}`;

const flipCase: DiffCase = {
  name: "diff_field_flip.txt",
  title: "diff text: one byte of i8254 channels[1].count flipped in a copy of a_precopy_idle",
  setup: (dir) => flipSetup(dir, false),
  code: 1,
  check: (out) =>
    runProblems(async (p) => {
      const f = flipped(await Deno.readFile(await captureFile("a_precopy_idle")));
      p.eq(
        "report",
        out,
        equalReport("capture.bin", "flipped.bin", [
          "Device state: 1 field differs in 1 device (33 devices in both)",
          "  i8254 #0",
          `    channels[1].count  A ${hex(f.before)}  B ${hex(f.after)}`,
        ]),
      );
    }),
};

const flipJsonCase: DiffCase = {
  name: "diff_field_flip.json",
  title: "diff --json: the flipped field with both values, every other aspect equal",
  setup: (dir) => flipSetup(dir, true),
  code: 1,
  check: (out) =>
    runProblems(async (p) => {
      const f = flipped(await Deno.readFile(await captureFile("a_precopy_idle")));
      const doc = JSON.parse(out);
      p.eq("format", [doc.format, doc.version, doc.equal], ["migscope-diff", 1, false]);
      p.eq("devices", doc.devices.devices, [{
        name: "i8254",
        instance: 0,
        fields: [{ path: "channels[1].count", kind: "value", a: f.before, b: f.after }],
      }]);
      for (const k of ["configuration", "sections", "ramBlocks", "vmdesc", "ram"]) {
        p.eq(`${k} equal`, doc[k].equal, true);
      }
      p.eq(
        "RAM blocks compared",
        doc.ram.blocks.map((b: { name: string }) => b.name),
        README.blocks.map((b) => b.name),
      );
    }),
};

// ---- captures made by QEMU ----

const RTC = ["-rtc", "base=2024-01-01T00:00:00,clock=vm"];
const RAM = () => prefilledRam(64, 5);

/** The checks every QEMU case makes. */
function qemuChecks(out: string, a: string, b: string, p: Problems): void {
  const x = input(a);
  const y = input(b);
  checkConfiguration(out, x, y, p);
  checkSections(out, x, y, p);
  checkDeviceState(out, x, y, p);
  checkVmdesc(out, x, y, p);
  checkResult(out, p);
}

const addedCase: DiffCase = {
  name: "diff_device_added.txt",
  title: "diff text: real QEMU 7.2 captures of one paused guest, B with -device virtio-rng-pci",
  needs: ["qemu72"],
  setup: async (dir) => {
    await pausedCapture({ out: `${dir}/base.mig`, ram: RAM(), extra: RTC });
    await pausedCapture({
      out: `${dir}/rng.mig`,
      ram: RAM(),
      extra: [...RTC, "-device", "virtio-rng-pci"],
    });
    return ["diff", await keep(`${dir}/base.mig`), await keep(`${dir}/rng.mig`)];
  },
  code: 1,
  check: (out) =>
    runProblems(async (p) => {
      qemuChecks(out, "base.mig", "rng.mig", p);
      checkRamContent(out, await truthOf("base.mig", "rng.mig"), p);
      const added = aspect(out, "Sections").filter((l) => l.startsWith("  + "));
      p.ok(
        "exactly the virtio-rng section added",
        added.length === 1 && added[0].includes("virtio-rng"),
      );
    }),
};

/** Replays of two kept inputs compared (written back to a directory of their own). */
async function truthOf(a: string, b: string) {
  const dir = await Deno.makeTempDir({ prefix: "migscope-diff-inputs-" });
  try {
    await Deno.writeFile(`${dir}/${a}`, input(a));
    await Deno.writeFile(`${dir}/${b}`, input(b));
    return await ramTruth(`${dir}/${a}`, `${dir}/${b}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const versionsCase: DiffCase = {
  name: "diff_qemu72_qemu10.txt",
  title:
    "diff text: the same paused guest (pc-i440fx-7.2, same prefilled RAM) saved by QEMU 7.2 and 10.0",
  needs: ["qemu72", "qemu10"],
  setup: async (dir) => {
    await pausedCapture({ out: `${dir}/qemu72.mig`, ram: RAM(), extra: RTC });
    await pausedCapture({ out: `${dir}/qemu10.mig`, ram: RAM(), extra: RTC, qemu: qemu10() });
    return ["diff", await keep(`${dir}/qemu72.mig`), await keep(`${dir}/qemu10.mig`)];
  },
  code: 1,
  check: (out) =>
    runProblems(async (p) => {
      qemuChecks(out, "qemu72.mig", "qemu10.mig", p);
      const truth = await truthOf("qemu72.mig", "qemu10.mig");
      checkRamContent(out, truth, p);
      const ram = truth.find((t) => t.name === "pc.ram");
      p.ok("pc.ram equal in both replays", ram?.equal ?? false);
      p.eq("pc.ram is the prefilled image", ram?.shaA, await sha256(RAM()));
    }),
};

// ---- a qcow2 image with two snapshots ----

const Q1 = "q1_qcow2_savevm";

const snapshotsCase: DiffCase = {
  name: "diff_qcow2_snapshots.txt",
  title: "diff text: the qcow2 image's snapA against its snapB (--snapshot-a, --snapshot-b)",
  setup: async (dir) => {
    const q = await link(dir, "disk.qcow2", await savedVmFile(Q1, "container.qcow2"));
    return ["diff", q, q, "--snapshot-a", "snapA", "--snapshot-b", "snapB"];
  },
  code: 1,
  check: (out) =>
    runProblems(async (p) => {
      const q = await savedVmFile(Q1, "container.qcow2");
      const truth = await ramTruth(q, q, ["--snapshot", "snapA"], ["--snapshot", "snapB"]);
      const oa = await Deno.readFile(await savedVmFile(Q1, "oracle.snapA.pc.ram"));
      const ob = await Deno.readFile(await savedVmFile(Q1, "oracle.snapB.pc.ram"));
      const o = pageDiff(oa, ob);
      const ram = truth.find((t) => t.name === "pc.ram")!;
      p.eq("pc.ram pages that differ between the oracles", [ram.different, ram.runs], [
        o.different,
        o.runs,
      ]);
      p.eq("pc.ram of snapA is its oracle", ram.shaA, await sha256(oa));
      checkRamContent(out, truth, p);
      p.eq("title", out.split("\n").slice(1, 3), [
        `  A  ${TMP}/disk.qcow2 (qcow2 snapshot 1 'snapA')`,
        `  B  ${TMP}/disk.qcow2 (qcow2 snapshot 2 'snapB')`,
      ]);
      checkResult(out, p);
    }),
};

/** Every diff case. */
export const DIFF_CASES: DiffCase[] = [
  selfCase,
  flipCase,
  flipJsonCase,
  addedCase,
  versionsCase,
  snapshotsCase,
];

/** Runs a case's command line through the diff entry, in a fresh temporary directory. */
export async function runDiffCase(c: DiffCase): Promise<CaseRun> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-golden-" });
  inputs.clear();
  try {
    const [cmd, ...args] = await c.setup(dir);
    assert.equal(cmd, "diff");
    const r = await runDiffCli(args, { cwd: dir });
    const stdout = normalise(r.stdout, dir);
    return { code: r.code, stdout, stderr: normalise(r.stderr, dir), golden: stdout };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs a case and asserts its exit code, stderr, golden file and independent check. */
export async function diffGolden(name: string): Promise<void> {
  const c = DIFF_CASES.find((x) => x.name === name);
  if (!c) throw new Error(`no diff golden case ${name}`);
  const r = await runDiffCase(c);
  assert.equal(r.stderr, c.stderr ?? "", "stderr");
  assert.equal(r.code, c.code, "exit code");
  assert.equal(r.golden, await readGolden(c), `stdout differs from tests/golden/${c.name}`);
  assert.deepEqual(await c.check(r.stdout), [], "independent check");
}

if (import.meta.main) {
  if (await regenerate(DIFF_CASES, runDiffCase, Deno.args, missing)) Deno.exit(1);
}
