/**
 * Issue 14, what QEMU 10.1, 10.2 and 11.0 development added to the stream, on streams built
 * byte by byte (tests/parse/_qemu10x_build.ts):
 *
 * 1. 10.1: the `ram` PART of `save_postcopy_prepare` (MULTIFD_FLUSH + EOS) before the switch to
 *    postcopy, and multifd with postcopy (MULTIFD_FLUSH and PACKAGED in one main stream).
 * 2. 10.2: PING 0x42 (`QEMU_VM_PING_PACKAGED_LOADED`) in the package after PING 3. PING is
 *    command 2; 3 and 0x42 are PING values. Without a vmdesc (postcopy streams carry none) the
 *    PINGs after the device sections are read as commands, not hidden in the undelimited range.
 * 3. after 10.2: a mapped-ram block with bitmap and pages offsets 0 is a shared block skipped by
 *    x-ignore-shared: no bitmap, no pages, no hole; without x-ignore-shared 0/0 is an error.
 *
 * None of the real captures has these (checked below): the 10.2 ones are a precopy and a
 * mapped-ram file without x-ignore-shared; the 10.0 multifd channels have no postcopy.
 */
import assert from "node:assert/strict";
import { captureFile, runCli, summarize } from "../_helpers.ts";
import { TINY_VMDESC } from "../report/_inputs.ts";
import { commandDetail } from "../../src/report/command_detail.ts";
import {
  mappedRamFile,
  mappedRamPcRam,
  PAGE,
  postcopyChannel,
  postcopyRam,
  postcopyStream,
  verifyPcRam,
} from "./_qemu10x_build.ts";

const QEMU_10_2 = { multifd: true, prepare: true, ping42: true };
const LOADED = "value 0x42 (PACKAGED_LOADED: answered once the package's device state is loaded, " +
  "QEMU 10.2+)";

interface Cmd {
  offset: number;
  name: string;
  depth: number;
  detail?: string;
}

/** The commands inspect must list for {@link postcopyStream} (`ping42`: PING 0x42 present). */
function expectedCommands(at: Record<string, number>, ping42: boolean): Cmd[] {
  const c = (offset: number, name: string, depth: number, detail?: string): Cmd =>
    detail === undefined ? { offset, name, depth } : { offset, name, depth, detail };
  return [
    c(27, "OPEN_RETURN_PATH", 0),
    c(32, "PING", 0, "value 1"),
    c(41, "POSTCOPY_ADVISE", 0, "host page sizes 0x1000, target page 4096"),
    c(at.switchover, "SWITCHOVER_START", 0),
    c(at.discard, "POSTCOPY_RAM_DISCARD", 0, "pc.ram: 1 ranges, 4096 bytes"),
    c(at.ping2, "PING", 0, "value 2"),
    c(at.packaged, "PACKAGED", 0, `${at.ping4 - at.packaged - 9} bytes of nested stream`),
    c(at.packaged + 9, "POSTCOPY_LISTEN", 1),
    c(at.ping3, "PING", 1, "value 3"),
    ...(ping42 ? [c(at.ping42, "PING", 1, LOADED)] : []),
    c(at.run, "POSTCOPY_RUN", 1),
    c(at.ping4, "PING", 0, "value 4"),
  ];
}

async function tempFiles(files: Record<string, Uint8Array>): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const [name, bytes] of Object.entries(files)) await Deno.writeFile(`${dir}/${name}`, bytes);
  return dir;
}

