/**
 * Compressed multifd channels and device-state packets: the real QEMU 10.0 zlib capture of
 * ../shared/channels replays equal to its destination and counts the pages query-migrate
 * counted; zstd, qpl/uadk and qatzip payloads built with node:zlib decode to their pages;
 * hostile payloads and flags are one-line errors naming the channel, offset and packet.
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { Buffer } from "node:buffer";
import { parseMultifdChannel } from "../../src/parse/multifd.ts";
import { StreamError } from "../../src/protocol/errors.ts";
import { ByteReader } from "../../src/wire/reader.ts";
import { bytesSource } from "../../src/wire/source.ts";
import { runCli, sha256File } from "../_helpers.ts";
import { zlibChannelFile, zlibChannelPage } from "../report/_channel_inputs.ts";

const SHARED = new URL("../../../shared/channels/n1_multifd_zlib/", import.meta.url).pathname;
const PAGE = 4096;

async function items(bytes: Uint8Array) {
  const out = [];
  for await (const p of parseMultifdChannel(new ByteReader(bytesSource(bytes)), "ch")) {
    out.push(p.kind === "packet" ? { ...p, data: p.data.slice() } : p);
  }
  return out;
}

async function failure(bytes: Uint8Array): Promise<StreamError> {
  try {
    await items(bytes);
  } catch (e) {
    if (e instanceof StreamError) return e;
    throw e;
  }
  throw new Error("no error");
}

/** A channel: init packet, then RAM packets of `flags` with payloads already encoded. */
function channel(
  packets: { flags: number; normal: number[]; zero?: number[]; payload: Uint8Array }[],
): Uint8Array {
  const parts: Uint8Array[] = [];
  const init = new Uint8Array(64);
  new DataView(init.buffer).setUint32(0, 0x11223344);
  new DataView(init.buffer).setUint32(4, 1);
  parts.push(init);
  packets.forEach((p, n) => {
    const h = new Uint8Array(320 + 8 * 128);
    const dv = new DataView(h.buffer);
    const zero = p.zero ?? [];
    dv.setUint32(0, 0x11223344);
    dv.setUint32(4, 1);
    dv.setUint32(8, p.flags);
    dv.setUint32(12, 128);
    dv.setUint32(16, p.normal.length);
    dv.setUint32(20, p.payload.length);
    dv.setUint32(28, n);
    dv.setUint32(32, zero.length);
    h.set(new TextEncoder().encode("pc.ram"), 64);
    [...p.normal, ...zero].forEach((o, i) => dv.setUint32(324 + 8 * i, o));
    parts.push(h, p.payload);
  });
  const all = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let at = 0;
  for (const b of parts) all.set(b, (at += b.length) - b.length);
  return all;
}

function pages(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n * PAGE);
  for (let i = 0; i < b.length; i++) b[i] = (seed + (i % 13) * (i >> 12)) & 0xff;
  return b;
}

