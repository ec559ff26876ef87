/**
 * Multifd channels counted as they pass through the tap: the shared QEMU 10.0 multifd + zlib
 * capture (../shared/channels) replayed through a tap with a fake destination — each channel's
 * packets, SYNCs, pages and payload bytes as `inspect --channel` counts them; a channel the
 * parser cannot read is told once and still forwarded whole.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import {
  concat,
  connect,
  FakeDestination,
  multifdInit,
  noise,
  ofType,
  readAll,
  startTap,
  writeAll,
} from "./_fake.ts";
import { runCli } from "../_helpers.ts";
import { PushSource } from "../../src/tap/push_source.ts";
import { EndOfStreamError } from "../../src/wire/reader.ts";

const SHARED = new URL("../../../shared/channels/n1_multifd_zlib/", import.meta.url).pathname;
const FILES = [0, 1, 2].map((i) => `${SHARED}capture.conn${i}.s2d.bin.gz`);

async function available(): Promise<boolean> {
  try {
    await Deno.stat(FILES[0]);
    return true;
  } catch {
    return false;
  }
}

/** Connections in order, each written whole (in 1 MiB writes) then half-closed. */
async function through(streams: Uint8Array[]) {
  const dst = new FakeDestination(readAll);
  const t = await startTap(dst.address);
  const conns: Deno.TcpConn[] = [];
  for (const _ of streams) {
    conns.push(await connect(t.port));
    await new Promise((r) => setTimeout(r, 20)); // accepted in this order
  }
  await Promise.all(streams.map(async (b, i) => {
    for (let at = 0; at < b.length; at += 1 << 20) {
      await writeAll(conns[i], b.subarray(at, at + (1 << 20)));
    }
    await conns[i].closeWrite();
    await readAll(conns[i]);
    conns[i].close();
  }));
  const outcome = await t.outcome;
  const got = await dst.close() as Uint8Array[];
  return { outcome, events: t.events, got };
}

Deno.test({
  name:
    "tap: the shared multifd zlib capture's channels counted live as inspect --channel counts them",
  ignore: !(await available()),
  async fn() {
    const streams = FILES.map((f) => new Uint8Array(gunzipSync(Deno.readFileSync(f))));
    const { outcome, events, got } = await through(streams);
    assert.deepEqual(got.map((b) => b.length), streams.map((b) => b.length));
    assert.equal(outcome.end, "complete");
    assert.deepEqual(ofType(events, "channel-error"), []);
    const i = await runCli([
      "inspect",
      FILES[0],
      "--channel",
      FILES[1],
      "--channel",
      FILES[2],
      "--json",
    ]);
    assert.equal(i.code, 0, i.stderr);
    const doc = JSON.parse(i.stdout);
    const expected = (doc.channels as { multifd: Record<string, unknown> }[]).map((c) => {
      const m = c.multifd;
      return [m.packets, m.syncs, m.normalPages, m.zeroPages, m.payloadBytes, m.compression];
    });
    const infos = outcome.connections.filter((c) => c.kind === "multifd");
    assert.deepEqual(
      infos.map((c) => {
        const m = c.multifd!;
        return [m.packets, m.syncs, m.normalPages, m.zeroPages, m.payloadBytes, m.compression];
      }),
      expected,
    );
    // The last channel event of each channel is its end, with the same counts.
    for (const c of infos) {
      const evs = ofType(events, "channel").filter((e) => e.n === c.n);
      const last = evs.at(-1)!;
      assert.equal(last.end, true);
      assert.equal(evs.filter((e) => e.end).length, 1);
      assert.equal(last.normalPages, c.multifd!.normalPages);
      assert.equal(last.zeroPages, c.multifd!.zeroPages);
      assert.equal(last.channelId, c.channelId);
      // One event per SYNC packet at least, and not one per packet.
      assert.ok(evs.length >= c.multifd!.syncs, `${evs.length} events`);
      assert.ok(evs.length < c.multifd!.packets, `${evs.length} events, ${c.multifd!.packets}`);
    }
    assert.ok(infos.every((c) => c.multifd!.normalPages > 0 && c.multifd!.compression === "zlib"));
  },
});

Deno.test("tap: a multifd channel of junk after its initial packet — one channel-error, every byte forwarded", async () => {
  const qevm = concat(new Uint8Array([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]), noise(1000, 5));
  const junk = concat(multifdInit(0), noise(300_000, 7));
  const { outcome, events, got } = await through([qevm, junk]);
  assert.deepEqual(got.map((b) => b.length), [qevm.length, junk.length]);
  assert.deepEqual(got[1], junk);
  const errs = ofType(events, "channel-error");
  assert.equal(errs.length, 1);
  assert.equal(errs[0].n, 1);
  assert.equal(errs[0].channelId, 0);
  assert.equal(errs[0].offset, 64);
  assert.match(errs[0].record!, /packet at 64/);
  assert.match(errs[0].section!, /connection 1/);
  assert.match(errs[0].message, /magic/);
  const info = outcome.connections[1];
  assert.equal(info.multifd!.stopped!.offset, 64);
  assert.equal(info.multifd!.packets, 0);
  // The main channel's rules decide the outcome, as before (its junk stops its own parse).
  assert.equal(ofType(events, "parse-error").length, 1);
  assert.equal(ofType(events, "channel").filter((e) => e.end).length, 1);
});

Deno.test("PushSource.skip: drops bytes across lent chunks without reading them, gives each back once passed, ends with EndOfStreamError", async () => {
  const s = new PushSource(1 << 20);
  const given: number[] = [];
  s.lend(new Uint8Array([1, 2, 3]))!.then(() => given.push(1));
  s.lend(new Uint8Array([4, 5, 6, 7]))!.then(() => given.push(2));
  await s.skip(5);
  await Promise.resolve();
  assert.deepEqual(given, [1]);
  const buf = new Uint8Array(8);
  assert.equal(await s.read(buf), 2);
  assert.deepEqual([...buf.subarray(0, 2)], [6, 7]);
  const later = s.skip(3);
  s.push(new Uint8Array([8, 9]));
  s.end();
  const e = await later.then(() => undefined, (x) => x);
  assert.ok(e instanceof EndOfStreamError);
  assert.equal(e.offset + e.available, 9, "the stream's end");
});
