/**
 * checkStream on hand-made facts: each finding kind, the loader's order (the first error is
 * the earliest QEMU meets), and what is assumed, noted or left unchecked.
 */
import assert from "node:assert/strict";
import { checkStream } from "../../src/check/check.ts";
import type {
  DestinationFacts,
  StreamFacts,
  StreamSection,
  VmsdSchema,
} from "../../src/check/types.ts";

function vmsd(name: string, version: number, minVersion = 1, subs: VmsdSchema[] = []): VmsdSchema {
  return { name, version, minVersion, subsections: subs };
}

function schema(...list: VmsdSchema[]): Map<string, VmsdSchema[]> {
  const m = new Map<string, VmsdSchema[]>();
  const add = (s: VmsdSchema) => {
    m.set(s.name, [...(m.get(s.name) ?? []), s]);
    s.subsections.forEach(add);
  };
  list.forEach(add);
  return m;
}

const RAM: StreamSection = {
  offset: 26,
  sectionId: 2,
  type: "START",
  idstr: "ram",
  instance: 0,
  version: 4,
  subsections: [],
  ramBlocks: [
    { name: "pc.ram", size: 64 << 20, offset: 51 },
    { name: "0000:00:02.0/vga.vram", size: 16 << 20, offset: 66 },
    { name: "/rom@etc/acpi/tables", size: 0x20000, offset: 96 },
    { name: "pc.bios", size: 0x40000, offset: 125 },
  ],
};

/** The RAM section with the destination's own blocks only. */
const RAM_SAME: StreamSection = {
  ...RAM,
  ramBlocks: RAM.ramBlocks!.filter((b) => !b.name.includes("vga")),
};

function device(
  offset: number,
  idstr: string,
  version: number,
  subsections: StreamSection["subsections"] = [],
): StreamSection {
  return { offset, sectionId: offset, type: "FULL", idstr, instance: 0, version, subsections };
}

function stream(sections: StreamSection[], extra: Partial<StreamFacts> = {}): StreamFacts {
  return {
    machine: "pc-i440fx-7.2",
    configurationOffset: 8,
    capabilities: [],
    pageSize: 4096,
    sections,
    undelimited: [],
    vmdesc: true,
    eofOffset: 9000,
    ...extra,
  };
}

const SCHEMA = schema(
  vmsd("mc146818rtc", 3, 1),
  vmsd("fw_cfg", 2, 1, [vmsd("fw_cfg/dma", 1, 1), vmsd("fw_cfg/acpi_mr", 1, 1)]),
  vmsd("vga", 2, 2),
  vmsd("virtio-rng", 1, 1),
);

function qemu(extra: Partial<DestinationFacts> = {}): DestinationFacts {
  return {
    origin: "qemu",
    path: "qemu-system-x86_64",
    qemuVersion: "7.2.22",
    machine: "pc-i440fx-7.2",
    requested: "pc-i440fx-7.2",
    machines: ["pc", "pc-i440fx-7.2", "pc-i440fx-7.1"],
    schema: SCHEMA,
    registry: [
      { idstr: "ram", instance: 0, version: 4 },
      { idstr: "timer", instance: 0, version: 2 },
      { idstr: "fw_cfg", instance: 0, version: 2 },
      { idstr: "mc146818rtc", instance: 0, version: 3 },
    ],
    sentSubsections: new Map([["timer", new Map([["timer/x", 1]])]]),
    ramBlocks: [
      { name: "pc.ram", used: 64 << 20, max: 64 << 20 },
      { name: "/rom@etc/acpi/tables", used: 0x20000, max: 0x200000 },
      { name: "pc.bios", used: 0x40000, max: 0x40000 },
    ],
    capabilities: ["xbzrle", "x-ignore-shared"],
    pageSize: 4096,
    commandLine: ["-S", "-M", "pc-i440fx-7.2", "-m", "64M", "-nodefaults"],
    assumeDevices: true,
    ...extra,
  };
}

const kinds = (r: ReturnType<typeof checkStream>) => r.findings.map((f) => f.kind);

