/**
 * Benchmark of `migscope tap`: forwarding throughput through the tap with the main channel
 * parsed live, against a plain relay (`socat TCP-LISTEN:… TCP:…`) in the same run. The stream
 * is emitted once by `migscope emit` from a guest RAM image that compresses like a real one
 * (tools/bench/guest_ram.ts: runs of zero pages, random, text and table pages), cached in
 * .cache/bench/. The source is `socat -u OPEN:stream TCP:…`, the destination a sink
 * (`socat -u TCP-LISTEN:… OPEN:/dev/null`); each run is timed from the source's start to the
 * sink's end, the relay already listening (its start-up is not counted). Runs alternate. A third
 * relay, `socat -b 1048576 TCP-LISTEN:… TCP:…`, reads as much per call as the tap does once its
 * reads have grown (CHUNK_BYTES; they start at 64 KiB):
 * socat's default buffer is 8 KiB.
 * Without socat, {@link benchTap} throws, saying so.
 *
 *   deno run -A tools/bench/tap.ts [--mib 1024] [--reps 5] [--record]
 * @module
 */
import { parseArgs } from "node:util";
import { writeGuestRam } from "./guest_ram.ts";
import { CACHE, MAIN, median, MiB } from "./util.ts";
import { CHUNK_BYTES } from "../../src/tap/forward.ts";

/** What {@link benchTap} measured (medians). */
export interface TapBench {
  /** Stream through `migscope tap` (parsing on), milliseconds. */
  tapMs: number;
  /** Stream through `socat` relaying the same way, milliseconds. */
  socatMs: number;
  /**
   * The same through `socat -b 1048576` (socat reads 8 KiB at a time unless told: this relay
   * reads as much per call as the tap does), milliseconds.
   */
  socatChunkMs: number;
  /** Bytes of the stream. */
  bytes: number;
  /** Peak resident set of the tap process, bytes (max over the runs). */
  tapPeakRss: number;
}

/** Options of {@link benchTap}. */
export interface TapBenchOptions {
  /** Guest RAM of the emitted stream, MiB (default 1024). */
  mib?: number;
  /** Runs of each (default 5). */
  reps?: number;
  /** Also record with --record (into a temporary directory, removed). */
  record?: boolean;
}

