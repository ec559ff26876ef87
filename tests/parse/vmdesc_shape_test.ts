/**
 * Hostile vmdesc JSON: every shape the parser relies on is checked first, and each violation is
 * one StreamError line with the offset — from a file's end, from a pipe, and from `--vmdesc` —
 * and descriptions whose nested array lengths multiply past the input are refused at once.
 */
import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";
import { TINY_VMDESC, writeTinyDeviceBody } from "../_build.ts";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import { openInput } from "../../src/parse/input.ts";
import { parseStream } from "../../src/parse/stream.ts";
import { StreamError } from "../../src/protocol/errors.ts";
import { compareImages } from "../../src/replay/verify.ts";
import { checkVmdesc } from "../../src/parse/vmdesc_shape.ts";

/** A stream with one RAM page, device dev0 and `json` as its trailer. */
function withTrailer(json: string): Uint8Array {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 4 * 4096 }]);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "END", 1);
  F.writeRamPage(w, 4096, new Uint8Array(4096).fill(1), "pc.ram");
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionFull(w, "FULL", 3, "dev0", 0, 1);
  writeTinyDeviceBody(w);
  F.writeFooter(w, 3);
  F.writeEof(w);
  F.writeVmdesc(w, json);
  return w.result();
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** TINY_VMDESC with `edit` applied to a deep copy. */
function hostile(edit: (d: Json) => void): string {
  const d: Json = structuredClone(TINY_VMDESC);
  edit(d);
  return JSON.stringify(d);
}

const struct = (fields: unknown[]) => ({ vmsd_name: "s", version: 1, fields });

const CASES: [string, string, RegExp][] = [
  ["a device is null", hostile((d) => d.devices[0] = null), /devices\[0\] is null, not an object/],
  [
    "fields is an object",
    hostile((d) => d.devices[0].fields = {}),
    /devices\[0\] \('dev0'\)\.fields is an object, not an array/,
  ],
  ["a field is null", hostile((d) => d.devices[0].fields[1] = null), /fields\[1\] is null/],
  [
    "array_len -256",
    hostile((d) => d.devices[0].fields[1].array_len = -256),
    /fields\[1\] \('arr'\)\.array_len is -256, not an integer from 0 to 16777216/,
  ],
  [
    "array_len a string",
    hostile((d) => d.devices[0].fields[1].array_len = "2"),
    /array_len is the string "2"/,
  ],
  ["array_len 1.5", hostile((d) => d.devices[0].fields[1].array_len = 1.5), /array_len is 1\.5/],
  ["size missing", hostile((d) => delete d.devices[0].fields[0].size), /\.size is absent/],
  ["size negative", hostile((d) => d.devices[0].fields[0].size = -4), /\.size is -4/],
  ["type missing", hostile((d) => delete d.devices[0].fields[0].type), /\.type is absent/],
  ["name a number", hostile((d) => d.devices[0].fields[0].name = 7), /\.name is 7, not a string/],
  ["device name missing", hostile((d) => delete d.devices[0].name), /devices\[0\]\.name/],
  [
    "instance_id negative",
    hostile((d) => d.devices[0].instance_id = -1),
    /instance_id is -1, not an integer/,
  ],
  ["struct null", hostile((d) => d.devices[0].fields[3].struct = null), /\.struct is null/],
  [
    "struct fields a number",
    hostile((d) => d.devices[0].fields[3].struct.fields = 5),
    /\.struct\.fields is 5, not an array/,
  ],
  [
    "subsection without vmsd_name",
    hostile((d) => delete d.devices[0].subsections[0].vmsd_name),
    /subsections\[0\]\.vmsd_name is absent, not a string/,
  ],
  ["subsections null", hostile((d) => d.devices[0].subsections = null), /subsections is null/],
  ["page_size 0", hostile((d) => d.page_size = 0), /page_size is 0, not a power of two/],
  ["page_size -256", hostile((d) => d.page_size = -256), /page_size is -256/],
  ["page_size 3000", hostile((d) => d.page_size = 3000), /page_size is 3000/],
  ["page_size a string", hostile((d) => d.page_size = "4096"), /page_size is the string/],
  ["devices missing", '{"page_size":4096}', /devices is absent, not an array/],
  [
    "nesting 100 deep",
    hostile((d) => {
      let f: Record<string, unknown> = { name: "x", type: "uint8", size: 1 };
      for (let i = 0; i < 100; i++) f = { name: "s", type: "struct", size: 1, struct: struct([f]) };
      d.devices[0].fields = [f];
    }),
    /nests deeper than 64 levels/,
  ],
];