Deno.test("a stream the destination registers, with a default device assumed: loads", () => {
  const r = checkStream(
    stream([RAM, device(500, "timer", 2), device(600, "0000:00:02.0/vga", 2)]),
    qemu(),
  );
  assert.equal(r.loads, true);
  assert.deepEqual(kinds(r), [
    "ramblock-assumed",
    "section-assumed",
    "section-not-sent",
    "section-not-sent",
  ]);
  assert.deepEqual(r.findings[0].offset, 66);
  assert.match(r.findings[0].hint!, /vgamem_mb/);
  assert.deepEqual(r.checked, { sections: 3, subsections: 0 });
  assert.deepEqual(r.notChecked, ["minimum versions of sections not in -dump-vmstate: timer"]);
});

Deno.test("the first error is the loader's first: unknown capability before the machine", () => {
  const r = checkStream(
    stream([RAM], { machine: "pc-i440fx-7.1", capabilities: ["mapped-ram", "x-ignore-shared"] }),
    qemu(),
  );
  assert.deepEqual(kinds(r).slice(0, 3), [
    "capability-unknown",
    "machine-mismatch",
    "capability-off",
  ]);
  assert.equal(r.firstError?.message, "Received unknown capability mapped-ram");
  assert.equal(
    r.findings[2].message,
    "Capability x-ignore-shared is off, but received capability is on",
  );
  assert.equal(
    r.findings[1].message,
    "Machine type received is 'pc-i440fx-7.1' and local is 'pc-i440fx-7.2'",
  );
  assert.equal(r.findings[1].hint, "start the destination with -M pc-i440fx-7.1");
});

Deno.test("a machine type the destination's QEMU lacks: nothing else is checked", () => {
  const r = checkStream(
    stream([RAM], { machine: "pc-i440fx-10.0" }),
    qemu({
      requested: "pc-i440fx-10.0",
      machine: "pc-i440fx-10.0",
      unknownMachine: ["pc-i440fx-7.1", "pc-i440fx-7.2", "pc-i440fx-2.12", "q35"],
    }),
  );
  assert.equal(r.loads, false);
  assert.deepEqual(kinds(r), ["machine-unknown"]);
  assert.equal(r.firstError?.offset, 8);
  assert.match(r.firstError!.hint!, /pc-i440fx-2\.12 … pc-i440fx-7\.2/);
});

Deno.test("section versions: above the registered one, below the schema's minimum", () => {
  const r = checkStream(
    stream([RAM, device(700, "mc146818rtc", 4), device(800, "fw_cfg", 0)]),
    qemu(),
  );
  assert.equal(r.firstError?.message, "savevm: unsupported version 4 for 'mc146818rtc' v3");
  assert.equal(r.firstError?.offset, 700);
  const old = r.findings.find((f) => f.kind === "version-too-old")!;
  assert.equal(
    old.message,
    "fw_cfg: incoming version_id 0 is too old for local minimum version_id 1",
  );
  assert.equal(old.offset, 800);
});

Deno.test("an unknown section: on the exact command line an error, named as QEMU names it", () => {
  const rng = device(900, "0000:00:03.0/virtio-rng", 1);
  const exact = checkStream(stream([RAM_SAME, rng]), qemu({ assumeDevices: false }));
  assert.equal(
    exact.firstError?.message,
    "Unknown savevm section or instance '0000:00:03.0/virtio-rng' 0",
  );
  assert.match(exact.firstError!.hint!, /does not create this instance/);
  const assumed = checkStream(stream([RAM, rng]), qemu());
  assert.equal(assumed.loads, true);
  const none = checkStream(stream([RAM, device(900, "vmclock", 1)]), qemu());
  assert.match(none.firstError!.hint!, /no device type of this QEMU has VMState 'vmclock'/);
});

