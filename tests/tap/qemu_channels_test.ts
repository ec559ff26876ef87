/**
 * Real migrations through `migscope tap --record DIR` (tools/capture.ts with the tap as its
 * relay: source → tap → destination, both real QEMU, guest RAM file-backed so the destination's
 * RAM file is the oracle), one per kind of connection the tap must tell apart and pass through:
 *   (a) precopy with XBZRLE, pages half-rewritten through qtest between dirty syncs (QEMU 7.2,
 *       else 10.0);
 *   (b) multifd, 2 channels, zlib (QEMU 10.0);
 *   (c) postcopy with the return path, destination qtest reads faulting pages that are
 *       requested over it (QEMU 7.2, else 10.0);
 *   (d) postcopy-preempt, the faulted pages on the preempt channel (QEMU 10.0).
 * Each: the migration completes on both sides with the destination holding the source's RAM,
 * the tap exits 0, its events classify every connection as its recorded bytes say, the manifest
 * and the close events count every recorded byte, and the replay command the tap printed
 * replays the recording to exactly the destination's RAM; then what only that migration has.
 */
import assert from "node:assert/strict";
import { qemu10, qemu72 } from "../../tools/qemu.ts";
import { dirtyWhileMigrating, postcopyFaults } from "../../tools/capture/drive.ts";
import {
  inspectAll,
  type InspectedChannel,
  sentPages,
  sourceRam,
} from "../replay/_qemu10_channels.ts";
import { runCli, sha256File } from "../_helpers.ts";
import { captureThroughTap, replayPrinted, returnPath, type TapCapture } from "./_qemu.ts";

const q72 = qemu72();
const q10 = qemu10();
/** QEMU of (a) and (c): Debian's 7.2, else 10.0. */
const qOld = q72 ?? q10;

type Ev = Record<string, unknown>;
const ofType = (r: TapCapture, type: string): Ev[] => r.tap.events.filter((e) => e.type === type);
const commands = (r: TapCapture) => ofType(r, "command").map((e) => e.name as string);

async function size(path: string): Promise<number> {
  return (await Deno.stat(path)).size;
}

/**
 * What every migration through the tap must show. `kinds`: the connections in accept order.
 * Returns the tap's manifest connections.
 */
async function assertThroughTap(r: TapCapture, kinds: string[]) {
  const { c, tap } = r;
  const why = `${c.error ?? ""}\n${tap.stderr}`;
  // The migration, as it would complete without the tap.
  assert.equal(c.error, undefined, why);
  assert.equal(c.srcStatus, "completed", why);
  assert.equal(c.dstStatus, "completed", why);
  assert.equal(await sha256File(c.dstRam), await sha256File(c.srcRam), "destination = source");
  // The tap's end.
  assert.equal(tap.code, 0, tap.stderr);
  assert.deepEqual(ofType(r, "parse-error"), []);
  const end = tap.events.at(-1)!;
  assert.deepEqual([end.type, end.complete], ["end", true]);
  const m = tap.manifest!;
  assert.deepEqual([m.outcome, m.complete], ["complete", true]);
  // Every connection as it is: the tap's events, its manifest, and the recorded bytes
  // (tools/capture classifies each s2d file by its first four bytes) agree.
  // (Told once a connection's first bytes came: a multifd channel sends its initial packet at
  // once, the main channel's header may come later, so the events are sorted by accept order.)
  const conns = ofType(r, "connection").toSorted((a, b) => (a.n as number) - (b.n as number));
  assert.deepEqual(conns.map((e) => [e.n, e.kind]), kinds.map((k, n) => [n, k]));
  assert.deepEqual(m.connections.map((x) => [x.n, x.kind]), kinds.map((k, n) => [n, k]));
  assert.deepEqual(c.connections.map((x) => x.kind), kinds);
  for (const [n, x] of m.connections.entries()) {
    const s2d = `${tap.recDir}/${x.files!.s2d}`;
    assert.equal(c.connections[n].file, s2d);
    assert.equal(await size(s2d), x.s2d, `${s2d}: every forwarded byte recorded`);
    assert.equal(await size(`${tap.recDir}/${x.files!.d2s}`), x.d2s);
    const close = ofType(r, "close").filter((e) => e.n === n);
    assert.equal(close.length, 1);
    assert.deepEqual([close[0].s2d, close[0].d2s], [x.s2d, x.d2s]);
    assert.equal(x.error, undefined);
    if (x.kind === "multifd") {
      // The channel id the tap read is the one in the recorded initial packet (byte 24).
      const head = (await Deno.readFile(s2d)).subarray(0, 25);
      assert.equal(x.channelId, head[24]);
      assert.equal(conns[n].channelId, head[24]);
    }
  }
  // The replay command the tap printed (and wrote into the manifest and its end event).
  assert.ok(tap.replay, tap.stderr);
  assert.equal(m.replay, tap.replay);
  assert.equal(end.replay, tap.replay);
  const rp = await replayPrinted(tap.replay, `${r.dir}/out`);
  assert.equal(rp.code, 0, rp.stderr);
  assert.equal(await sha256File(rp.pcRam), await sha256File(c.dstRam), "replay = destination");
}

