/**
 * The comparison core on inline inputs: field names made unique per array element (the same
 * whichever QEMU wrote the description), field trees, schemas, sections, page runs and their
 * bounds, and the report's caps and hex; and the replays' temporary directory removed.
 */
import assert from "node:assert/strict";
import { readDeviceBody } from "../../src/parse/device.ts";
import type { VmdescDevice } from "../../src/protocol/records.ts";
import { compareFields } from "../../src/diff/fields.ts";
import { uniqueDevice } from "../../src/diff/names.ts";
import { compareContent } from "../../src/diff/ram_content.ts";
import { compareSchema } from "../../src/diff/schema.ts";
import { compareSections } from "../../src/diff/sections.ts";
import { MAX_RANGES, type SectionRef } from "../../src/diff/types.ts";
import { notCompared, replayCaveat } from "../../src/diff/diff.ts";
import { diffText, hexNumber, showValue } from "../../src/report/diff_text.ts";
import { ByteReader } from "../../src/wire/reader.ts";
import { bytesSource } from "../../src/wire/source.ts";
import { captureFile } from "../_helpers.ts";
import { runDiffCli } from "./_run.ts";

/** An IDE-like device: two `bus` structs, as QEMU 7.2 (`index` on each) or 10 (not on the last). */
function ide(style: "7.2" | "10"): VmdescDevice {
  const bus = { vmsd_name: "bus", version: 1, fields: [{ name: "cmd", type: "uint8", size: 1 }] };
  return {
    name: "ide",
    instance_id: 0,
    vmsd_name: "ide",
    version: 3,
    fields: [
      { name: "bus", index: 0, type: "struct", size: 1, struct: bus },
      {
        name: "bus",
        ...(style === "7.2" ? { index: 1 } : {}),
        type: "struct",
        size: 1,
        struct: bus,
      },
    ],
  };
}

Deno.test("a struct array's elements get their own paths: a difference in the first is not hidden by the second", async () => {
  const read = async (dev: VmdescDevice, bytes: number[]) =>
    (await readDeviceBody(new ByteReader(bytesSource(new Uint8Array(bytes))), dev, true))!;
  // As described, both elements decode to the one key `bus`: the first is lost.
  assert.deepEqual(
    compareFields(await read(ide("7.2"), [1, 7]), await read(ide("7.2"), [2, 7])),
    [],
  );
  const a = await read(uniqueDevice(ide("7.2")), [1, 7]);
  const b = await read(uniqueDevice(ide("10")), [2, 7]);
  assert.deepEqual(Object.keys(a), ["bus[0]", "bus[1]"]);
  assert.deepEqual(compareFields(a, b), [{ path: "bus[0].cmd", kind: "value", a: 1, b: 2 }]);
  const schema = compareSchema(
    { page_size: 4096, devices: [ide("7.2")] },
    { page_size: 4096, devices: [ide("10")] },
  );
  assert.equal(schema.equal, true, "the two ways of numbering describe one layout");
});

Deno.test("field trees: arrays of structs by element, lengths, bytes, bigints, subsections as one item", () => {
  const d = compareFields(
    {
      regs: [1, 2, 3],
      segs: [{ base: 1 }, { base: 2 }, { base: 3 }],
      buf: "0011223344",
      tsc: 0x123456789abcdef0n,
      "cpu/xsave": { __version: 1, a: 1, b: 2 },
    },
    { regs: [1, 2], segs: [{ base: 1 }, { base: 9 }], buf: "00112233", tsc: 0x123456789abcdef1n },
  );
  assert.deepEqual(d, [
    { path: "regs", kind: "array", lengthA: 3, lengthB: 2, differing: 1, index: 2, a: 3 },
    { path: "segs[1].base", kind: "value", a: 2, b: 9 },
    { path: "segs[2]", kind: "only-a", value: { struct: 1 } },
    { path: "buf", kind: "bytes", lengthA: 5, lengthB: 4, differing: 1, index: 4, a: "44", b: "" },
    { path: "tsc", kind: "value", a: 0x123456789abcdef0n, b: 0x123456789abcdef1n },
    { path: "cpu/xsave", kind: "only-a", value: { struct: 3 } },
  ]);
});

Deno.test("schema: a field resized and a subsection added are listed; what is inside the subsection is not", () => {
  const dev = (size: number, subs: boolean): VmdescDevice => ({
    name: "globalstate",
    instance_id: 0,
    vmsd_name: "globalstate",
    version: 1,
    fields: [{ name: "runstate", type: "buffer", size }],
    ...(subs
      ? {
        subsections: [{
          vmsd_name: "gs/x",
          version: 1,
          fields: [{ name: "y", type: "uint8", size: 1 }],
        }],
      }
      : {}),
  });
  const s = compareSchema(
    { page_size: 4096, devices: [dev(100, false)] },
    { page_size: 4096, devices: [dev(32, true)] },
  );
  assert.equal(s.devices.length, 1);
  const [g] = s.devices;
  assert.deepEqual(g.changed.map((c) => [c.path, c.a.size, c.b.size]), [["runstate", 100, 32]]);
  assert.deepEqual([g.subsectionsAdded, g.added, g.removed], [["gs/x"], [], []]);
});

