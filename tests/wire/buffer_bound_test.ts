/**
 * A pipe (or gzip) input whose device sections come before its RAM must be read ahead to find
 * the trailer: at most `maxDeviceTail` bytes (256 MiB by default), counted in real memory, and
 * the parse fails as soon as the stream is longer — one line at the device section.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { TINY_VMDESC, writeTinyDeviceBody } from "../_build.ts";
import { captureFile } from "../_helpers.ts";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import { ByteReader } from "../../src/wire/reader.ts";
import { type ByteSource, fileSource, streamSource } from "../../src/wire/source.ts";
import { parseStream } from "../../src/parse/stream.ts";
import { StreamError } from "../../src/protocol/errors.ts";

/** Header, an early device section, then a RAM section of `pages` pages; trailer optional. */
function earlyDevice(pages: number, trailer: boolean): Uint8Array {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "FULL", 3, "dev0", 0, 1);
  writeTinyDeviceBody(w);
  F.writeFooter(w, 3);
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: pages * 4096 }]);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "END", 1);
  const page = new Uint8Array(4096);
  for (let p = 0; p < pages; p++) {
    F.writeRamPage(w, p * 4096, page.fill(p), p ? undefined : "pc.ram");
  }
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  if (trailer) F.writeVmdesc(w, JSON.stringify(TINY_VMDESC));
  return w.result();
}

/** A pipe over `bytes` in 64 KiB chunks that counts what was pulled from it. */
function countingPipe(bytes: Uint8Array): { src: ByteSource; pulled: () => number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled >= bytes.length) return c.close();
      const n = Math.min(64 << 10, bytes.length - pulled);
      c.enqueue(bytes.slice(pulled, pulled + n));
      pulled += n;
    },
  }, { highWaterMark: 0 });
  return { src: streamSource(stream), pulled: () => pulled };
}

async function records(src: ByteSource, opts = {}) {
  const out: string[] = [];
  for await (const r of parseStream(new ByteReader(src), { payloads: false, ...opts })) {
    out.push(`${r.kind}@${r.offset}+${r.length}`);
  }
  return out;
}

/** Beyond the bound: one error at the device section, having pulled no more than the bound. */
async function failsAtTheBound() {
  const limit = 4 << 20;
  const bytes = earlyDevice(4096, true); // 16 MiB of pages
  const pipe = countingPipe(bytes);
  let error: unknown;
  try {
    await records(pipe.src, { maxDeviceTail: limit });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof StreamError, String(error));
  assert.match(
    error.message,
    /^offset 26 .*device section 'dev0' cannot be delimited .*more than 4194304 bytes ahead/,
  );
  assert.ok(pipe.pulled() <= limit + (4 << 20) + (64 << 10), `${pipe.pulled()} bytes pulled`);
}

/** Within the bound: a pipe parses exactly as the file does (records read from memory). */
async function pipeLikeFile() {
  const bytes = earlyDevice(600, true);
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/s.mig`, bytes);
  const fromFile = await records(fileSource(`${dir}/s.mig`));
  const fromPipe = await records(countingPipe(bytes).src, { maxDeviceTail: 4 << 20 });
  assert.deepEqual(fromPipe, fromFile);
  assert.ok(
    fromPipe.includes(
      "vmdesc@" + (bytes.length - 5 - JSON.stringify(TINY_VMDESC).length) + "+" +
        (5 + JSON.stringify(TINY_VMDESC).length),
    ),
  );
  // A real capture from a pipe: its trailer 100 KB ahead of the device sections.
  const cap = await Deno.readFile(await captureFile("a_precopy_idle"));
  const a = await records(countingPipe(cap).src);
  const b = await records(fileSource(await captureFile("a_precopy_idle")));
  assert.deepEqual(a, b);
  await Deno.remove(dir, { recursive: true });
}

Deno.test("read-ahead to the trailer: the bound is real memory, fails early, and parses as a file within it", async () => {
  await failsAtTheBound();
  await pipeLikeFile();
  // Peak RSS of a process whose pipe goes 200 MiB past an early device section.
  const limit = 64 << 20;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  const src = (p: string) => fileURLToPath(new URL(`../../src/${p}`, import.meta.url));
  await Deno.writeTextFile(
    script,
    `
import { ByteReader } from "${src("wire/reader.ts")}";
import { streamSource } from "${src("wire/source.ts")}";
import { parseStream } from "${src("parse/stream.ts")}";
const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) * 1024;
const head = Uint8Array.of(0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3, 4, 0, 0, 0, 3, 4, 0x64, 0x65, 0x76, 0x30, 0, 0, 0, 0, 0, 0, 0, 1);
const chunk = new Uint8Array(64 << 10).fill(0x5a);
async function* gen() { yield head; for (let i = 0; i < 3200; i++) yield chunk; }
const before = hwm();
let message = "";
try {
  for await (const _ of parseStream(new ByteReader(streamSource(ReadableStream.from(gen()))), { maxDeviceTail: ${limit} })) {}
} catch (e) { message = (e as Error).message; }
console.log(JSON.stringify({ grew: hwm() - before, message }));
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(script);
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, text + new TextDecoder().decode(out.stderr));
  const { grew, message } = JSON.parse(text);
  assert.match(message, /more than 67108864 bytes ahead/);
  assert.ok(
    grew < limit * 1.3,
    `peak RSS grew by ${(grew / 1048576).toFixed(0)} MiB for a ${limit >> 20} MiB bound`,
  );
});
