/**
 * End-to-end benchmark (`deno task bench`): every number is a target checked against a baseline
 * measured in the same run, and BENCHMARKS.md is written from it (target / measured / met).
 *
 *   1. in-process RAM-record parsing (M records/s) of an idle-guest-shaped stream in memory,
 *      against a DataView walk of the same records (tools/bench/parse.ts);
 *   2. `inspect --json` of a real 4 GiB idle-guest capture (tools/idle_capture.ts, cached in
 *      .cache/bench/) against QEMU's analyze-migration.py (ANALYZE_MIGRATION names it);
 *   3. inspect (text) of the stream of a 2 GiB guest against `cat`, file in the page cache;
 *   4. replay against `cp --sparse=always` of the replayed image and `cp` of the stream, all
 *      timed until the data is on disk (`&& sync`);
 *   5. XBZRLE encode / decode in GB/s on realistic deltas, with a memcpy of the same pages;
 *   6. emit of a 1 GiB image that is 98 % holes, against `cp` of the image;
 *   7. start-up of `main.ts --version` against `deno run` of an empty script;
 *   8. saved VMs in containers (issue 13, tools/bench/saved_vms.ts): inspect of a gzip and of a
 *      zstd libvirt save image against `zcat` / `zstdcat` of the same compressed bytes, and
 *      replay of a qcow2 internal snapshot (QEMU 7.2 savevm) against replay of its state
 *      extracted to a file;
 *   9. replay of a real QEMU 10.0 multifd capture with zstd-compressed channels (issue 14,
 *      tools/bench/multifd_zstd.ts) against `zstd -dc` of the very payload bytes of its channels;
 *  10. forwarding through `migscope tap` (main channel parsed live) against a `socat` relay of
 *      the same stream (issue 15, tools/bench/tap.ts);
 *  11. a real QEMU migration's total time through `migscope tap` against the same migration
 *      straight to the destination (issue 15, tools/bench/tap_migration.ts).
 * A missed target gets a CPU profile (`deno run --cpu-prof`, top self-time functions).
 *
 *   deno task bench [--sizes 2] [--reps 5] [--only 1,2,7] [--no-write] [--keep]
 *
 * `--sizes` are GiB of guest RAM for targets 3–5 (fractions allowed, e.g. 0.25 while
 * developing); `--emit-gib`, `--idle-mib`, `--parse-pages`, `--saved-mib`, `--multifd-mib`,
 * `--tap-mib` and `--tap-migration-mib` size the others.
 * `--only` takes target ids or groups (`8` = 8a, 8b, 8c; `micro` = the `deno bench` tables):
 * BENCHMARKS.md then keeps what it says of every other target (tools/bench/report.ts).
 * @module
 */
import { parseArgs } from "node:util";
import * as fs from "node:fs";
import { cachedIdleCapture } from "./idle_capture.ts";
import { parseRates } from "./bench/parse.ts";
import { type Profile, profileDeno, profileTable } from "./bench/profile.ts";
import { changedPages, xbzrleRates } from "./bench/xbzrle.ts";
import {
  EXTRA_HEADER,
  group,
  mergeReports,
  parseReport,
  renderReport,
  type Report,
  table,
  TARGET_HEADER,
} from "./bench/report.ts";
import {
  buildQcow2Snapshot,
  buildSavedVmInputs,
  type CompressedImage,
  compressedImage,
} from "./bench/saved_vms.ts";
import { buildZstdMultifdInputs, unendedVerdict } from "./bench/multifd_zstd.ts";
import { benchTap } from "./bench/tap.ts";
import { CHUNK_BYTES } from "../src/tap/forward.ts";
import { benchTapMigration } from "./bench/tap_migration.ts";
import {
  CACHE,
  dur,
  evict,
  GiB,
  machine,
  MAIN,
  median,
  MiB,
  migscope,
  migscopeSh,
  PAGE,
  rate,
  ROOT,
  type Run,
  run,
  sh,
  sync,
  waitQuiet,
  warm,
  writeImage,
  writeSparseImage,
} from "./bench/util.ts";

/** One checked target. */
interface Target {
  id: string;
  what: string;
  target: string;
  measured: string;
  baseline: string;
  met?: boolean;
  /** What to profile when missed: `deno run -A` arguments. */
  profile?: string[];
  /** Runs before each profiled run (e.g. removes the previous run's output). */
  profileBefore?: () => Promise<unknown>;
  /** Said under the table. */
  note?: string;
}

/** Numbers measured in this run that the analysis quotes (ms, GB/s, M records/s). */
const facts: Record<string, number> = {};
const f0 = (k: string) => (facts[k] ?? NaN).toFixed(0);
const f1 = (k: string) => (facts[k] ?? NaN).toFixed(1);
/** A profiled function's share of the busy samples of target `id`, in %. */
const share = (id: string, ...fns: string[]) =>
  (profileData.get(id)?.top ?? []).filter((e) => fns.includes(e.fn))
    .reduce((a, e) => a + e.percent, 0).toFixed(0);

