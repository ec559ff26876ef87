/**
 * `inspect --hugepage-block NAME` for a block the stream does not have would change nothing:
 * exit 2 with one line naming the blocks the stream has (it used to be ignored with exit 0).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runCli } from "../_helpers.ts";

const SAMPLE = fileURLToPath(new URL("../../samples/small-block.mig", import.meta.url));

Deno.test("inspect --hugepage-block naming no block of the stream is exit 2 with one line", async () => {
  const r = await runCli(["inspect", "--hugepage-block", "nosuch", SAMPLE]);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    /QEMU_VM_EOF: --hugepage-block nosuch: the stream has no such RAM block \(it has: pc\.ram\)$/,
  );
});
