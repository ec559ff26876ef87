/**
 * src/container/bytes.ts `rangeChunks`: fresh chunks by default (a consumer may keep them, as the
 * gzip decoder's stream queues them), or every chunk in one reused buffer through `reusing()` /
 * `reusingChunks` (the zstd handle decoder, which is done with a chunk before it asks for the
 * next); the same bytes either way, and the decoders over them give the same stream.
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { rangeChunks, reusingChunks, windowAccess } from "../../src/container/bytes.ts";
import { decompressSource } from "../../src/container/decompress.ts";
import { bytesAccess } from "../../src/wire/random_access.ts";
import { readSourceFully } from "../../src/container/bytes.ts";

function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 9)) & 0xff;
  return b;
}

async function collect(chunks: AsyncIterable<Uint8Array>) {
  const parts: Uint8Array[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const c of chunks) {
    buffers.add(c.buffer);
    parts.push(c.slice());
  }
  const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) all.set(p, (at += p.length) - p.length);
  return { all, chunks: parts.length, buffers: buffers.size };
}

Deno.test("rangeChunks: fresh buffers, or one reused buffer, hold the same bytes", async () => {
  const data = bytes(10_000);
  for (const [from, chunk] of [[0, 4096], [123, 1000], [9_999, 64], [10_000, 64], [0, 1 << 20]]) {
    const fresh = await collect(rangeChunks(bytesAccess(data), from, chunk));
    const reused = await collect(rangeChunks(bytesAccess(data), from, chunk).reusing());
    const via = await collect(reusingChunks(rangeChunks(bytesAccess(data), from, chunk)));
    assert.deepEqual(fresh.all, data.subarray(from));
    assert.deepEqual(reused.all, data.subarray(from));
    assert.deepEqual(via.all, data.subarray(from));
    assert.equal(fresh.chunks, Math.ceil((data.length - from) / chunk));
    assert.equal(fresh.buffers, fresh.chunks, "a fresh buffer per chunk");
    assert.ok(reused.buffers <= 1 && via.buffers <= 1, "one buffer for all chunks");
  }
  // A window: its bytes only.
  const w = windowAccess(bytesAccess(data), 100, 5000);
  assert.deepEqual((await collect(rangeChunks(w, 0, 777).reusing())).all, data.subarray(100, 5100));
});

Deno.test("rangeChunks: reusing() only before the chunks are read; other iterables pass through", async () => {
  const g = rangeChunks(bytesAccess(bytes(100)), 0, 10);
  await g.next();
  assert.throws(() => g.reusing(), /reusing\(\) after the chunks were read/);
  const plain = [new Uint8Array([1]), new Uint8Array([2])];
  async function* gen() {
    yield* plain;
  }
  const it = gen();
  assert.equal(reusingChunks(it), it);
});

Deno.test("gzip and zstd over rangeChunks of a window decode to the same bytes", async () => {
  const data = bytes(3 << 20);
  for (const kind of ["gzip", "zstd"] as const) {
    const packed = kind === "gzip" ? zlib.gzipSync(data) : zlib.zstdCompressSync(data);
    const file = new Uint8Array(77 + packed.length);
    file.set(packed, 77);
    const w = windowAccess(bytesAccess(file), 77, packed.length);
    // Small input chunks: many of them pass through the reused buffer (zstd) or the queue (gzip).
    const src = await decompressSource(rangeChunks(w, 0, 4096), kind, { offset: 77, label: kind });
    const out = new Uint8Array(data.length + 1);
    const n = await readSourceFully(src, out);
    src.close();
    assert.equal(n, data.length, kind);
    assert.deepEqual(out.subarray(0, n), data, kind);
  }
});
