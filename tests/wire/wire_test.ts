/**
 * The wire layer: buffered reads across chunk boundaries, bounded buffering, skips that cannot
 * pass the end, zero detection at every alignment, and the writer's big-endian fields.
 */
import assert from "node:assert/strict";
import { BufferLimitError, ByteReader, EndOfStreamError } from "../../src/wire/reader.ts";
import { bytesSource, streamSource } from "../../src/wire/source.ts";
import { ByteWriter } from "../../src/wire/writer.ts";
import { isAllZero } from "../../src/wire/zero.ts";

Deno.test("ByteReader: big-endian fields across tiny chunks, with absolute offsets", async () => {
  const bytes = Uint8Array.of(
    0x51,
    0x45,
    0x56,
    0x4d,
    0,
    0,
    0,
    3,
    0xff,
    0x12,
    0x34,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
  );
  const chunks = [...bytes].map((b) => Uint8Array.of(b));
  const r = new ByteReader(streamSource(ReadableStream.from(chunks)), { chunk: 16 });
  await r.fill(8);
  assert.equal(r.be32(), 0x5145564d);
  assert.equal(r.be32(), 3);
  await r.fill(3);
  assert.equal(r.u8(), 0xff);
  assert.equal(r.be16(), 0x1234);
  assert.equal(r.pos, 11);
  await r.fill(8);
  assert.deepEqual(r.be64Parts(), [0x01020304, 0x05060708]);
  assert.equal(await r.atEnd(), true);
});

Deno.test("ByteReader: truncation and the buffering bound are reported with offsets", async () => {
  const r = new ByteReader(bytesSource(new Uint8Array(10)), { chunk: 4, maxBuffer: 64 });
  await r.fill(4);
  r.advance(4);
  await assert.rejects(
    r.fill(7),
    (e) => e instanceof EndOfStreamError && e.offset === 4 && e.available === 6,
  );
  await assert.rejects(r.fill(65), (e) => e instanceof BufferLimitError && e.requested === 65);
  const big = new ByteReader(bytesSource(new Uint8Array(1000)), { chunk: 16, maxBuffer: 100 });
  await assert.rejects(big.bufferRest(100), BufferLimitError);
});

Deno.test("ByteReader: skip seeks on seekable sources but never past their end", async () => {
  const r = new ByteReader(bytesSource(Uint8Array.from({ length: 100 }, (_, i) => i)), {
    chunk: 8,
  });
  await r.fill(2);
  await r.skip(50);
  await r.fill(1);
  assert.equal(r.pos, 50);
  assert.equal(r.u8(), 50);
  await assert.rejects(r.skip(60), EndOfStreamError);
});

Deno.test("isAllZero: every length and alignment, one set byte anywhere is found", () => {
  const buf = new Uint8Array(300);
  for (let start = 0; start < 8; start++) {
    for (let len = 0; len < 70; len++) {
      const view = buf.subarray(start, start + len);
      assert.equal(isAllZero(view), true);
      for (let i = 0; i < len; i++) {
        view[i] = 1;
        assert.equal(isAllZero(view), false, `start ${start} len ${len} byte ${i}`);
        view[i] = 0;
      }
    }
  }
});

Deno.test("ByteWriter: big-endian fields, counted strings, a sink that receives the bytes", async () => {
  const got: Uint8Array[] = [];
  const w = new ByteWriter((b) => {
    got.push(b);
    return Promise.resolve();
  }, 4);
  w.u8(1).be16(0x0203).be32(0x04050607).be64(0x08090a0b0c0d0e0fn).counted("ab");
  assert.equal(w.offset, 18);
  await w.flush();
  assert.deepEqual(
    got[0],
    Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 2, 0x61, 0x62),
  );
  assert.throws(() => w.counted("x".repeat(256)), RangeError);
});
