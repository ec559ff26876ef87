/**
 * The system libzstd decoder's native streams: one dropped without close() is freed once it is
 * garbage (40 decoders that each filled a 32 MiB window stay within a few hundred MiB; without
 * the finalizer they held about 1.3 GiB).
 */
import assert from "node:assert/strict";

const SCRIPT = new URL("./zstd_dropped_decoders.ts", import.meta.url).pathname;

async function rssMiB(mode: "drop" | "close"): Promise<number> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", SCRIPT, mode],
    stderr: "piped",
  }).output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  return Number(new TextDecoder().decode(r.stdout).trim());
}

Deno.test("dropped system zstd decoders free their windows (40 × 32 MiB)", async () => {
  const [dropped, closed] = [await rssMiB("drop"), await rssMiB("close")];
  assert.ok(closed < 300, `closed: ${closed} MiB`);
  assert.ok(dropped < closed + 200, `dropped: ${dropped} MiB, closed: ${closed} MiB`);
});
