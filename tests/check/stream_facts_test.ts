/**
 * readStreamFacts on the shared captures, checked against the README's numbers and the raw
 * bytes: each section offset holds its header, each MEM_SIZE entry offset its counted name,
 * each subsection offset its `0x05` marker and name.
 */
import assert from "node:assert/strict";
import { openInput } from "../../src/parse/input.ts";
import { readStreamFacts } from "../../src/check/stream_facts.ts";
import { captureFile, captureNames, readmeExpectations } from "../_helpers.ts";

const have = captureNames();
const utf8 = new TextEncoder();

function countedAt(bytes: Uint8Array, at: number, name: string): boolean {
  const n = utf8.encode(name);
  return bytes[at] === n.length && n.every((b, i) => bytes[at + 1 + i] === b);
}

for (const name of ["a_precopy_idle", "c_block_zero_blocks"]) {
  Deno.test({
    name: `stream facts of ${name}: offsets hold what they name (README counts)`,
    ignore: !have.includes(name),
    async fn() {
      const file = await captureFile(name);
      const bytes = await Deno.readFile(file);
      const expect = readmeExpectations().get(name)!;
      const input = await openInput(file);
      const f = await readStreamFacts(input, { vmdesc: input.vmdesc });
      input.close();
      assert.equal(f.machine, "pc-i440fx-7.2");
      assert.equal(f.configurationOffset, expect.configurationOffset);
      assert.equal(f.eofOffset, expect.eofOffset);
      assert.equal(
        f.sections.filter((s) => s.type === "START").length,
        expect.sections.SECTION_START,
      );
      assert.equal(
        f.sections.filter((s) => s.type === "FULL").length,
        expect.sections.SECTION_FULL,
      );
      for (const s of f.sections) {
        assert.equal(bytes[s.offset], s.type === "START" ? 1 : 4, `${s.idstr} header type`);
        assert.ok(countedAt(bytes, s.offset + 5, s.idstr), `${s.idstr} idstr at ${s.offset + 5}`);
        for (const sub of s.subsections) {
          assert.equal(bytes[sub.offset], 5, `${sub.name} marker at ${sub.offset}`);
          assert.ok(countedAt(bytes, sub.offset + 1, sub.name), `${sub.name} name`);
        }
      }
      const ram = f.sections.find((s) => s.idstr === "ram")!;
      assert.deepEqual(ram.ramBlocks!.map(({ name, size }) => ({ name, size })), expect.blocks);
      for (const b of ram.ramBlocks!) assert.ok(countedAt(bytes, b.offset, b.name), b.name);
      const subs = f.sections.flatMap((s) => s.subsections.map((x) => x.name));
      assert.ok(subs.includes("fw_cfg/acpi_mr") && subs.includes("fdrive/media_rate"), subs.join());
    },
  });
}