/** What limits a target, said in BENCHMARKS.md when it is missed (from this run's numbers). */
const LIMITS: Record<string, () => string> = {
  "1": () =>
    "The parser's per-record work beyond the DataView walk is validation (kind switch, block " +
    "bounds, PACKAGED limit, pass counting) and storing ten batch columns per record (`put`); " +
    "one generator step per batch of 2048. The profile is readRamBatch and put.",
  "2": () =>
    `The capture is small (≈10 MiB, ≈1.05 M records): inspect --json takes ${f0("t2")} ms in ` +
    `all, and ${f0("tiny")} ms of that is inspect's fixed cost — inspect of a 2.4 KiB stream ` +
    `(Other measurements, 7), against ${f0("empty")} ms for \`deno run\` of an empty script. ` +
    `Of that difference, ${f0("nodeFsExtra")} ms is Deno's Node-compatibility layer, which ` +
    '`import "node:fs"` alone loads (src/wire/random_access.ts, src/replay/targets.ts and ' +
    "src/commands/replay.ts import node:fs; `lazyLoad`, `loadExtScript` and " +
    `\`op_load_ext_script\` are ${
      share("2", "lazyLoad", "loadExtScript", "op_load_ext_script")
    } % ` +
    `of the profile). The records cost the remaining ≈${f0("t2records")} ms, in a fresh ` +
    "isolate: readRamBatch, addBatch, put and ramSection run their first batches before V8 has " +
    `optimized them, and the garbage collector takes ${share("2", "(garbage collector)")} % of ` +
    "the samples (≈1 % in the warm process of target 1) — likely doubles boxed by the " +
    "unoptimized tiers (page addresses up to 4 GiB and the batch's Float64Array columns are " +
    "beyond V8's small integers)." +
    (facts.summaryRate
      ? ` Warm, the same work runs at ${f1("summaryRate")} M records/s with the Summarizer.`
      : "") +
    ` 10× analyze-migration.py (${f0("peer2")} ms) means ≤ ${f0("t2goal")} ms for the whole ` +
    `process, ${f0("t2gap")} ms less than now — ` +
    (facts.t2gap <= facts.nodeFsExtra
      ? `less than the node:fs layer costs (${f0("nodeFsExtra")} ms).`
      : `more than the node:fs layer's ${f0("nodeFsExtra")} ms: the cold-start parse would ` +
        "have to shrink too."),
  "3": () =>
    `With the file in the page cache \`cat\` is a memory copy (${f0("cat3")} ms here); 0.8× ` +
    `cat means ≤ ${f0("t3goal")} ms, inspect takes ${f0("t3")} ms. Its fixed cost alone is ` +
    `${f0("tiny")} ms (inspect of a 2.4 KiB stream, Other measurements, 7: start-up, module ` +
    `loading, ${f0("nodeFsExtra")} ms of it node:fs's compatibility layer). In the profile, ` +
    `reading the file (\`op_node_fs_read_sync\`: 4 MiB positional reads through node:fs) is ` +
    `${share("3", "op_node_fs_read_sync")} % of the samples and parsing and summarizing ` +
    `(readRamBatch, addBatch, put, ramSection) ` +
    `${share("3", "readRamBatch", "addBatch", "put", "ramSection")} %. The copy out of the ` +
    "page cache cannot go without mmap (Deno has none outside FFI); the fixed cost is where " +
    "tens of ms could come from (no node:fs, fewer modules loaded for inspect). The profile " +
    "samples only after the runtime has started, and `--cpu-prof` slows the run down.",
  "4": () =>
    "replay's own CPU time is mostly its writes: `innerWriteSync` (Deno's node:fs `writeSync` " +
    "wrapper) and `op_node_fs_write_sync` lead the profile; the parse is a few per cent. The " +
    "rest of the wall time is `sync`: replay leaves the image sparse (zero pages are holes, " +
    "runs of non-zero pages are written at their offsets), and writing back an image of many " +
    "small extents costs more than one contiguous file — `cp --sparse=always` of the same " +
    "image pays the same, while `cp` of the stream writes one sequential extent.",
  "5a": () =>
    "encode's time is split between the copies into the WebAssembly module's memory " +
    "(`encodeWasm`: both 4 KiB pages are copied in with `mem.set` before each call and the " +
    "delta copied out — TypedArray copies count as its self time) and the SIMD scan " +
    "(`wasm-function[0]`). With the pages spread over 64 MiB the copies miss the caches, which " +
    "is also what bounds the memcpy baseline; keeping the cache's old pages in the module's " +
    "memory would save one of the two copies (src/xbzrle/encode_wasm.ts, cache.ts).",
  "5b": () =>
    "The measurement (unchanged from earlier runs, and bench/xbzrle_bench.ts's) copies the " +
    "old page onto a work page before each decode, and that copy is most of the time: the " +
    `memcpy of the same pages alone runs at ${f1("memcpy")} GB/s, decode with the copy at ` +
    `${f1("decode")} GB/s, so the decode itself (validation walk, then the apply walk: ` +
    "`validate` and `xbzrleDecode`, inlined into the loop in the profile) takes " +
    `≈${f0("decodeShare")} % of it. Decoding straight onto pages that hold the old content, ` +
    `as a destination does, runs at ${f1("decodeInPlace")} GB/s (Other measurements, 5).`,
  "6": () =>
    "emit reads every page of the image — holes come back from the kernel as zero-filled " +
    `pages (\`op_node_fs_read_sync\`, ${share("6", "op_node_fs_read_sync")} % of the samples) ` +
    `— and tests each for zero (\`isAllZero\`, ${share("6", "isAllZero")} %; see Hot paths: ` +
    "on zero pages it runs at about a quarter of a memcpy); building the records (`emitPass`, " +
    `\`writeRamHeader\`) is ${share("6", "emitPass", "writeRamHeader")} %. \`cp\` asks the ` +
    "file system where the data is (SEEK_DATA/SEEK_HOLE) and never reads the holes; Deno's " +
    "file API has no such whence, so emit cannot do the same without FFI. A faster zero test " +
    "(isAllZero already ORs 32-bit lanes four at a time, through a new Uint32Array view per " +
    "page; WebAssembly SIMD over a whole read chunk, as the XBZRLE encoder does its compares, " +
    "would be the next step) would cut the largest share.",
  "7": () =>
    "Start-up is `deno run`'s own (the empty script) plus loading src/cli/main.ts's module " +
    "graph, including Node-compatibility modules (`node:util`).",
  "8a": () =>
    `inspect takes ${f0("t8a")} ms, zcat ${f0("base8a")} ms (0.8× means ≤ ${f0("goal8a")} ` +
    `ms); inspect of the same stream uncompressed takes ${f0("bare8")} ms (start-up and ` +
    "parsing). gzip is inflated in process by Deno's node:zlib through a node:stream Transform " +
    "(src/container/decompress.ts).",
  "8b": () =>
    `inspect takes ${f0("t8b")} ms, zstdcat ${f0("base8b")} ms (0.8× means ≤ ` +
    `${f0("goal8b")} ms). inspect of the same stream uncompressed takes ${f0("bare8")} ms ` +
    "(start-up and parsing), so reading and decompressing cost inspect " +
    `≈${(facts.t8b - facts.bare8).toFixed(0)} ms against zstdcat's ${f0("base8b")} ms for ` +
    `its whole process (${(facts.base8b / (facts.t8b - facts.bare8)).toFixed(2)}× without ` +
    "inspect's start-up and parse). The decoder is libzstd inside Deno's node:zlib, driven by " +
    "the zlib handle's synchronous write straight into the reader's buffer " +
    "(src/container/decompress.ts; through the node:stream Transform used before, the whole " +
    `inspect took 20–25 % longer): \`writeSync\` is ${share("8b", "writeSync")} % of the ` +
    "profile. Measured apart, that handle in a loop over the compressed file held in memory, " +
    "decoding into one 256 KiB buffer, runs about as fast as zstdcat; in inspect the input is " +
    "read into one reused 1 MiB buffer (src/container/bytes.ts: `rangeChunks(…).reusing()`, " +
    `\`chunksOf\` and \`op_read_sync\` are ${share("8b", "chunksOf", "op_read_sync")} % of ` +
    "the profile; a fresh buffer per chunk, as before, cost ≈10 %) and the output lands across " +
    "the reader's 4 MiB buffer. Start-up and parsing then run on the same core as the decoder, " +
    "where zstdcat only decodes and writes to /dev/null; decoding on a second core (a Worker) " +
    "could hide the parse but not the start-up, and its output would have to be copied across.",
  "9": () =>
    `replay takes ${f0("t9")} ms, \`zstd -dc\` of the payloads ${f0("base9")} ms (0.5× means ` +
    `≤ ${f0("goal9")} ms). Start-up, parse and decode of both channels alone, without replay, ` +
    `take ${f0("dec9")} ms (Other measurements, 9), ${(facts.dec9 - facts.base9).toFixed(0)} ` +
    "ms more than `zstd -dc`, start-up and parsing included: the decoder is libzstd inside " +
    "Deno's node:zlib, driven by the zlib handle's synchronous write straight into the " +
    "packet's pages (src/parse/multifd_payload.ts; through node:stream, as before, replay took " +
    "≈18 % longer), and that handle in a loop over the payloads held in memory decodes them in " +
    "about zstd's time, measured apart. The other " +
    `≈${(facts.t9 - facts.dec9).toFixed(0)} ms are replay's own work on the same core: each ` +
    "decoded page tested for zero and copied into the 1 MiB write queue, then written into the " +
    "sparse image (src/replay/target.ts: an lseek and a write per run of contiguous pages; " +
    `\`op_write_sync\` and \`op_fs_seek_sync\` are ${
      share("9", "op_write_sync", "op_fs_seek_sync")
    } % of the profile) and the kernel's page-cache allocation for them, where zstd writes to ` +
    "/dev/null. The channels are decoded one packet at a time between those writes (the " +
    "scheduler, src/replay/multifd_scheduler.ts, asks a channel for its next packet after " +
    "applying the previous one), so the second core stays idle: decoding ahead in a Worker, " +
    "one per channel as QEMU's receiver has a thread per channel, is where the rest would come " +
    "from — outside the payload decoder.",
  "10": () =>
    `The tap takes ${f0("t10")} ms, the socat relay ${f0("base10")} ms (0.8× means ≤ ` +
    `${f0("goal10")} ms). The tap is one Deno process: each chunk (256 KiB reads, two buffers ` +
    "per direction, each write awaited before the next read) is also copied for the main " +
    "channel's parser, which reads every record on the same thread (src/tap/connection.ts, " +
    "live_parse.ts); the socat relay only copies.",
  "11": () =>
    `Through the tap the migration took ${f0("t11")} ms, direct ${f0("base11")} ms (1.1× ` +
    `means ≤ ${(facts.base11 * 1.1).toFixed(0)} ms): the ${f0("stream11")} MiB main stream ` +
    "is read and written once more, and parsed, by a third process, on two cores that the " +
    "source's migration thread and the destination's load thread already keep busy.",
  "8c": () =>
    "The state is read through the snapshot's L1/L2 tables cluster by cluster " +
    "(src/container/qcow2_state.ts), positional reads as for the extracted file.",
};

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string", default: "2" },
    reps: { type: "string", default: "5" },
    "startup-runs": { type: "string", default: "15" },
    "emit-gib": { type: "string", default: "1" },
    "idle-mib": { type: "string", default: "4096" },
    "parse-pages": { type: "string", default: String(1 << 20) },
    "saved-mib": { type: "string", default: "1024" },
    "multifd-mib": { type: "string", default: "1024" },
    "tap-mib": { type: "string", default: "1024" },
    "tap-migration-mib": { type: "string", default: "512" },
    only: { type: "string" },
    out: { type: "string", default: "BENCHMARKS.md" },
    keep: { type: "boolean", default: false },
    "no-write": { type: "boolean", default: false },
    "no-profile": { type: "boolean", default: false },
    "no-micro": { type: "boolean", default: false },
  },
});
const reps = Number(values.reps);
const only = values.only ? new Set(values.only.split(",")) : undefined;
const want = (id: string) => !only || only.has(id) || only.has(group(id));
const dir = await Deno.makeTempDir({ prefix: "migscope-bench-" });
const targets: Target[] = [];
const extras: string[][] = [];
const notes: string[] = [];
const peer = Deno.env.get("ANALYZE_MIGRATION");
const profiles = new Map<string, string>();
const profileData = new Map<string, Profile>();
const log = (s: string) => console.error(`bench: ${s}`);
const ratio = (x: number) => `${x.toFixed(2)}×`;

