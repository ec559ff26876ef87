/**
 * A 64 GiB guest: its precopy (16 Mi pages, mostly ZERO records; 164 MiB of stream generated
 * chunk by chunk, never held in memory) makes a report page well under 10 MB — at most 4096
 * cells for the block, each counting 4096 pages — with every page counted.
 */
import assert from "node:assert/strict";
import { BIG_GUEST, bigGuestCounts, bigGuestStream } from "./_streams.ts";
import { makeReport } from "./_report.ts";

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

Deno.test("report size: a 64 GiB guest's stream gives a page under 10 MB, every page counted", async () => {
  const t0 = performance.now();
  const { html, data, dir } = await makeReport({ input: bigGuestStream() });
  const ms = performance.now() - t0;
  await Deno.remove(dir, { recursive: true });
  const bytes = new TextEncoder().encode(html).length;
  console.log(`64 GiB guest: report of ${bytes} bytes in ${ms.toFixed(0)} ms`);
  assert.ok(bytes < 10_000_000, `${bytes} bytes`);
  const want = bigGuestCounts(BIG_GUEST);
  assert.deepEqual([data.summary.ram.page, data.summary.ram.zero], [want.page, want.zero]);
  const [b] = data.ram.blocks;
  assert.deepEqual([b.name, b.size, b.pages, b.cells, b.cellPages], [
    "pc.ram",
    64 * 2 ** 30,
    16 * 2 ** 20,
    4096,
    4096,
  ]);
  assert.deepEqual([sum(b.records.page), sum(b.records.zero)], [want.page, want.zero]);
  assert.equal(sum(b.unsent!), 0, "every page was sent");
  assert.equal(Math.max(...b.maxSends!), 2, "the re-sent pages were sent twice");
  assert.equal(data.passes.length, want.passes);
  assert.equal(data.passes[1].resent, BIG_GUEST.resent);
  assert.equal(data.passes[1].resendRatio, BIG_GUEST.resent / (16 * 2 ** 20));
});
