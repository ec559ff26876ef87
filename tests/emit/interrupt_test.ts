/**
 * Ctrl-C and SIGTERM during emit: `OUT.partial` is removed, no `OUT` appears, and the process
 * exits 130 / 143 with one line. The real CLI emitting a 3 GiB sparse disk as data chunks (the
 * inputs take no disk space; the output is removed after a few MiB).
 */
import assert from "node:assert/strict";
import { assertInterrupted, entries, sizeOf, spawnCli, until } from "../replay/_signal.ts";

async function inputs() {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/ram.img`, new Uint8Array(1 << 20).fill(3));
  const disk = await Deno.open(`${dir}/disk.img`, { write: true, create: true });
  await disk.truncate(3 * 2 ** 30); // sparse
  disk.close();
  return dir;
}

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${signal} during emit -o OUT: OUT.partial removed, no OUT, exit ${code}`, async () => {
    const dir = await inputs();
    const out = `${dir}/out.mig`;
    const child = spawnCli([
      "emit",
      "--ram",
      `pc.ram=${dir}/ram.img`,
      "--disk",
      `disk0=${dir}/disk.img`,
      "-o",
      out,
    ]);
    await until(() => sizeOf(`${out}.partial`) >= 8 << 20, "8 MiB of output");
    child.kill(signal);
    await assertInterrupted(child, code);
    assert.deepEqual(entries(dir), ["disk.img", "ram.img"]);
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("SIGINT while emit -o - is blocked on a stdout no one reads: exit 130 after the grace period, one line", async () => {
  const dir = await inputs();
  const child = spawnCli(["emit", "--ram", `pc.ram=${dir}/ram.img`, "--disk", `d=${dir}/disk.img`]);
  // Nothing reads stdout: the pipe fills and the emitter waits in a write that never ends.
  await new Promise((r) => setTimeout(r, 1000));
  child.kill("SIGINT");
  const stderr = new Response(child.stderr).text();
  const status = await child.status;
  await child.stdout.cancel();
  assert.equal(status.signal, null);
  assert.equal(status.code, 130);
  assert.equal(await stderr, "migscope: interrupted\n");
  await Deno.remove(dir, { recursive: true });
});