/** Runs `fn` `n` times (after `warmup` untimed runs); the runs in order. */
async function repeat(n: number, fn: () => Promise<Run>, warmup = 0): Promise<Run[]> {
  const out: Run[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const r = await fn();
    if (r.code !== 0) throw new Error(`a measured command failed: ${r.stderr.slice(0, 300)}`);
    if (i >= warmup) out.push(r);
  }
  return out;
}
const med = (rs: Run[]) => median(rs.map((r) => r.seconds));

/** Load from other processes seen before each target (they share the machine's cores). */
const quiet: [string, string][] = [];
async function settle(id: string) {
  const busy = await waitQuiet();
  quiet.push([id, `${(100 * busy).toFixed(0)} %`]);
  if (busy > 0.1) log(`target ${id}: the machine is still ${(100 * busy).toFixed(0)} % busy`);
}

// ---- 7. start-up ----------------------------------------------------------------------------
if (want("7")) {
  await settle("7");
  log("start-up");
  const n = Math.max(10, Number(values["startup-runs"]));
  await Deno.mkdir(CACHE, { recursive: true });
  const empty = `${CACHE}/empty.ts`;
  await Deno.writeTextFile(empty, "");
  let flag = "--version";
  const probe = await migscope([flag]);
  if (probe.code !== 0) flag = "--help";
  // Fixed costs, for the analysis: a script that only imports node:fs (src/ reads and writes
  // files through it), and inspect of a 2.4 KB stream (1 MiB of zero RAM).
  const nodeFs = `${CACHE}/import_node_fs.ts`;
  await Deno.writeTextFile(nodeFs, 'import "node:fs";\n');
  const zeroImg = `${dir}/tiny.img`;
  const tiny = `${dir}/tiny.mig`;
  await Deno.writeFile(zeroImg, new Uint8Array(MiB));
  await migscope(["emit", "--ram", `pc.ram=${zeroImg}`, "-o", tiny]);
  const ours: Run[] = [];
  const base: Run[] = [];
  const fsOnly: Run[] = [];
  const tinyInspect: Run[] = [];
  for (let i = 0; i < n + 2; i++) {
    const a = await migscope([flag]);
    const b = await run(Deno.execPath(), ["run", "-A", empty]);
    const c = await run(Deno.execPath(), ["run", "-A", nodeFs]);
    const d = await migscope(["inspect", tiny]);
    if (i >= 2) ours.push(a), base.push(b), fsOnly.push(c), tinyInspect.push(d);
  }
  const t = med(ours);
  facts.empty = med(base) * 1000;
  facts.tiny = med(tinyInspect) * 1000;
  facts.nodeFsExtra = (med(fsOnly) - med(base)) * 1000;
  extras.push([
    "7",
    "`deno run -A` of a script that only imports `node:fs`",
    dur(med(fsOnly)),
    `empty script: ${dur(med(base))} (+${dur(med(fsOnly) - med(base))})`,
  ]);
  extras.push([
    "7",
    `\`inspect\` of a ${
      (fs.statSync(tiny).size / 1024).toFixed(1)
    } KiB stream (fixed cost of inspect)`,
    dur(med(tinyInspect)),
    `empty script: ${dur(med(base))} (+${dur(med(tinyInspect) - med(base))})`,
  ]);
  targets.push({
    id: "7",
    what: `start-up: \`deno run -A src/cli/main.ts ${flag}\` (median of ${n})`,
    target: "≤ 60 ms",
    measured: dur(t),
    baseline: `\`deno run -A\` of an empty script: ${dur(med(base))} (+${
      dur(t - med(base))
    } for migscope)`,
    met: t <= 0.06,
    profile: [MAIN, flag],
    note: flag === "--help" ? "`main.ts --version` failed in this run; `--help` was measured." : "",
  });
}

// ---- 1. in-process parsing ------------------------------------------------------------------
if (want("1")) {
  await settle("1");
  log("in-process parsing");
  const pages = Number(values["parse-pages"]);
  const r = await parseRates(pages, Math.max(reps, 11));
  facts.summaryRate = r.rates.summary;
  const mr = (x: number) => `${x.toFixed(1)} M records/s`;
  const guest = `${(pages * 4096 / GiB).toFixed(pages * 4096 >= GiB ? 0 : 2)} GiB`;
  targets.push({
    id: "1",
    what: `RAM-record parsing in-process, \`parseStreamItems\` (${guest} idle guest: ${
      (r.records / 1e6).toFixed(2)
    } M records, ${(r.streamBytes / MiB).toFixed(0)} MiB)`,
    target: "≥ 40 M records/s",
    measured: mr(r.rates.items),
    baseline: `DataView walk of the same records: ${mr(r.rates.walk)} (${
      ratio(r.rates.items / r.rates.walk)
    })`,
    met: r.rates.items >= 40,
    profile: [`${ROOT}tools/bench/parse.ts`, "--case", "items", "--pages", String(pages)],
  });
  extras.push([
    "1",
    "parse + `Summarizer.add` per item",
    mr(r.rates.summary),
    `${ratio(r.rates.summary / r.rates.walk)} of the DataView walk`,
  ]);
  extras.push([
    "1",
    "`parseStream` (one record object per RAM record)",
    mr(r.rates.records),
    `${ratio(r.rates.records / r.rates.walk)} of the DataView walk`,
  ]);
}

// ---- 2. inspect --json of a real idle capture vs analyze-migration.py ---------------------------
if (want("2")) {
  log("idle capture");
  const cap = await cachedIdleCapture({ ramMiB: Number(values["idle-mib"]) });
  await settle("2");
  log(`inspect --json of ${cap.file}${cap.cached ? " (cached)" : ""}`);
  await warm(cap.file);
  const ours = await repeat(reps, () => migscope(["inspect", "--json", cap.file]), 1);
  const t = med(ours);
  const what = `\`inspect --json\` of a ${Number(values["idle-mib"]) / 1024} GiB idle guest ` +
    `(QEMU ${cap.qemuVersion}, ${(cap.bytes / MiB).toFixed(1)} MiB stream)`;
  if (peer) {
    const theirs = await repeat(reps, () => run("python3", [peer, "-f", cap.file]), 1);
    const tp = med(theirs);
    facts.t2 = t * 1000;
    facts.peer2 = tp * 1000;
    facts.t2goal = tp * 100;
    facts.t2gap = (t - tp / 10) * 1000;
    facts.t2records = (t * 1000) - (facts.tiny ?? NaN);
    targets.push({
      id: "2",
      what,
      target: "≥ 10× faster than analyze-migration.py",
      measured: `${dur(t)}: ${ratio(tp / t)} faster`,
      baseline: `analyze-migration.py -f: ${dur(tp)}`,
      met: tp / t >= 10,
      profile: [MAIN, "inspect", "--json", cap.file],
    });
  } else {
    targets.push({
      id: "2",
      what,
      target: "≥ 10× faster than analyze-migration.py",
      measured: dur(t),
      baseline: "not measured: ANALYZE_MIGRATION is unset",
      note: "Set ANALYZE_MIGRATION to the path of QEMU's scripts/analyze-migration.py.",
    });
  }
  extras.push([
    "2",
    "peak RSS of that inspect --json",
    `${(Math.max(...ours.map((r) => r.peakRss)) / MiB).toFixed(0)} MiB`,
    "",
  ]);
}

