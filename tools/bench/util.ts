/**
 * Shared helpers of the end-to-end benchmark: timing child processes (with their peak RSS),
 * flushing to disk, page-cache eviction, image generators, the machine line.
 * @module
 */
import { fileURLToPath } from "node:url";
import * as fs from "node:fs";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const MAIN = `${ROOT}src/cli/main.ts`;
export const CACHE = `${ROOT}.cache/bench`;
export const PAGE = 4096;
export const MiB = 1 << 20;
export const GiB = 1 << 30;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Fills `buf` with deterministic pseudo-random bytes quickly (xorshift on 32-bit lanes). */
export function randomFill(buf: Uint8Array, seed: number) {
  const u = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < u.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    u[i] = x;
  }
}

/** A timed child process. */
export interface Run {
  seconds: number;
  peakRss: number;
  code: number;
  stderr: string;
}

/** Runs a command with stdout to /dev/null, timing it and polling its VmHWM (peak resident set). */
export async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<Run> {
  const t0 = performance.now();
  const child = new Deno.Command(cmd, { args, env, stdout: "null", stderr: "piped" }).spawn();
  let peak = 0;
  const poll = setInterval(() => {
    try {
      const st = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const m = /VmHWM:\s+(\d+) kB/.exec(st);
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch { /* exited */ }
  }, 20);
  const status = await child.status;
  clearInterval(poll);
  const seconds = (performance.now() - t0) / 1000;
  const stderr = await new Response(child.stderr).text();
  if (!status.success) {
    console.error(`${cmd} ${args.join(" ")}: exit ${status.code}: ${stderr.slice(0, 500)}`);
  }
  return { seconds, peakRss: peak, code: status.code, stderr };
}

/** `sh -c script`, timed. */
export const sh = (script: string) => run("sh", ["-c", script]);

/** `deno run -A src/cli/main.ts …`, timed. */
export const migscope = (args: string[]) => run(Deno.execPath(), ["run", "-A", MAIN, ...args]);

/** The shell words of a migscope run (for `sh -c`). */
export const migscopeSh = (args: string) => `'${Deno.execPath()}' run -A '${MAIN}' ${args}`;

/** Flushes dirty pages to disk (untimed preparation). */
export async function sync(): Promise<void> {
  await new Deno.Command("sync").output();
}

/** Drops `path` from the page cache (GNU dd, posix_fadvise DONTNEED); false when not possible. */
export async function evict(path: string): Promise<boolean> {
  try {
    const r = await new Deno.Command("dd", {
      args: [`if=${path}`, "iflag=nocache", "count=0", "status=none"],
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

/** Reads `path` once so that it is in the page cache. */
export async function warm(path: string): Promise<void> {
  await sh(`cat '${path}' > /dev/null`);
}

/**
 * Writes a RAM image of `bytes` laid out like real guest memory: alternating runs of zero pages
 * (mean 150) and non-zero pages (mean 64; random or text-like), ≈70 % zero pages — the shared
 * captures' RAM shows zero runs of 157–202 and non-zero runs of 54–80 pages on average. A round
 * (`base` given) edits 3 % of the pages slightly and rewrites 0.5 %.
 */
export function writeImage(path: string, bytes: number, seed: number, base?: string): void {
  const fd = fs.openSync(path, "w");
  fs.ftruncateSync(fd, bytes);
  const chunk = new Uint8Array(Math.min(4 * MiB, bytes));
  const src = base ? fs.openSync(base, "r") : -1;
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  let runLeft = 0;
  let zeroRun = false;
  let text = false;
  for (let off = 0; off < bytes; off += chunk.length) {
    if (src >= 0) {
      fs.readSync(src, chunk, 0, chunk.length, off);
      for (let p = 0; p < chunk.length / PAGE; p++) {
        const n = (off / PAGE + p) * 2654435761 >>> 0;
        const h = (n ^ seed) % 1000;
        if (h < 30) {
          for (let k = 0; k < 8; k++) chunk[p * PAGE + ((n >>> 8) + k * 97) % PAGE] ^= 0x5a;
        } else if (h < 35) randomFill(chunk.subarray(p * PAGE, (p + 1) * PAGE), n ^ seed);
      }
    } else {
      chunk.fill(0);
      for (let p = 0; p < chunk.length / PAGE; p++) {
        if (runLeft === 0) {
          zeroRun = !zeroRun;
          runLeft = zeroRun ? 1 + (rnd() % 300) : 1 + (rnd() % 128);
          text = rnd() % 5 === 0;
        }
        runLeft--;
        if (zeroRun) continue;
        const page = chunk.subarray(p * PAGE, (p + 1) * PAGE);
        if (!text) randomFill(page, rnd());
        else for (let i = 0; i < PAGE; i++) page[i] = 0x20 + ((i + p) % 95);
      }
    }
    fs.writeSync(fd, chunk, 0, chunk.length, off);
  }
  if (src >= 0) fs.closeSync(src);
  fs.closeSync(fd);
}

/**
 * Writes a sparse image of `bytes` that is mostly holes: a run of `run` random pages every
 * `every` pages (2 % data by default), the rest never written.
 */
export function writeSparseImage(path: string, bytes: number, every = 800, runPages = 16): number {
  const fd = fs.openSync(path, "w");
  fs.ftruncateSync(fd, bytes);
  const buf = new Uint8Array(runPages * PAGE);
  let data = 0;
  for (let p = 0; p < bytes / PAGE; p += every) {
    const n = Math.min(runPages, bytes / PAGE - p);
    randomFill(buf, p + 1);
    fs.writeSync(fd, buf, 0, n * PAGE, p * PAGE);
    data += n * PAGE;
  }
  fs.closeSync(fd);
  return data;
}

/** One line naming the machine and the runtime. */
export function machine(): string {
  const cpu = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ??
    "unknown CPU";
  const mem = Number(/MemTotal:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1] ?? 0) /
    1048576;
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${
    mem.toFixed(0)
  } GiB RAM, Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), ${Deno.build.os}-${Deno.build.arch}`;
}

/** Bytes/second in MB/s or GB/s. */
export function rate(bytes: number, seconds: number): string {
  const r = bytes / seconds;
  return r >= 1e9 ? `${(r / 1e9).toFixed(2)} GB/s` : `${(r / 1e6).toFixed(0)} MB/s`;
}

/** Seconds as ms or s. */
export function dur(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(0)} ms` : `${seconds.toFixed(2)} s`;
}

function cpuTimes(): { busy: number; total: number } {
  const f = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
    .map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

/** Share of all CPUs busy during the next `ms` milliseconds (0–1), from /proc/stat. */
export async function cpuBusy(ms = 2000): Promise<number> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
}

/**
 * Waits (up to `maxMs`) until other processes leave the machine quiet — less than `limit` of all
 * CPUs busy over 2 s while this process sleeps — and returns the busy share last seen.
 */
export async function waitQuiet(limit = 0.1, maxMs = 180_000): Promise<number> {
  const end = Date.now() + maxMs;
  let busy = await cpuBusy();
  while (busy > limit && Date.now() < end) busy = await cpuBusy();
  return busy;
}
