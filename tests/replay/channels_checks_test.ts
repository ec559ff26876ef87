/**
 * The channel checks shared by inspect --channel, replay --channel and report --channel, on the
 * real QEMU 10.0 multifd zlib capture (main conn0, channels conn1/conn2) and edited copies of
 * it: pages outside the main stream's RAM blocks, a repeated channel id, another migration's
 * UUID, a missing channel (QEMU numbers the packets of all channels with one counter), a
 * multifd main stream without channels, files that are not channels — each one line, the same
 * words from every command, located in the channel file.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { parseMultifdChannel } from "../../src/parse/multifd.ts";
import { ByteReader } from "../../src/wire/reader.ts";
import { bytesSource } from "../../src/wire/source.ts";
import { runCli } from "../_helpers.ts";

const SHARED = new URL("../../../shared/channels/n1_multifd_zlib/", import.meta.url).pathname;
const MAIN = `${SHARED}capture.conn0.s2d.bin.gz`;
const CH = [`${SHARED}capture.conn1.s2d.bin.gz`, `${SHARED}capture.conn2.s2d.bin.gz`];
const CPR = new URL("../data/cpr/cpr.bin", import.meta.url).pathname;

async function packets(bytes: Uint8Array) {
  const out = [];
  for await (const p of parseMultifdChannel(new ByteReader(bytesSource(bytes)), "ch")) {
    if (p.kind === "packet") out.push({ offset: p.offset, num: p.packetNum, pages: p.offsets });
  }
  return out;
}

/**
 * The one-line error of inspect, replay and report with these channels (all exit 2), after
 * the program's prefix.
 */
async function errors(dir: string, channels: string[], main = MAIN): Promise<string[]> {
  const ch = channels.flatMap((c) => ["--channel", c]);
  const runs = [
    await runCli(["inspect", main, ...ch]),
    await runCli(["replay", main, "--out", `${dir}/out`, ...ch]),
    await runCli(["report", main, "-o", `${dir}/r.html`, ...ch]),
  ];
  return runs.map((r) => {
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    // report names itself: "migscope: report: …".
    return lines[0].replace(/^migscope: (report: )?/, "");
  });
}

function assertSame(lines: string[], re: RegExp) {
  for (const l of lines) assert.match(l, re);
  assert.equal(new Set(lines).size, 1, lines.join("\n"));
}

Deno.test("real 10.0 capture: the two channels' packet numbers are 0…N−1 together", async () => {
  const nums = [];
  for (const c of CH) nums.push(...(await packets(gunzipSync(await Deno.readFile(c)))));
  const sorted = nums.map((p) => p.num).sort((a, b) => a - b);
  assert.equal(sorted.length, 212);
  assert.deepEqual(sorted, [...sorted.keys()]);
});