/**
 * The tap's live counts of each multifd channel — its manifest's connections and each
 * channel's last event (its end) — are `inspect MAIN --channel …`'s of the recording.
 */
function assertChannelCounts(r: TapCapture, inspected: InspectedChannel[]) {
  const m = r.tap.manifest!.connections.filter((x) => x.kind === "multifd");
  assert.equal(m.length, inspected.length);
  assert.deepEqual(ofType(r, "channel-error"), []);
  for (const [i, x] of m.entries()) {
    const want = inspected[i].multifd!;
    const got = x.multifd!;
    assert.deepEqual(
      [got.normalPages, got.zeroPages, got.compression],
      [want.normalPages, want.zeroPages, want.compression],
      `connection ${x.n}`,
    );
    const evs = ofType(r, "channel").filter((e) => e.n === x.n);
    const last = evs.at(-1)!;
    assert.equal(last.end, true);
    assert.deepEqual(
      [last.normalPages, last.zeroPages, last.packets, last.syncs, last.payloadBytes],
      [got.normalPages, got.zeroPages, got.packets, got.syncs, got.payloadBytes],
    );
    assert.ok(evs.length < got.packets || got.packets <= 1, "not an event per packet");
  }
}

/** The main stream's own pages (inspect of the recorded main connection). */
async function mainPages(r: TapCapture): Promise<{ page: number; zero: number }> {
  const i = await runCli(["inspect", r.c.main, "--json"]);
  assert.equal(i.code, 0, i.stderr);
  const s = JSON.parse(i.stdout).summary.ram;
  return { page: s.page + s.compressed + s.xbzrle, zero: s.zero };
}

/** The pages of the tap's pass events (its live parse) by kind. */
function passTotals(r: TapCapture) {
  const t = { pages: 0, zero: 0, xbzrle: 0 };
  for (const e of ofType(r, "pass")) {
    t.pages += e.pages as number;
    t.zero += e.zero as number;
    t.xbzrle += e.xbzrle as number;
  }
  return t;
}

async function cleanup(r: TapCapture) {
  await Deno.remove(r.dir, { recursive: true }).catch(() => {});
}

