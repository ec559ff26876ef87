/**
 * Destination files (`--save-destination` / `--destination`): the committed QEMU 7.2 file reads
 * back to what its JSON says, a written file reads back equal, and files that are not one are
 * refused in one line.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { destinationJson, parseDestinationJson } from "../../src/check/facts_json.ts";

const FILE = fileURLToPath(
  new URL("./data/destination-7.2.22-pc-i440fx-7.2-64M.json.gz", import.meta.url),
);

Deno.test("QEMU 7.2's destination file: read, and written back the same", () => {
  const text = gunzipSync(Deno.readFileSync(FILE)).toString();
  const raw = JSON.parse(text);
  const d = parseDestinationJson(text);
  assert.equal(d.machine, "pc-i440fx-7.2");
  assert.equal(d.qemuVersion, "7.2.22");
  assert.equal(d.assumeDevices, true);
  assert.deepEqual(d.ramBlocks, raw.ramBlocks);
  assert.deepEqual(d.registry, raw.registry);
  assert.equal(d.schema.size, Object.keys(raw.schema).length);
  assert.deepEqual(
    d.sentSubsections?.get("fw_cfg"),
    new Map([["fw_cfg/dma", 0], ["fw_cfg/acpi_mr", 1]]),
  );
  assert.deepEqual(JSON.parse(JSON.stringify(destinationJson(d))), raw);
});

Deno.test("files that are not destination files are refused with a one-line reason", () => {
  const bad = (doc: unknown) => () => parseDestinationJson(JSON.stringify(doc));
  assert.throws(() => parseDestinationJson("{"), /^Error: not JSON: /);
  assert.throws(bad({ format: "migscope-check" }), /no format 'migscope-check-destination'/);
  const base = { format: "migscope-check-destination", version: 1, machine: "m", requested: "m" };
  assert.throws(bad({ ...base, version: 2 }), /version 2 \(this migscope reads 1\)/);
  assert.throws(bad(base), /no schema/);
  assert.throws(bad({ ...base, schema: { a: [{ name: "a" }] } }), /lacks name, version/);
  assert.throws(bad({ ...base, schema: {}, ramBlocks: [{ name: "x" }] }), /bad ramBlocks/);
});