// ---- 3, 4, 5. streams of the synthetic guest -------------------------------------------------
const sizes = values.sizes!.split(",").map(Number);
if (want("3") || want("4") || want("5")) {
  for (const gib of sizes) {
    const bytes = Math.round(gib * GiB / MiB) * MiB;
    const r0 = `${dir}/ram.${gib}.0`;
    const r1 = `${dir}/ram.${gib}.1`;
    const stream = `${dir}/s.${gib}.mig`;
    log(`building ${gib} GiB images and the stream`);
    writeImage(r0, bytes, 1);
    writeImage(r1, bytes, 2, r0);
    const e = await migscope([
      "emit",
      "--ram",
      `pc.ram=${r0}`,
      "--round",
      `pc.ram=${r1}`,
      "--xbzrle",
      "-o",
      stream,
    ]);
    if (e.code !== 0) throw new Error(`emit failed: ${e.stderr}`);
    const size = fs.statSync(stream).size;
    const label = `${gib} GiB guest, ${(size / MiB).toFixed(0)} MiB stream`;
    await warm(stream);

    if (want("3")) {
      await settle("3");
      log("inspect vs cat");
      const ins: Run[] = [];
      const cat: Run[] = [];
      for (let i = 0; i < reps + 1; i++) {
        const c = await run("cat", [stream]);
        const a = await migscope(["inspect", stream]);
        if (a.code) throw new Error(`inspect failed: ${a.stderr}`);
        if (i > 0) ins.push(a), cat.push(c);
      }
      const ti = med(ins);
      const tc = med(cat);
      facts.t3 = ti * 1000;
      facts.cat3 = tc * 1000;
      facts.t3goal = tc / 0.8 * 1000;
      targets.push({
        id: "3",
        what: `\`inspect\` (text to /dev/null), ${label}, in the page cache`,
        target: "≥ 0.8× cat",
        measured: `${dur(ti)} (${rate(size, ti)}): ${ratio(tc / ti)}`,
        baseline: `cat FILE > /dev/null: ${dur(tc)} (${rate(size, tc)})`,
        met: tc / ti >= 0.8,
        profile: [MAIN, "inspect", stream],
      });
      extras.push([
        "3",
        "peak RSS of that inspect",
        `${(Math.max(...ins.map((r) => r.peakRss)) / MiB).toFixed(0)} MiB`,
        "",
      ]);
      // Cold cache, once: the file evicted before each command.
      if (await evict(stream)) {
        const c = await run("cat", [stream]);
        await evict(stream);
        const a = await migscope(["inspect", stream]);
        extras.push([
          "3",
          "inspect, cold cache (once)",
          `${dur(a.seconds)} (${rate(size, a.seconds)})`,
          `cat, cold cache: ${dur(c.seconds)}: ${ratio(c.seconds / a.seconds)}`,
        ]);
        await warm(stream);
      }
    }

    if (want("4")) {
      await settle("4");
      log("replay vs cp");
      const out = `${dir}/out`;
      const img = `${out}/pc.ram.ram`;
      const rep: Run[] = [];
      const sparse: Run[] = [];
      const plain: Run[] = [];
      const clean = async () => {
        await sh(`rm -rf '${out}' '${dir}/cp.ram' '${dir}/copy.mig'`);
        await sync();
      };
      // Each command is timed until its data is on disk: `CMD && sync`, after an untimed sync.
      for (let i = 0; i < reps; i++) {
        await clean();
        const r = await sh(`${migscopeSh(`replay '${stream}' --out '${out}' --quiet`)} && sync`);
        if (r.code) throw new Error(`replay failed: ${r.stderr}`);
        r.peakRss = 0;
        rep.push(r);
        await sync();
        sparse.push(await sh(`cp --sparse=always '${img}' '${dir}/cp.ram' && sync`));
        await sh(`rm -f '${dir}/cp.ram'`);
        await sync();
        plain.push(await sh(`cp '${stream}' '${dir}/copy.mig' && sync`));
      }
      await clean();
      const tr = med(rep);
      const ts = med(sparse);
      const tp = med(plain);
      targets.push({
        id: "4a",
        what: `\`replay\` to disk (+ sync), ${label}`,
        target: "≥ 0.8× cp --sparse=always of the replayed image",
        measured: `${dur(tr)} (${rate(size, tr)} of stream): ${ratio(ts / tr)}`,
        baseline: `cp --sparse=always IMAGE COPY && sync: ${dur(ts)}`,
        met: ts / tr >= 0.8,
        profile: [MAIN, "replay", stream, "--out", `${dir}/prof-out`, "--quiet"],
      });
      targets.push({
        id: "4b",
        what: `\`replay\` to disk (+ sync), ${label}`,
        target: "≥ 0.5× cp of the stream",
        measured: `${dur(tr)}: ${ratio(tp / tr)}`,
        baseline: `cp STREAM COPY && sync: ${dur(tp)} (${rate(size, tp)})`,
        met: tp / tr >= 0.5,
        profile: [MAIN, "replay", stream, "--out", `${dir}/prof-out`, "--quiet"],
      });
      const rss = await migscope(["replay", stream, "--out", out, "--quiet"]);
      extras.push(["4", "peak RSS of replay", `${(rss.peakRss / MiB).toFixed(0)} MiB`, ""]);
      await clean();
    }

    if (want("5")) {
      await settle("5");
      log("XBZRLE");
      const { oldP, newP } = changedPages(r0, r1);
      const x = xbzrleRates(oldP, newP, Math.max(reps, 7));
      facts.memcpy = x.memcpy;
      facts.decode = x.decode;
      facts.decodeInPlace = x.decodeInPlace;
      // Time shares: decode-with-copy = copy + decode proper.
      facts.decodeShare = 100 * (1 / x.decode - 1 / x.memcpy) / (1 / x.decode);
      extras.push([
        "5",
        "XBZRLE decode straight onto the old pages (no copy first)",
        `${x.decodeInPlace.toFixed(2)} GB/s`,
        `memcpy of the same pages: ${x.memcpy.toFixed(1)} GB/s`,
      ]);
      const prof = (c: string) => [
        `${ROOT}tools/bench/xbzrle.ts`,
        "--old",
        r0,
        "--new",
        r1,
        "--case",
        c,
        "--rounds",
        "400",
      ];
      targets.push({
        id: "5a",
        what: `XBZRLE encode, ${x.pairs} changed pages of the ${gib} GiB guest's round`,
        target: "≥ 3 GB/s",
        measured: `${x.encode.toFixed(2)} GB/s`,
        baseline: `memcpy of the same pages: ${x.memcpy.toFixed(1)} GB/s`,
        met: x.encode >= 3,
        profile: prof("encode"),
      });
      targets.push({
        id: "5b",
        what: "XBZRLE decode (onto a copy of the old page), the same pages",
        target: "≥ 6 GB/s",
        measured: `${x.decode.toFixed(2)} GB/s`,
        baseline: `memcpy of the same pages: ${x.memcpy.toFixed(1)} GB/s`,
        met: x.decode >= 6,
        profile: prof("decode"),
      });
    }
    // Profiles of misses need the stream and the images: taken before they are removed.
    await profileMisses();
    if (!values.keep) { for (const f of [r0, r1, stream]) await Deno.remove(f).catch(() => {}); }
  }
}

