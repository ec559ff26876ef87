/**
 * CPU profiles of a Deno child process (`deno run --cpu-prof`), reduced to the functions with
 * the most self time — what BENCHMARKS.md quotes for a target that is missed.
 *
 *   deno run -A tools/bench/profile.ts [--top 12] -- ARGS…   (ARGS as for `deno run -A`)
 * @module
 */
import { parseArgs } from "node:util";
import { ROOT } from "./util.ts";

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One function's share of the samples. */
export interface ProfileEntry {
  fn: string;
  where: string;
  selfMs: number;
  percent: number;
}

/** A reduced profile. */
export interface Profile {
  /** Sampled time, idle excluded. */
  busyMs: number;
  top: ProfileEntry[];
}

/** Self time per function (by name and source line) of a .cpuprofile document. */
export function reduceProfile(p: CpuProfile, top = 12): Profile {
  const byNode = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    byNode.set(p.samples[i], (byNode.get(p.samples[i]) ?? 0) + dt);
  }
  const byFn = new Map<string, ProfileEntry>();
  for (const n of p.nodes) {
    const us = byNode.get(n.id) ?? 0;
    const cf = n.callFrame;
    let where = cf.url.replace(`file://${ROOT}`, "").replace(/^file:\/\//, "");
    if (where) where += `:${cf.lineNumber + 1}`;
    const fn = cf.functionName || (where ? "(anonymous)" : "(native)");
    const key = `${fn}@${where}`;
    const e = byFn.get(key) ?? { fn, where, selfMs: 0, percent: 0 };
    e.selfMs += us / 1000;
    byFn.set(key, e);
  }
  const entries = [...byFn.values()].filter((e) => e.fn !== "(idle)");
  const busy = entries.reduce((a, e) => a + e.selfMs, 0);
  for (const e of entries) e.percent = busy ? (100 * e.selfMs) / busy : 0;
  entries.sort((a, b) => b.selfMs - a.selfMs);
  return { busyMs: busy, top: entries.slice(0, top) };
}

/**
 * Runs `deno run -A --cpu-prof ARGS` `runs` times (stdout discarded, 100 µs sampling) and
 * reduces the profiles together: self times are per run (the mean over the runs). `before`
 * runs (untimed, unprofiled) before each run, e.g. to remove the previous run's output.
 */
export async function profileDeno(
  args: string[],
  top = 12,
  runs = 3,
  before?: () => Promise<unknown>,
): Promise<Profile> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-prof-" });
  try {
    for (let i = 0; i < runs; i++) {
      await before?.();
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--cpu-prof",
          "--cpu-prof-interval=100",
          `--cpu-prof-dir=${dir}`,
          ...args,
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!out.success) {
        const err = new TextDecoder().decode(out.stderr).slice(0, 300);
        throw new Error(`profiled run failed: ${err}`);
      }
    }
    const files = [...Deno.readDirSync(dir)].filter((f) => f.name.endsWith(".cpuprofile"));
    if (!files.length) throw new Error("no .cpuprofile written");
    const merged: CpuProfile = { nodes: [], samples: [], timeDeltas: [], startTime: 0, endTime: 0 };
    let base = 0;
    for (const f of files) {
      const p = JSON.parse(await Deno.readTextFile(`${dir}/${f.name}`)) as CpuProfile;
      let maxId = 0;
      for (const n of p.nodes) {
        merged.nodes.push({ ...n, id: n.id + base });
        maxId = Math.max(maxId, n.id);
      }
      // Each profile's deltas are paired with its own samples (delta i+1 belongs to sample i).
      for (let i = 0; i < p.samples.length; i++) {
        merged.samples.push(p.samples[i] + base);
        merged.timeDeltas.push(p.timeDeltas[i + 1] ?? 0);
      }
      base += maxId + 1;
    }
    merged.timeDeltas.unshift(0);
    const r = reduceProfile(merged, top);
    r.busyMs /= files.length;
    for (const e of r.top) e.selfMs /= files.length;
    return r;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A profile as a Markdown table. */
export function profileTable(p: Profile): string {
  return [
    `| self ms (of ${p.busyMs.toFixed(0)} busy per run) | self % | function | where |`,
    "| ------: | -----: | -------- | ----- |",
    ...p.top.map((e) =>
      `| ${e.selfMs.toFixed(1)} | ${e.percent.toFixed(1)} | ${e.fn} | ${e.where || "(V8/Deno)"} |`
    ),
  ].join("\n");
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { top: { type: "string", default: "12" } },
  });
  console.log(profileTable(await profileDeno(positionals, Number(values.top))));
}