Deno.test({
  name:
    `QEMU ${qOld?.version} precopy + XBZRLE through migscope tap: pages half-rewritten between syncs go as XBZRLE; the recording replays to the destination`,
  ignore: !qOld,
  async fn() {
    // 512 pages whose first 2 KiB are rewritten each round: a pass of them (≈1 MiB of XBZRLE
    // deltas) takes ≈250 ms at 4 MiB/s, far longer than a round of writes.
    const r = await captureThroughTap({
      mode: "precopy",
      ram: sourceRam(41, 3, 3),
      qemu: qOld,
      capabilities: ["xbzrle"],
      qtest: true,
      drive: dirtyWhileMigrating({ firstPage: 2048, pages: 512, syncs: 5, bytes: 2048 }),
    });
    try {
      await assertThroughTap(r, ["main"]);
      const st = r.c.stats;
      const ram = st.ram ?? {};
      const cache = (st["xbzrle-cache"] ?? {}) as Record<string, number>;
      assert.ok(ram["dirty-sync-count"] >= 5, JSON.stringify(ram));
      const i = await runCli(["inspect", r.c.main, "--json"]);
      assert.equal(i.code, 0, i.stderr);
      const s = JSON.parse(i.stdout).summary.ram;
      assert.ok(s.xbzrle > 0, "XBZRLE records in the recording");
      assert.ok(cache.pages >= s.xbzrle, JSON.stringify(cache));
      // The recording holds what QEMU says it sent: its normal and zero pages, exactly.
      assert.equal(s.page, ram.normal);
      assert.equal(s.zero, ram.duplicate);
      // The tap's live parse saw the same pages as inspect of the recording.
      assert.deepEqual(passTotals(r), {
        pages: s.page + s.zero + s.xbzrle + s.compressed,
        zero: s.zero,
        xbzrle: s.xbzrle,
      });
      assert.ok(ofType(r, "pass").length >= 3, "dirty passes");
    } finally {
      await cleanup(r);
    }
  },
});

Deno.test({
  name:
    "QEMU 10.0 multifd zlib (2 channels) through migscope tap: main and both channels told by kind and id, their pages counted live as inspect --channel and query-migrate count them, recorded whole, replayed to the destination",
  ignore: !q10,
  async fn() {
    const r = await captureThroughTap({
      mode: "multifd",
      channels: 2,
      parameters: { "multifd-compression": "zlib" },
      ram: sourceRam(42, 30, 20),
      qemu: q10,
    });
    try {
      await assertThroughTap(r, ["main", "multifd", "multifd"]);
      const ids = ofType(r, "connection").filter((e) => e.kind === "multifd")
        .map((e) => e.channelId as number);
      assert.deepEqual(ids.toSorted(), [0, 1]);
      const ram = r.c.stats.ram ?? {};
      const onChannels = r.tap.manifest!.connections.filter((x) => x.kind === "multifd")
        .reduce((n, x) => n + x.s2d, 0);
      assert.equal(onChannels, ram["multifd-bytes"], "every multifd byte passed");
      assert.ok(ram["multifd-bytes"] < ram["normal-bytes"] / 2, "compressed");
      const p = await inspectAll(r.c);
      assert.equal(p.code, 0, p.stderr);
      assert.deepEqual(p.channels.map((x) => x.multifd?.compression), ["zlib", "zlib"]);
      assert.equal(p.total, sentPages(r.c));
      assertChannelCounts(r, p.channels);
      // Every normal and zero page QEMU sent: the channels' (counted live) and the main stream's.
      const live = r.tap.manifest!.connections.filter((x) => x.kind === "multifd");
      const sum = (f: (m: NonNullable<typeof live[0]["multifd"]>) => number) =>
        live.reduce((n, x) => n + f(x.multifd!), 0);
      const main = p.main === 0 ? { page: 0, zero: 0 } : await mainPages(r);
      assert.equal(sum((m) => m.normalPages) + main.page, ram.normal);
      assert.equal(sum((m) => m.zeroPages) + main.zero, ram.duplicate);
      assert.ok(sum((m) => m.normalPages) > 0, "pages on the channels");
    } finally {
      await cleanup(r);
    }
  },
});

/** The destination's qtest reads of postcopyFaults (64 pages from the top down, stride 61). */
function faultedOffsets(ramSize: number): Set<number> {
  const top = ramSize / 4096 - 1;
  return new Set(Array.from({ length: 64 }, (_, k) => (top - k * 61) * 4096));
}

/**
 * The main connection's return path: whole messages, a PONG for each PING the events told,
 * page requests (as many as the source counted, each for a page the destination read), SHUT 0
 * last. Returns the requests.
 */
