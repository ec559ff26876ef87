/**
 * The `inspect` command end to end: output formats, paths relative to the caller, stdin,
 * exit codes and one-line errors.
 */
import assert from "node:assert/strict";
import { basename, dirname } from "node:path";
import { captureFile, CAPTURES_DIR, readmeExpectations, runCli } from "../_helpers.ts";
import { miniStream } from "../_build.ts";

Deno.test("inspect --json: the documented summary keys, equal from a file and from stdin", async () => {
  const path = await captureFile("c_block_zero_blocks");
  const a = await runCli(["inspect", "--json", path]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stderr, "");
  const doc = JSON.parse(a.stdout);
  const s = doc.summary;
  for (const k of ["page", "zero", "xbzrle", "compressed", "eos", "xbzrleBytes", "blocks"]) {
    assert.ok(k in s.ram, `ram.${k}`);
  }
  for (const k of ["name", "size", "page", "zero", "xbzrle"]) {
    assert.ok(k in s.ram.blocks[0], `ram.blocks[].${k}`);
  }
  for (const k of ["data", "zero", "progress", "devices"]) assert.ok(k in s.block, `block.${k}`);
  assert.deepEqual(Object.keys(s.block.devices[0]).slice(0, 3), ["name", "data", "zero"]);
  for (const k of ["START", "PART", "END", "FULL", "COMMAND", "FOOTER"]) {
    assert.ok(k in s.sections, `sections.${k}`);
  }
  assert.ok(Array.isArray(s.commands) && Array.isArray(s.devices) && Array.isArray(s.passes));
  assert.deepEqual(Object.keys(s.devices[0]).slice(0, 4), ["name", "instance", "version", "size"]);
  assert.deepEqual(Object.keys(s.passes[0]).slice(0, 3), ["index", "pages", "bytes"]);
  assert.equal(s.configuration.machine, "pc-i440fx-7.2");
  const e = readmeExpectations().get("c_block_zero_blocks")!;
  assert.equal(s.block.zero, e.blockRecords.zero_block);
  assert.equal(s.block.devices[0].name, "disk0");
  const b = await runCli(["inspect", "--json", "-"], { stdin: path });
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(JSON.parse(b.stdout).summary, s);
});

Deno.test("inspect: a path relative to the caller's directory (INIT_CWD, as deno task sets it)", async () => {
  const path = await captureFile("a_precopy_idle");
  const r = await runCli(["inspect", basename(path)], {
    env: { INIT_CWD: dirname(path) },
    cwd: "/",
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Timeline/);
  assert.match(r.stdout, /pc\.ram\s+67108864 \(64\.0 MiB\)\s+16384\s+3457\s+12951/);
  assert.match(r.stdout, /VMDESCRIPTION at 14668870/);
});

Deno.test("inspect --records: one flag-level row per RAM record", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/mini.mig`, miniStream());
  const r = await runCli(["inspect", "--records", `${dir}/mini.mig`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /RAM\s+PAGE\s+pc\.ram \+0x1000 pass=1/);
  assert.match(r.stdout, /RAM\s+ZERO\|CONTINUE\s+pc\.ram \+0x2000 pass=1 fill=0/);
  assert.match(r.stdout, /RAM\s+CONTINUE\|XBZRLE\s+pc\.ram \+0x1000 pass=2 len=4 covers=4096/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("inspect --ndjson: one line per record, then the summary", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/mini.mig`, miniStream());
  const r = await runCli(["inspect", "--ndjson", `${dir}/mini.mig`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines[0], { kind: "format", format: "migscope-inspect-ndjson", version: 1 });
  assert.equal(lines[1].kind, "header");
  assert.equal(lines.at(-1).kind, "summary");
  const page = lines.find((l) => l.kind === "ram" && l.type === "page");
  assert.equal(page.dataLength, 4096);
  assert.equal(page.flagNames, "PAGE");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("inspect --device-state: device fields decoded as numbers via the vmdesc", async () => {
  const r = await runCli([
    "inspect",
    "--device-state",
    `${CAPTURES_DIR}/a_precopy_idle/capture.bin.gz`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.devices.length, 33);
  const timer = doc.devices.find((d: { name: string }) => d.name === "timer");
  assert.equal(typeof timer.fields.cpu_ticks_offset, "number");
  const cpu = doc.devices.find((d: { name: string }) => d.name === "cpu");
  assert.equal(cpu.fields["env.regs"].length, 16);
  assert.equal(cpu.fields["env.segs"].length, 6);
  assert.ok("selector" in cpu.fields["env.segs"][1]);
  const gs = doc.devices.find((d: { name: string }) => d.name === "globalstate");
  // runstate is a 32-byte buffer holding "postmigrate"/"running"… as text
  assert.equal(typeof gs.fields.runstate, "string");
});

Deno.test("inspect: truncated capture prints what was parsed, then exits 2 with one line naming offset, section and record", async () => {
  const full = await Deno.readFile(await captureFile("a_precopy_idle"));
  const dir = await Deno.makeTempDir();
  const cut = 5_000_003;
  await Deno.writeFile(`${dir}/cut.bin`, full.subarray(0, cut));
  for (const args of [[`${dir}/cut.bin`], ["--json", `${dir}/cut.bin`]]) {
    const r = await runCli(["inspect", ...args]);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^migscope: offset \d+ \(0x[0-9a-f]+\), section 2 'ram' (PART|END) at \d+, (PAGE|ZERO|RAM) record at \d+: truncated/,
    );
    assert.ok(!/at .*\.ts:\d+/.test(r.stderr), "no stack trace");
    assert.match(r.stdout, /ram/);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("inspect: usage errors and missing files exit 2 with one line", async () => {
  const a = await runCli(["inspect"]);
  assert.equal(a.code, 2);
  assert.equal(a.stderr.trim().split("\n").length, 1);
  const b = await runCli(["inspect", "/nonexistent/file.bin"]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /^migscope: cannot open \/nonexistent\/file\.bin/);
  const c = await runCli(["inspect", "--bogus", "x"]);
  assert.equal(c.code, 2);
  const d = await runCli(["frobnicate"]);
  assert.equal(d.code, 2);
});