/** The emitted stream of a `mib` MiB guest, built once. */
async function stream(mib: number): Promise<string> {
  const path = `${CACHE}/tap-${mib}M.mig`;
  try {
    if ((await Deno.stat(path)).size > 0) return path;
  } catch { /* build it */ }
  await Deno.mkdir(CACHE, { recursive: true });
  const img = `${CACHE}/tap-${mib}M.ram`;
  writeGuestRam(img, mib * MiB);
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "emit",
      "--ram",
      `pc.ram=${img}`,
      "-o",
      `${path}.tmp`,
      "--no-progress",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  await Deno.remove(img);
  if (!r.success) throw new Error(`emit: ${new TextDecoder().decode(r.stderr)}`);
  await Deno.rename(`${path}.tmp`, path);
  return path;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

/** Waits until something listens on `port`. */
async function listening(port: number, deadline = Date.now() + 20_000): Promise<void> {
  for (;;) {
    const out = await new Deno.Command("ss", { args: ["-Hltn", `sport = :${port}`] }).output();
    if (new TextDecoder().decode(out.stdout).trim()) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** One transfer source → relay → sink; the relay is started by `relay(listen, to)`. */
async function transfer(
  file: string,
  relay: (listen: number, to: number) => Deno.ChildProcess,
): Promise<{ ms: number; rss: number }> {
  const [sinkPort, relayPort] = [freePort(), freePort()];
  const spawn = (args: string[]) =>
    new Deno.Command("socat", { args, stdout: "null", stderr: "null" }).spawn();
  const sink = spawn(["-b", "1048576", "-u", `TCP-LISTEN:${sinkPort},reuseaddr`, "OPEN:/dev/null"]);
  await listening(sinkPort);
  const r = relay(relayPort, sinkPort);
  await listening(relayPort);
  let rss = 0;
  const poll = setInterval(() => rss = Math.max(rss, peakRss(r.pid)), 20);
  const t0 = performance.now();
  const src = spawn(["-b", "1048576", "-u", `OPEN:${file}`, `TCP:127.0.0.1:${relayPort}`]);
  await Promise.all([src.status, sink.status]);
  const ms = performance.now() - t0;
  const st = await r.status;
  clearInterval(poll);
  rss = Math.max(rss, peakRss(r.pid));
  if (st.code !== 0 && st.code !== 143) throw new Error(`relay exited ${st.code}`);
  return { ms, rss };
}

/** Runs the benchmark: tap and socat alternately, `reps` times each; medians. */
export async function benchTap(opts: TapBenchOptions = {}): Promise<TapBench> {
  try {
    await new Deno.Command("socat", { args: ["-V"], stdout: "null", stderr: "null" }).output();
  } catch {
    throw new Error("socat is not installed (Debian package socat)");
  }
  const file = await stream(opts.mib ?? 1024);
  const bytes = (await Deno.stat(file)).size;
  const reps = opts.reps ?? 5;
  const tap: number[] = [];
  const socat: number[] = [];
  const socatChunk: number[] = [];
  let tapPeakRss = 0;
  for (let i = 0; i < reps; i++) {
    const dir = opts.record ? await Deno.makeTempDir({ prefix: "migscope-tap-bench-" }) : "";
    const t = await transfer(file, (listen, to) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MAIN,
          "tap",
          "--listen",
          `127.0.0.1:${listen}`,
          "--to",
          `127.0.0.1:${to}`,
          "--json-events",
          ...(dir ? ["--record", `${dir}/rec`] : []),
        ],
        stdout: "null",
        stderr: "null",
      }).spawn());
    if (dir) await Deno.remove(dir, { recursive: true });
    tap.push(t.ms);
    tapPeakRss = Math.max(tapPeakRss, t.rss);
    socat.push(
      (await transfer(file, (listen, to) =>
        new Deno.Command("socat", {
          args: [`TCP-LISTEN:${listen},reuseaddr`, `TCP:127.0.0.1:${to}`],
          stdout: "null",
          stderr: "null",
        }).spawn())).ms,
    );
    socatChunk.push(
      (await transfer(file, (listen, to) =>
        new Deno.Command("socat", {
          args: [
            "-b",
            String(CHUNK_BYTES),
            `TCP-LISTEN:${listen},reuseaddr`,
            `TCP:127.0.0.1:${to}`,
          ],
          stdout: "null",
          stderr: "null",
        }).spawn())).ms,
    );
  }
  return {
    tapMs: median(tap),
    socatMs: median(socat),
    socatChunkMs: median(socatChunk),
    bytes,
    tapPeakRss,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      mib: { type: "string", default: "1024" },
      reps: { type: "string", default: "5" },
      record: { type: "boolean", default: false },
    },
  });
  const r = await benchTap({
    mib: Number(values.mib),
    reps: Number(values.reps),
    record: values.record,
  });
  const rate = (ms: number) => `${(r.bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`;
  console.log(
    `stream ${(r.bytes / MiB).toFixed(0)} MiB: tap ${r.tapMs.toFixed(0)} ms (${rate(r.tapMs)}, ` +
      `peak RSS ${(r.tapPeakRss / MiB).toFixed(0)} MiB), socat ${r.socatMs.toFixed(0)} ms ` +
      `(${rate(r.socatMs)}), tap/socat ${(r.tapMs / r.socatMs).toFixed(2)}×; socat -b ` +
      `${CHUNK_BYTES} ${r.socatChunkMs.toFixed(0)} ms (${rate(r.socatChunkMs)})`,
  );
}