async function parseFile(path: string): Promise<unknown> {
  const input = await openInput(path);
  try {
    for await (const _ of parseStream(input.reader, { vmdesc: input.vmdesc, payloads: false })) {
      // read to the end
    }
  } catch (e) {
    return e;
  } finally {
    input.close();
  }
  return undefined;
}

async function parsePipe(bytes: Uint8Array): Promise<unknown> {
  const input = await openInput(ReadableStream.from([bytes]));
  try {
    for await (const _ of parseStream(input.reader, { payloads: false })) {
      // read to the end
    }
  } catch (e) {
    return e;
  } finally {
    input.close();
  }
  return undefined;
}

function oneLine(e: unknown, pattern: RegExp, what: string): void {
  assert.ok(e instanceof StreamError, `${what}: StreamError expected, got ${e}`);
  assert.match(e.message, /^offset \d+ \(0x[0-9a-f]+\)/, what);
  assert.match(e.message, pattern, `${what}: ${e.message}`);
  assert.ok(!e.message.includes("\n"), what);
}

Deno.test("vmdesc shape: every violation is one StreamError line, from a file and from a pipe", async () => {
  const dir = await Deno.makeTempDir();
  for (const [what, json, pattern] of CASES) {
    const bytes = withTrailer(json);
    await Deno.writeFile(`${dir}/case.mig`, bytes);
    oneLine(await parseFile(`${dir}/case.mig`), pattern, `${what} (file)`);
    oneLine(await parsePipe(bytes), pattern, `${what} (pipe)`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vmdesc shape: the CLI gives one line for a hostile trailer and for a hostile --vmdesc", async () => {
  const dir = await Deno.makeTempDir();
  const good = withTrailer(JSON.stringify(TINY_VMDESC));
  await Deno.writeFile(`${dir}/good.mig`, good);
  for (const [what, json, pattern] of CASES.slice(0, 6)) {
    await Deno.writeFile(`${dir}/case.mig`, withTrailer(json));
    for (
      const cmd of [["inspect"], ["inspect", "--device-state"], ["replay", "--out", `${dir}/o`]]
    ) {
      const r = await runCli([...cmd, `${dir}/case.mig`]);
      assert.equal(r.code, 2, `${what} ${cmd}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^migscope: offset \d+/);
      assert.match(lines[0], pattern);
    }
    await Deno.writeFile(`${dir}/vmdesc.json`, new TextEncoder().encode(json));
    const v = await runCli(["inspect", "--vmdesc", `${dir}/vmdesc.json`, `${dir}/good.mig`]);
    assert.equal(v.code, 2, v.stderr);
    assert.match(v.stderr.trim(), /--vmdesc .*vmdesc\.json: vmdesc JSON /);
    assert.match(v.stderr, pattern);
    assert.equal(v.stderr.trim().split("\n").length, 1);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vmdesc shape: nested array_len products are bounded by the bytes left (no hang)", async () => {
  const cases = [
    // 2^24 structs of 2^24 bytes each: 2^48 bytes described for a 4 KB stream.
    hostile((d) => {
      d.devices[0].fields = [{
        name: "outer",
        type: "struct",
        size: 1,
        array_len: 1 << 24,
        struct: struct([{ name: "inner", type: "uint8", size: 1, array_len: 1 << 24 }]),
      }];
    }),
    // The same with zero-size elements and empty structs: no byte is ever consumed.
    hostile((d) => {
      d.devices[0].fields = [{
        name: "outer",
        type: "struct",
        size: 0,
        array_len: 1 << 24,
        struct: struct([{
          name: "inner",
          type: "struct",
          size: 0,
          array_len: 1 << 24,
          struct: struct([]),
        }]),
      }];
    }),
    hostile((d) => {
      d.devices[0].fields = [{ name: "z", type: "buffer", size: 0, array_len: 1 << 24 }];
    }),
  ];
  const dir = await Deno.makeTempDir();
  for (const json of cases) {
    const bytes = withTrailer(json);
    assert.ok(bytes.length < 6000, `${bytes.length} bytes`);
    await Deno.writeFile(`${dir}/case.mig`, bytes);
    const t0 = performance.now();
    const r = await runCli(["inspect", "--device-state", `${dir}/case.mig`]);
    const ms = performance.now() - t0;
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^migscope: offset \d+ .*describes at least \d+ bytes .* only \d+ bytes are left/,
    );
    assert.ok(ms < 10000, `${ms.toFixed(0)} ms`);
    // From a pipe, with the JSON given by --vmdesc (bytes left unknown): still bounded.
    await Deno.writeFile(`${dir}/vmdesc.json`, new TextEncoder().encode(json));
    const p = await runCli(["inspect", "--vmdesc", `${dir}/vmdesc.json`, "-"], { stdin: bytes });
    assert.equal(p.code, 2, p.stderr);
    assert.match(p.stderr, /^migscope: offset \d+/);
    assert.equal(p.stderr.trim().split("\n").length, 1);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("verify: a page size of 0 is an error, not an endless loop", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/a`, new Uint8Array(8192));
  await Deno.writeFile(`${dir}/b`, new Uint8Array(8192));
  for (const ps of [0, -256, 3000]) {
    assert.throws(() => compareImages("pc.ram", `${dir}/a`, `${dir}/b`, ps), /pages of/);
  }
  const json = hostile((d) => d.page_size = 0);
  await Deno.writeFile(`${dir}/vmdesc.json`, new TextEncoder().encode(json));
  const good = withTrailer(JSON.stringify(TINY_VMDESC));
  await Deno.writeFile(`${dir}/good.mig`, good);
  const v = await runCli([
    "verify",
    `${dir}/good.mig`,
    "--vmdesc",
    `${dir}/vmdesc.json`,
    "--out",
    `${dir}/o`,
    "--expect",
    `pc.ram=${dir}/a`,
  ]);
  assert.equal(v.code, 2, v.stderr);
  assert.match(v.stderr, /page_size is 0/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("verify: a declared block far larger than the expected image is not read to its end", async () => {
  const dir = await Deno.makeTempDir();
  const big = await Deno.open(`${dir}/actual`, { write: true, create: true });
  await big.truncate(2 ** 40); // 1 TiB, sparse
  big.close();
  const expected = new Uint8Array(3 * 4096);
  expected[5000] = 1;
  await Deno.writeFile(`${dir}/expected`, expected);
  const t0 = performance.now();
  const r = compareImages("pc.ram", `${dir}/actual`, `${dir}/expected`, 4096);
  assert.ok(performance.now() - t0 < 5000);
  assert.equal(r.pages, 2 ** 40 / 4096);
  assert.equal(r.equal, 2);
  assert.equal(r.different, r.pages - 2);
  assert.deepEqual(r.diffs.slice(0, 3).map((d) => d.addr), [4096, 3 * 4096, 4 * 4096]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vmdesc shape: documents that are not objects", () => {
  assert.throws(
    () => checkVmdesc([1, 2]),
    /vmdesc JSON document is an array, not an object$/,
  );
  assert.throws(() => checkVmdesc(null), /document is null/);
  assert.throws(() => checkVmdesc("x"), /document is the string "x"/);
});
