/**
 * Multifd and postcopy captures made with a real QEMU 7.2 over sockets (tools/capture.ts
 * records each connection through a tee proxy), replayed and compared with that destination's
 * RAM. The source RAM backing file is prepared with known content: zero, patterned and random
 * pages.
 */
import assert from "node:assert/strict";
import { capture } from "../../tools/capture.ts";
import { haveQemu } from "../../tools/qemu.ts";
import { prng } from "../../tools/samples.ts";
import { runCli, sha256File } from "../_helpers.ts";
import { parseMultifdChannel } from "../../src/parse/multifd.ts";
import { ByteReader } from "../../src/wire/reader.ts";
import { bytesSource } from "../../src/wire/source.ts";
import { StreamError } from "../../src/protocol/errors.ts";

const ignore = !haveQemu();

function sourceRam(seed: number): Uint8Array {
  const r = prng(seed);
  const ram = new Uint8Array(64 << 20);
  for (let p = 0; p < ram.length / 4096; p++) {
    const k = r() % 10;
    const page = ram.subarray(p * 4096, (p + 1) * 4096);
    if (k < 6) continue;
    if (k < 8) page.fill(p & 0xff, 0, 700);
    else for (let i = 0; i < 4096; i += 4) page[i] = r() & 0xff;
  }
  return ram;
}

Deno.test({
  name:
    "multifd (2 channels): main channel + channel captures replay equal to the QEMU destination",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const c = await capture({ mode: "multifd", dir, ram: sourceRam(1) });
    assert.equal(c.dstStatus, "completed", c.error);
    assert.equal(c.channels.length, 2);
    const args = ["verify", c.main, "--json", "--expect", `pc.ram=${c.dstRam}`];
    const ok = await runCli([...args, ...c.channels.flatMap((ch) => ["--channel", ch])]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    const doc = JSON.parse(ok.stdout);
    assert.equal(doc.verify.images[0].different, 0);
    assert.ok(doc.ram[0].page > 1000, "pages came from the channels");
    // inspect reads channel captures too; their pc.ram pages add up to what replay applied.
    let fromChannels = 0;
    for (const ch of c.channels) {
      const r = await runCli(["inspect", "--json", ch]);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout).channel;
      assert.ok(s.syncs > 0);
      fromChannels += s.blocks["pc.ram"] ?? 0;
    }
    const main = JSON.parse((await runCli(["inspect", "--json", c.main])).stdout).summary;
    assert.equal(fromChannels + main.ram.blocks[0].page, doc.ram[0].page);
    // Without the channels the data pages are missing: replay refuses (exit 2), naming them.
    const without = await runCli(args);
    assert.equal(without.code, 2);
    assert.match(without.stderr, /give them with --channel/);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "postcopy: RAM_DISCARD, PACKAGED device state and post-switchover pages replay equal to the destination",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const pc = await capture({ mode: "postcopy", dir: `${dir}`, ram: sourceRam(2) });
    assert.equal(pc.dstStatus, "completed", pc.error);
    await Deno.mkdir(`${dir}/pre`);
    const pre = await capture({ mode: "precopy", dir: `${dir}/pre`, ram: sourceRam(3) });
    assert.equal(pre.dstStatus, "completed", pre.error);
    const insp = await runCli(["inspect", "--json", "--vmdesc", pre.main, pc.main]);
    assert.equal(insp.code, 0, insp.stderr);
    const s = JSON.parse(insp.stdout).summary;
    const names = s.commands.map((c: { name: string }) => c.name);
    for (
      const n of [
        "OPEN_RETURN_PATH",
        "POSTCOPY_ADVISE",
        "POSTCOPY_RAM_DISCARD",
        "PACKAGED",
        "POSTCOPY_LISTEN",
        "POSTCOPY_RUN",
      ]
    ) {
      assert.ok(names.includes(n), n);
    }
    assert.equal(s.trailer, undefined, "postcopy streams carry no vmdesc");
    // Without a vmdesc the package's device sections cannot be delimited: they are reported as
    // one undelimited range, skipped by the package's length, and every RAM page sent after the
    // package still counts and replays equal to the destination.
    const bareInspect = await runCli(["inspect", "--json", pc.main]);
    assert.equal(bareInspect.code, 0, bareInspect.stderr);
    const bs = JSON.parse(bareInspect.stdout).summary;
    assert.equal(bs.undelimited.length, 1);
    assert.equal(bs.ram.page, s.ram.page);
    const bare = await runCli(["replay", pc.main, "--out", `${dir}/o0`]);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(await sha256File(`${dir}/o0/pc.ram.ram`), await sha256File(pc.dstRam));
    const v = await runCli([
      "verify",
      pc.main,
      "--vmdesc",
      pre.main,
      "--out",
      `${dir}/o1`,
      "--expect",
      `pc.ram=${pc.dstRam}`,
    ]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    assert.equal(await sha256File(`${dir}/o1/pc.ram.ram`), await sha256File(pc.dstRam));
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("multifd channel parser: bad magic, oversize counts and truncation are one-line errors", async () => {
  const init = new Uint8Array(64);
  new DataView(init.buffer).setUint32(0, 0x11223344);
  new DataView(init.buffer).setUint32(4, 1);
  const packet = new Uint8Array(320 + 8 * 128);
  const dv = new DataView(packet.buffer);
  dv.setUint32(0, 0x11223344);
  dv.setUint32(4, 1);
  dv.setUint32(12, 128);
  const cases: [Uint8Array, RegExp][] = [
    [Uint8Array.of(1, 2, 3, 4, ...new Uint8Array(60)), /multifd magic/],
    [
      (() => {
        const p = packet.slice();
        new DataView(p.buffer).setUint32(12, 129);
        return new Uint8Array([...init, ...p]);
      })(),
      /pages_alloc 129 exceeds 128/,
    ],
    [
      (() => {
        const p = packet.slice();
        new DataView(p.buffer).setUint32(16, 2);
        new DataView(p.buffer).setUint32(20, 8192);
        return new Uint8Array([...init, ...p, ...new Uint8Array(100)]);
      })(),
      /truncated: the channel ends inside a packet/,
    ],
  ];
  for (const [bytes, re] of cases) {
    let err: unknown;
    try {
      for await (
        const _ of parseMultifdChannel(new ByteReader(bytesSource(bytes)), "ch")
      ) { /* drain */ }
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof StreamError, String(err));
    assert.match(err.message, re);
    assert.match(err.message, /^offset \d+/);
  }
});
