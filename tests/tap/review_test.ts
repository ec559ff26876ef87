/**
 * The tap's guards and outcomes: a main stream it cannot follow although every byte passed
 * (the ARM 1 KiB-page capture, with and without --page-size), forwarding to itself refused, a
 * cap on open connections, recording directories that are not the tap's to write through,
 * multifd channels checked at the end, option combinations that would be ignored.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { runCli } from "../_helpers.ts";
import { spawnTap } from "./_cli.ts";
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
import { Tap } from "../../src/tap/tap.ts";

const ARM = new URL("../data/arm_versatilepb_1k/capture.bin.gz", import.meta.url).pathname;
const SAMPLE = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;

/** Pushes `bytes` through `migscope tap ARGS` as one main connection, to a reading destination. */
async function push(bytes: Uint8Array, args: string[]) {
  const dst = new FakeDestination(readAll);
  const port = (dst.address as { port: number }).port;
  const tap = await spawnTap(["--listen", "127.0.0.1:0", "--to", `127.0.0.1:${port}`, ...args]);
  const c = await connect(tap.port);
  await writeAll(c, bytes);
  await c.closeWrite();
  await readAll(c);
  c.close();
  const r = await tap.result();
  const [got] = await dst.close() as Uint8Array[];
  const events = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  const stderr = r.stderr.trimEnd().split("\n").filter((l) => !/listening on/.test(l));
  return { ...r, got, events, stderr };
}