async function assertReturnPath(r: TapCapture, ramSize: number) {
  const main = r.tap.manifest!.connections[0];
  assert.ok(main.d2s > 0, "the return path was forwarded and recorded");
  const msgs = returnPath(await Deno.readFile(`${r.tap.recDir}/${main.files!.d2s}`));
  const pings = ofType(r, "command").filter((e) => e.name === "PING")
    .map((e) => Number(/value (\d+)/.exec(e.detail as string)![1]));
  // (in any order: the package's PING 3 is answered once the package is loaded, which on 10.0
  // may come after PING 4, read past the package by the listen thread)
  const pongs = msgs.filter((x) => x.type === "PONG").map((x) => x.value!);
  assert.deepEqual(pongs.toSorted(), pings.toSorted());
  assert.ok(pings.length >= 4, `PINGs ${pings}`);
  assert.deepEqual(msgs.at(-1), { ...msgs.at(-1)!, type: "SHUT", value: 0 });
  const reqs = msgs.filter((x) => x.type === "REQ_PAGES" || x.type === "REQ_PAGES_ID");
  assert.ok(reqs.length > 0, "pages requested");
  assert.equal(reqs.length, r.c.stats.ram?.["postcopy-requests"]);
  assert.equal(reqs[0].type, "REQ_PAGES_ID");
  assert.deepEqual(new Set(reqs.filter((x) => x.block).map((x) => x.block)), new Set(["pc.ram"]));
  const read = faultedOffsets(ramSize);
  for (const q of reqs) {
    assert.ok(read.has(q.start!), `request for ${q.start} (not read by the destination)`);
    assert.equal(q.length, 4096);
  }
}

const POSTCOPY_COMMANDS = [
  "OPEN_RETURN_PATH",
  "POSTCOPY_ADVISE",
  "POSTCOPY_LISTEN",
  "POSTCOPY_RUN",
];

Deno.test({
  name:
    `QEMU ${qOld?.version} postcopy through migscope tap: the return path (PONGs, page requests, SHUT) recorded, POSTCOPY_LISTEN/RUN told, replayed to the destination`,
  ignore: !qOld,
  async fn() {
    const ram = sourceRam(43, 15, 15);
    const r = await captureThroughTap({
      mode: "postcopy",
      ram,
      qemu: qOld,
      qtest: true,
      drive: postcopyFaults({ pages: 64 }),
    });
    try {
      await assertThroughTap(r, ["main"]);
      assert.ok(r.c.srcStatuses.includes("postcopy-active"), r.c.srcStatuses.join(" "));
      const names = commands(r);
      for (const n of POSTCOPY_COMMANDS) assert.ok(names.includes(n), `${n} in ${names}`);
      assert.ok(names.indexOf("POSTCOPY_LISTEN") < names.indexOf("POSTCOPY_RUN"));
      await assertReturnPath(r, ram.length);
      // The recording holds every page QEMU sent (requested ones included).
      const p = await inspectAll(r.c);
      assert.equal(p.code, 0, p.stderr);
      assert.equal(p.total, sentPages(r.c));
    } finally {
      await cleanup(r);
    }
  },
});

Deno.test({
  name:
    "QEMU 10.0 postcopy-preempt through migscope tap: the preempt connection told as such, carrying the faulted pages; replayed with it to the destination",
  ignore: !q10,
  async fn() {
    const ram = sourceRam(44, 15, 15);
    const r = await captureThroughTap({
      mode: "postcopy",
      capabilities: ["postcopy-preempt"],
      ram,
      qemu: q10,
      qtest: true,
      drive: postcopyFaults({ pages: 64 }),
    });
    try {
      await assertThroughTap(r, ["main", "preempt"]);
      const names = commands(r);
      for (const n of POSTCOPY_COMMANDS) assert.ok(names.includes(n), `${n} in ${names}`);
      const pre = r.tap.manifest!.connections[1];
      assert.ok(pre.s2d > 4096, `preempt: ${pre.s2d} bytes`);
      assert.equal(pre.d2s, 0, "the return path is on the main connection only");
      assert.ok(r.tap.replay!.includes(`--channel ${r.tap.recDir}/1-preempt.s2d.bin`));
      await assertReturnPath(r, ram.length);
      const p = await inspectAll(r.c);
      assert.equal(p.code, 0, p.stderr);
      assert.equal(p.channels[0].kind, "preempt");
      assert.ok(p.channels[0].preempt!.page > 0, JSON.stringify(p.channels[0]));
      assert.equal(p.total, sentPages(r.c));
    } finally {
      await cleanup(r);
    }
  },
});
