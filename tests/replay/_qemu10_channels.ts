/**
 * Helpers of qemu10_channels_test.ts: source RAM images, the four QEMU 10.0 captures (multifd
 * zlib, multifd zstd, multifd with dirty passes, postcopy with preempt), and the migscope runs
 * checked against them (replay with every extra connection as --channel; page totals from
 * inspect of the main stream plus inspect of each channel).
 */
import { capture, type CaptureOptions, type CaptureResult } from "../../tools/capture.ts";
import { dirtyWhileMigrating, postcopyFaults } from "../../tools/capture/drive.ts";
import type { QemuBinary } from "../../tools/qemu.ts";
import { prng } from "../../tools/samples.ts";
import { runCli } from "../_helpers.ts";

/** Guest RAM size of every capture. */
export const RAM_SIZE = 64 << 20;

/**
 * A 64 MiB source RAM image: per page, `random`% pages with every 8th byte random (compressible),
 * `patterned`% pages partly filled with one byte, the rest zero; the first 1 MiB stays zero (the
 * BIOS areas).
 */
export function sourceRam(seed: number, random: number, patterned: number): Uint8Array {
  const r = prng(seed);
  const ram = new Uint8Array(RAM_SIZE);
  for (let p = 256; p < RAM_SIZE / 4096; p++) {
    const k = r() % 100;
    const page = ram.subarray(p * 4096, (p + 1) * 4096);
    if (k < random) { for (let i = 0; i < 4096; i += 8) page[i] = r() & 0xff; }
    else if (k < random + patterned) page.fill((p * 7) & 0xff, 0, 100 + (p % 3000));
  }
  return ram;
}

/** Non-zero pages of an image. */
export function nonZeroPages(ram: Uint8Array): number {
  let n = 0;
  const words = new Uint32Array(ram.buffer, ram.byteOffset, ram.length / 4);
  for (let p = 0; p < ram.length / 4096; p++) {
    for (let i = p * 1024; i < (p + 1) * 1024; i++) {
      if (words[i] !== 0) {
        n++;
        break;
      }
    }
  }
  return n;
}

/** One scenario: what the source holds and how the capture runs. */
export interface Scenario {
  ram: Uint8Array;
  options: Omit<CaptureOptions, "dir" | "ram" | "qemu">;
}

/** (a)/(b) multifd, 2 channels, `multifd-compression` zlib or zstd; the source stays paused. */
export function compressed(method: "zlib" | "zstd", seed: number): Scenario {
  return {
    ram: sourceRam(seed, 30, 20),
    options: { mode: "multifd", channels: 2, parameters: { "multifd-compression": method } },
  };
}

/** The dirtied page range of scenario (c). */
export const DIRTY = { firstPage: 2048, pages: 512, syncs: 5 };

/**
 * (c) multifd without compression, 2 channels, source pages rewritten through qtest while the
 * migration runs until dirty-sync-count reaches 5 (sparse RAM: the first pass is rate-limited);
 * `rounds()` is how many write rounds the source saw.
 */
export function dirtyPasses(seed: number): Scenario & { rounds: () => number } {
  const drive = dirtyWhileMigrating(DIRTY);
  return {
    ram: sourceRam(seed, 5, 3),
    options: { mode: "multifd", channels: 2, qtest: true, drive },
    rounds: drive.rounds,
  };
}

/**
 * (d) postcopy-ram + postcopy-preempt: precopy for 300 ms, migrate-start-postcopy, then the
 * destination reads 64 pages from the top of RAM down through qtest (page faults: requested
 * over the return path, sent on the preempt channel).
 */
export function postcopyPreempt(seed: number): Scenario {
  return {
    ram: sourceRam(seed, 15, 15),
    options: {
      mode: "postcopy",
      capabilities: ["postcopy-preempt"],
      qtest: true,
      drive: postcopyFaults({ pages: 64 }),
    },
  };
}

/** Runs a scenario's capture in a new temporary directory. */
export async function run(s: Scenario, qemu: QemuBinary): Promise<CaptureResult> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-q10ch-" });
  return await capture({ ...s.options, dir, ram: s.ram, qemu });
}

/** Every connection after the main one, in accept order, as replay/verify --channel arguments. */
export function channelArgs(c: CaptureResult): string[] {
  return c.connections.filter((x) => x.file !== c.main).flatMap((x) => ["--channel", x.file]);
}

/** `replay MAIN --channel … --out DIR --json`: exit code, report and the pc.ram image path. */
export async function replay(
  c: CaptureResult,
  out: string,
): Promise<{ code: number; stderr: string; stdout: string; pcRam?: string }> {
  const r = await runCli(["replay", c.main, ...channelArgs(c), "--out", out, "--json"]);
  let pcRam: string | undefined;
  try {
    const doc = JSON.parse(r.stdout);
    pcRam = (doc.ram as { name: string; path: string }[]).find((b) => b.name === "pc.ram")?.path;
  } catch { /* an error report */ }
  return { ...r, pcRam };
}

/** What `inspect MAIN --channel … --json` says of one extra connection. */
export interface InspectedChannel {
  file: string;
  kind: string;
  multifd?: { normalPages: number; zeroPages: number; compression?: string };
  preempt?: { page: number; zero: number };
}

/**
 * `inspect MAIN --channel … --json` (every extra connection in accept order): the pages of all
 * connections — the main stream's RAM records (summary.ram) plus each channel's (a multifd
 * channel's normal + zero pages in its packets, a preempt channel's PAGE + ZERO records).
 */
export async function inspectAll(c: CaptureResult): Promise<
  { code: number; stderr: string; total: number; main: number; channels: InspectedChannel[] }
> {
  const r = await runCli(["inspect", c.main, ...channelArgs(c), "--json"]);
  if (r.code !== 0) return { code: r.code, stderr: r.stderr, total: 0, main: 0, channels: [] };
  const doc = JSON.parse(r.stdout);
  const ram = doc.summary.ram as Record<string, number>;
  const main = ram.page + ram.zero + ram.xbzrle + ram.compressed;
  const channels = (doc.channels ?? []) as InspectedChannel[];
  let total = main;
  for (const ch of channels) {
    if (ch.multifd) total += ch.multifd.normalPages + ch.multifd.zeroPages;
    if (ch.preempt) total += ch.preempt.page + ch.preempt.zero;
  }
  return { code: 0, stderr: r.stderr, total, main, channels };
}

/** query-migrate's ram.normal + ram.duplicate: every page the source sent, data or zero. */
export function sentPages(c: CaptureResult): number {
  const ram = c.stats.ram ?? {};
  return (ram.normal ?? 0) + (ram.duplicate ?? 0);
}
