/**
 * Missing-channel detection on QEMU 7.2 multifd captures (tools/capture.ts over sockets): 7.2
 * numbers packets with one counter across channels too, but a SYNC that overtakes queued pages
 * gives them its number (a number twice, one absent), so only the count rule holds there — the
 * packets of all channels number the highest packet_num + 1. And a 7.2 multifd main stream
 * replayed without its channels (no MULTIFD_FLUSH: zero pages but no data page) exits 2.
 */
import assert from "node:assert/strict";
import { PacketNumbers } from "../../src/parse/channel_identity.ts";
import { parseMultifdChannel } from "../../src/parse/multifd.ts";
import { openInput } from "../../src/parse/input.ts";
import { capture } from "../../tools/capture.ts";
import { dirtyWhileMigrating } from "../../tools/capture/drive.ts";
import { haveQemu } from "../../tools/qemu.ts";
import { runCli } from "../_helpers.ts";

async function packetNums(path: string): Promise<number[]> {
  const input = await openInput(path, { readTrailer: false });
  const out: number[] = [];
  for await (const p of parseMultifdChannel(input.reader, path)) {
    if (p.kind === "packet") out.push(p.packetNum);
  }
  input.close();
  return out;
}

Deno.test("packet numbers: 7.2's overtaken numbers pass, an absent channel's numbers do not", () => {
  const ok = new PacketNumbers();
  // Channel a: 0S 2 4S(with pages) 4; channel b: 1S 5 — 3 overtaken by the SYNC numbered 4.
  for (const n of [0, 2, 4, 4, 1, 5]) ok.add(n, "a", 64 + n * 1344);
  assert.equal(ok.missing(), undefined);
  // Hand-built channels may number every packet 0: more packets than numbers is no gap.
  const same = new PacketNumbers();
  for (const n of [0, 0, 0, 0]) same.add(n, "a", 64);
  assert.equal(same.missing(), undefined);
  const gap = new PacketNumbers();
  for (const n of [0, 2, 4, 5, 6, 9]) gap.add(n, "b", 64 + n * 1344);
  assert.equal(
    gap.missing()?.message,
    "offset 12160 (0x2f80) in channel b, packet at 12160: packet_num 9 is the highest, but the " +
      "channels hold 6 packets: multifd channel(s) missing: packets 1, 3, 7…8 absent (4 of 10; " +
      "give every channel with --channel)",
  );
});

Deno.test({
  name: "QEMU 7.2 multifd with dirty passes: count rule holds; a channel or all left out exit 2",
  ignore: !haveQemu(),
  async fn() {
    const dir = await Deno.makeTempDir();
    const ram = new Uint8Array(64 << 20);
    for (let p = 0; p < ram.length / 4096; p += 3) ram.fill(p & 0xff, p * 4096, p * 4096 + 512);
    const c = await capture({
      mode: "multifd",
      dir,
      ram,
      qtest: true,
      drive: dirtyWhileMigrating(),
    });
    assert.equal(c.dstStatus, "completed", c.error);
    assert.equal(c.channels.length, 2);
    const nums = [...await packetNums(c.channels[0]), ...await packetNums(c.channels[1])];
    assert.equal(nums.length, Math.max(...nums) + 1, "as many packets as the counter gave");
    const ch = c.channels.flatMap((f) => ["--channel", f]);
    const all = await runCli(["verify", c.main, ...ch, "--expect", `pc.ram=${c.dstRam}`]);
    assert.equal(all.code, 0, all.stderr + all.stdout);
    const one = await runCli(["replay", c.main, "--out", `${dir}/o1`, "--channel", c.channels[1]]);
    assert.equal(one.code, 2);
    assert.match(
      one.stderr,
      /^migscope: offset \d+ \(0x[0-9a-f]+\) in channel .*: packet_num \d+ is the highest, but the channels hold \d+ packets: multifd channel\(s\) missing: packets .* absent \(\d+ of \d+; give every channel with --channel\)\n$/,
    );
    const insp = await runCli(["inspect", c.main, "--channel", c.channels[1]]);
    assert.equal(insp.code, 2);
    assert.equal(insp.stderr, one.stderr);
    const none = await runCli(["replay", c.main, "--out", `${dir}/o2`]);
    assert.equal(none.code, 2);
    assert.match(
      none.stderr,
      /^migscope: a multifd main stream: its pages travel on the multifd channels; give them with --channel \(the main stream sent zero pages but no data page, and no page of '.*'\)\n$/,
    );
    await Deno.remove(dir, { recursive: true });
  },
});
