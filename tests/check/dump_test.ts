/**
 * The `-dump-vmstate` reader on QEMU's own dumps (tests/check/data) and on files that are not
 * dumps; the JSON is read here with JSON.parse to check what the index says.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { parseVmstateDump, readVmstateDump } from "../../src/check/dump.ts";

const DATA = fileURLToPath(new URL("./data/", import.meta.url));
const D72 = `${DATA}vmstate-7.2.22-pc-i440fx-7.2.json.gz`;
const D10 = `${DATA}vmstate-10.0.2-pc-i440fx-7.2.json.gz`;

type Desc = {
  name: string;
  version_id: number;
  minimum_version_id: number;
  Fields?: { Description?: Desc }[];
  Subsections?: Desc[];
};

/** Every description in the raw JSON, the walk done again without src/. */
function rawDescriptions(path: string): Desc[] {
  const doc = JSON.parse(gunzipSync(Deno.readFileSync(path)).toString()) as Record<
    string,
    { Description?: Desc }
  >;
  const out: Desc[] = [];
  const walk = (d: Desc) => {
    out.push(d);
    for (const f of d.Fields ?? []) if (f.Description) walk(f.Description);
    for (const s of d.Subsections ?? []) walk(s);
  };
  for (const [k, v] of Object.entries(doc)) {
    if (k !== "vmschkmachine" && v.Description) walk(v.Description);
  }
  return out;
}

for (const [label, path] of [["7.2.22", D72], ["10.0.2", D10]]) {
  Deno.test(`QEMU ${label}'s -dump-vmstate: every description indexed by name, with its versions`, async () => {
    const dump = await readVmstateDump(path);
    assert.equal(dump.machine, "pc-i440fx-7.2");
    const raw = rawDescriptions(path);
    assert.deepEqual([...dump.schema.keys()].sort(), [...new Set(raw.map((d) => d.name))].sort());
    for (const d of raw) {
      const subs = (d.Subsections ?? []).map((s) => s.name).join(",");
      assert.ok(
        dump.schema.get(d.name)!.some((s) =>
          s.version === d.version_id && s.minVersion === d.minimum_version_id &&
          s.subsections.map((x) => x.name).join(",") === subs
        ),
        d.name,
      );
    }
  });
}

Deno.test("the two dumps differ where QEMU changed: i8259's ltim subsection came after 7.2", async () => {
  const a = await readVmstateDump(D72);
  const b = await readVmstateDump(D10);
  assert.deepEqual(a.schema.get("i8259")!.flatMap((s) => s.subsections.map((x) => x.name)), []);
  assert.deepEqual(b.schema.get("i8259")!.flatMap((s) => s.subsections.map((x) => x.name)), [
    "i8259/ltim",
  ]);
  const serial = a.schema.get("serial")![0];
  assert.deepEqual([serial.version, serial.minVersion], [3, 2]);
});

Deno.test("files that are not dumps are refused with a one-line reason", async () => {
  assert.throws(() => parseVmstateDump("{"), /^Error: not JSON: /);
  assert.throws(() => parseVmstateDump("[]"), /no 'vmschkmachine' key/);
  assert.throws(() => parseVmstateDump('{"vmschkmachine": {}}'), /names no machine type/);
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/bad.gz`, new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
  await assert.rejects(readVmstateDump(`${dir}/bad.gz`), /^Error: gzip: /);
  await Deno.remove(dir, { recursive: true });
});
