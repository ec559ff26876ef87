/**
 * `migscope tap` from the command line: usage errors in one line (exit 2), an address it cannot
 * listen on, NDJSON events on stdout without a terminal, exit 0 / 1 / 2 / 130, recordings that
 * replay exactly as the captures they carried, the unix socket removed on every exit.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { runCli, sha256File } from "../_helpers.ts";
import { spawnTap } from "./_cli.ts";
import { connect, FakeDestination, readAll, writeAll } from "./_fake.ts";
import type { TapManifest } from "../../src/tap/manifest.ts";

const SHARED = new URL("../../../shared/channels/n1_multifd_zlib/", import.meta.url).pathname;
const SAMPLE = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;

function oneLineError(r: { code: number; stderr: string }, code: number, re: RegExp) {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trimEnd().split("\n").filter((l) => !/listening on/.test(l));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], re);
}

Deno.test("tap usage errors: one line, exit 2, the help topic named", async () => {
  const cases: [string[], RegExp][] = [
    [[], /^migscope: tap needs --listen \[HOST:\]PORT\|unix:PATH \(see migscope help tap\)$/],
    [["--listen", "4444"], /^migscope: tap needs --to HOST:PORT\|unix:PATH/],
    [["--listen", "4444", "--to", "5555"], /^migscope: --to '5555' is not HOST:PORT or unix:PATH/],
    [
      ["--listen", "x:y", "--to", "a:1"],
      /^migscope: --listen 'x:y' is not \[HOST:\]PORT or unix:PATH/,
    ],
    [["--listen", "70000", "--to", "a:1"], /port 70000 is out of range/],
    [["--lisen", "1"], /^migscope: tap: unknown option '--lisen' \(did you mean --listen\?\)/],
    [["--listen", "1", "--to", "a:1", "in.bin"], /^migscope: tap takes no INPUT \('in\.bin'\)/],
    [["--listen"], /^migscope: tap: --listen needs a value/],
  ];
  for (const [args, re] of cases) oneLineError(await runCli(["tap", ...args]), 2, re);
  const help = await runCli(["tap", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: migscope tap --listen/);
  assert.match((await runCli(["help"])).stdout, /\n {2}tap {6}sit between/);
});

Deno.test("tap on an address in use: exit 2 in one line", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const r = await runCli(["tap", "--listen", `${port}`, "--to", "127.0.0.1:9"]);
  l.close();
  oneLineError(
    r,
    2,
    new RegExp(`^migscope: cannot listen on 127\\.0\\.0\\.1:${port}: .*in use`, "i"),
  );
});

Deno.test("tap with a destination not listening: the source's connection closed, exit 2 in one line", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const tap = await spawnTap(["--listen", "127.0.0.1:0", "--to", `127.0.0.1:${port}`]);
  const c = await connect(tap.port);
  assert.equal((await readAll(c)).length, 0);
  c.close();
  oneLineError(await tap.result(), 2, /^migscope: cannot connect to the destination .*refused/i);
});

Deno.test("a multifd capture through `migscope tap --record`: NDJSON events, exit 0, and the printed replay command gives the destination's RAM", async () => {
  const dir = await Deno.makeTempDir();
  const dst = new FakeDestination(readAll);
  const tap = await spawnTap([
    "--listen",
    "127.0.0.1:0",
    "--to",
    `127.0.0.1:${(dst.address as { port: number }).port}`,
    "--record",
    `${dir}/rec`,
  ]);
  assert.match(
    tap.stderr(),
    /^migscope: listening on 127\.0\.0\.1:\d+, forwarding to 127\.0\.0\.1:\d+\n/,
  );
  const files = [0, 1, 2].map((i) =>
    gunzipSync(Deno.readFileSync(`${SHARED}capture.conn${i}.s2d.bin.gz`))
  );
  const conns = [];
  for (const f of files) {
    const c = await connect(tap.port);
    conns.push(c);
    await writeAll(c, f.subarray(0, 64)); // in accept order: main, channel 0, channel 1
  }
  await Promise.all(conns.map(async (c, i) => {
    await writeAll(c, files[i].subarray(64));
    c.close();
  }));
  const r = await tap.result();
  await dst.close();
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(
    events.filter((e) => e.type === "connection").map((e) => [e.n, e.kind, e.channelId]),
    [[0, "main", undefined], [1, "multifd", 0], [2, "multifd", 1]],
  );
  assert.ok(events.some((e) => e.type === "command" && e.name === "SWITCHOVER_START"));
  assert.ok(events.some((e) => e.type === "section" && e.idstr === "ram"));
  const end = events.at(-1);
  assert.equal(end.type, "end");
  assert.equal(end.complete, true);
  const replay = /migscope: replay with: migscope replay (.*) --out OUT\n/.exec(r.stderr)?.[1];
  assert.equal(
    replay,
    `${dir}/rec/0-main.s2d.bin --channel ${dir}/rec/1-multifd.s2d.bin --channel ${dir}/rec/2-multifd.s2d.bin`,
  );
  assert.equal(end.replay, `migscope replay ${replay} --out OUT`);
  const rr = await runCli(["replay", ...replay!.split(" "), "--out", `${dir}/out`]);
  assert.equal(rr.code, 0, rr.stderr);
  const manifest = JSON.parse(await Deno.readTextFile(`${SHARED}manifest.json`));
  assert.equal(await sha256File(`${dir}/out/pc.ram.ram`), manifest.oracle_pc_ram_sha256);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a migration cut short: exit 1 naming where the main stream stopped and who closed first", async () => {
  const dst = new FakeDestination(readAll);
  const tap = await spawnTap([
    "--listen",
    "127.0.0.1:0",
    "--to",
    `127.0.0.1:${(dst.address as { port: number }).port}`,
  ]);
  const c = await connect(tap.port);
  await writeAll(c, (await Deno.readFile(SAMPLE)).subarray(0, 100_000));
  c.close();
  const r = await tap.result();
  await dst.close();
  oneLineError(
    r,
    1,
    /^migscope: migration incomplete: the main stream stopped at offset \d+ \(0x[0-9a-f]+\), section 2 'ram' .*; the source closed the main connection first$/,
  );
  const events = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(events.filter((e) => e.type === "parse-error").length, 1);
  assert.deepEqual([events.at(-1).type, events.at(-1).complete], ["end", false]);
});

Deno.test("Ctrl-C: exit 130, the unix socket removed, recordings and manifest kept", async () => {
  const dir = await Deno.makeTempDir();
  const dst = new FakeDestination(readAll);
  const sock = `${dir}/tap.sock`;
  const tap = await spawnTap([
    "--listen",
    `unix:${sock}`,
    "--to",
    `127.0.0.1:${(dst.address as { port: number }).port}`,
    "--record",
    `${dir}/rec`,
    "--json-events",
  ]);
  assert.ok(Deno.lstatSync(sock).isSocket);
  const c = await Deno.connect({ transport: "unix", path: sock });
  const part = (await Deno.readFile(SAMPLE)).subarray(0, 200_000);
  await writeAll(c, part);
  while (!tap.child.pid || !(await Deno.stat(`${dir}/rec/0-main.s2d.bin`).catch(() => null))) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 300));
  tap.child.kill("SIGINT");
  const r = await tap.result();
  assert.equal((await readAll(c)).length, 0);
  c.close();
  await dst.close();
  oneLineError(r, 130, /^migscope: interrupted$/);
  assert.throws(() => Deno.lstatSync(sock), Deno.errors.NotFound);
  const m: TapManifest = JSON.parse(await Deno.readTextFile(`${dir}/rec/manifest.json`));
  assert.equal(m.outcome, "interrupted");
  assert.equal(m.connections[0].s2d, part.length);
  assert.deepEqual(await Deno.readFile(`${dir}/rec/0-main.s2d.bin`), part);
  await Deno.remove(dir, { recursive: true });
});
