/**
 * The tap's forwarding, with plain Deno sockets as source and destination: bytes pass both ways
 * unchanged, half-closes pass on, connections reach the destination in accept order and are
 * told apart by their first bytes, a destination that stops reading stops the source, an error
 * on one side closes the other, 100 connections at once leave nothing open. (Deno's resource
 * and op sanitizers fail a test that leaks a socket, file or pending operation.)
 */
import assert from "node:assert/strict";
import {
  concat,
  connect,
  FakeDestination,
  finish,
  multifdInit,
  noise,
  ofType,
  readAll,
  startTap,
  writeAll,
} from "./_fake.ts";
import { runTap } from "../../src/commands/tap.ts";

const QEVM = new Uint8Array([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]);

Deno.test("bytes pass both ways unchanged; the source's half-close reaches the destination, whose reply still comes back", async () => {
  const up = noise(5 << 20, 1);
  const down = noise(3 << 20, 2);
  const dst = new FakeDestination(async (c) => {
    const got = await readAll(c); // to the source's EOF, passed on as a half-close
    await writeAll(c, down);
    return got;
  });
  const t = await startTap(dst.address);
  const c = await connect(t.port);
  await writeAll(c, up);
  await c.closeWrite();
  const back = await readAll(c);
  c.close();
  const outcome = await t.outcome;
  const [got] = await dst.close() as Uint8Array[];
  assert.ok(got.length === up.length && got.every((b, i) => b === up[i]), "s2d bytes unchanged");
  assert.ok(back.length === down.length && back.every((b, i) => b === down[i]), "d2s unchanged");
  const [close] = ofType(t.events, "close");
  assert.deepEqual(
    { first: close.first, s2d: close.s2d, d2s: close.d2s, error: close.error },
    { first: "source", s2d: up.length, d2s: down.length, error: undefined },
  );
  assert.equal(outcome.connections[0].kind, "unknown");
  assert.equal(outcome.end, "incomplete");
});

Deno.test("both directions at once, each side writing while it reads", async () => {
  const up = noise(4 << 20, 3);
  const down = noise(4 << 20, 4);
  const dst = new FakeDestination(async (c) => {
    const [got] = await Promise.all([readAll(c), writeAll(c, down).then(() => c.closeWrite())]);
    return got;
  });
  const t = await startTap(dst.address);
  const c = await connect(t.port);
  const [back] = await Promise.all([readAll(c), writeAll(c, up).then(() => c.closeWrite())]);
  c.close();
  await t.outcome;
  const [got] = await dst.close() as Uint8Array[];
  assert.ok(got.every((b, i) => b === up[i]) && got.length === up.length);
  assert.ok(back.every((b, i) => b === down[i]) && back.length === down.length);
});

Deno.test("connections reach the destination in accept order and are classified: main, multifd with its id, preempt after main, unknown before it", async () => {
  const firsts: string[] = [];
  const dst = new FakeDestination(async (c, i) => {
    const got = await readAll(c);
    firsts[i] = [...got.subarray(0, 8)].join(",");
  });
  const t = await startTap(dst.address);
  const sends = [
    noise(100, 9), // before main: unknown
    concat(QEVM, noise(1000, 5)),
    concat(multifdInit(1), noise(5000, 6)),
    concat(multifdInit(0), noise(5000, 7)),
    noise(3000, 8), // after main, no magic: postcopy preempt
  ];
  const conns: Deno.Conn[] = [];
  for (const s of sends) {
    const c = await connect(t.port);
    conns.push(c);
    await writeAll(c, s);
  }
  await finish(conns);
  const outcome = await t.outcome;
  await dst.close();
  assert.deepEqual(firsts, sends.map((s) => [...s.subarray(0, 8)].join(",")));
  const kinds = ofType(t.events, "connection").sort((a, b) => a.n - b.n)
    .map((e) => [e.n, e.kind, e.channelId]);
  assert.deepEqual(kinds, [
    [0, "unknown", undefined],
    [1, "main", undefined],
    [2, "multifd", 1],
    [3, "multifd", 0],
    [4, "preempt", undefined],
  ]);
  assert.deepEqual(outcome.connections.map((c) => c.s2d), sends.map((s) => s.length));
  // The main stream cannot be parsed past its header, but the source closed every connection
  // normally after all its bytes passed: not followed, not incomplete.
  assert.equal(outcome.end, "unfollowed");
  assert.equal(outcome.complete, false);
  assert.match(outcome.stopped!.message, /^offset 8 \(0x8\)/);
});

