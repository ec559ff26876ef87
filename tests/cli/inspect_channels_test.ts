/**
 * `inspect MAIN --channel FILE…` on the real QEMU 10.0 zlib capture: which channel is which,
 * and the pages of all connections equal to query-migrate's; channels of another migration
 * (UUID), a repeated channel id, a main stream given as a channel are one-line errors.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { runCli } from "../_helpers.ts";

const SHARED = new URL("../../../shared/channels/n1_multifd_zlib/", import.meta.url).pathname;
const MAIN = `${SHARED}capture.conn0.s2d.bin.gz`;
const CH = [`${SHARED}capture.conn1.s2d.bin.gz`, `${SHARED}capture.conn2.s2d.bin.gz`];

Deno.test("inspect --channel: the real zlib capture's connections add up to query-migrate", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(`${SHARED}manifest.json`));
  const q = manifest.source_final_query_migrate.ram;
  const args = ["inspect", MAIN, ...CH.flatMap((c) => ["--channel", c])];
  const t = await runCli(args);
  assert.equal(t.code, 0, t.stderr);
  assert.ok(
    t.stdout.includes(
      `all connections: ${q.normal} normal pages, ${q.duplicate} zero pages (main stream 0 + 0, ` +
        `channels ${q.normal} + ${q.duplicate})`,
    ),
    t.stdout,
  );
  const j = await runCli([...args, "--json"]);
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout);
  assert.deepEqual(doc.channels.map((c: { multifd: { id: number } }) => c.multifd.id), [0, 1]);
  for (const [i, c] of doc.channels.entries()) {
    const alone = JSON.parse((await runCli(["inspect", CH[i], "--json"])).stdout).channel;
    assert.deepEqual(c.multifd, alone, "the same summary as inspecting the channel alone");
  }
  const n = await runCli([...args, "--ndjson"]);
  const lines = n.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.filter((l) => l.kind === "channel").length, 2);
});

Deno.test("inspect --channel: another migration's channel, a repeated id, a main stream are errors", async () => {
  const dir = await Deno.makeTempDir();
  const ch2 = gunzipSync(await Deno.readFile(CH[1]));
  const other = new Uint8Array(ch2);
  other[8] ^= 0xff; // first byte of the source UUID
  await Deno.writeFile(`${dir}/other.bin`, other);
  const cases: [string[], RegExp][] = [
    [
      ["--channel", CH[0], "--channel", `${dir}/other.bin`],
      /^migscope: offset 8 \(0x8\) in channel .*other\.bin, initial packet at 0: source UUID ff000000-.*, but channel .*conn1.* says 00000000-.*: not a channel of this migration/,
    ],
    [
      ["--channel", CH[0], "--channel", CH[0]],
      /offset 24 \(0x18\) in channel .*conn1.*: multifd channel id 0 again \(.*conn1.* has it\)/,
    ],
    [["--channel", MAIN], /is a main stream \(QEVM\)/],
    [["--channel", CH[0], "--device-state"], /--device-state shows the main stream's devices only/],
  ];
  for (const [extra, re] of cases) {
    const r = await runCli(["inspect", MAIN, ...extra]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  const c = await runCli(["inspect", CH[0], "--channel", CH[1]]);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /--channel does not apply to it/);
  await Deno.remove(dir, { recursive: true });
});