Deno.test("channel pages outside the main stream's RAM blocks: the receiver's checks, everywhere", async () => {
  const dir = await Deno.makeTempDir();
  const ch1 = gunzipSync(await Deno.readFile(CH[0]));
  const first = (await packets(ch1)).find((p) => p.pages.length > 0)!;
  const at = first.offset;
  const edit = async (name: string, f: (b: Uint8Array, v: DataView) => void) => {
    const b = new Uint8Array(ch1);
    f(b, new DataView(b.buffer));
    await Deno.writeFile(`${dir}/${name}`, b);
    return `${dir}/${name}`;
  };
  const block = await edit("block.bin", (b) => b.set(new TextEncoder().encode("pc.rax"), at + 64));
  assertSame(
    await errors(dir, [block, CH[1]]),
    new RegExp(
      `^offset ${at} \\(0x${at.toString(16)}\\) in channel .*block\\.bin, packet at ` +
        `${at}: unknown RAM block 'pc\\.rax' \\(the main stream's MEM_SIZE has 'pc\\.ram', `,
    ),
  );
  const past = await edit("past.bin", (_, v) => v.setBigUint64(at + 320, 64n << 20n));
  assertSame(
    await errors(dir, [past, CH[1]]),
    /packet at \d+: illegal offset 0x4000000 in 'pc\.ram' \(67108864 bytes, 4096-byte pages\)$/,
  );
  const odd = await edit("odd.bin", (_, v) => v.setBigUint64(at + 320, 0x1001n));
  assertSame(await errors(dir, [odd, CH[1]]), /illegal offset 0x1001 in 'pc\.ram'/);
  // The last page of the block is legal (used_length − page_size).
  const last = await edit("last.bin", (_, v) => v.setBigUint64(at + 320, (64n << 20n) - 4096n));
  const ok = await runCli(["inspect", MAIN, "--channel", last, "--channel", CH[1]]);
  assert.equal(ok.code, 0, ok.stderr);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a repeated channel id and another migration's UUID: one check, the same line everywhere", async () => {
  const dir = await Deno.makeTempDir();
  assertSame(
    await errors(dir, [CH[0], CH[0]]),
    /^offset 24 \(0x18\) in channel .*conn1\.s2d\.bin\.gz, initial packet at 0: multifd channel id 0 again \(.*conn1\.s2d\.bin\.gz has it\)$/,
  );
  const other = new Uint8Array(gunzipSync(await Deno.readFile(CH[1])));
  other[8] ^= 0xff;
  await Deno.writeFile(`${dir}/other.bin`, other);
  assertSame(
    await errors(dir, [CH[0], `${dir}/other.bin`]),
    /^offset 8 \(0x8\) in channel .*other\.bin, initial packet at 0: source UUID ff000000-0000-0000-0000-000000000000, but channel .*conn1\.s2d\.bin\.gz says 00000000-0000-0000-0000-000000000000: not a channel of this migration$/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a channel left out: its packet numbers are absent, inspect, replay and report say so", async () => {
  const dir = await Deno.makeTempDir();
  const miss = "multifd channel(s) missing: packets 0, 2…4, 6…7 and more absent (128 of 212; " +
    "give every channel with --channel)";
  assertSame(
    await errors(dir, [CH[1]]),
    new RegExp(
      `^offset \\d+ \\(0x[0-9a-f]+\\) in channel .*conn2.*: packet_num 211 is the highest, but the channels hold 84 packets: ${
        RegExp.escape(miss)
      }$`,
    ),
  );
  // conn1's last packet is 209: 210 and 211 (conn2's last) cannot be known absent.
  const one = await errors(dir, [CH[0]]);
  assertSame(
    one,
    /^offset \d+ \(0x[0-9a-f]+\) in channel .*conn1.*: packet_num 209 is the highest, but the channels hold 128 packets: multifd channel\(s\) missing: packets 1, 5, 8 and more absent \(82 of 210;/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replay of a multifd main stream without --channel: exit 2, not all-zero images", async () => {
  const dir = await Deno.makeTempDir();
  const r = await runCli(["replay", MAIN, "--out", `${dir}/out`]);
  assert.equal(r.code, 2, r.stdout);
  assert.equal(
    r.stderr.trim(),
    "migscope: offset 243 (0xf3): MULTIFD_FLUSH: a multifd main stream: its pages travel on the " +
      "multifd channels; give them with --channel",
  );
  // 243 is the main stream's first MULTIFD_FLUSH record.
  const recs = await runCli(["inspect", MAIN, "--records"]);
  assert.match(recs.stdout.split("\n").find((l) => l.includes("MULTIFD_FLUSH"))!, /^\s*243\s/);
  await assert.rejects(Deno.stat(`${dir}/out/pc.ram.ram`), "no image is left");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("not a channel: a cpr-transfer capture, a main stream, stdin and tcp: are refused in one line", async () => {
  const dir = await Deno.makeTempDir();
  assertSame(
    await errors(dir, [CPR]),
    /^offset 0 \(0x0\), file header: .*cpr\.bin is a cpr-transfer channel \(QCPR; inspect it alone\), not a multifd or postcopy-preempt channel$/,
  );
  assertSame(
    await errors(dir, [MAIN]),
    /file header: .*conn0\.s2d\.bin\.gz is a main stream \(QEVM\)/,
  );
  const live =
    /^migscope: --channel (-|tcp:1): a channel must be a file \(channels are read after the main stream, so a live channel would deadlock\)/;
  for (const c of ["-", "tcp:1"]) {
    const r = await runCli(["inspect", MAIN, "--channel", c], { stdin: new Uint8Array() });
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim(), live);
  }
  const r = await runCli(["replay", MAIN, "--out", `${dir}/o`, "--channel", "-"], {
    stdin: new Uint8Array(),
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), live);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replay's first line counts main-stream and channel pages apart", async () => {
  const dir = await Deno.makeTempDir();
  const manifest = JSON.parse(await Deno.readTextFile(`${SHARED}manifest.json`));
  const q = manifest.source_final_query_migrate.ram;
  const args = ["replay", MAIN, "--out", `${dir}/out`, "--channel", CH[0], "--channel", CH[1]];
  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  const all = q.normal + q.duplicate;
  assert.equal(
    r.stdout.split("\n")[0],
    `Replayed ${all} page records (0 on the main stream, of its 132 records; ${all} on channels)`,
  );
  await Deno.remove(dir, { recursive: true });
});