async function inspectJson(args: string[]) {
  const r = await runCli(["inspect", "--json", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test("QEMU 10.2 postcopy with multifd: inspect reads the prepare PART, every MULTIFD_FLUSH, the package and PING 3 / PING 0x42 after its device sections", async () => {
  const { bytes, at } = postcopyStream(QEMU_10_2);
  const dir = await tempFiles({ "pc.mig": bytes });
  const doc = await inspectJson([`${dir}/pc.mig`]);
  const s = doc.summary;
  assert.deepEqual(s.commands, expectedCommands(at, true));
  assert.equal(s.ram.multifdFlush, 3, "setup, the pass in the PART, the postcopy prepare");
  assert.deepEqual([s.ram.page, s.ram.zero, s.ram.eos], [2, 1, 5]);
  assert.deepEqual(s.sections.PART, 3);
  const prepare = doc.timeline.find((t: { offset: number }) => t.offset === at.prepare);
  assert.deepEqual(
    [prepare.kind, prepare.name, prepare.bytes, prepare.page],
    ["PART", "ram", 5 + 8 + 8 + 5, 0],
  );
  // The device section alone is the undelimited range (header 18, body 8, footer 5).
  assert.deepEqual(s.undelimited, [{ offset: at.device, bytes: 18 + 8 + 5, depth: 1 }]);
  assert.equal(at.ping3, at.device + 31);
  assert.equal(s.eof.offset, at.eof);
  assert.equal(doc.error, undefined);

  const text = await runCli(["inspect", `${dir}/pc.mig`]);
  assert.equal(text.code, 0, text.stderr);
  const hex = (n: number) => `0x${n.toString(16)}`;
  assert.match(
    text.stdout,
    new RegExp(`^ +${at.ping42} +${hex(at.ping42)} +└ COMMAND +PING +9 +${esc(LOADED)}$`, "m"),
  );
  assert.match(text.stdout, new RegExp(`^ +${at.ping3} +PING +value 3$`, "m"));
  assert.match(text.stdout, new RegExp(`^ +${at.ping42} +PING +${esc(LOADED)}$`, "m"));
  assert.match(text.stdout, /; 5 EOS, 1 MEM_SIZE, 3 MULTIFD_FLUSH;/);

  // With the device's vmdesc the package is read field by field: same commands, no range.
  await Deno.writeTextFile(`${dir}/vmdesc.json`, JSON.stringify(TINY_VMDESC));
  const full = await inspectJson(["--vmdesc", `${dir}/vmdesc.json`, `${dir}/pc.mig`]);
  assert.equal(full.summary.undelimited, undefined);
  assert.deepEqual(full.summary.devices.map((d: { name: string }) => d.name), ["dev0"]);
  assert.deepEqual(full.summary.commands, s.commands);
  await Deno.remove(dir, { recursive: true });
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("QEMU 10.2 postcopy with multifd: replay with the channel applies its pages at the flushes, then the discard and the postcopy pages; verify agrees", async () => {
  const { bytes } = postcopyStream(QEMU_10_2);
  const dir = await tempFiles({
    "pc.mig": bytes,
    "ch1.bin": postcopyChannel(),
    "expected.ram": postcopyRam(),
  });
  const r = await runCli([
    "replay",
    "--json",
    `${dir}/pc.mig`,
    "--channel",
    `${dir}/ch1.bin`,
    "--out",
    `${dir}/out`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [ram] = JSON.parse(r.stdout).ram;
  // 4 channel pages + 2 postcopy pages; the channel's zero page 3 and the postcopy ZERO of 1.
  assert.deepEqual([ram.name, ram.page, ram.zero, ram.discarded], ["pc.ram", 6, 2, 1]);
  assert.deepEqual(await Deno.readFile(`${dir}/out/pc.ram.ram`), postcopyRam());
  await verifyPcRam(dir, "pc.mig", ["--channel", `${dir}/ch1.bin`]);
});

Deno.test("QEMU 10.1 postcopy without multifd (prepare PART of EOS only), with and without PING 0x42: inspect and replay", async () => {
  for (const ping42 of [false, true]) {
    const { bytes, at } = postcopyStream({ multifd: false, prepare: true, ping42 });
    const dir = await tempFiles({ "pc.mig": bytes });
    const doc = await inspectJson([`${dir}/pc.mig`]);
    assert.deepEqual(doc.summary.commands, expectedCommands(at, ping42));
    assert.equal(doc.summary.ram.multifdFlush, 0);
    const prepare = doc.timeline.find((t: { offset: number }) => t.offset === at.prepare);
    assert.deepEqual([prepare.kind, prepare.bytes], ["PART", 5 + 8 + 5]);
    const r = await runCli(["replay", `${dir}/pc.mig`, "--out", `${dir}/out`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/out/pc.ram.ram`), postcopyRam());
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("postcopy package without footers: the PINGs cannot be told from device bytes and stay in the undelimited range", async () => {
  const { bytes, at } = postcopyStream({ ...QEMU_10_2, multifd: false, footers: false });
  const dir = await tempFiles({ "pc.mig": bytes });
  const s = (await inspectJson([`${dir}/pc.mig`])).summary;
  assert.deepEqual(s.undelimited, [{ offset: at.device, bytes: at.run - at.device, depth: 1 }]);
  const inPackage = s.commands.filter((c: Cmd) => c.depth === 1).map((c: Cmd) => c.name);
  assert.deepEqual(inPackage, ["POSTCOPY_LISTEN", "POSTCOPY_RUN"]);
  const r = await runCli(["replay", `${dir}/pc.mig`, "--out", `${dir}/out`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await Deno.readFile(`${dir}/out/pc.ram.ram`), postcopyRam());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("PING detail: 0x42 is named (QEMU 10.2), the other values are plain numbers", () => {
  const ping = (value: number) =>
    commandDetail({ kind: "command", offset: 0, length: 9, depth: 1, cmd: 2, name: "PING", value });
  assert.equal(ping(0x42), LOADED);
  assert.deepEqual([1, 2, 3, 4, 0x41].map(ping), [1, 2, 3, 4, 65].map((v) => `value ${v}`));
});

Deno.test("mapped-ram block skipped by x-ignore-shared (offsets 0/0): no bitmap, no pages, no hole; inspect says skipped", async () => {
  const { bytes, at } = mappedRamFile(["x-ignore-shared", "mapped-ram"]);
  const dir = await tempFiles({ "m.mig": bytes });
  const doc = await inspectJson([`${dir}/m.mig`]);
  const [pc, shared] = doc.summary.ram.blocks;
  assert.deepEqual(shared.mappedRam, {
    headerOffset: at.sharedHeader,
    bitmapOffset: 0,
    pagesOffset: 0,
    skipped: true,
  });
  assert.deepEqual([pc.mappedRam.present, pc.mappedRam.zero, pc.mappedRam.skipped], [
    2,
    14,
    undefined,
  ]);
  // The stream goes on right after the skipped block's header: its EOS, footer, then END.
  const end = doc.timeline.find((t: { kind: string }) => t.kind === "END");
  assert.equal(end.offset, at.sharedHeader + 28 + 8 + 5);
  assert.equal(doc.summary.eof.offset, at.eof);
  const text = await runCli(["inspect", `${dir}/m.mig`]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(
      `^shared\\.mem +${at.sharedHeader} +0x0 +0x0 +skipped +-\\n` +
        "skipped: a shared block under x-ignore-shared \\(offsets 0/0\\); the file holds none of its " +
        "pages, the destination keeps its own memory\\n",
      "m",
    ),
  );
  assert.match(text.stdout, /^pc\.ram +\d+ +0x[0-9a-f]+ +0x100000 +2 +14$/m);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("mapped-ram skipped block: replay leaves its target as the destination has it (fresh, a base copy, in place); verify names no writer", async () => {
  const { bytes } = mappedRamFile(["x-ignore-shared", "mapped-ram"]);
  const own = new Uint8Array(8 * PAGE).map((_, i) => (i * 7) & 0xff);
  const dir = await tempFiles({ "m.mig": bytes, "shared.img": own, "own.img": own });
  const r = await runCli(["replay", "--json", `${dir}/m.mig`, "--out", `${dir}/a`]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  // Replay warns that no page of it travelled (its image is not the guest's memory).
  assert.deepEqual(
    doc.findings.map((f: { kind: string; target: string }) => [f.kind, f.target]),
    [["block-not-sent", "shared.mem"]],
  );
  const stats = doc.ram;
  assert.deepEqual(stats.map((s: { page: number; zero: number }) => [s.page, s.zero]), [
    [2, 14],
    [0, 0],
  ]);
  assert.deepEqual(await Deno.readFile(`${dir}/a/pc.ram.ram`), mappedRamPcRam());
  assert.deepEqual(await Deno.readFile(`${dir}/a/shared.mem.ram`), new Uint8Array(8 * PAGE));
  // Its memory is the destination's own: without it, verify shows every page unwritten.
  const v0 = await runCli([
    "verify",
    `${dir}/m.mig`,
    "--out",
    `${dir}/v0`,
    "--expect",
    `shared.mem=${dir}/own.img`,
  ]);
  assert.equal(v0.code, 1, v0.stderr);
  const unwritten = v0.stdout.match(/^ +shared\.mem page 0x[0-9a-f]+: no record wrote this page/gm);
  assert.equal(unwritten?.length, 8);
  // Given as the block's base image, it is kept as it is; in place, the file is not written.
  const v1 = await runCli([
    "verify",
    `${dir}/m.mig`,
    "--ram",
    `shared.mem=${dir}/shared.img`,
    "--out",
    `${dir}/v1`,
    "--expect",
    `shared.mem=${dir}/own.img`,
  ]);
  assert.equal(v1.code, 0, v1.stderr + v1.stdout);
  const before = (await Deno.stat(`${dir}/shared.img`)).mtime;
  const ip = await runCli([
    "replay",
    `${dir}/m.mig`,
    "--in-place",
    "--ram",
    `shared.mem=${dir}/shared.img`,
    "--out",
    `${dir}/b`,
  ]);
  assert.equal(ip.code, 0, ip.stderr);
  assert.deepEqual(await Deno.readFile(`${dir}/shared.img`), own);
  assert.deepEqual((await Deno.stat(`${dir}/shared.img`)).mtime, before);
  assert.deepEqual(await Deno.readFile(`${dir}/b/pc.ram.ram`), mappedRamPcRam());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("mapped-ram offsets 0/0 without x-ignore-shared, and other zero offsets, are one-line errors at the header", async () => {
  const cases: [string[], [number, number], RegExp][] = [
    [
      ["mapped-ram"],
      [0, 0],
      /bitmap and pages offsets are both 0, which marks a block skipped by x-ignore-shared, but the configuration does not announce x-ignore-shared$/,
    ],
    [
      ["x-ignore-shared", "mapped-ram"],
      [0, 0x200000],
      /mapped-ram bitmap at 0x0 does not fit before the pages$/,
    ],
    [
      ["x-ignore-shared", "mapped-ram"],
      [0x100100, 0],
      /mapped-ram bitmap at 0x100100 does not fit before the pages$/,
    ],
  ];
  for (const [caps, offsets, message] of cases) {
    const { bytes, at } = mappedRamFile(caps, offsets);
    const dir = await tempFiles({ "m.mig": bytes });
    for (const cmd of ["inspect", "replay"]) {
      const args = cmd === "replay" ? [`${dir}/m.mig`, "--out", `${dir}/o`] : [`${dir}/m.mig`];
      const r = await runCli([cmd, ...args]);
      assert.equal(r.code, 2, `${cmd} ${caps} ${offsets}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], new RegExp(`^migscope: offset ${at.sharedHeader} `));
      assert.match(lines[0], message);
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the real captures carry none of these: 10.2 precopy has no PING or PACKAGED, the 10.2 mapped-ram file skips no block", async () => {
  const m2 = await summarize(await captureFile("m2_modern_precopy"));
  assert.equal(m2.error, undefined);
  assert.deepEqual(m2.summary.commands.map((c) => c.name), ["SWITCHOVER_START"]);
  const m1b = await summarize(await captureFile("m1b_mapped_ram_single"));
  assert.equal(m1b.error, undefined);
  assert.deepEqual(m1b.summary.configuration?.capabilities, ["mapped-ram"]);
  assert.equal(m1b.summary.ram.blocks.length, 8);
  for (const b of m1b.summary.ram.blocks) {
    assert.equal(b.mappedRam?.skipped, undefined, b.name);
    assert.ok(b.mappedRam!.pagesOffset % (1 << 20) === 0 && b.mappedRam!.pagesOffset > 0);
  }
});
