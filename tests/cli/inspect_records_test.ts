/**
 * `inspect --records` filters at the command line: a kind that does not exist, a block, pass
 * or section the stream does not have, and filters without --records are exit 2 with one line
 * (the rows of a bad name would otherwise silently be none).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runCli } from "../_helpers.ts";

const SAMPLE = fileURLToPath(new URL("../../samples/small-block.mig", import.meta.url));

async function exit2(args: string[]): Promise<{ line: string; stdout: string }> {
  const r = await runCli(["inspect", ...args]);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  return { line: lines[0], stdout: r.stdout };
}

Deno.test("inspect --kind: an unknown kind is exit 2 listing the kinds", async () => {
  const r = await exit2(["--records", "--kind", "frob", SAMPLE]);
  assert.match(
    r.line,
    /^migscope: --kind frob: the kinds are page, zero, xbzrle, compressed, eos, mem-size, multifd-flush, chunk, zero-chunk, progress, section, device, command, eof\b/,
  );
  assert.equal(r.stdout, "");
});

Deno.test("inspect --block/--pass/--section the stream lacks: exit 2 naming what it has, after the report", async () => {
  const b = await exit2(["--records", "--block", "nosuch", SAMPLE]);
  assert.equal(
    b.line,
    "migscope: --block nosuch: the stream has no RAM block or disk of that name (it has pc.ram, disk0)",
  );
  assert.match(b.stdout, /\n0 of 1055 records match --block nosuch\n\nTimeline\n/);
  const p = await exit2(["--records", "--pass", "2", SAMPLE]);
  assert.equal(p.line, "migscope: --pass 2: the stream has 1 dirty pass");
  const s = await exit2(["--records", "--section", "9", SAMPLE]);
  assert.equal(
    s.line,
    "migscope: --section 9: the stream has no section 9 (it has 1 'block', 2 'ram')",
  );
});

Deno.test("inspect: filters without --records, and bad numbers, are exit 2 before any work", async () => {
  for (
    const [args, msg] of [
      [["--kind", "zero"], /^migscope: --kind selects --records rows: add --records/],
      [["--block", "pc.ram", "--json"], /^migscope: --block selects --records rows/],
      [["--records", "--pass", "0"], /^migscope: --pass takes a pass number from 1, got '0'/],
      [["--records", "--section", "x"], /^migscope: --section takes a section id, got 'x'/],
    ] as [string[], RegExp][]
  ) {
    const r = await exit2([...args, SAMPLE]);
    assert.match(r.line, msg);
    assert.equal(r.stdout, "");
  }
});
