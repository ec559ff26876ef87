/**
 * The zstd decoders of a container's stream part — the system's libzstd over FFI (the default)
 * and node:zlib's synchronous handle (the fallback) — give the same bytes and the same one-line
 * errors, and `zstd -dc` (the last resort) the same bytes: whole frames, concatenated
 * frames, bytes after the last frame (an error, or the end in an incomplete image), a cut frame,
 * corrupt data, an empty input; and a source closed half-way reads nothing more.
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { decompressSource } from "../../src/container/decompress.ts";
import type { CompressedAt } from "../../src/container/decompress.ts";

const SAMPLE = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;
const plain = Deno.readFileSync(SAMPLE);
const frame = new Uint8Array(zlib.zstdCompressSync(plain));
const AT: CompressedAt = { offset: 1000, label: "libvirt save image (zstd)" };

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Everything a decoder gives for `bytes` fed in `size`-byte chunks: the bytes, then the error. */
type Decoder = "system" | "node" | "tool";
const DECODERS: Decoder[] = ["system", "node"];

async function decode(bytes: Uint8Array, zstd: Decoder, size: number, at = AT) {
  const src = await decompressSource(chunksOf(bytes, size), "zstd", at, { zstd });
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(100_000);
  let error: string | undefined;
  try {
    for (let n = await src.read(buf); n !== null; n = await src.read(buf)) {
      parts.push(buf.slice(0, n));
    }
  } catch (e) {
    error = (e as Error).message;
  } finally {
    src.close();
  }
  return { bytes: concat(...parts), error };
}

function sameBytes(a: Uint8Array, b: Uint8Array) {
  assert.equal(a.length, b.length);
  assert.ok(a.every((x, i) => x === b[i]), "the same bytes");
}

/**
 * Both decoders, with small and large chunks: all must agree (bytes and error); `zstd -dc`
 * gives the same bytes, and fails where they do (its own words) — or, with `toolFails`, also
 * where they end quietly (data cut inside a frame, or none at all: the parser then says where
 * the stream stops). Returns the first one's.
 */
async function both(bytes: Uint8Array, at = AT, toolFails?: RegExp) {
  const runs: { bytes: Uint8Array; error?: string }[] = [];
  for (const zstd of DECODERS) {
    for (const size of [997, 1 << 20]) runs.push(await decode(bytes, zstd, size, at));
  }
  for (const r of runs.slice(1)) {
    assert.equal(r.error, runs[0].error);
    sameBytes(r.bytes, runs[0].bytes);
  }
  const tool = await decode(bytes, "tool", 1 << 20, at);
  if (toolFails && !at.lenient) assert.match(tool.error ?? "", toolFails);
  else assert.equal(tool.error === undefined, runs[0].error === undefined, tool.error);
  sameBytes(tool.bytes, runs[0].bytes);
  return runs[0];
}

Deno.test("one frame, and two concatenated frames: the whole stream, no error", async () => {
  const one = await both(frame);
  assert.equal(one.error, undefined);
  assert.deepEqual(one.bytes, plain);
  const half = plain.length >> 1;
  const two = await both(concat(
    new Uint8Array(zlib.zstdCompressSync(plain.subarray(0, half))),
    new Uint8Array(zlib.zstdCompressSync(plain.subarray(half))),
  ));
  assert.equal(two.error, undefined);
  assert.deepEqual(two.bytes, plain);
});

Deno.test("bytes after the last frame: the stream, then one line counting them from where they start", async () => {
  const junk = new Uint8Array(5000).fill(0x5a);
  const r = await both(concat(frame, junk));
  assert.deepEqual(r.bytes, plain);
  const at = AT.offset + frame.length;
  assert.equal(
    r.error,
    `offset ${at} (0x${
      at.toString(16)
    }), ${AT.label}: 5000 bytes after the last zstd frame at offset ${at} ` +
      "are not zstd (zstd -dc fails on them)",
  );
  // Their first bytes at the end of a chunk (taken by libzstd as the start of a frame header
  // before it fails on the next chunk): still counted from where the frame ended.
  for (const size of [frame.length + 1, frame.length + 2, frame.length + 3]) {
    const split = await decode(concat(frame, junk), "system", size);
    assert.equal(split.error, r.error, `chunks of ${size}`);
  }
  // In an incomplete image they end the data instead.
  const lenient = await both(concat(frame, junk), { ...AT, lenient: true });
  assert.equal(lenient.error, undefined);
  assert.deepEqual(lenient.bytes, plain);
});

Deno.test("a cut frame: the bytes it held, then the end (the parser says where the stream stops)", async () => {
  for (const lenient of [false, true]) {
    const cut = await both(
      frame.subarray(0, frame.length - 3000),
      { ...AT, lenient },
      /premature end/,
    );
    assert.equal(cut.error, undefined);
    assert.ok(cut.bytes.length > 0 && cut.bytes.length < plain.length);
    assert.deepEqual(cut.bytes, plain.subarray(0, cut.bytes.length));
  }
});

Deno.test("corrupt data and foreign bytes: what decoded before, then one line naming where the zstd data starts", async () => {
  const bad = frame.slice();
  bad[7] ^= 0xff; // the frame header's window: zstd detects it
  const r = await both(concat(frame, bad));
  assert.deepEqual(r.bytes, plain);
  assert.equal(
    r.error,
    `offset 1000 (0x3e8), ${AT.label}: zstd data from this offset does not decompress: ` +
      "Data corruption detected",
  );
  const foreign = await both(new Uint8Array(4096).fill(7));
  assert.match(foreign.error!, /does not decompress: .*Unknown frame descriptor/);
  assert.equal(foreign.bytes.length, 0);
  const empty = await both(new Uint8Array(0), AT, /unexpected end of file/);
  assert.deepEqual([empty.bytes.length, empty.error], [0, undefined]);
});

Deno.test("a source closed half-way: later reads give nothing", async () => {
  const big = new Uint8Array(zlib.zstdCompressSync(new Uint8Array(64 << 20).fill(3)));
  for (const zstd of [...DECODERS, "tool"] as const) {
    const src = await decompressSource(chunksOf(big, 1 << 16), "zstd", AT, { zstd });
    const buf = new Uint8Array(1 << 20);
    assert.ok((await src.read(buf))! > 0);
    src.close();
    assert.equal(await src.read(buf), null, zstd);
  }
});

Deno.test("the default decoder is the system's libzstd where FFI is allowed (this test runs with -A)", async () => {
  const { systemZstdDecoder } = await import("../../src/wire/zstd_system.ts");
  const d = systemZstdDecoder();
  assert.ok(d, "libzstd.so.1 loads (Debian's libzstd1)");
  d.close();
});
