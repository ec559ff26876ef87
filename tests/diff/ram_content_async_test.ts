/**
 * The RAM comparison diff runs (compareReplaysAsync) gives the event loop a turn every few MiB
 * and stops on its abort signal, so Ctrl-C / SIGTERM act during it; its result equals the
 * synchronous compareReplays'.
 */
import assert from "node:assert/strict";
import { compareReplays } from "../../src/diff/diff.ts";
import { compareReplaysAsync } from "../../src/diff/ram_content.ts";
import type { ReplayResult } from "../../src/replay/engine.ts";

const PAGE = 4096;

/** A replay result holding only what the comparison reads: page size, RAM and disk images. */
function replayOf(dir: string, names: string[]): ReplayResult {
  const ram = names.map((name) => ({ name, path: `${dir}/${name}` }));
  return { pageSize: PAGE, ram, disks: [] } as unknown as ReplayResult;
}

async function images(): Promise<[string, ReplayResult, ReplayResult]> {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/a`);
  await Deno.mkdir(`${dir}/b`);
  const img = new Uint8Array(24 << 20);
  await Deno.writeFile(`${dir}/a/pc.ram`, img);
  await Deno.writeFile(`${dir}/a/vga.vram`, img.subarray(0, 1 << 20));
  for (const page of [3, 4, 5, 1000, 6000]) img[page * PAGE + 7] = 0xaa;
  await Deno.writeFile(`${dir}/b/pc.ram`, img);
  await Deno.writeFile(`${dir}/b/extra`, img.subarray(0, PAGE));
  return [
    dir,
    replayOf(`${dir}/a`, ["pc.ram", "vga.vram"]),
    replayOf(`${dir}/b`, ["pc.ram", "extra"]),
  ];
}

Deno.test("compareReplaysAsync: the same result as compareReplays, timers run during it", async () => {
  const [dir, a, b] = await images();
  try {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const got = await compareReplaysAsync(a, b);
    clearInterval(timer);
    assert.deepEqual(got, compareReplays(a, b));
    assert.equal(got.blocks[0].different, 5);
    assert.deepEqual(got.onlyA, ["vga.vram"]);
    assert.deepEqual(got.onlyB, ["extra"]);
    assert.ok(ticks > 0, "the event loop had no turn during 24 MiB");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compareReplaysAsync: an abort during the comparison stops it with the reason", async () => {
  const [dir, a, b] = await images();
  try {
    const ac = new AbortController();
    const reason = new Error("interrupted");
    const p = compareReplaysAsync(a, b, ac.signal);
    ac.abort(reason);
    await assert.rejects(p, (e) => e === reason);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