// ---- 6. emit of a mostly-zero image ---------------------------------------------------------
if (want("6")) {
  const gib = Number(values["emit-gib"]);
  const bytes = Math.round(gib * GiB / MiB) * MiB;
  const img = `${dir}/holes.img`;
  log(`emit of a ${gib} GiB image that is 98 % holes`);
  const data = writeSparseImage(img, bytes);
  await warm(img);
  await settle("6");
  const out = `${dir}/holes.mig`;
  const emit: Run[] = [];
  const cp: Run[] = [];
  for (let i = 0; i < reps + 1; i++) {
    await sh(`rm -f '${out}' '${dir}/holes.copy'`);
    await sync();
    const e = await migscope(["emit", "--ram", `pc.ram=${img}`, "-o", out]);
    if (e.code) throw new Error(`emit failed: ${e.stderr}`);
    await sync();
    const c = await run("cp", [img, `${dir}/holes.copy`]);
    if (i > 0) emit.push(e), cp.push(c);
  }
  const te = med(emit);
  const tc = med(cp);
  targets.push({
    id: "6",
    what: `\`emit\` of a ${gib} GiB image, ${(100 * (1 - data / bytes)).toFixed(0)} % holes (${
      (fs.statSync(out).size / MiB).toFixed(0)
    } MiB stream), to the page cache`,
    target: "≥ 2 GB/s of RAM",
    measured: `${dur(te)}: ${rate(bytes, te)} of RAM`,
    baseline: `cp IMAGE COPY: ${dur(tc)} (${rate(bytes, tc)}): ${ratio(tc / te)}`,
    met: bytes / te >= 2e9,
    profile: [MAIN, "emit", "--ram", `pc.ram=${img}`, "-o", `${dir}/prof.mig`],
  });
  await profileMisses();
  await sh(`rm -f '${img}' '${out}' '${dir}/holes.copy' '${dir}/prof.mig'`);
}

// ---- 8. saved VMs in containers (issue 13) --------------------------------------------------
if (want("8a") || want("8b") || want("8c")) {
  const mib = Number(values["saved-mib"]);
  const sv = await Deno.makeTempDir({ dir, prefix: "saved-" });
  const inputs = await buildSavedVmInputs(sv, mib * MiB, log);
  const guest = `${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`} guest`;
  const streamMiB = `${(inputs.streamBytes / MiB).toFixed(0)} MiB stream`;
  await warm(inputs.stream);
  // Start-up and parsing without decompression: inspect of the bare stream (for the analysis).
  const bare: Run[] = [];
  const tinyDir = await Deno.makeTempDir({ dir: sv, prefix: "small-" });
  const small = `${tinyDir}/small.mig`;
  await Deno.copyFile(`${ROOT}samples/small-xbzrle.mig`, small);
  const rows8: [string, string, CompressedImage | undefined, "gzip" | "zstd"][] = [
    ["8a", "zcat", inputs.gzip, "gzip"],
    ["8b", "zstdcat", inputs.zstd, "zstd"],
  ];
  for (const [id, tool, img, format] of rows8) {
    if (!want(id)) continue;
    const what = `\`inspect\` of a ${format} libvirt save image, ${guest} (${streamMiB}, ${
      img ? `${(img.bytes / MiB).toFixed(0)} MiB ${format}` : format
    }), in the page cache`;
    if (!img) {
      targets.push({
        id,
        what,
        target: `≥ 0.8× ${tool}`,
        measured: "not measured",
        baseline: `not measured: ${inputs.skipped[format]}`,
      });
      continue;
    }
    await settle(id);
    log(`inspect of the ${format} libvirt save image vs ${tool}`);
    await warm(img.image);
    await warm(img.bare);
    const ours: Run[] = [];
    const theirs: Run[] = [];
    for (let i = 0; i < reps + 1; i++) {
      const c = await run(tool, [img.bare]);
      const a = await migscope(["inspect", img.image]);
      if (a.code || c.code) throw new Error(`inspect or ${tool} failed: ${a.stderr}${c.stderr}`);
      const b = await migscope(["inspect", inputs.stream]);
      if (i > 0) ours.push(a), theirs.push(c), bare.push(b);
    }
    const ti = med(ours);
    const tc = med(theirs);
    facts[`t${id}`] = ti * 1000;
    facts[`base${id}`] = tc * 1000;
    facts[`goal${id}`] = tc / 0.8 * 1000;
    targets.push({
      id,
      what,
      target: `≥ 0.8× ${tool}`,
      measured: `${dur(ti)} (${rate(inputs.streamBytes, ti)} of stream): ${ratio(tc / ti)}`,
      baseline: `${tool} FILE > /dev/null: ${dur(tc)} (${rate(inputs.streamBytes, tc)})`,
      met: tc / ti >= 0.8,
      profile: [MAIN, "inspect", img.image],
    });
    extras.push([
      "8",
      `peak RSS of that inspect (${format})`,
      `${(Math.max(...ours.map((r) => r.peakRss)) / MiB).toFixed(0)} MiB`,
      "",
    ]);
    // The same on a small image: what start-up costs each side.
    const s = await compressedImage(tinyDir, small, format, 8, "small");
    if (s) {
      await warm(s.image);
      const so = await repeat(reps, () => migscope(["inspect", s.image]), 1);
      const st = await repeat(reps, () => run(tool, [s.bare]), 1);
      extras.push([
        "8",
        `\`inspect\` of a small ${format} libvirt save image (samples/small-xbzrle.mig, ${
          (fs.statSync(small).size / MiB).toFixed(1)
        } MiB stream)`,
        dur(med(so)),
        `${tool}: ${dur(med(st))}: ${ratio(med(st) / med(so))}`,
      ]);
    }
  }
  if (bare.length) {
    facts.bare8 = med(bare) * 1000;
    extras.push([
      "8",
      `\`inspect\` of the same ${streamMiB}, uncompressed (start-up and parsing)`,
      dur(med(bare)),
      "",
    ]);
  }
  if (want("8c")) {
    const q = await buildQcow2Snapshot(sv, inputs.ram, inputs.ramBytes, log);
    const what = "`replay` of a qcow2 internal snapshot's VM state";
    if (typeof q === "string") {
      log(`target 8c skipped: ${q}`);
      targets.push({
        id: "8c",
        what: `${what} (${guest})`,
        target: "≥ 0.8× replay of the state extracted to a file",
        measured: "not measured",
        baseline: `not measured: ${q}`,
        note: `8c was skipped: ${q}.`,
      });
    } else {
      await settle("8c");
      log("replay of the qcow2 snapshot vs replay of its extracted state");
      await warm(q.image);
      await warm(q.state);
      const out = `${sv}/out`;
      const snap: Run[] = [];
      const file: Run[] = [];
      // Each replay writes into a fresh --out after an untimed removal and sync.
      const timed = async (args: string[]) => {
        await sh(`rm -rf '${out}'`);
        await sync();
        const r = await migscope(["replay", ...args, "--out", out, "--quiet"]);
        if (r.code) throw new Error(`replay failed: ${r.stderr}`);
        return r;
      };
      for (let i = 0; i < reps + 1; i++) {
        const a = await timed([q.image, "--snapshot", q.snapshot]);
        const b = await timed([q.state]);
        if (i > 0) snap.push(a), file.push(b);
      }
      await sh(`rm -rf '${out}'`);
      const ts = med(snap);
      const tf = med(file);
      targets.push({
        id: "8c",
        what: `${what} (QEMU ${q.qemuVersion} savevm, ${guest}, ${
          (q.stateBytes / MiB).toFixed(0)
        } MiB state) into a scratch --out dir`,
        target: "≥ 0.8× replay of the state extracted to a file",
        measured: `${dur(ts)} (${rate(q.stateBytes, ts)} of state): ${ratio(tf / ts)}`,
        baseline: `replay of \`extract --snapshot\`'s file: ${dur(tf)}`,
        met: tf / ts >= 0.8,
        profile: [
          MAIN,
          "replay",
          q.image,
          "--snapshot",
          q.snapshot,
          "--out",
          `${dir}/prof-out`,
          "--quiet",
        ],
      });
      extras.push([
        "8",
        "peak RSS of that replay of the qcow2 snapshot",
        `${(Math.max(...snap.map((r) => r.peakRss)) / MiB).toFixed(0)} MiB`,
        `replay of the extracted state: ${
          (Math.max(...file.map((r) => r.peakRss)) / MiB).toFixed(0)
        } MiB`,
      ]);
    }
  }
  // Profiles of misses need the images: taken before they are removed.
  await profileMisses();
  if (!values.keep) await Deno.remove(sv, { recursive: true }).catch(() => {});
}