Deno.test("sections: the n-th of one idstr/instance matches the n-th; a type change is a change", () => {
  let n = 0;
  const s = (name: string, type = "FULL"): SectionRef => ({
    type,
    id: n,
    name,
    instance: 0,
    version: 1,
    position: ++n,
  });
  const a = [s("ram", "START"), s("dma"), s("dma"), s("vfio")];
  n = 0;
  const b = [s("ram", "START"), s("dma"), s("vfio", "START")];
  const d = compareSections(a, b);
  assert.deepEqual(d.removed.map((x) => [x.name, x.position]), [["dma", 3]]);
  assert.deepEqual(d.changed.map((c) => [c.name, c.a.type, c.b.type]), [["vfio", "FULL", "START"]]);
  assert.deepEqual([d.added, d.moved], [[], []]);
});

Deno.test("RAM content: runs beyond the kept ones are counted, the kept ones stay as they were", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ps = 512;
    const pages = 2 * (MAX_RANGES + 5);
    const a = new Uint8Array(pages * ps);
    const b = a.slice();
    for (let p = 0; p < pages; p += 2) b[p * ps + 7] = 1;
    await Deno.writeFile(`${dir}/a`, a);
    await Deno.writeFile(`${dir}/b`, b.subarray(0, b.length - ps));
    const d = compareContent("x", "ram", `${dir}/a`, `${dir}/b`, ps);
    assert.equal(d.different, MAX_RANGES + 5);
    assert.equal(d.rangeCount, MAX_RANGES + 5);
    assert.equal(d.ranges.length, MAX_RANGES);
    assert.ok(d.ranges.every((r) => r.pages === 1));
    assert.deepEqual([d.pages, d.equal, d.sizeA - d.sizeB], [pages - 1, false, ps]);
    assert.deepEqual(d.samples[0], {
      addr: 0,
      offset: 7,
      a: "00".repeat(16),
      b: "01" + "00".repeat(15),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report: lists capped at 10 then '… and K more'; numbers in hex; compound values by size", () => {
  const ref = (i: number): SectionRef => ({
    type: "FULL",
    id: i,
    name: `dev${i}`,
    instance: 0,
    version: 1,
    position: i + 1,
  });
  const none = { added: [], removed: [] };
  const text = diffText({
    equal: false,
    a: { name: "a" },
    b: { name: "b" },
    configuration: { equal: true, items: [] },
    sections: {
      equal: false,
      countA: 0,
      countB: 12,
      added: Array.from({ length: 12 }, (_, i) => ref(i)),
      removed: [],
      changed: [],
      moved: [],
    },
    ramBlocks: { equal: true, countA: 0, countB: 0, ...none, resized: [] },
    devices: { equal: true, compared: 0, devices: [] },
    vmdesc: { equal: true, present: { a: true, b: true }, compared: 0, ...none, devices: [] },
    ram: notCompared("--no-ram"),
  });
  const lines = text.split("\n");
  assert.equal(lines.filter((l) => l.startsWith("  + FULL dev")).length, 10);
  assert.ok(lines.includes("  … and 2 more added"), text);
  assert.ok(text.includes("\nRAM content: not compared (--no-ram)\n"));
  assert.deepEqual([hexNumber(-5), hexNumber(0x10000), hexNumber(0xffffffffffffffffn)], [
    "-0x5",
    "0x10000",
    "0xffffffffffffffff",
  ]);
  assert.deepEqual([showValue({ array: 3 }), showValue({ struct: 1 }), showValue("0a0b")], [
    "(array of 3)",
    "(1 field)",
    "0a 0b",
  ]);
});

Deno.test("diff: the replays' temporary directory is removed afterwards", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const capture = await captureFile("a_precopy_idle");
    const r = await runDiffCli([capture, capture], { env: { TMPDIR: tmp } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes("\nRAM content: equal (8 blocks, 20626 pages of 4096 bytes)\n"));
    assert.deepEqual([...Deno.readDirSync(tmp)], []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a replay whose block no record wrote (block-not-sent) is not compared: the reason names the block", () => {
  const r = {
    pageSize: 4096,
    ram: [],
    disks: [],
    findings: [{
      kind: "block-not-sent" as const,
      offset: -1,
      target: "pc.ram",
      addr: 0,
      detail: "",
    }],
    findingCounts: { "block-not-sent": 1 },
    writers: new Map(),
    records: 0,
    channelPages: 0,
  };
  assert.equal(
    replayCaveat("B", r),
    "B: no page of pc.ram is in the stream (x-ignore-shared, cpr-transfer or other connections): " +
      "its image is not the guest's memory",
  );
  assert.equal(replayCaveat("A", { ...r, findings: [], findingCounts: {} }), undefined);
});
