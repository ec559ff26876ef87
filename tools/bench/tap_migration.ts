/**
 * Benchmark of a real migration through `migscope tap` (issue 15, target 11): the same paused
 * guest (file-backed RAM holding a guest RAM image that compresses like a real one,
 * tools/bench/guest_ram.ts) migrated over TCP from one QEMU to another, precopy, no bandwidth
 * limit, alternately straight to the destination and through `migscope tap --json-events`
 * (main channel parsed live; optionally a third run through the tap with `--record`), each by
 * tools/capture.ts with its `relay` option. The time is the source's query-migrate
 * `total-time` at completion (QEMU's own: from `migrate` to completed; the tap is already
 * listening, its start-up is not counted). Both RAM files live on /dev/shm so no disk writeback
 * runs during a migration. The first run through the tap is checked: destination RAM = source
 * RAM, tap exit 0 with the main stream complete.
 *
 *   deno run -A tools/bench/tap_migration.ts [--mib 512] [--reps 5] [--record]
 * @module
 */
import { parseArgs } from "node:util";
import { capture, type CaptureResult, direct, TapRelay } from "../capture.ts";
import { qemu10, qemu72, type QemuBinary } from "../qemu.ts";
import { writeGuestRam } from "./guest_ram.ts";
import { median, MiB, sh } from "./util.ts";

/** One way of migrating. */
export type MigrationPath = "direct" | "tap" | "tap+record";

/** What {@link benchTapMigration} measured. */
export interface TapMigrationBench {
  qemuVersion: string;
  /** Guest RAM, bytes. */
  ram: number;
  /** Pages QEMU sent as data and as zero pages (the last direct run). */
  normal: number;
  duplicate: number;
  /** Bytes the tap forwarded on the main channel (the checked run). */
  streamBytes: number;
  /** Every run's total-time in ms, by path, in run order. */
  totals: Record<MigrationPath, number[]>;
  /** Medians of {@link totals} (NaN for a path not run). */
  median: Record<MigrationPath, number>;
  /** Downtime (ms, medians) by path. */
  downtime: Record<MigrationPath, number>;
}

/** Options of {@link benchTapMigration}. */
export interface TapMigrationOptions {
  /** Guest RAM, MiB (default 512). */
  mib?: number;
  /** Runs of each path (default 5). */
  reps?: number;
  /** Also through `tap --record` (a third run each round). */
  record?: boolean;
  log?: (s: string) => void;
}

/** The QEMU both sides run: 10.0 when unpacked, else Debian's 7.2. */
export function benchQemu(): QemuBinary | undefined {
  return qemu10() ?? qemu72();
}

async function once(
  q: QemuBinary,
  ram: Uint8Array,
  path: MigrationPath,
  check: boolean,
): Promise<{ c: CaptureResult; tap?: TapRelay }> {
  const dir = await Deno.makeTempDir({ dir: "/dev/shm", prefix: "migscope-bench-tap-" });
  let tap: TapRelay | undefined;
  try {
    const c = await capture({
      mode: "precopy",
      dir,
      ram,
      qemu: q,
      sourceParameters: { "max-bandwidth": 64 << 30 },
      relay: path === "direct"
        ? direct
        : async (d, port) => tap = await TapRelay.start(d, port, { record: path !== "tap" }),
      timeoutMs: 120_000,
    });
    if (c.error || c.srcStatus !== "completed" || c.dstStatus !== "completed") {
      throw new Error(`migration ${path}: ${c.srcStatus}/${c.dstStatus} ${c.error ?? ""}`);
    }
    if (tap && tap.result?.code !== 0) {
      throw new Error(`migscope tap exited ${tap.result?.code}: ${tap.result?.stderr}`);
    }
    if (check && (await sh(`cmp -s '${c.srcRam}' '${c.dstRam}'`)).code !== 0) {
      throw new Error(`migration ${path}: the destination's RAM differs from the source's`);
    }
    return { c, tap };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Migrates the same guest `reps` times each way, alternating (direct, tap[, tap+record]); an
 * untimed direct run first warms the page cache and QEMU's binaries.
 */
export async function benchTapMigration(
  opts: TapMigrationOptions = {},
): Promise<TapMigrationBench | string> {
  const q = benchQemu();
  if (!q) return "no QEMU (Debian's qemu-system-x86 7.2, or 10.0 in .cache/qemu10)";
  const mib = opts.mib ?? 512;
  const reps = opts.reps ?? 5;
  const img = `/dev/shm/migscope-bench-guest-${Deno.pid}.ram`;
  writeGuestRam(img, mib * MiB, 11);
  const ram = await Deno.readFile(img);
  await Deno.remove(img);
  const paths: MigrationPath[] = ["direct", "tap", ...(opts.record ? ["tap+record" as const] : [])];
  const totals: Record<MigrationPath, number[]> = { direct: [], tap: [], "tap+record": [] };
  const downs: Record<MigrationPath, number[]> = { direct: [], tap: [], "tap+record": [] };
  let normal = 0;
  let duplicate = 0;
  let streamBytes = 0;
  await once(q, ram, "direct", false);
  for (let i = 0; i < reps; i++) {
    for (const p of paths) {
      const { c, tap } = await once(q, ram, p, i === 0 && p === "tap");
      const total = Number(c.stats["total-time"]);
      totals[p].push(total);
      downs[p].push(Number(c.stats["downtime"]));
      if (p === "direct") {
        normal = c.stats.ram?.normal ?? 0;
        duplicate = c.stats.ram?.duplicate ?? 0;
      }
      if (tap?.result && i === 0 && p === "tap") {
        const end = tap.result.events.at(-1);
        if (end?.type !== "end" || end.complete !== true) {
          throw new Error(`migscope tap: the main stream did not complete: ${tap.result.stderr}`);
        }
        for (const e of tap.result.events) {
          if (e.type === "close" && e.n === 0) streamBytes = e.s2d as number;
        }
      }
      opts.log?.(`${p} ${total} ms`);
    }
  }
  const med = (xs: number[]) => xs.length ? median(xs) : NaN;
  return {
    qemuVersion: q.version,
    ram: mib * MiB,
    normal,
    duplicate,
    streamBytes,
    totals,
    median: {
      direct: med(totals.direct),
      tap: med(totals.tap),
      "tap+record": med(totals["tap+record"]),
    },
    downtime: {
      direct: med(downs.direct),
      tap: med(downs.tap),
      "tap+record": med(downs["tap+record"]),
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      mib: { type: "string", default: "512" },
      reps: { type: "string", default: "5" },
      record: { type: "boolean", default: false },
    },
  });
  const r = await benchTapMigration({
    mib: Number(values.mib),
    reps: Number(values.reps),
    record: values.record,
    log: (s) => console.error(s),
  });
  if (typeof r === "string") {
    console.error(r);
    Deno.exit(1);
  }
  console.log(JSON.stringify(r, null, 2));
  console.log(
    `QEMU ${r.qemuVersion}, ${
      r.ram / MiB
    } MiB guest: direct ${r.median.direct} ms, tap ${r.median.tap} ms (${
      (r.median.tap / r.median.direct).toFixed(2)
    }×)` +
      (values.record ? `, tap --record ${r.median["tap+record"]} ms` : ""),
  );
}
