/**
 * Dirty passes of a real postcopy stream: after POSTCOPY_RUN the source's background sweep and
 * the pages the destination asked for (page faults) come interleaved, in no address order, so
 * every page after POSTCOPY_RUN is one pass (the postcopy pass) however often addresses wrap.
 * Precopy captures keep their pass counts.
 */
import assert from "node:assert/strict";
import { capture, postcopyFaults } from "../../tools/capture.ts";
import { haveQemu } from "../../tools/qemu.ts";
import { captureFile, captureNames, CAPTURES_DIR, runCli, summarize } from "../_helpers.ts";
import { openInput } from "../../src/parse/input.ts";
import { parseStream } from "../../src/parse/stream.ts";

const PAGE_TYPES = new Set(["page", "zero", "xbzrle", "compressed"]);

/** Walks the records: the POSTCOPY_RUN command, and the page records after it. */
async function afterRun(path: string) {
  const inp = await openInput(path);
  let run: number | undefined;
  let first: number | undefined;
  let pages = 0;
  let wraps = 0;
  let inPackage = 0;
  let last: [string, number] | undefined;
  for await (const rec of parseStream(inp.reader, { payloads: false })) {
    if (rec.kind === "command" && rec.name === "POSTCOPY_RUN") run = rec.offset;
    if (rec.kind !== "ram" || !PAGE_TYPES.has(rec.type)) continue;
    if (rec.depth > 0) inPackage++;
    if (run === undefined || rec.offset < run) continue;
    first ??= rec.offset;
    pages++;
    if (last && last[0] === rec.block && rec.addr <= last[1]) wraps++;
    last = [rec.block, rec.addr];
  }
  inp.close();
  return { run, first, pages, wraps, inPackage };
}

Deno.test({
  name: "postcopy with page faults: every page after POSTCOPY_RUN is one postcopy pass",
  ignore: !haveQemu(),
  async fn() {
    const dir = await Deno.makeTempDir();
    const ram = new Uint8Array(64 << 20);
    for (let p = 0; p < ram.length / 4096; p += 3) ram.fill(p & 0xff || 1, p * 4096, p * 4096 + 64);
    const c = await capture({ mode: "postcopy", dir, ram, qtest: true, drive: postcopyFaults() });
    assert.equal(c.dstStatus, "completed", c.error);
    const stats = c.stats.ram as Record<string, number>;
    assert.ok(stats["postcopy-requests"] > 0, "the destination asked for pages");
    const w = await afterRun(c.main);
    assert.ok(w.run !== undefined && w.first !== undefined, "POSTCOPY_RUN, then pages");
    assert.equal(w.inPackage, 0, "no page record inside the PACKAGED payload");
    // Requested pages go from the top of RAM down, the sweep upwards: addresses wrap often.
    assert.ok(w.wraps > 2, `${w.wraps} wraps after POSTCOPY_RUN`);
    const json = await runCli(["inspect", "--json", c.main]);
    assert.equal(json.code, 0, json.stderr);
    const fromCli = JSON.parse(json.stdout).summary.passes;
    const { summary } = await summarize(c.main); // the record-object path
    for (const passes of [fromCli, summary.passes]) {
      // One precopy pass (300 ms at 16 MiB/s covers a fraction of RAM), then the postcopy
      // pass: one pass per dirty-bitmap sync (QEMU syncs at the start and at postcopy start).
      assert.equal(passes.length, 2);
      assert.equal(passes.length, stats["dirty-sync-count"]);
      const last = passes.at(-1);
      assert.equal(last.postcopy, true);
      assert.equal(last.offset, w.first);
      assert.equal(last.pages, w.pages);
      assert.equal(passes[0].postcopy, undefined);
    }
    const text = await runCli(["inspect", c.main]);
    assert.match(text.stdout, /every page after POSTCOPY_RUN is one postcopy pass/);
    assert.match(text.stdout, new RegExp(`^ +2 +${w.first} +${w.pages} .* postcopy$`, "m"));
    await Deno.remove(dir, { recursive: true });
  },
});

/**
 * The shared precopy captures keep the pass counts they had before postcopy passes existed,
 * never more than QEMU's dirty-sync-count (a sync that finds nothing dirty sends no pass), and
 * their passes hold every page record of the README.
 */
const PRECOPY_PASSES: Record<string, number> = {
  a_precopy_idle: 2,
  b_xbzrle: 4,
  c_block_zero_blocks: 2,
  e_paused_save: 1,
};

Deno.test({
  name: "precopy captures: pass counts unchanged, no postcopy pass",
  ignore: !captureNames().includes("a_precopy_idle"),
  async fn() {
    for (const [name, count] of Object.entries(PRECOPY_PASSES)) {
      const { summary } = await summarize(await captureFile(name));
      assert.equal(summary.passes.length, count, name);
      const final = JSON.parse(
        await Deno.readTextFile(`${CAPTURES_DIR}/${name}/query-migrate-final.json`),
      );
      const q = final.return ?? final;
      assert.ok(count <= q.ram["dirty-sync-count"], name);
      const pages = summary.passes.reduce((a, p) => a + p.pages, 0);
      assert.equal(pages, q.ram.normal + q.ram.duplicate + (summary.ram.xbzrle ?? 0), name);
      assert.ok(summary.passes.every((p) => p.postcopy === undefined), name);
    }
  },
});
