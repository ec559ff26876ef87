/**
 * Real QEMU 10.0 migrations over sockets through the recording proxy (tools/capture.ts), guest
 * RAM file-backed so the destination's RAM file is the oracle:
 *   (a) multifd, 2 channels, multifd-compression zlib;
 *   (b) the same with zstd;
 *   (c) multifd (no compression) with the source's pages rewritten between dirty syncs (qtest);
 *   (d) postcopy-ram + postcopy-preempt, switched while pages remain, qtest reads on the
 *       destination faulting pages onto the preempt channel.
 * Each capture is checked for itself (statuses, connection kinds, query-migrate), then migscope
 * replays the main stream with every other connection as --channel (in accept order) and must
 * produce the destination's RAM; and `inspect MAIN --channel …` must tell each connection's kind
 * as the proxy classified it and count, over all connections, query-migrate's
 * normal + duplicate pages.
 */
import assert from "node:assert/strict";
import { qemu10 } from "../../tools/qemu.ts";
import type { CaptureResult } from "../../tools/capture.ts";
import { dirtyValue } from "../../tools/capture/drive.ts";
import { parseMultifdChannel } from "../../src/parse/multifd.ts";
import { ByteReader } from "../../src/wire/reader.ts";
import { fileSource } from "../../src/wire/source.ts";
import { runCli, sha256, sha256File } from "../_helpers.ts";
import {
  compressed,
  DIRTY,
  dirtyPasses,
  inspectAll,
  type InspectedChannel,
  nonZeroPages,
  postcopyPreempt,
  replay,
  run,
  type Scenario,
  sentPages,
} from "./_qemu10_channels.ts";

const q10 = qemu10();
const ignore = q10 === undefined;

function kinds(c: CaptureResult): string[] {
  return c.connections.map((x) => x.kind);
}

function ram(c: CaptureResult): Record<string, number> {
  return c.stats.ram ?? {};
}

/** The capture completed on both sides and the destination holds the source's final RAM. */
async function assertCompleted(c: CaptureResult) {
  assert.equal(c.error, undefined, c.error);
  assert.equal(c.srcStatus, "completed");
  assert.equal(c.dstStatus, "completed");
  assert.equal(c.stats.status, "completed");
  assert.equal(await sha256File(c.dstRam), await sha256File(c.srcRam), "destination = source");
}

/** replay MAIN --channel … equals the destination's RAM file. */
async function assertReplayEqual(c: CaptureResult) {
  const out = `${c.main}.out`;
  const r = await replay(c, out);
  assert.equal(r.code, 0, r.stderr + r.stdout.slice(0, 2000));
  assert.ok(r.pcRam, "the replay report names pc.ram's image");
  assert.equal(await sha256File(r.pcRam), await sha256File(c.dstRam));
}

/**
 * `inspect MAIN --channel …`: each connection's kind as the proxy classified it, and the pages of
 * all connections equal query-migrate's normal + duplicate. Returns the channels' reports.
 */
async function assertInspectTotals(c: CaptureResult): Promise<InspectedChannel[]> {
  const p = await inspectAll(c);
  assert.equal(p.code, 0, p.stderr);
  assert.deepEqual(
    p.channels.map((x) => [x.file, x.kind]),
    c.connections.slice(1).map((x) => [x.file, x.kind]),
  );
  assert.equal(p.total, sentPages(c), JSON.stringify({ main: p.main, channels: p.channels }));
  return p.channels;
}

async function cleanup(c: CaptureResult) {
  const dir = c.dstRam.slice(0, c.dstRam.lastIndexOf("/"));
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/** (a), (b): two compressed channels; the captures are checked before migscope runs. */
async function compressedScenario(t: Deno.TestContext, method: "zlib" | "zstd", seed: number) {
  const s: Scenario = compressed(method, seed);
  const c = await run(s, q10!);
  try {
    await t.step("capture", async () => {
      await assertCompleted(c);
      assert.equal(
        await sha256File(c.srcRam),
        await sha256(s.ram),
        "the paused source kept its RAM",
      );
      assert.deepEqual(kinds(c), ["main", "multifd", "multifd"]);
      assert.equal(c.channels.length, 2);
      const st = ram(c);
      assert.ok(st.normal >= nonZeroPages(s.ram), "every data page sent");
      // Compression really happened: the channels carried fewer bytes than the data pages.
      assert.ok(st["multifd-bytes"] > 0);
      assert.ok(st["multifd-bytes"] < st["normal-bytes"] / 2, JSON.stringify(st));
      const onChannels = c.connections.filter((x) => x.kind === "multifd")
        .reduce((n, x) => n + x.bytes, 0);
      assert.equal(onChannels, st["multifd-bytes"], "the proxy recorded every channel byte");
    });
    await t.step("replay with both channels equals the destination", () => assertReplayEqual(c));
    await t.step("inspect --channel: page totals equal query-migrate, method named", async () => {
      const chs = await assertInspectTotals(c);
      assert.deepEqual(chs.map((x) => x.multifd?.compression), [method, method]);
    });
  } finally {
    await cleanup(c);
  }
}

Deno.test({
  name: "QEMU 10.0 multifd zlib (2 channels): captured, replayed equal to the destination",
  ignore,
  fn: (t) => compressedScenario(t, "zlib", 21),
});

Deno.test({
  name: "QEMU 10.0 multifd zstd (2 channels): captured, replayed equal to the destination",
  ignore,
  fn: (t) => compressedScenario(t, "zstd", 22),
});

function fnv(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 0x01000193);
  return h >>> 0;
}