// ---- 9. replay of a zstd multifd capture (issue 14) ------------------------------------------
if (want("9")) {
  const mib = Number(values["multifd-mib"]);
  const guest = `${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`} guest`;
  const md = await Deno.makeTempDir({ dir, prefix: "multifd-" });
  const what = "`replay MAIN --channel C1 --channel C2` of a zstd multifd capture";
  const target = "≥ 0.5× `zstd -d` of the same payload bytes";
  const inputs = await buildZstdMultifdInputs(md, mib * MiB, log);
  if (typeof inputs === "string") {
    log(`target 9 skipped: ${inputs}`);
    targets.push({
      id: "9",
      what: `${what} (${guest})`,
      target,
      measured: "not measured",
      baseline: `not measured: ${inputs}`,
      note: `9 was skipped: ${inputs}.`,
    });
  } else {
    await settle("9");
    log("replay of the zstd multifd capture vs zstd -dc of its payloads");
    const { main, channels, payloads } = inputs;
    const chArgs = channels.flatMap((c) => ["--channel", c]);
    for (const f of [main, ...channels, ...payloads.map((p) => p.ended)]) await warm(f);
    // The same pages recompressed by the zstd CLI as one frame per channel, at the same level.
    const recompressed = payloads.map((p) => `${p.ended}.one-frame.zst`);
    for (const [i, p] of payloads.entries()) {
      await sh(`zstd -dc -q '${p.ended}' | zstd -${inputs.level} -q -c > '${recompressed[i]}'`);
      await warm(recompressed[i]);
    }
    const zstdAll = (files: string[]) =>
      sh(files.map((f) => `zstd -dc -q '${f}' > /dev/null`).join(" && "));
    const out = `${md}/out`;
    const ours: Run[] = [];
    const theirs: Run[] = [];
    const oneFrame: Run[] = [];
    const decodeOnly: Run[] = [];
    const decodeArgs = ["run", "-A", `${ROOT}tools/bench/multifd_zstd.ts`, ...channels];
    // Each replay writes into a fresh --out (same file system) after an untimed removal and
    // sync; the first round is not timed, its replay is checked against the destination.
    for (let i = 0; i < reps + 1; i++) {
      await sh(`rm -rf '${out}'`);
      await sync();
      const a = await migscope(["replay", main, ...chArgs, "--out", out, "--quiet"]);
      if (a.code) throw new Error(`replay failed: ${a.stderr}`);
      if (i === 0 && (await sh(`cmp -s '${out}/pc.ram.ram' '${inputs.dstRam}'`)).code) {
        throw new Error("replay of the zstd multifd capture differs from the destination's RAM");
      }
      await sh(`rm -rf '${out}'`);
      await sync();
      const b = await zstdAll(payloads.map((p) => p.ended));
      const c = await zstdAll(recompressed);
      const d = await run(Deno.execPath(), decodeArgs);
      if (b.code || c.code || d.code) throw new Error(`zstd -dc failed: ${b.stderr}${c.stderr}`);
      if (i > 0) ours.push(a), theirs.push(b), oneFrame.push(c), decodeOnly.push(d);
    }
    const to = med(ours);
    const tz = med(theirs);
    const payloadBytes = payloads.reduce((a, p) => a + p.bytes, 0);
    const pageBytes = payloads.reduce((a, p) => a + p.pages * PAGE, 0);
    facts.t9 = to * 1000;
    facts.base9 = tz * 1000;
    facts.goal9 = tz / 0.5 * 1000;
    facts.dec9 = med(decodeOnly) * 1000;
    const unended = await unendedVerdict(payloads[0]);
    targets.push({
      id: "9",
      what:
        `${what} (QEMU ${inputs.qemuVersion}, multifd-compression zstd level ${inputs.level}, ` +
        `2 channels; ${guest}, ${(pageBytes / MiB).toFixed(0)} MiB of pages in ${
          (payloadBytes / MiB).toFixed(0)
        } MiB of zstd payloads) into a scratch --out dir`,
      target,
      measured: `${dur(to)} (${rate(pageBytes, to)} of pages): ${ratio(tz / to)}`,
      baseline: `\`zstd -dc\` of each channel's payloads > /dev/null: ${dur(tz)} (${
        rate(pageBytes, tz)
      })`,
      met: tz / to >= 0.5,
      profile: [MAIN, "replay", main, ...chArgs, "--out", `${dir}/prof-out`, "--quiet"],
      // Each profiled replay writes a fresh --out, as the measured ones do.
      profileBefore: async () => {
        await sh(`rm -rf '${dir}/prof-out'`);
        await sync();
      },
      note: "9's baseline reads exactly each channel's payloads, concatenated, plus 3 bytes: " +
        "QEMU flushes one zstd stream per channel at the end of each packet and never ends the " +
        `frame, and \`zstd -dc\` of the bare concatenation ${unended}; the 3 bytes are the ` +
        "frame end ZSTD_e_end would write (an empty last block; QEMU's frames have no checksum).",
    });
    extras.push([
      "9",
      "`zstd -dc` of the same pages recompressed by `zstd -" + inputs.level +
      "` as one frame per channel",
      dur(med(oneFrame)),
      `replay: ${ratio(med(oneFrame) / to)}`,
    ]);
    extras.push([
      "9",
      "start-up, parse and decode of both channels, no replay (tools/bench/multifd_zstd.ts)",
      dur(med(decodeOnly)),
      `zstd -dc of the payloads: ${ratio(tz / med(decodeOnly))}`,
    ]);
    extras.push([
      "9",
      "peak RSS of that replay",
      `${(Math.max(...ours.map((r) => r.peakRss)) / MiB).toFixed(0)} MiB`,
      "",
    ]);
  }
  await profileMisses();
  if (!values.keep) await Deno.remove(md, { recursive: true }).catch(() => {});
}

