/**
 * replay --json on a malformed stream writes the same error object inspect does: the offset,
 * section and record of the StreamError, not only its message.
 */
import assert from "node:assert/strict";
import { captureFile, runCli } from "../_helpers.ts";

Deno.test("replay --json of a truncated real capture: the error object names offset, section and record", async () => {
  const full = await Deno.readFile(await captureFile("c_block_zero_blocks"));
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/cut.bin`, full.subarray(0, 12000));
    const r = await runCli(["replay", "--json", `${dir}/cut.bin`, "--out", `${dir}/out`]);
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.format, "migscope-replay");
    assert.equal(doc.error.offset, 12000);
    assert.match(doc.error.section, /^section \d+ '(ram|block)' /);
    assert.match(doc.error.record, / record at \d+$/);
    assert.match(doc.error.message, /^offset 12000 \(0x2ee0\), .*truncated/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