Deno.test({
  name:
    "QEMU 10.0 multifd with dirty passes: pages re-sent with new content between syncs replay equal to the destination",
  ignore,
  async fn(t) {
    const s = dirtyPasses(23);
    const c = await run(s, q10!);
    try {
      await t.step("capture", async () => {
        await assertCompleted(c);
        assert.deepEqual(kinds(c), ["main", "multifd", "multifd"]);
        const st = ram(c);
        assert.ok(st["dirty-sync-count"] >= DIRTY.syncs, JSON.stringify(st));
        // The source's RAM changed during the migration: the dirtied pages hold the last round.
        const final = await Deno.readFile(c.srcRam);
        assert.notEqual(await sha256(final), await sha256(s.ram));
        const last = s.rounds();
        assert.ok(last >= 3, `${last} write rounds`);
        const range = final.subarray(
          DIRTY.firstPage * 4096,
          (DIRTY.firstPage + DIRTY.pages) * 4096,
        );
        assert.ok(range.every((b) => b === dirtyValue(last)), "the range holds the last round");
        // Data pages were sent more than once: beyond the first pass's non-zero pages.
        assert.ok(st.normal > nonZeroPages(s.ram) + DIRTY.pages, JSON.stringify(st));
      });
      await t.step("the channels carry dirtied pages with several contents", async () => {
        const contents = new Map<number, Set<number>>();
        const dirtied = new Set<number>();
        for (let i = 0; i < DIRTY.pages; i++) {
          dirtied.add((DIRTY.firstPage + i) * 4096);
        }
        for (const ch of c.channels) {
          const src = fileSource(ch);
          for await (const rec of parseMultifdChannel(new ByteReader(src), ch)) {
            if (rec.kind !== "packet" || rec.block !== "pc.ram") continue;
            for (let k = 0; k < rec.normalPages; k++) {
              if (!dirtied.has(rec.offsets[k])) continue;
              const set = contents.get(rec.offsets[k]) ?? new Set<number>();
              set.add(fnv(rec.data.subarray(k * 4096, (k + 1) * 4096)));
              contents.set(rec.offsets[k], set);
            }
          }
        }
        const thrice = [...contents.values()].filter((v) => v.size >= 3).length;
        assert.equal(thrice, DIRTY.pages, `${thrice} dirtied pages sent with 3+ contents`);
        const main = await runCli(["inspect", c.main, "--json"]);
        assert.equal(main.code, 0, main.stderr);
        const flushes = JSON.parse(main.stdout).summary.ram.multifdFlush;
        assert.ok(flushes >= 3, `${flushes} MULTIFD_FLUSH on the main channel`);
      });
      await t.step("replay with both channels equals the destination", () => assertReplayEqual(c));
      await t.step("inspect --channel: page totals equal query-migrate", async () => {
        await assertInspectTotals(c);
      });
    } finally {
      await cleanup(c);
    }
  },
});

Deno.test({
  name:
    "QEMU 10.0 postcopy with preempt: faulted pages on the preempt channel replay equal to the destination",
  ignore,
  async fn(t) {
    const s = postcopyPreempt(24);
    const c = await run(s, q10!);
    try {
      await t.step("capture", async () => {
        await assertCompleted(c);
        assert.equal(await sha256File(c.dstRam), await sha256(s.ram));
        assert.ok(c.srcStatuses.includes("postcopy-active"), c.srcStatuses.join(" "));
        assert.ok(c.dstStatuses.includes("postcopy-active"), c.dstStatuses.join(" "));
        assert.deepEqual(kinds(c), ["main", "preempt"]);
        const st = ram(c);
        assert.ok(st["postcopy-requests"] > 0, JSON.stringify(st));
        assert.ok(st["postcopy-bytes"] > 0, JSON.stringify(st));
        // Requested pages travel on the preempt channel: page headers plus 4 KiB of data each.
        const pre = c.connections[1];
        assert.equal(pre.file, c.preempt);
        assert.ok(pre.bytes > 4096, `preempt channel: ${pre.bytes} bytes`);
      });
      await t.step("the main stream switched to postcopy", async () => {
        const r = await runCli(["inspect", c.main, "--json"]);
        assert.equal(r.code, 0, r.stderr);
        const names = JSON.parse(r.stdout).summary.commands.map((x: { name: string }) => x.name);
        for (
          const n of ["OPEN_RETURN_PATH", "POSTCOPY_ADVISE", "POSTCOPY_LISTEN", "POSTCOPY_RUN"]
        ) {
          assert.ok(names.includes(n), n);
        }
      });
      await t.step("replay with the preempt channel equals the destination", async () => {
        await assertReplayEqual(c);
        // The faulted pages travel on the preempt channel only: without it the image differs
        // (exit 0 with another image; an exit 1 saying pages are missing would do as well).
        const r = await runCli(["replay", c.main, "--out", `${c.main}.alone`, "--json"]);
        if (r.code === 0) {
          const pcRam = (JSON.parse(r.stdout).ram as { name: string; path: string }[])
            .find((b) => b.name === "pc.ram")?.path;
          assert.ok(pcRam);
          assert.notEqual(await sha256File(pcRam), await sha256File(c.dstRam));
        } else assert.equal(r.code, 1, r.stderr);
      });
      await t.step("inspect --channel: page totals equal query-migrate", async () => {
        await assertInspectTotals(c);
      });
    } finally {
      await cleanup(c);
    }
  },
});