// ---- 10. forwarding through migscope tap (issue 15) -----------------------------------------
if (want("10")) {
  const mib = Number(values["tap-mib"]);
  const guest = `${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`} guest`;
  const what = "forwarding through `migscope tap` (main channel parsed live), source and sink " +
    `socat over TCP, the emitted stream of a ${guest}`;
  const target = "≥ 0.8× a socat relay (and GB/s against issue 15's ≥ 1 GB/s)";
  await settle("10");
  log("tap vs a socat relay");
  let t: Awaited<ReturnType<typeof benchTap>> | undefined;
  let rec: Awaited<ReturnType<typeof benchTap>> | undefined;
  let why = "";
  try {
    t = await benchTap({ mib, reps });
    rec = await benchTap({ mib, reps, record: true });
  } catch (e) {
    why = (e as Error).message;
  }
  if (!t) {
    log(`target 10 skipped: ${why}`);
    targets.push({
      id: "10",
      what,
      target,
      measured: "not measured",
      baseline: `not measured: ${why}`,
      note: `10 was skipped: ${why}.`,
    });
  } else {
    const gbs = (ms: number) => t!.bytes / 1e9 / (ms / 1000);
    facts.t10 = t.tapMs;
    facts.base10 = t.socatMs;
    facts.goal10 = t.socatMs / 0.8;
    facts.gbs10 = gbs(t.tapMs);
    facts.socatGbs10 = gbs(t.socatMs);
    targets.push({
      id: "10",
      what: `${what} (${(t.bytes / MiB).toFixed(0)} MiB)`,
      target,
      measured: `${dur(t.tapMs / 1000)} (${gbs(t.tapMs).toFixed(2)} GB/s: ${
        gbs(t.tapMs) >= 1 ? "≥" : "<"
      } 1 GB/s): ${ratio(t.socatMs / t.tapMs)}`,
      baseline: `\`socat TCP-LISTEN:… TCP:…\` relay: ${dur(t.socatMs / 1000)} (${
        gbs(t.socatMs).toFixed(2)
      } GB/s)`,
      met: t.socatMs / t.tapMs >= 0.8,
      note: "10 is timed from the source's start (`socat -u OPEN:STREAM TCP:…`) to the sink's " +
        "end (`socat -u TCP-LISTEN:… OPEN:/dev/null`), the relay already listening; GB/s are " +
        "stream bytes over that time. The baseline relay is socat as typed, which reads 8 KiB " +
        `per call: told \`-b ${CHUNK_BYTES}\` (what the tap reads per call) it relays the same ` +
        `stream in ${dur(t.socatChunkMs / 1000)} (${gbs(t.socatChunkMs).toFixed(2)} GB/s), ` +
        `and against that relay the tap is at ${ratio(t.socatChunkMs / t.tapMs)}` +
        (gbs(t.socatChunkMs) >= 1 && gbs(t.tapMs) < 1
          ? ": this setup allows more than 1 GB/s, the tap does not reach it."
          : "."),
    });
    extras.push([
      "10",
      `\`socat -b ${CHUNK_BYTES} TCP-LISTEN:… TCP:…\` relay (the tap's read size)`,
      `${dur(t.socatChunkMs / 1000)} (${gbs(t.socatChunkMs).toFixed(2)} GB/s)`,
      `tap: ${ratio(t.socatChunkMs / t.tapMs)}`,
    ]);
    extras.push([
      "10",
      "peak RSS of the tap",
      `${(t.tapPeakRss / MiB).toFixed(0)} MiB`,
      "",
    ]);
    if (rec) {
      extras.push([
        "10",
        "the same through `migscope tap --record DIR` (DIR in /tmp: both directions recorded)",
        `${dur(rec.tapMs / 1000)} (${gbs(rec.tapMs).toFixed(2)} GB/s)`,
        `socat relay: ${dur(rec.socatMs / 1000)}: ${ratio(rec.socatMs / rec.tapMs)}`,
      ]);
    }
  }
}

// ---- 11. a real migration through migscope tap (issue 15) ------------------------------------
if (want("11")) {
  const mib = Number(values["tap-migration-mib"]);
  const what = "a real QEMU migration's total time (query-migrate `total-time`) through " +
    "`migscope tap --json-events` (main channel parsed live)";
  const target = "≤ 1.1× the same migration direct";
  await settle("11");
  log("a real migration through the tap vs direct");
  const r = await benchTapMigration({ mib, reps, record: true, log });
  if (typeof r === "string") {
    log(`target 11 skipped: ${r}`);
    targets.push({
      id: "11",
      what,
      target,
      measured: "not measured",
      baseline: `not measured: ${r}`,
      note: `11 was skipped: ${r}.`,
    });
  } else {
    const m = r.median;
    facts.t11 = m.tap;
    facts.base11 = m.direct;
    facts.rec11 = m["tap+record"];
    facts.stream11 = r.streamBytes / MiB;
    const runs = (p: "direct" | "tap" | "tap+record") => r.totals[p].join(", ");
    targets.push({
      id: "11",
      what: `${what}: QEMU ${r.qemuVersion}, precopy, no bandwidth limit, a paused ${
        r.ram / MiB
      } MiB guest (${(r.streamBytes / MiB).toFixed(0)} MiB main stream)`,
      target,
      measured: `${m.tap} ms: ${ratio(m.tap / m.direct)}`,
      baseline: `straight to the destination: ${m.direct} ms`,
      met: m.tap / m.direct <= 1.1,
      note: "11 alternates direct, tap and tap --record migrations of the same guest (an " +
        "untimed direct one first), each between a fresh source and destination QEMU whose " +
        `RAM files are on /dev/shm (a guest RAM image: ${r.normal} data and ${r.duplicate} ` +
        "zero pages sent); the time is QEMU's own (`total-time` of the source's " +
        "query-migrate, from `migrate` to completed; the tap is listening before). The first " +
        "migration through the tap is checked: destination RAM = source RAM, tap exit 0, main " +
        `stream complete. Every run in order, ms: direct ${runs("direct")}; tap ${runs("tap")}; ` +
        `tap --record ${runs("tap+record")}. Downtime (medians): direct ${r.downtime.direct} ` +
        `ms, tap ${r.downtime.tap} ms, tap --record ${r.downtime["tap+record"]} ms.`,
    });
    extras.push([
      "11",
      "the same migration through `migscope tap --record DIR` (DIR on /dev/shm)",
      `${m["tap+record"]} ms`,
      `direct: ${ratio(m["tap+record"] / m.direct)}`,
    ]);
  }
}

// ---- extra: a real capture with device state, against the peer ------------------------------
const real = `${ROOT}../shared/captures/e_paused_save/capture.bin.gz`;
if (!only && peer && fs.existsSync(real)) {
  log("e_paused_save: inspect --device-state vs analyze-migration.py");
  const cap = `${dir}/real.bin`;
  await sh(`gzip -dc '${real}' > '${cap}'`);
  const ours = await repeat(reps, () => migscope(["inspect", "--device-state", cap]), 1);
  const theirs = await repeat(reps, () => run("python3", [peer, "-f", cap]), 1);
  extras.push([
    "",
    `e_paused_save (${
      (fs.statSync(cap).size / MiB).toFixed(0)
    } MiB, QEMU 7.2): inspect --device-state`,
    dur(med(ours)),
    `analyze-migration.py: ${dur(med(theirs))}: ${ratio(med(theirs) / med(ours))}`,
  ]);
}
await profileMisses();

// ---- profiles of misses ---------------------------------------------------------------------
async function profileMisses() {
  if (values["no-profile"]) return;
  for (const t of targets) {
    if (t.met !== false || !t.profile || profiles.has(t.id)) continue;
    log(`profiling ${t.id}`);
    try {
      const p = await profileDeno(t.profile, 12, 3, t.profileBefore);
      profileData.set(t.id, p);
      profiles.set(t.id, profileTable(p));
    } catch (e) {
      profiles.set(t.id, `(profile failed: ${(e as Error).message})`);
    }
    await sh(`rm -rf '${dir}/prof-out' '${dir}/prof.mig'`);
  }
}

