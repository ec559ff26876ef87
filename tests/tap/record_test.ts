/**
 * `--record DIR`: both directions of every connection in files named by accept order and kind,
 * mode 0600 in a directory created 0700, and a manifest written at the end — also when the tap
 * is interrupted, with the bytes that passed until then. And unix sockets: created, used,
 * removed at the end.
 */
import assert from "node:assert/strict";
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
import { Tap } from "../../src/tap/tap.ts";
import type { TapManifest } from "../../src/tap/manifest.ts";
import type { TapEvent } from "../../src/tap/events.ts";

const SAMPLE = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;

const mode = (path: string) => Deno.statSync(path).mode! & 0o777;

Deno.test("--record: each direction of each connection in DIR/<n>-<kind>.{s2d,d2s}.bin (0600, DIR 0700) and manifest.json", async () => {
  const tmp = await Deno.makeTempDir();
  const dir = `${tmp}/rec/sub`;
  const main = await Deno.readFile(SAMPLE);
  const channel = concat(multifdInit(3), noise(200_000, 1));
  const replies = [noise(5000, 2), noise(100, 3)];
  const dst = new FakeDestination(async (c, i) => {
    const got = await readAll(c);
    await writeAll(c, replies[i]);
    return got;
  });
  const t = await startTap(dst.address, { record: dir, version: "9.9.9" });
  const conns = [await connect(t.port), await connect(t.port)];
  await writeAll(conns[0], main);
  await writeAll(conns[1], channel);
  for (const c of conns) await c.closeWrite();
  const back = await Promise.all(conns.map(readAll));
  for (const c of conns) c.close();
  const outcome = await t.outcome;
  await dst.close();
  assert.equal(outcome.end, "complete");
  assert.equal(mode(`${tmp}/rec`), 0o700);
  assert.equal(mode(dir), 0o700);
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(files, [
    "0-main.d2s.bin",
    "0-main.s2d.bin",
    "1-multifd.d2s.bin",
    "1-multifd.s2d.bin",
    "manifest.json",
  ]);
  for (const f of files) assert.equal(mode(`${dir}/${f}`), 0o600, f);
  assert.deepEqual(await Deno.readFile(`${dir}/0-main.s2d.bin`), main);
  assert.deepEqual(await Deno.readFile(`${dir}/1-multifd.s2d.bin`), channel);
  assert.deepEqual(await Deno.readFile(`${dir}/0-main.d2s.bin`), replies[0]);
  assert.deepEqual(await Deno.readFile(`${dir}/1-multifd.d2s.bin`), replies[1]);
  assert.deepEqual(back, replies);
  const m: TapManifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  assert.equal(m.format, "migscope-tap");
  assert.equal(m.version, 1);
  assert.equal(m.migscope, "9.9.9");
  assert.equal(m.listen, `127.0.0.1:${t.port}`);
  assert.equal(m.to, `127.0.0.1:${(dst.address as { port: number }).port}`);
  assert.ok(Date.parse(m.start) <= Date.parse(m.end));
  assert.deepEqual([m.outcome, m.complete, m.note, m.firstClose], [
    "complete",
    true,
    undefined,
    "source",
  ]);
  assert.equal(
    m.replay,
    `migscope replay ${dir}/0-main.s2d.bin --channel ${dir}/1-multifd.s2d.bin --out OUT`,
  );
  assert.deepEqual(
    m.connections.map((c) => [c.n, c.kind, c.channelId, c.s2d, c.d2s, c.first, c.files]),
    [
      [0, "main", undefined, main.length, 5000, "source", {
        s2d: "0-main.s2d.bin",
        d2s: "0-main.d2s.bin",
      }],
      [1, "multifd", 3, channel.length, 100, "source", {
        s2d: "1-multifd.s2d.bin",
        d2s: "1-multifd.d2s.bin",
      }],
    ],
  );
  for (const c of m.connections) assert.ok(Date.parse(c.opened) <= Date.parse(c.closed!));
  const connEvents = ofType(t.events, "connection");
  assert.deepEqual(connEvents.map((e) => e.files), [
    { s2d: "0-main.s2d.bin", d2s: "0-main.d2s.bin" },
    { s2d: "1-multifd.s2d.bin", d2s: "1-multifd.d2s.bin" },
  ]);
  assert.equal(ofType(t.events, "end")[0].replay, m.replay);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("--record into a directory holding an earlier recording is refused before listening on", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/manifest.json`, "{}");
  await assert.rejects(
    Tap.open({
      listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
      to: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
      record: dir,
      onEvent: () => {},
    }),
    /holds an earlier recording \(manifest\.json\)/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("interrupted mid-migration: connections closed, recordings hold what passed, manifest says so", async () => {
  const dir = await Deno.makeTempDir();
  const main = (await Deno.readFile(SAMPLE)).subarray(0, 300_000);
  let received = 0;
  const dst = new FakeDestination(async (c) => received = (await readAll(c)).length);
  const ctl = new AbortController();
  const t = await startTap(dst.address, { record: dir, signal: ctl.signal });
  const c = await connect(t.port);
  await writeAll(c, main);
  while (
    received < main.length && !t.events.some((e) => e.type === "bytes" && e.s2d === main.length)
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  ctl.abort();
  const outcome = await t.outcome;
  const back = await readAll(c); // the tap closed the source's connection
  c.close();
  await dst.close();
  assert.equal(back.length, 0);
  assert.equal(outcome.end, "interrupted");
  assert.equal(received, main.length);
  const m: TapManifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  assert.equal(m.outcome, "interrupted");
  assert.equal(m.complete, false);
  assert.match(m.note!, /bytes that passed/);
  assert.equal(m.connections[0].s2d, main.length);
  assert.deepEqual(await Deno.readFile(`${dir}/0-main.s2d.bin`), main);
  assert.equal(ofType(t.events, "end")[0].complete, false);
  // The tap closed the connection, not the source: the event, the outcome and the manifest agree.
  assert.equal(ofType(t.events, "close")[0].first, "tap");
  assert.equal(outcome.firstClose, "tap");
  assert.equal(m.firstClose, "tap");
  assert.equal(m.connections[0].first, "tap");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("unix sockets: listen on unix:PATH (removed at the end), forward to unix:PATH", async () => {
  const dir = await Deno.makeTempDir();
  const dstPath = `${dir}/dst.sock`;
  const tapPath = `${dir}/tap.sock`;
  const dst = new FakeDestination(async (c) => {
    const got = await readAll(c);
    await writeAll(c, got.subarray(0, 10));
    return got;
  }, { transport: "unix", path: dstPath });
  const events: TapEvent[] = [];
  const tap = await Tap.open({
    listen: { transport: "unix", path: tapPath },
    to: { transport: "unix", path: dstPath },
    onEvent: (e) => events.push(e),
  });
  assert.deepEqual(tap.address, { transport: "unix", path: tapPath });
  assert.ok(Deno.lstatSync(tapPath).isSocket);
  const outcome = tap.run();
  const c = await Deno.connect({ transport: "unix", path: tapPath });
  const sent = noise(1 << 20, 5);
  await writeAll(c, sent);
  await c.closeWrite();
  const back = await readAll(c);
  c.close();
  await outcome;
  const [got] = await dst.close() as Uint8Array[];
  assert.deepEqual(got, sent);
  assert.deepEqual(back, sent.subarray(0, 10));
  assert.throws(() => Deno.lstatSync(tapPath), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});