Deno.test("subsections: unknown, too new, checked through the destination's own stream, unchecked", () => {
  const sub = (parent: string, name: string, version: number, offset: number) => ({
    parent,
    name,
    version,
    offset,
  });
  const r = checkStream(
    stream([
      RAM_SAME,
      device(700, "fw_cfg", 2, [
        sub("fw_cfg", "fw_cfg/acpi_mX", 1, 720),
        sub("fw_cfg", "fw_cfg/dma", 2, 740),
      ]),
      device(800, "timer", 2, [sub("timer", "timer/x", 1, 810), sub("timer", "timer/y", 1, 820)]),
    ]),
    qemu(),
  );
  assert.deepEqual(kinds(r).slice(0, 3), [
    "subsection-unknown",
    "subsection-too-new",
    "subsection-unchecked",
  ]);
  assert.equal(
    r.firstError?.message,
    "subsection 'fw_cfg/acpi_mX' of 'fw_cfg' not found on the destination",
  );
  assert.equal(r.firstError?.offset, 720);
  assert.equal(
    r.findings[1].message,
    "fw_cfg/dma: incoming version_id 2 is too new for local version_id 1",
  );
  assert.equal(r.findings[2].offset, 820);
  assert.deepEqual(r.checked, { sections: 3, subsections: 3 });
});

Deno.test("RAM blocks: unknown, size from -m, resizeable within and beyond its maximum", () => {
  const blocks = [
    { name: "pc.ram", size: 128 << 20, offset: 51 },
    { name: "/rom@etc/acpi/tables", size: 0x40000, offset: 66 },
    { name: "pc.bios", size: 0x20000, offset: 100 },
    { name: "vmclock_page", size: 4096, offset: 120 },
  ];
  const r = checkStream(stream([{ ...RAM, ramBlocks: blocks }]), qemu());
  assert.deepEqual(kinds(r).filter((k) => k.startsWith("ramblock")), [
    "ramblock-size",
    "ramblock-resized",
    "ramblock-size",
    "ramblock-unknown",
  ]);
  assert.equal(r.firstError?.message, "Size mismatch: pc.ram: 0x8000000 != 0x4000000");
  assert.match(r.firstError!.hint!, /-m \(command line\): start it with -m 128M/);
  assert.match(r.findings[2].hint!, /firmware files/);
  assert.equal(r.findings[3].message, 'Unknown ramblock "vmclock_page", cannot accept migration');
  const big = checkStream(
    stream([{ ...RAM, ramBlocks: [{ name: "/rom@etc/acpi/tables", size: 0x400000, offset: 51 }] }]),
    qemu(),
  );
  assert.equal(
    big.firstError?.message,
    "Size too large: /rom@etc/acpi/tables: 0x400000 > 0x200000",
  );
});

Deno.test("target page bits that differ are an error at the CONFIGURATION section", () => {
  const r = checkStream(stream([RAM], { targetPageBits: 16, pageSize: 65536 }), qemu());
  assert.equal(r.firstError?.kind, "page-size");
  assert.equal(
    r.firstError?.message,
    "target page bits 16 (65536-byte pages) in the stream, 12 (4096-byte pages) on the destination",
  );
});

Deno.test("against a dump: versions and subsections only, the rest listed as not checked", () => {
  const d: DestinationFacts = {
    origin: "dump",
    path: "dump.json",
    machine: "pc-i440fx-7.2",
    requested: "pc-i440fx-7.2",
    schema: SCHEMA,
    assumeDevices: true,
  };
  const r = checkStream(
    stream([RAM, device(500, "timer", 2), device(700, "mc146818rtc", 3)], {
      capabilities: ["x-ignore-shared"],
    }),
    d,
  );
  assert.equal(r.loads, true);
  assert.deepEqual(r.findings, []);
  assert.deepEqual(r.checked, { sections: 2, subsections: 0 });
  assert.deepEqual(r.notChecked, [
    "RAM blocks, target page size and capabilities: a -dump-vmstate schema does not give them (use --qemu)",
    "which devices the destination creates: a dump lists device types, not a command line's devices",
    "sections the dump does not describe: timer",
  ]);
  const block = checkStream(
    stream([{ ...RAM, idstr: "block", version: 1, ramBlocks: undefined }]),
    d,
  );
  assert.deepEqual(block.notChecked.at(-1), "sections the dump does not describe: block");
});

Deno.test("block migration: a QEMU from 9.1 on has no 'block' section", () => {
  const blk: StreamSection = {
    ...RAM,
    offset: 20,
    idstr: "block",
    version: 1,
    ramBlocks: undefined,
  };
  assert.equal(checkStream(stream([blk]), qemu()).loads, true);
  const r = checkStream(stream([blk]), qemu({ qemuVersion: "10.0.2" }));
  assert.equal(r.firstError?.message, "Unknown savevm section or instance 'block' 0");
});