// ---- micro-benchmarks -----------------------------------------------------------------------
async function denoBench(file: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bench", "--json", "-A", `${ROOT}${file}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  type Bench = {
    group?: string;
    name: string;
    baseline?: boolean;
    results: { ok?: { avg: number } }[];
  };
  let benches: Bench[];
  try {
    benches = JSON.parse(new TextDecoder().decode(out.stdout)).benches;
  } catch {
    return `(deno bench ${file} failed)`;
  }
  const base = new Map<string, number>();
  for (const b of benches) {
    if (b.baseline && b.results[0]?.ok) base.set(b.group ?? "", b.results[0].ok.avg);
  }
  const rows = benches.filter((b) => b.results[0]?.ok).map((b) => {
    const avg = b.results[0].ok!.avg;
    const per = b.group === "parse-idle"
      ? `${(1048593 / (avg / 1e9) / 1e6).toFixed(1)} M records/s`
      : b.group === "parse"
      ? ""
      : `${(MiB / avg).toFixed(2)} GB/s`;
    const r = base.get(b.group ?? "") ? (base.get(b.group ?? "")! / avg).toFixed(2) : "";
    return `| ${b.group ?? ""} | ${b.name} | ${(avg / 1000).toFixed(1)} µs | ${per} | ${r} |`;
  });
  return [
    "| group | benchmark | time/iter | rate | ratio |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

const met = (t: Target) => t.met === undefined ? "not measured" : t.met ? "yes" : "**no**";
const targetRows = targets.map((t) => [t.id, t.what, t.target, t.measured, t.baseline, met(t)]);
console.log(table(TARGET_HEADER, targetRows));
if (extras.length) console.log(`\n${table(EXTRA_HEADER, extras)}`);
for (const t of targets) if (t.note) notes.push(`Target ${t.id}: ${t.note}`);
if (peer) {
  const v = await new Deno.Command("python3", { args: ["--version"], stdout: "piped" }).output();
  notes.push(
    `analyze-migration.py: QEMU's scripts/analyze-migration.py (not part of this project, ` +
      `named by ANALYZE_MIGRATION), ${new TextDecoder().decode(v.stdout).trim()}.`,
  );
}

if (!values["no-write"]) {
  let micro = "";
  // A partial run measures the micro-benchmarks only when asked (`--only …,micro`).
  if (!values["no-micro"] && (!only || only.has("micro"))) {
    log("deno bench");
    micro = [
      "## Hot paths (`deno bench`)",
      "",
      "bench/hot_bench.ts: each iteration handles 1 MiB (256 pages) unless named otherwise.",
      "bench/parse_bench.ts: each iteration parses the whole idle-guest stream of target 1.",
      "Ratio = the group's baseline time / this time; `deno bench` averages include GC pauses.",
      "",
      await denoBench("bench/hot_bench.ts"),
      "",
      await denoBench("bench/parse_bench.ts"),
      "",
    ].join("\n");
  }
  const missed = targets.filter((t) => t.met === false);
  let report: Report = {
    machine: machine(),
    date: new Date().toISOString().slice(0, 10),
    reps,
    targets: targetRows,
    busy: quiet,
    later: [],
    notes,
    extras,
    micro,
    method: method(),
    missed: missed.flatMap((t): [string, string][] => {
      const why = LIMITS[t.id] ?? LIMITS[group(t.id)];
      return why ? [[t.id, why()]] : [];
    }),
    profiles: missed.map((t) => [
      t.id,
      [
        `### Profile: target ${t.id} (${t.what})`,
        "",
        "`deno run -A --cpu-prof --cpu-prof-interval=100` of the measured command, top self time (mean of 3 runs):",
        "",
        profiles.get(t.id) ?? "(not profiled)",
      ].join("\n"),
    ]),
  };
  const mdPath = values.out!.startsWith("/") ? values.out! : `${ROOT}${values.out}`;
  // A partial run keeps what the file says of the targets it did not measure.
  const old = only && fs.existsSync(mdPath)
    ? parseReport(Deno.readTextFileSync(mdPath))
    : undefined;
  if (old) report = mergeReports(old, report);
  else if (only) log(`${mdPath} could not be read back: written with this run's targets only`);
  await Deno.writeTextFile(mdPath, renderReport(report));
  // The repository's formatting (deno fmt wraps prose and aligns tables).
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", mdPath], cwd: ROOT }).output();
  log(`wrote ${mdPath}`);
}
if (values.keep) log(`kept ${dir}`);
else await Deno.remove(dir, { recursive: true }).catch(() => {});

/** How each target is measured (the missed ones' limits follow it in BENCHMARKS.md). */
function method(): string {
  return [
    "## How each target is measured, and what limits the missed ones",
    "",
    "- **1** times `parseStreamItems(ByteReader.ofBytes(bytes))` over a stream built in memory",
    "  (tools/bench/idle_stream.ts): ZERO records with CONTINUE, PAGE records in runs, sections",
    "  of 65536 records with footers. The baseline reads each be64 header with a DataView,",
    "  decodes the flags and skips name and payload — no validation, no batch columns.",
    "- **2** uses a real capture (tools/idle_capture.ts): QEMU 7.2, `-m 4G` with file-backed",
    "  RAM on /dev/shm, SeaBIOS only, running for 1 s, then `migrate exec:cat > FILE` with no",
    "  bandwidth limit. The stream is ≈1 Mi ZERO records, the BIOS's pages, 33 device sections",
    "  and the vmdesc; analyze-migration.py reads all of it record by record.",
    "- **3** is a hot-cache comparison: `cat` is a memory copy, so inspect's fixed costs",
    "  (Deno start-up, module loading) and its per-record work both count.",
    "- **4** times `CMD && sync` after an untimed `sync` and removal of the previous output, for",
    "  replay and both copies alike.",
    "- **5**: encode is the WebAssembly SIMD encoder (src/xbzrle/encode.wat: 64 bytes per step",
    "  over unchanged runs, 16-byte compare masks reused for the short runs inside them), with",
    "  the JavaScript encoder as fallback where wasm SIMD is missing; decode copies runs onto a",
    "  copy of the old page (the copy is part of the timing).",
    "- **6** times the whole `emit` process; `cp` of a sparse image skips its holes (SEEK_DATA),",
    "  while emit reads every page and tests it for zero.",
    "- **7**: wall time of the process, spawn to exit, against the same for an empty script in",
    "  the repository (same deno.json discovery).",
    "- **8** (issue 13; tools/bench/saved_vms.ts) builds a guest RAM image that compresses like a",
    "  real one (tools/bench/guest_ram.ts: ≈70 % zero pages in runs; random, text and pointer-table",
    "  pages), the bare stream of it (`migscope emit`), that stream compressed by the real `gzip -c`",
    "  and `zstd -c -q` and wrapped as libvirt save images, and a qcow2 whose internal snapshot",
    "  QEMU 7.2 took with `savevm` of a paused guest whose RAM is that image. 8a/8b time",
    "  `inspect IMAGE` against `zcat` / `zstdcat` of the very bytes inside the image (stdout to",
    "  /dev/null); 8c times `replay IMAGE --snapshot S --out DIR` against `replay STATE --out DIR`",
    "  of the state written by `migscope extract --snapshot`, each after an untimed removal of",
    "  DIR and `sync`. Runs alternate between the two sides.",
    "- **9** (issue 14; tools/bench/multifd_zstd.ts) migrates a paused QEMU 10.0 guest whose",
    "  file-backed RAM is such a guest RAM image to a second QEMU 10.0 over TCP through the",
    "  recording proxy of tools/capture.ts (multifd, 2 channels, `multifd-compression` zstd at",
    "  `multifd-zstd-level` 1, no bandwidth limit), then extracts each channel's packet payloads,",
    "  concatenated (one zstd frame per channel, flushed per packet; 3 bytes end the frame).",
    "  It times `replay MAIN --channel C1 --channel C2 --out DIR` (DIR in the same scratch",
    "  directory, removed and `sync`ed untimed before each run; the first run's image is compared",
    "  with the destination QEMU's RAM) against `zstd -dc` of both channels' payload files to",
    "  /dev/null, one after the other in one `sh -c`. Runs alternate between the two sides.",
    "- **10** (issue 15; tools/bench/tap.ts) emits the stream of a guest RAM image as in 8 once",
    "  (cached in .cache/bench/) and sends it `socat -u OPEN:STREAM TCP:…` → relay →",
    "  `socat -u TCP-LISTEN:… OPEN:/dev/null`, the relay being `migscope tap --json-events`",
    "  (parsing the stream as it passes), `socat TCP-LISTEN:… TCP:…` (the baseline) or",
    "  `socat -b 262144 TCP-LISTEN:… TCP:…` (reading as much per call as the tap), alternately;",
    "  each run is timed from the source's start to the sink's end, the relay already listening.",
    "- **11** (issue 15; tools/bench/tap_migration.ts) migrates a paused QEMU guest whose",
    "  file-backed RAM (on /dev/shm) is such a guest RAM image to a second QEMU over TCP",
    "  (tools/capture.ts, precopy, `max-bandwidth` 64 GiB/s), alternately straight to the",
    "  destination, through `migscope tap --json-events` and through `tap --record`, and takes",
    "  QEMU's `total-time` of each.",
    "",
  ].join("\n");
}