Deno.test("a destination that stops reading stops the source's writes (nothing piles up in the tap); all bytes arrive once it reads", async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => open = r);
  const dst = new FakeDestination(async (c) => {
    await gate;
    return (await readAll(c)).length;
  });
  const t = await startTap(dst.address);
  const c = await connect(t.port);
  const total = 512 << 20;
  const chunk = concat(QEVM, noise((1 << 20) - 8, 11)); // a main channel: parsed (and failing)
  let written = 0;
  const writer = (async () => {
    while (written < total) {
      await writeAll(c, written === 0 ? chunk : chunk.subarray(0, 1 << 20));
      written += 1 << 20;
    }
    await c.closeWrite();
  })();
  // Wait until the source's writes stop making progress.
  let last = -1;
  while (written !== last) {
    last = written;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.ok(
    written < 64 << 20,
    `the source wrote ${written >> 20} MiB to a destination that reads nothing`,
  );
  open();
  await writer;
  await readAll(c);
  c.close();
  await t.outcome;
  const [received] = await dst.close();
  assert.equal(received, total);
});

Deno.test("100 connections at once: each echoed back unchanged, every socket closed at the end", async () => {
  const fds = () => [...Deno.readDirSync("/proc/self/fd")].length;
  const before = fds();
  const dst = new FakeDestination(async (c) => {
    const got = await readAll(c);
    await writeAll(c, got);
  });
  const t = await startTap(dst.address);
  const results = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
    const c = await connect(t.port);
    const mine = noise(64 << 10, i + 100);
    await writeAll(c, mine);
    await c.closeWrite();
    const back = await readAll(c);
    c.close();
    return back.length === mine.length && back.every((b, k) => b === mine[k]);
  }));
  const outcome = await t.outcome;
  await dst.close();
  assert.equal(results.filter(Boolean).length, 100);
  assert.equal(outcome.connections.length, 100);
  assert.equal(ofType(t.events, "close").length, 100);
  assert.equal(fds(), before);
});

Deno.test("a destination that closes first: the source's connection is closed too, and the end says who", async () => {
  const dst = new FakeDestination(async (c) => {
    const buf = new Uint8Array(1000);
    await c.read(buf);
    c.close();
  });
  const t = await startTap(dst.address);
  const c = await connect(t.port);
  const sent = await writeAll(c, concat(QEVM, noise(64 << 20, 12))).then(() => true, () => false);
  await readAll(c);
  c.close();
  const outcome = await t.outcome;
  await dst.close();
  assert.equal(sent, false, "the source's writes fail once the tap closed its connection");
  assert.equal(outcome.firstClose, "destination");
  assert.equal(outcome.end, "incomplete");
  assert.equal(ofType(t.events, "close")[0].first, "destination");
});

Deno.test("a destination that is not listening: the source's connection is closed, exit 2 in one line", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  let tapPort = 0;
  const res = runTap({
    listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
    to: { transport: "tcp", hostname: "127.0.0.1", port },
    onEvent: () => {},
    onListen: (a) => tapPort = a.transport === "tcp" ? a.port : 0,
  });
  while (!tapPort) await new Promise((r) => setTimeout(r, 5));
  const c = await connect(tapPort);
  await c.write(QEVM).catch(() => {});
  const back = await readAll(c);
  c.close();
  const r = await res;
  assert.equal(back.length, 0);
  assert.equal(r.code, 2);
  assert.match(
    r.error!,
    new RegExp(
      `^cannot connect to the destination 127\\.0\\.0\\.1:${port} for connection 0: .*refused`,
      "i",
    ),
  );
  assert.ok(!r.error!.includes("\n"));
});

Deno.test("a garbage client: forwarded, then the tap ends with exit 1 saying no migration stream passed", async () => {
  const dst = new FakeDestination(readAll);
  let tapPort = 0;
  const res = runTap({
    listen: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
    to: dst.address,
    onEvent: () => {},
    onListen: (a) => tapPort = a.transport === "tcp" ? a.port : 0,
  });
  while (!tapPort) await new Promise((r) => setTimeout(r, 5));
  const c = await connect(tapPort);
  await writeAll(c, new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
  c.close();
  const r = await res;
  const [got] = await dst.close() as Uint8Array[];
  assert.equal(new TextDecoder().decode(got), "GET / HTTP/1.0\r\n\r\n");
  assert.equal(r.code, 1);
  assert.equal(r.error, "no migration stream passed: no connection started with QEVM (0 unknown)");
});
