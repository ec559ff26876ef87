/**
 * src/report/progress.ts (the exact text of the progress line, its delay, width and clearing)
 * and the core's progress callback (src/report/inspect_stream.ts `onProgress`).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { inputMeter } from "../../src/commands/inspect.ts";
import { openInput } from "../../src/parse/input.ts";
import { inspectStream } from "../../src/report/inspect_stream.ts";
import { CLEAR, duration, ProgressLine, progressText } from "../../src/report/progress.ts";

const MiB = 1 << 20;
const SAMPLE = fileURLToPath(new URL("../../samples/small-xbzrle.mig", import.meta.url));

Deno.test("progressText: bytes of the total, percent, rate, ETA; bytes and rate without a total", () => {
  assert.equal(
    progressText("inspect", { done: 300 * MiB, total: 1200 * MiB, elapsedMs: 1500 }),
    "inspect: 300.0 MiB of 1.2 GiB (25%), 200.0 MiB/s, ETA 0:05",
  );
  assert.equal(
    progressText("inspect", { done: 5 * MiB, elapsedMs: 2000 }),
    "inspect: 5.0 MiB, 2.5 MiB/s",
  );
  assert.equal(
    progressText("inspect", { done: 4 * MiB, total: 4 * MiB, elapsedMs: 1000 }),
    "inspect: 4.0 MiB of 4.0 MiB (100%), 4.0 MiB/s",
  );
  assert.equal(
    progressText("inspect", { done: MiB, total: 4000 * MiB, elapsedMs: 1000 }),
    "inspect: 1.0 MiB of 3.9 GiB (0%), 1.0 MiB/s, ETA 1:06:39",
  );
  assert.equal(
    progressText("inspect", { done: 0, total: 10, elapsedMs: 0 }),
    "inspect: 0 B of 10 B (0%)",
  );
  assert.deepEqual([duration(0), duration(59.2), duration(600)], ["0:00", "1:00", "10:00"]);
});

Deno.test("ProgressLine: nothing before the delay, redrawn in place, cut to the width, cleared once", () => {
  let t = 0;
  const out: string[] = [];
  const line = new ProgressLine((s) => out.push(s), {
    label: "inspect",
    now: () => t,
    width: 30,
  });
  line.clear();
  t = 299;
  line.update(MiB, 8 * MiB);
  assert.deepEqual(out, [], "no line before 300 ms, and no clear of a line never drawn");
  t = 1000;
  line.update(2 * MiB, 8 * MiB);
  line.clear();
  line.clear();
  assert.deepEqual(out, ["\rinspect: 2.0 MiB of 8.0 MiB (\x1b[K", CLEAR]);
  assert.equal(CLEAR, "\r\x1b[K");
});

Deno.test("inspectStream onProgress: called with rising offsets on a slow input, never on a fast one", async () => {
  const bytes = await Deno.readFile(SAMPLE);
  const slow = new ReadableStream<Uint8Array>({
    async start(c) {
      for (let i = 0; i < bytes.length; i += 64 << 10) {
        c.enqueue(bytes.slice(i, i + (64 << 10)));
        await new Promise((r) => setTimeout(r, 5));
      }
      c.close();
    },
  });
  const calls: number[] = [];
  const input = await openInput(slow);
  const r = await inspectStream(input, { onProgress: (o) => calls.push(o) });
  input.close();
  assert.equal(r.error, undefined);
  assert.ok(calls.length >= 2, `calls: ${calls}`);
  assert.deepEqual(calls, [...calls].sort((a, b) => a - b));
  assert.ok(calls.at(-1)! <= bytes.length);
  const fast: number[] = [];
  const f = await openInput(SAMPLE);
  await inspectStream(f, { vmdesc: f.vmdesc, onProgress: (o) => fast.push(o) });
  f.close();
  assert.deepEqual(fast, []);
});

Deno.test("inputMeter: a plain file by offset of its size; a counting source by its count; a pipe without a total", async () => {
  const f = await openInput(SAMPLE);
  assert.deepEqual(inputMeter(f)(1000), [1000, f.size]);
  (f.reader.source as { consumed?: () => number }).consumed = () => 77;
  assert.deepEqual(inputMeter(f)(1000), [77, f.size]);
  f.close();
  const p = await openInput(ReadableStream.from([await Deno.readFile(SAMPLE)]));
  assert.deepEqual(inputMeter(p)(1000), [1000]);
  p.close();
});
