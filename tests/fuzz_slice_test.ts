/**
 * The fixed-seed slice of the fuzz campaign that CI runs (tools/fuzz.ts): every case must either
 * succeed or fail with one line naming the offset, within the time and memory limits, leaving
 * its inputs unchanged.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

Deno.test("fuzz: fixed-seed slice of 1200 mutated captures, samples and hand-built streams", async () => {
  const tool = fileURLToPath(new URL("../tools/fuzz.ts", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-run",
      "--allow-ffi",
      tool,
      "--iterations",
      "1200",
      "--seed",
      "7",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
  assert.match(text, /^1200 passed, 0 failed$/m);
});
