/**
 * `inspect --device-state` writes 64-bit fields exactly: integers beyond 2^53 − 1 as hex strings
 * (as analyze-migration.py prints them), smaller ones as JSON numbers.
 */
import assert from "node:assert/strict";
import { captureFile, runCli } from "../_helpers.ts";
import { openInput } from "../../src/parse/input.ts";
import { parseStream } from "../../src/parse/stream.ts";
import type { FieldValue } from "../../src/protocol/records.ts";

/** Every leaf of a decoded field tree, with its path. */
function leaves(v: unknown, path: string, out: Map<string, unknown>): Map<string, unknown> {
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, `${path}[${i}]`, out));
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) leaves(x, `${path}.${k}`, out);
  } else out.set(path, v);
  return out;
}

Deno.test("inspect --device-state: env.eip 0xffffffff811e9deb of e_paused_save reads back exactly", async () => {
  const path = await captureFile("e_paused_save");
  const r = await runCli(["inspect", "--device-state", path]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const cpu = doc.devices.find((d: { name: string }) => d.name === "cpu");
  assert.equal(cpu.fields["env.eip"], "0xffffffff811e9deb");
  assert.equal(BigInt(cpu.fields["env.eip"]), 0xffffffff811e9debn);
  // Fixed width: the 8 bytes of the field, leading zeros kept.
  assert.equal(cpu.fields["env.xmm_regs[0]"][7]["_q_ZMMReg[0]"], "0x0101010101010101");
  // Small integers stay numbers.
  assert.equal(typeof cpu.fields["env.regs"][0], "number");

  // Every field the library decodes as a bigint is a hex string of the same value in the
  // output; every number in the output is a safe integer (or not an integer at all).
  const input = await openInput(path);
  const lib = new Map<string, unknown>();
  const opts = { vmdesc: input.vmdesc, decodeDevices: true, payloads: false };
  for await (const rec of parseStream(input.reader, opts)) {
    if (rec.kind === "device") leaves(rec.fields as FieldValue, `${rec.idstr}`, lib);
  }
  input.close();
  const out = new Map<string, unknown>();
  for (const d of doc.devices) leaves(d.fields, d.name, out);
  let big = 0;
  for (const [k, v] of lib) {
    if (typeof v !== "bigint") continue;
    big++;
    assert.equal(typeof out.get(k), "string", k);
    assert.equal(BigInt.asUintN(64, BigInt(out.get(k) as string)), BigInt.asUintN(64, v), k);
  }
  assert.ok(big >= 40, `${big} fields above 2^53 in the capture`);
  for (const [k, v] of out) {
    if (typeof v === "number" && Number.isInteger(v)) assert.ok(Number.isSafeInteger(v), k);
  }
});
