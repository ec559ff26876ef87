/**
 * Hot-path micro-benchmarks (`deno task bench:micro`). Each group has a baseline measured in the
 * same run (a memcpy of the same bytes), so results read as ratios.
 */
import { isAllZero } from "../src/wire/zero.ts";
import { xbzrleEncode } from "../src/xbzrle/encode.ts";
import { xbzrleDecode } from "../src/xbzrle/decode.ts";
import { parseStream } from "../src/parse/stream.ts";
import { ByteReader } from "../src/wire/reader.ts";
import { bytesSource } from "../src/wire/source.ts";
import { ByteWriter } from "../src/wire/writer.ts";
import * as F from "../src/emit/frame.ts";
import { prng } from "../tools/samples.ts";

const PAGE = 4096;
const N = 256; // pages per iteration: 1 MiB
const rnd = prng(1);
const zeros = new Uint8Array(N * PAGE);
const random = Uint8Array.from({ length: N * PAGE }, () => rnd() & 0xff);
const target = new Uint8Array(N * PAGE);

Deno.bench({
  name: "memcpy 1 MiB (baseline)",
  group: "zero",
  baseline: true,
  fn: () => target.set(random),
});
Deno.bench({
  name: "isAllZero: 256 zero pages",
  group: "zero",
  fn: () => {
    for (let p = 0; p < N; p++) isAllZero(zeros.subarray(p * PAGE, (p + 1) * PAGE));
  },
});
Deno.bench({
  name: "isAllZero: 256 random pages (early exit)",
  group: "zero",
  fn: () => {
    for (let p = 0; p < N; p++) isAllZero(random.subarray(p * PAGE, (p + 1) * PAGE));
  },
});

// XBZRLE: sparse (a few bytes changed), dense (a run of 1 KiB), overflow (every other byte).
const oldP = random.subarray(0, PAGE);
const sparse = oldP.slice();
for (let i = 0; i < 8; i++) sparse[(i * 509) % PAGE] ^= 0xff;
const dense = oldP.slice();
for (let i = 1000; i < 2024; i++) dense[i] ^= 0x55;
const overflow = oldP.slice();
for (let i = 0; i < PAGE; i += 2) overflow[i] ^= 1;
const out = new Uint8Array(PAGE);
const encSparse = out.slice(0, xbzrleEncode(oldP, sparse, out));
const encDense = out.slice(0, xbzrleEncode(oldP, dense, out));
const work = oldP.slice();

Deno.bench({
  name: "memcpy 256 pages (baseline)",
  group: "xbzrle",
  baseline: true,
  fn: () => {
    for (let p = 0; p < N; p++) work.set(sparse);
  },
});
Deno.bench({
  name: "encode sparse ×256",
  group: "xbzrle",
  fn: () => {
    for (let p = 0; p < N; p++) xbzrleEncode(oldP, sparse, out);
  },
});
Deno.bench({
  name: "encode dense ×256",
  group: "xbzrle",
  fn: () => {
    for (let p = 0; p < N; p++) xbzrleEncode(oldP, dense, out);
  },
});
Deno.bench({
  name: "encode overflow ×256",
  group: "xbzrle",
  fn: () => {
    for (let p = 0; p < N; p++) xbzrleEncode(oldP, overflow, out);
  },
});
Deno.bench({
  name: "decode sparse ×256",
  group: "xbzrle",
  fn: () => {
    for (let p = 0; p < N; p++) xbzrleDecode(encSparse, work);
  },
});
Deno.bench({
  name: "decode dense ×256",
  group: "xbzrle",
  fn: () => {
    for (let p = 0; p < N; p++) xbzrleDecode(encDense, work);
  },
});

// Record parsing: a 16 MiB in-memory stream of PAGE and ZERO records.
const w = new ByteWriter();
F.writeHeader(w);
F.writeSectionFull(w, "START", 1, "ram", 0, 4);
F.writeRamMemSize(w, [{ name: "pc.ram", size: 8192 * PAGE }]);
F.writeRamEos(w);
F.writeSectionShort(w, "END", 1);
for (let p = 0; p < 8192; p++) {
  if (p % 3 === 0) F.writeRamPage(w, p * PAGE, random.subarray(0, PAGE), p ? undefined : "pc.ram");
  else F.writeRamZero(w, p * PAGE, p ? undefined : "pc.ram");
}
F.writeRamEos(w);
F.writeEof(w);
const stream = w.result();
const copyDst = new Uint8Array(stream.length);

Deno.bench({
  name: "memcpy the stream (baseline)",
  group: "parse",
  baseline: true,
  fn: () => copyDst.set(stream),
});
Deno.bench({
  name: "parse 8192 RAM records",
  group: "parse",
  async fn() {
    let n = 0;
    for await (const _ of parseStream(new ByteReader(bytesSource(stream)), { footers: "off" })) n++;
    if (n < 8192) throw new Error("short");
  },
});