Deno.test("the ARM 1 KiB-page capture: every byte passed, not followed past offset 129 (exit 0, one line naming --page-size); with --page-size 1K complete", async () => {
  const bytes = new Uint8Array(gunzipSync(await Deno.readFile(ARM)));
  const dir = await Deno.makeTempDir();
  const without = await push(bytes, []);
  assert.equal(without.code, 0, without.stderr.join("\n"));
  assert.deepEqual(without.got, bytes);
  assert.equal(without.stderr.length, 1, without.stderr.join("\n"));
  assert.match(
    without.stderr[0],
    /^migscope: every byte of the migration passed \(4314227 bytes on the main connection\) .*could not follow the main stream past offset 129 \(0x81\).*pass --page-size/,
  );
  const end = without.events.at(-1);
  assert.deepEqual([end.type, end.complete, end.outcome], ["end", false, "unfollowed"]);

  const withSize = await push(bytes, ["--page-size", "1K", "--record", `${dir}/rec`]);
  assert.equal(withSize.code, 0, withSize.stderr.join("\n"));
  assert.deepEqual(withSize.got, bytes);
  assert.equal(withSize.events.filter((e) => e.type === "parse-error").length, 0);
  const end2 = withSize.events.at(-1);
  assert.deepEqual([end2.complete, end2.outcome], [true, "complete"]);
  assert.match(end2.replay, / --page-size 1024 --out OUT$/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tap option errors: --to where it listens, --no-progress with --json-events, --listen 99999, --page-size 3K: one line, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--listen", "4444", "--to", "localhost:4444"],
      /--to localhost:4444 is where the tap listens/,
    ],
    [["--listen", "unix:a.sock", "--to", `unix:${Deno.cwd()}/a.sock`], /is where the tap listens/],
    [
      ["--listen", "0", "--to", "a:1", "--json-events", "--no-progress"],
      /--no-progress .*--json-events/,
    ],
    [["--listen", "99999", "--to", "a:1"], /port 99999 is out of range \(0-65535\)/],
    [["--listen", "0", "--to", "a:1", "--page-size", "3K"], /--page-size 3K is not a power of two/],
    [
      ["--listen", "0", "--to", "a:1", "--vmdesc", "/nonexistent/v.json"],
      /^migscope: --vmdesc \/nonexistent/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(["tap", ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  await assert.rejects(
    Tap.open({
      listen: { transport: "tcp", hostname: "0.0.0.0", port: 4446 },
      to: { transport: "tcp", hostname: "10.1.2.3", port: 4446 },
      onEvent: () => {},
    }),
    /would forward to itself/,
  );
});

Deno.test("beyond the open-connection limit a new connection is closed at once, with an event; the others pass", async () => {
  const dst = new FakeDestination(async (c) => (await readAll(c)).length);
  const t = await startTap(dst.address, { maxConnections: 2 });
  const open = [await connect(t.port), await connect(t.port)];
  for (const c of open) await writeAll(c, noise(100, 3));
  while (ofType(t.events, "connection").length < 2) await new Promise((r) => setTimeout(r, 10));
  const third = await connect(t.port);
  assert.equal((await readAll(third)).length, 0); // closed by the tap without a byte
  third.close();
  for (const c of open) {
    await c.closeWrite();
    await readAll(c);
    c.close();
  }
  const outcome = await t.outcome;
  assert.deepEqual(await dst.close(), [100, 100]);
  assert.equal(outcome.connections.length, 2);
  const refused = ofType(t.events, "refused");
  assert.equal(refused.length, 1);
  assert.deepEqual([refused[0].open, refused[0].limit], [2, 2]);
});

Deno.test("--record: a directory with a planted symlink is refused (its target untouched); an existing empty directory is made 0700", async () => {
  const tmp = await Deno.makeTempDir();
  const victim = `${tmp}/victim`;
  await Deno.writeTextFile(victim, "precious");
  await Deno.chmod(victim, 0o644);
  await Deno.mkdir(`${tmp}/rec`);
  await Deno.symlink(victim, `${tmp}/rec/0.s2d.bin`);
  const r = await runCli(["tap", "--listen", "0", "--to", "127.0.0.1:9", "--record", `${tmp}/rec`]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1);
  assert.match(r.stderr, /rec is not empty \(0\.s2d\.bin, …\)/);
  assert.equal(await Deno.readTextFile(victim), "precious");
  assert.equal(Deno.statSync(victim).mode! & 0o777, 0o644);

  await Deno.mkdir(`${tmp}/empty`, { mode: 0o755 });
  await Deno.chmod(`${tmp}/empty`, 0o755);
  const dst = new FakeDestination(readAll);
  const t = await startTap(dst.address, { record: `${tmp}/empty` });
  assert.equal(Deno.statSync(`${tmp}/empty`).mode! & 0o777, 0o700);
  const c = await connect(t.port);
  await writeAll(c, (await Deno.readFile(SAMPLE)).subarray(0, 1000));
  await c.closeWrite();
  await readAll(c);
  c.close();
  await t.outcome;
  await dst.close();
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("multifd channels checked at the end: two with the same id, or one short of its initial packet — incomplete, no replay command, the end says what is wrong", async () => {
  for (
    const [channels, re] of [
      [[multifdInit(0), multifdInit(0)], /connections 1 and 2 both say multifd channel id 0/],
      [[multifdInit(0), multifdInit(1).subarray(0, 30)], /connection 2 sent 30 bytes, fewer/],
    ] as const
  ) {
    const dir = await Deno.makeTempDir();
    const dst = new FakeDestination(readAll);
    const t = await startTap(dst.address, { record: dir });
    const sends = [await Deno.readFile(SAMPLE), ...channels.map((c) => concat(c, noise(500)))];
    if (sends[2].length > 64) sends[2] = channels[1]; // the short one stays short
    const conns = [];
    for (const s of sends) {
      const c = await connect(t.port);
      conns.push(c);
      await writeAll(c, s);
      while (ofType(t.events, "connection").length < conns.length) {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await finish(conns);
    const outcome = await t.outcome;
    await dst.close();
    assert.equal(outcome.end, "incomplete");
    assert.equal(outcome.complete, false);
    assert.match(outcome.channels!, re);
    assert.equal(outcome.replay, undefined);
    const end = ofType(t.events, "end")[0];
    assert.match(end.channels!, re);
    assert.equal(end.replay, undefined);
    await Deno.remove(dir, { recursive: true });
  }
});