Deno.test("real QEMU 10.0 zlib multifd: replay equals the destination, counts equal query-migrate", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(`${SHARED}manifest.json`));
  const dir = await Deno.makeTempDir();
  const main = `${SHARED}capture.conn0.s2d.bin.gz`;
  const chans = [`${SHARED}capture.conn1.s2d.bin.gz`, `${SHARED}capture.conn2.s2d.bin.gz`];
  const r = await runCli(["replay", main, ...chans.flatMap((c) => ["--channel", c]), "--out", dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await sha256File(`${dir}/pc.ram.ram`), manifest.oracle_pc_ram_sha256);
  let normal = 0, zero = 0;
  for (const c of chans) {
    const j = await runCli(["inspect", c, "--json"]);
    assert.equal(j.code, 0, j.stderr);
    const s = JSON.parse(j.stdout).channel;
    assert.equal(s.compression, "zlib");
    assert.ok(s.payloadBytes < s.pageBytes / 2, "zlib payload smaller than its pages");
    normal += s.normalPages;
    zero += s.zeroPages;
  }
  assert.equal(normal, manifest.source_final_query_migrate.ram.normal);
  assert.equal(zero, manifest.source_final_query_migrate.ram.duplicate);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("zlib channel: payloads continue one deflate stream; pages decode exactly", async () => {
  const ch = await zlibChannelFile();
  const got = await items(ch.bytes);
  const p1 = got[2];
  assert.ok(p1.kind === "packet" && p1.compression === "zlib");
  assert.deepEqual(p1.data.subarray(0, PAGE), zlibChannelPage(1, 0));
  const p3 = got[4];
  // Packet 3's payload alone is not a zlib stream: it decodes only after packet 1's.
  assert.ok(p3.kind === "packet" && p3.payloadBytes === ch.payload[3]);
  assert.deepEqual(p3.data.subarray(PAGE, 2 * PAGE), zlibChannelPage(3, 1));
  const dev = got[3];
  assert.ok(dev.kind === "device-state");
  assert.equal(dev.idstr, "0000:00:05.0/vfio");
  assert.equal(dev.size, 100);
});

Deno.test("zstd channel: one zstd stream flushed per packet decodes packet by packet", async () => {
  const z = zlib.createZstdCompress();
  const chunks: Buffer[] = [];
  z.on("data", (c: Buffer) => chunks.push(c));
  const enc = async (b: Uint8Array) => {
    z.write(b);
    await new Promise<void>((r) => z.flush(zlib.constants.ZSTD_e_flush, () => r()));
    const out = new Uint8Array(Buffer.concat(chunks));
    chunks.length = 0;
    return out;
  };
  const a = pages(3, 1), b = pages(128, 2);
  const bytes = channel([
    { flags: 4, normal: [0, 0x1000, 0x2000], zero: [0x5000], payload: await enc(a) },
    { flags: 5, normal: [...Array(128).keys()].map((i) => i * PAGE), payload: await enc(b) },
  ]);
  z.destroy();
  const got = await items(bytes);
  assert.ok(got[1].kind === "packet" && got[2].kind === "packet");
  assert.deepEqual(got[1].data, a);
  assert.deepEqual(got[2].data, b);
  assert.equal(got[2].sync, true);
});

Deno.test("qpl, uadk and qatzip payloads decode to their pages", async () => {
  const a = pages(3, 7);
  const raw = pages(1, 9);
  for (let i = 0; i < PAGE; i++) raw[i] = (i * 2654435761) >>> 24; // incompressible-ish
  // qpl pages are raw deflate; uadk's are zlib format (its session's alg_type is WD_ZLIB).
  const perPage = (flag: number, zlibFormat = flag === 16) => {
    const z = [0, 1].map((k) => {
      const page = a.subarray(k * PAGE, (k + 1) * PAGE);
      return new Uint8Array(zlibFormat ? zlib.deflateSync(page) : zlib.deflateRawSync(page));
    });
    const lens = new Uint8Array(12);
    const dv = new DataView(lens.buffer);
    dv.setUint32(0, z[0].length);
    dv.setUint32(4, z[1].length);
    dv.setUint32(8, PAGE); // sent as is
    return {
      flags: flag,
      normal: [0, 0x1000, 0x2000],
      payload: new Uint8Array([...lens, ...z[0], ...z[1], ...a.subarray(2 * PAGE)]),
    };
  };
  for (const flag of [8, 16]) {
    const got = await items(channel([perPage(flag)]));
    assert.ok(got[1].kind === "packet");
    assert.equal(got[1].compression, flag === 8 ? "qpl" : "uadk");
    assert.deepEqual(got[1].data, a);
  }
  const uadk = perPage(16).payload;
  assert.deepEqual([uadk[12], uadk[13]], [0x78, 0x9c], "a uadk page starts with a zlib header");
  // Each method's pages in the other's format do not inflate.
  assert.match(
    (await failure(channel([perPage(16, false)]))).message,
    /packet at 64: uadk payload page 0 does not inflate \(/,
  );
  assert.match(
    (await failure(channel([perPage(8, true)]))).message,
    /packet at 64: qpl payload page 0 does not inflate \(/,
  );
  const gz = new Uint8Array([
    ...zlib.gzipSync(a.subarray(0, PAGE)),
    ...zlib.gzipSync(a.subarray(PAGE)),
  ]);
  const got = await items(channel([{ flags: 32, normal: [0, 0x1000, 0x2000], payload: gz }]));
  assert.ok(got[1].kind === "packet" && got[1].compression === "qatzip");
  assert.deepEqual(got[1].data, a);
});

Deno.test("zlib channel: a packet whose payload ends the zlib stream is an error at that packet", async () => {
  // A whole zlib stream per packet (compress() each time), as QEMU's receiver refuses at the
  // first: inflate returns Z_STREAM_END instead of Z_OK.
  const [a, b] = [pages(2, 3), pages(1, 4)];
  const bytes = channel([
    { flags: 2, normal: [0, 0x1000], payload: new Uint8Array(zlib.deflateSync(a)) },
    { flags: 2, normal: [0x2000], payload: new Uint8Array(zlib.deflateSync(b)) },
  ]);
  const e = await failure(bytes);
  assert.match(
    e.message,
    /^offset 1408 \(0x580\), multifd channel ch, packet at 64: zlib payload ends the zlib stream \(inflate returns Z_STREAM_END, not Z_OK\)$/,
  );
});

Deno.test("compressed packet without normal pages: next_packet_size must be 0; block names", async () => {
  const zero = (flags: number, payload: Uint8Array) =>
    channel([{ flags, normal: [], zero: [0], payload }]);
  for (
    const [flags, method] of [[2, "zlib"], [4, "zstd"], [8, "qpl"], [16, "uadk"], [32, "qatzip"]]
  ) {
    const e = await failure(zero(flags as number, new Uint8Array(5)));
    assert.match(
      e.message,
      /^offset 84 \(0x54\), multifd channel ch, packet at 64: next_packet_size 5 with no normal pages$/,
      String(method),
    );
    const ok = await items(zero(flags as number, new Uint8Array(0)));
    assert.ok(ok[1].kind === "packet" && ok[1].zeroPages === 1 && ok[1].compression === method);
  }
  // Without compression a stale next_packet_size (QEMU 7.2 SYNC packets) is ignored.
  const nocomp = channel([{ flags: 1, normal: [], payload: new Uint8Array(0) }]);
  new DataView(nocomp.buffer).setUint32(64 + 20, 4096 * 3);
  const got = await items(nocomp);
  assert.ok(got[1].kind === "packet" && got[1].sync && got[1].payloadBytes === 0);
  // A 256-byte name without NUL: QEMU's receiver ends it at byte 255.
  const named = zero(0, new Uint8Array(0));
  named.fill(0x61, 64 + 64, 64 + 64 + 256);
  const n = await items(named);
  assert.ok(n[1].kind === "packet");
  assert.equal(n[1].block, "a".repeat(255));
});

Deno.test("hostile compressed channels: one-line errors naming channel, offset and packet", async () => {
  const ch = await zlibChannelFile();
  const at1 = ch.at[1];
  const edit = (f: (dv: DataView, b: Uint8Array) => void) => {
    const b = ch.bytes.slice();
    f(new DataView(b.buffer), b);
    return b;
  };
  const cases: [Uint8Array, RegExp][] = [
    // One page fewer than the payload holds: it inflates past the packet.
    [edit((dv) => dv.setUint32(at1 + 16, 2)), /zlib payload inflates past the packet's 8192 bytes/],
    [
      edit((dv) => dv.setUint32(at1 + 16, 3 + 1)),
      /inflates to 12288 bytes, not the packet's 16384/,
    ],
    [edit((dv) => dv.setUint32(ch.at[3] + 8, 4)), /name zstd, the channel's earlier packets zlib/],
    [
      edit((_, b) => b.fill(0xff, at1 + 1344 + 2, at1 + 1344 + 12)),
      /zlib payload does not decode \(/,
    ],
    [edit((dv) => dv.setUint32(at1 + 20, 3 << 20)), /next_packet_size 3145728 exceeds 1048576/],
    [edit((dv) => dv.setUint32(at1 + 8, 0x82)), /flags 0x82 has unknown bits/],
    [edit((dv) => dv.setUint32(at1 + 8, 0x6)), /flags 0x6 name no compression method/],
  ];
  for (const [bytes, re] of cases) {
    const e = await failure(bytes);
    assert.match(e.message, re);
    assert.match(e.message, /^offset \d+/);
    assert.match(e.message, /multifd channel ch/);
    assert.ok(!e.message.includes("\n"), e.message);
  }
  // A qpl page longer than a page, and lengths past the payload.
  const bad = new Uint8Array(4 + 10);
  new DataView(bad.buffer).setUint32(0, PAGE + 1);
  assert.match(
    (await failure(channel([{ flags: 8, normal: [0], payload: bad }]))).message,
    /page 0 has length 4097/,
  );
  new DataView(bad.buffer).setUint32(0, 50);
  assert.match(
    (await failure(channel([{ flags: 8, normal: [0], payload: bad }]))).message,
    /add up past/,
  );
  // A gzip bomb: 4 MiB of zeros compressed for a one-page packet.
  const bomb = new Uint8Array(zlib.gzipSync(new Uint8Array(4 << 20)));
  assert.match(
    (await failure(channel([{ flags: 32, normal: [0], payload: bomb }]))).message,
    /qatzip payload inflates past the packet's 4096 bytes/,
  );
});

Deno.test("replay: a channel from another migration (source UUID) is refused in one line", async () => {
  const dir = await Deno.makeTempDir();
  const other = zlib.gunzipSync(await Deno.readFile(`${SHARED}capture.conn2.s2d.bin.gz`));
  other[8] ^= 0xff;
  await Deno.writeFile(`${dir}/other.bin`, other);
  const r = await runCli([
    "replay",
    `${SHARED}capture.conn0.s2d.bin.gz`,
    "--channel",
    `${SHARED}capture.conn1.s2d.bin.gz`,
    "--channel",
    `${dir}/other.bin`,
    "--out",
    `${dir}/out`,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^migscope: offset 8 \(0x8\) in channel .*other.*, initial packet at 0: source UUID ff000000-.*, but channel .*conn1.* says 00000000-.*: not a channel of this migration$/m,
  );
  assert.equal(r.stderr.trim().split("\n").length, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replay: a compressed packet's page offset outside its block is a one-line error", async () => {
  const { ByteWriter } = await import("../../src/wire/writer.ts");
  const F = await import("../../src/emit/frame.ts");
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 8 * PAGE }]); // the channel writes 0x9000
  F.writeRamEos(w);
  F.writeSectionShort(w, "END", 1);
  F.writeRamEos(w);
  F.writeEof(w);
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/main.mig`, w.result());
  await Deno.writeFile(`${dir}/ch.bin`, (await zlibChannelFile()).bytes);
  const r = await runCli([
    "replay",
    `${dir}/main.mig`,
    "--channel",
    `${dir}/ch.bin`,
    "--out",
    `${dir}/out`,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /illegal offset 0x9000 in 'pc\.ram'/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  await Deno.remove(dir, { recursive: true });
});
