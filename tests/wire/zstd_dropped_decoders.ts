/**
 * Run by zstd_system_test.ts with --expose-gc: 40 system zstd decoders, each fed part of a frame
 * with a 32 MiB window and dropped without close() (or closed, with `close`); prints the RSS in
 * MiB at the end.
 */
import zlib from "node:zlib";
import { systemZstdDecoder } from "../../src/wire/zstd_system.ts";

const noise = crypto.getRandomValues(new Uint8Array(65536));
const big = new Uint8Array(32 << 20);
for (let i = 0; i < big.length; i += noise.length) big.set(noise, i);
const frame = new Uint8Array(
  zlib.zstdCompressSync(big, { params: { [zlib.constants.ZSTD_c_windowLog]: 25 } }),
);
const out = new Uint8Array(1 << 20);
const gc = (globalThis as { gc?: () => void }).gc!;
for (let k = 0; k < 40; k++) {
  const d = systemZstdDecoder()!;
  let off = 0;
  for (let s = 0; s < 40 && off < frame.length; s++) {
    d.step(frame, off, frame.length - off, out, 0, out.length, false);
    off += d.used;
  }
  if (Deno.args[0] === "close") d.close();
  gc();
  await new Promise((r) => setTimeout(r, 0)); // finalizers run between tasks
}
const rss = /VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))!;
console.log(Math.round(Number(rss[1]) / 1024));
