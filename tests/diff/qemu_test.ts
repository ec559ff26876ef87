/**
 * `migscope diff --json` on real captures made here by QEMU: paused guests (-S) with the same
 * prefilled file-backed RAM and `-rtc clock=vm`, migrated to `exec:cat > FILE`. Every verdict is
 * checked against tests/diff/_independent.ts: section headers found by byte pattern, device
 * bodies, the trailers' vmdesc JSON, and both captures replayed by `migscope replay` and
 * compared byte by byte (sha256 and page by page).
 */
import assert from "node:assert/strict";
import { haveQemu, qemu10 } from "../../tools/qemu.ts";
import { sha256 } from "../_helpers.ts";
import { pausedCapture, prefilledRam } from "./_capture.ts";
import {
  type BlockTruth,
  deviceBodies,
  lcsLength,
  ramTruth,
  sectionsByPattern,
  trailerJson,
} from "./_independent.ts";
import { runDiffCli } from "./_run.ts";

const RTC = ["-rtc", "base=2024-01-01T00:00:00,clock=vm"];
const RAM = prefilledRam(64, 5);

// deno-lint-ignore no-explicit-any
type Doc = any;

async function diffJson(a: string, b: string): Promise<{ code: number; doc: Doc }> {
  const r = await runDiffCli(["--json", a, b]);
  assert.equal(r.stderr, "");
  return { code: r.code, doc: JSON.parse(r.stdout) };
}

/** The RAM content aspect against the replays compared byte by byte. */
function assertContent(doc: Doc, truth: BlockTruth[]): void {
  assert.equal(doc.ram.compared, true);
  assert.equal(doc.ram.blocks.length, truth.length);
  for (const t of truth) {
    const d = doc.ram.blocks.find((x: { name: string }) => x.name === t.name);
    assert.ok(d, t.name);
    assert.deepEqual(
      [d.equal, d.different, d.rangeCount, d.pages],
      [t.equal, t.different, t.runs, t.pages],
      t.name,
    );
  }
  assert.equal(doc.ram.equal, truth.every((t) => t.equal));
}

const key = (s: { name: string; instance: number }) => `${s.name}#${s.instance}`;

Deno.test({
  name:
    "diff --json, QEMU 7.2: B with -device virtio-rng-pci has exactly that section and vmdesc device more; device state equal; RAM as the replays say",
  ignore: !haveQemu(),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const a = `${dir}/base.mig`;
      const b = `${dir}/rng.mig`;
      await pausedCapture({ out: a, ram: RAM, extra: RTC });
      await pausedCapture({ out: b, ram: RAM, extra: [...RTC, "-device", "virtio-rng-pci"] });
      const [x, y] = [await Deno.readFile(a), await Deno.readFile(b)];
      const { code, doc } = await diffJson(a, b);
      assert.equal(code, 1);
      const sa = sectionsByPattern(x);
      const sb = sectionsByPattern(y);
      const added = sb.filter((s) => !sa.some((t) => key(t) === key(s)));
      assert.deepEqual(added.map(key), ["0000:00:03.0/virtio-rng#0"]);
      assert.deepEqual(
        doc.sections.added.map((s: Doc) => [key(s), s.type, s.version, s.id]),
        added.map((s) => [key(s), s.type, s.version, s.id]),
      );
      assert.deepEqual([doc.sections.removed, doc.sections.changed, doc.sections.moved], [
        [],
        [],
        [],
      ]);
      const ja = trailerJson(x).json.devices;
      const jb = trailerJson(y).json.devices;
      const names = (l: Doc[]) => l.map((d) => `${d.name}#${d.instance_id}`);
      const more = names(jb).filter((n) => !names(ja).includes(n));
      assert.deepEqual(doc.vmdesc.added.map(key), more);
      assert.deepEqual([doc.vmdesc.removed, doc.vmdesc.devices], [[], []]);
      const ba = deviceBodies(x);
      const bb = deviceBodies(y);
      for (const [k, body] of ba) assert.deepEqual(bb.get(k), body, k);
      assert.deepEqual([doc.devices.equal, doc.devices.compared], [true, ba.size]);
      assert.deepEqual([doc.configuration.equal, doc.ramBlocks.equal], [true, true]);
      const truth = await ramTruth(a, b);
      assertContent(doc, truth);
      assert.equal(truth.find((t) => t.name === "pc.ram")!.shaA, await sha256(RAM));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "diff --json, the same paused guest saved by QEMU 7.2 and 10.0 (pc-i440fx-7.2): configuration and section versions as the bytes say, moved sections the fewest, pc.ram equal",
  ignore: !haveQemu() || !qemu10(),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const a = `${dir}/q72.mig`;
      const b = `${dir}/q10.mig`;
      await pausedCapture({ out: a, ram: RAM, extra: RTC });
      await pausedCapture({ out: b, ram: RAM, extra: RTC, qemu: qemu10() });
      const [x, y] = [await Deno.readFile(a), await Deno.readFile(b)];
      const { code, doc } = await diffJson(a, b);
      assert.equal(code, 1);
      const machine = doc.configuration.items.find((i: Doc) => i.key === "machine");
      assert.deepEqual([machine.a, machine.b], ["pc-i440fx-7.2", "pc-i440fx-7.2"]);
      const sa = sectionsByPattern(x);
      const sb = sectionsByPattern(y);
      const inB = new Map(sb.map((s) => [key(s), s]));
      const versions = sa.filter((s) => inB.has(key(s)) && inB.get(key(s))!.version !== s.version);
      assert.deepEqual(doc.sections.changed.map(key), versions.map(key));
      const common = sa.filter((s) => inB.has(key(s))).map(key);
      const orderB = sb.map(key).filter((k) => common.includes(k));
      assert.equal(doc.sections.moved.length, common.length - lcsLength(common, orderB));
      assert.ok(doc.sections.moved.length > 0, "QEMU 10 registers some devices earlier");
      const truth = await ramTruth(a, b);
      assertContent(doc, truth);
      const pc = truth.find((t) => t.name === "pc.ram")!;
      assert.ok(pc.equal);
      assert.equal(pc.shaA, await sha256(RAM));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "diff: two captures of the same configuration are byte-identical, and diff says equal (exit 0)",
  ignore: !haveQemu(),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await pausedCapture({ out: `${dir}/one.mig`, ram: RAM, extra: RTC });
      await pausedCapture({ out: `${dir}/two.mig`, ram: RAM, extra: RTC });
      assert.equal(
        await sha256(await Deno.readFile(`${dir}/one.mig`)),
        await sha256(await Deno.readFile(`${dir}/two.mig`)),
      );
      const r = await runDiffCli([`${dir}/one.mig`, `${dir}/two.mig`]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.endsWith("\nResult: equal\n"), r.stdout);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
