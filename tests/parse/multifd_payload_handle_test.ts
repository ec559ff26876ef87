/**
 * The zlib / zstd channel decoders of src/parse/multifd_payload.ts, driven by the zlib handle's
 * synchronous write: one stream per channel flushed per packet (as QEMU's sender does) decodes
 * packet by packet into exactly the packet's pages, with payloads split anywhere across the
 * stream's blocks; a payload that inflates past or short of its packet, or does not decode, is a
 * PayloadError, and the channel's later packets are refused; a zlib payload that ends its
 * stream (Z_STREAM_END, as QEMU's receiver refuses) is a PayloadError. Every test runs on every
 * decoding path: zstd by the system's libzstd (zlib the same as the next), the handle's
 * synchronous write, and the node:stream fallback.
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { Buffer } from "node:buffer";
import { payloadDecoder, PayloadError } from "../../src/parse/multifd_payload.ts";
import { systemZstdDecoder } from "../../src/wire/zstd_system.ts";

const PAGE = 4096;

/** `n` pages that compress, but not to nothing. */
function pages(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n * PAGE);
  let x = seed || 1;
  for (let i = 0; i < b.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0x3f;
  }
  return b;
}

/** One stream of `method`, flushed after each packet's pages: the packets' payloads. */
async function encode(method: "zlib" | "zstd", packets: Uint8Array[]): Promise<Uint8Array[]> {
  const z = method === "zlib" ? zlib.createDeflate() : zlib.createZstdCompress();
  const flush = method === "zlib" ? zlib.constants.Z_SYNC_FLUSH : zlib.constants.ZSTD_e_flush;
  let chunks: Buffer[] = [];
  z.on("data", (c: Buffer) => chunks.push(c));
  const out: Uint8Array[] = [];
  for (const p of packets) {
    z.write(p);
    await new Promise<void>((r) => z.flush(flush, () => r()));
    out.push(new Uint8Array(Buffer.concat(chunks)));
    chunks = [];
  }
  z.destroy();
  return out;
}

async function decodeError(f: () => Promise<void>): Promise<string> {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof PayloadError, String(e));
    return e.message;
  }
  throw new Error("no error");
}

const PATHS = [
  ["system libzstd", {}],
  ["handle", { nodeZstd: true }],
  ["stream", { streamPath: true }],
] as const;

Deno.test("the system libzstd path is the system's libzstd (this test runs with -A)", () => {
  const d = systemZstdDecoder();
  assert.ok(d, "libzstd.so.1 loads (Debian's libzstd1)");
  d.close();
});

for (const [path, options] of PATHS) {
  const streamPath = path === "stream";
  const decoder = (method: "zlib" | "zstd") => payloadDecoder(method, PAGE, options);
  for (const method of ["zlib", "zstd"] as const) {
    Deno.test(`${path} path, ${method}: a channel's payloads decode packet by packet to exactly their pages`, async () => {
      const packets = [pages(128, 1), pages(3, 2), pages(128, 3), pages(1, 4), pages(64, 5)];
      const payloads = await encode(method, packets);
      const d = await decoder(method);
      const out = new Uint8Array(128 * PAGE);
      for (const [i, p] of packets.entries()) {
        out.fill(0xee);
        await d.decode(payloads[i], out.subarray(0, p.length));
        assert.deepEqual(out.subarray(0, p.length), p, `packet ${i}`);
        assert.equal(out[p.length] ?? 0xee, 0xee, "nothing written past the packet");
      }
      d.close();
    });

    Deno.test(`${path} path, ${method}: past, short and broken payloads are PayloadErrors`, async () => {
      const payloads = await encode(method, [pages(4, 7), pages(4, 8)]);
      // The payload holds 4 pages: a 3-page packet overflows, a 5-page one falls short.
      let d = await decoder(method);
      assert.match(
        await decodeError(() => d.decode(payloads[0], new Uint8Array(3 * PAGE))),
        /^inflates past the packet's 12288 bytes$/,
      );
      assert.match(
        await decodeError(() => d.decode(payloads[1], new Uint8Array(4 * PAGE))),
        new RegExp(`cannot be decoded: the channel's ${method} stream broke before`),
      );
      d.close();
      d = await decoder(method);
      assert.match(
        await decodeError(() => d.decode(payloads[0], new Uint8Array(5 * PAGE))),
        /^inflates to 16384 bytes, not the packet's 20480$/,
      );
      d.close();
      // Corrupt bytes inside the first packet's data.
      const bad = payloads[0].slice();
      bad.fill(0xff, 2, Math.min(bad.length, 40));
      d = await decoder(method);
      assert.match(
        await decodeError(() => d.decode(bad, new Uint8Array(4 * PAGE))),
        /^does not decode \(/,
      );
      d.close();
    });
  }

  Deno.test(`${path} path, zlib: a payload that ends the zlib stream is a PayloadError`, async () => {
    const END = /^ends the zlib stream \(inflate returns Z_STREAM_END, not Z_OK\)$/;
    const [p1, p2] = [pages(2, 11), pages(2, 12)];
    // Two whole zlib streams in one payload: the stream ends inside it.
    const two = new Uint8Array([...zlib.deflateSync(p1), ...zlib.deflateSync(p2)]);
    let d = await decoder("zlib");
    assert.match(await decodeError(() => d.decode(two, new Uint8Array(4 * PAGE))), END);
    d.close();
    // A whole stream per packet (zlib.compress each time): the first packet's ends the stream.
    // The handle path tells at that packet; node:stream tells only when the next one is refused.
    d = await decoder("zlib");
    const out = new Uint8Array(2 * PAGE);
    if (streamPath) {
      await d.decode(new Uint8Array(zlib.deflateSync(p1)), out);
      assert.deepEqual(out, p1);
    } else {
      assert.match(
        await decodeError(() => d.decode(new Uint8Array(zlib.deflateSync(p1)), out)),
        END,
      );
      d.close();
      d = await decoder("zlib");
      // The check leaves a running stream as it was: the next packet still decodes.
      const payloads = await encode("zlib", [p1, p2]);
      await d.decode(payloads[0], out);
      await d.decode(payloads[1], out);
      assert.deepEqual(out, p2);
      d.close();
      return;
    }
    assert.match(
      await decodeError(() => d.decode(new Uint8Array(zlib.deflateSync(p2)), out)),
      END,
    );
    d.close();
  });
}
