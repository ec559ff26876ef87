/**
 * Fuzz harness: `deno task fuzz [--iterations N] [--seed S] [--time-limit MS] [--rss-limit MiB]`.
 *
 * Mutates seed streams (shrunk real captures from ../shared/captures, the samples, hand-built
 * streams with PACKAGED nesting and hostile block names, a multifd main stream with its channel) with bit flips, insertions, deletions,
 * truncations, inflated length fields, invalid RAM flags, MEM_SIZE lists that do not add up and
 * page offsets past their block, then runs `inspect` and `replay` on each case in a worker
 * process. A case passes when each command succeeds or exits 2 with exactly one line naming the
 * offset; it fails on any other exception, a stack trace, exceeding the time or memory limit, or
 * when an input file changed. The supervisor restarts the worker after a hang or crash and names
 * the case. Failing cases are written to tmp/fuzz-failures/case-SEED-N.mig for a reproducer.
 *
 * Besides byte-level mutations, a structure-aware mutator (tools/fuzz_structure.ts) nudges
 * length fields (counted names, XBZRLE and COMPRESS_PAGE lengths, PACKAGED and vmdesc lengths),
 * gives the vmdesc JSON hostile shapes (nulls, negative or huge array_len, nested array
 * products, wrong types, page_size 0), inserts a stray 00 at a record boundary, and delivers
 * cases as gzip (several members, truncated, corrupted, trailing bytes).
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { runInspect } from "../src/commands/inspect.ts";
import { runReplay } from "../src/commands/replay.ts";
import { memoryOut } from "../src/commands/io.ts";
import { prng } from "./samples.ts";
import { loadSeeds, rawSeed, type Seed } from "./fuzz_seeds.ts";
import { type Mutated, mutateStructure, STRUCTURE_KINDS } from "./fuzz_structure.ts";

export { loadSeeds } from "./fuzz_seeds.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

const BIG = [0xffffffff, 0x7fffffff, 0x10000, 0x1001, 0x17b, 0];

/** Produces one mutated case from a seed; returns the bytes and a short description. */
export function mutate(seed: Seed, rnd: () => number): Mutated {
  const b = seed.bytes.slice();
  const pick = <T>(a: T[]): T | undefined => (a.length ? a[rnd() % a.length] : undefined);
  const kind = rnd() % (10 + STRUCTURE_KINDS);
  if (kind >= 10) return mutateStructure(seed, rnd, kind - 10);
  switch (kind) {
    case 0: {
      const n = 1 + (rnd() % 8);
      for (let i = 0; i < n; i++) b[rnd() % b.length] ^= 1 << (rnd() % 8);
      return { bytes: b, what: `flip ${n} bits` };
    }
    case 1: {
      const at = rnd() % b.length;
      const n = 1 + (rnd() % 16);
      const ins = Uint8Array.from({ length: n }, () => rnd() & 0xff);
      const out = new Uint8Array(b.length + n);
      out.set(b.subarray(0, at));
      out.set(ins, at);
      out.set(b.subarray(at), at + n);
      return { bytes: out, what: `insert ${n} at ${at}` };
    }
    case 2: {
      const n = Math.min(b.length, 1 + (rnd() % 16));
      const at = rnd() % (b.length - n + 1);
      const out = new Uint8Array(b.length - n);
      out.set(b.subarray(0, at));
      out.set(b.subarray(Math.min(b.length, at + n)), at);
      return { bytes: out, what: `delete ${n} at ${at}` };
    }
    case 3: {
      const at = rnd() % b.length;
      return { bytes: b.subarray(0, at), what: `truncate at ${at}` };
    }
    case 4: {
      const f = pick(seed.lengths);
      if (!f) return { bytes: b, what: "no length field" };
      const [at, width] = f;
      const v = pick(BIG)!;
      const dv = new DataView(b.buffer);
      if (width === 2) dv.setUint16(at, v & 0xffff);
      else dv.setUint32(at, v >>> 0);
      return { bytes: b, what: `length field at ${at} := ${v}` };
    }
    case 5: {
      const at = pick(seed.ramHeaders);
      if (at === undefined) return { bytes: b, what: "no RAM header" };
      const flags = rnd() & 0xfff;
      b[at + 6] = (b[at + 6] & 0xf0) | (flags >> 8);
      b[at + 7] = flags & 0xff;
      return { bytes: b, what: `RAM flags at ${at} := 0x${flags.toString(16)}` };
    }
    case 6: {
      const at = pick(seed.memLengths);
      if (at === undefined) return { bytes: b, what: "no MEM_SIZE" };
      const dv = new DataView(b.buffer);
      dv.setBigUint64(at, BigInt(pick([0, 4096, 2 ** 40, 2 ** 63, 12345])!) % (2n ** 64n));
      return { bytes: b, what: `MEM_SIZE length at ${at}` };
    }
    case 7: {
      const at = pick(seed.ramHeaders);
      if (at === undefined) return { bytes: b, what: "no RAM header" };
      b[at] = rnd() & 0xff;
      b[at + 3] = rnd() & 0xff;
      return { bytes: b, what: `page offset at ${at}` };
    }
    case 8: {
      const at = pick(seed.names);
      if (at === undefined) return { bytes: b, what: "no name" };
      b[at] = pick([0, 255, 128, 1, b[at] + 1])! & 0xff;
      return { bytes: b, what: `name length at ${at} := ${b[at]}` };
    }
    default: {
      const at = rnd() % b.length;
      const n = 1 + (rnd() % 64);
      for (let i = 0; i < n && at + i < b.length; i++) b[at + i] = rnd() & 0xff;
      return { bytes: b, what: `random ${n} bytes at ${at}` };
    }
  }
}

function checkResult(cmd: string, r: { code: number; error?: string }): string | undefined {
  if (r.code === 0 || r.code === 1) return undefined;
  if (r.code !== 2) return `${cmd}: exit ${r.code}`;
  const e = r.error ?? "";
  if (e.includes("\n")) return `${cmd}: multi-line error: ${JSON.stringify(e.slice(0, 300))}`;
  if (/\bat .*\.ts:\d+/.test(e)) return `${cmd}: stack trace in error`;
  // The base image is given as pc.ram: a (mutated) stream without that block refuses it.
  if (/^--ram pc\.ram: the stream has no RAM block of that name/.test(e)) return undefined;
  if (!/offset \d+/.test(e)) return `${cmd}: error names no offset: ${e}`;
  return undefined;
}

/** inspect, then replay, of one case; the failure, if any. */
async function runCommands(
  dir: string,
  input: string,
  inspectInput: string,
  channel: string | undefined,
  base: string | undefined,
  deviceState: boolean,
  mustFail: string | undefined,
): Promise<string | undefined> {
  const accepted = (cmd: string, r: { code: number }) =>
    mustFail && r.code !== 2 ? `${cmd} exited ${r.code} on ${mustFail}` : undefined;
  try {
    const ri = await runInspect({
      input: inspectInput,
      format: "json",
      records: false,
      deviceState,
    }, memoryOut());
    const failure = checkResult("inspect", ri) ?? accepted("inspect", ri);
    await Deno.remove(`${dir}/out`, { recursive: true }).catch(() => {});
    const rr = await runReplay({
      input,
      out: `${dir}/out`,
      ram: base ? new Map([["pc.ram", base]]) : undefined,
      channels: channel ? [channel] : undefined,
    }, memoryOut());
    return failure ?? checkResult("replay", rr) ?? accepted("replay", rr);
  } catch (e) {
    return `exception: ${(e as Error).stack?.split("\n").slice(0, 3).join(" | ")}`;
  }
}

/** The failure when the file at `path` no longer holds `bytes`. */
async function changed(path: string, bytes: Uint8Array, what: string) {
  const now = await Deno.readFile(path);
  if (now.length !== bytes.length || now.some((x, k) => x !== bytes[k])) return `${what} changed`;
  return undefined;
}

async function worker(
  seedArg: number,
  from: number,
  to: number,
  timeLimit: number,
  rssLimit: number,
) {
  const seeds = await loadSeeds();
  const dir = await Deno.makeTempDir({ prefix: "migscope-fuzz-" });
  const enc = new TextEncoder();
  const say = (s: string) => Deno.stdout.writeSync(enc.encode(s + "\n"));
  const input = `${dir}/case.mig`;
  const channel = `${dir}/channel.bin`;
  const base = `${dir}/base.ram`;
  const baseBytes = new Uint8Array(16 * 4096).fill(0x5a);
  for (let i = from; i < to; i++) {
    const rnd = prng((seedArg * 1000003 + i * 7919) >>> 0);
    const seed = seeds[i % seeds.length];
    // With a channel, mutate the main stream or the channel (a channel is mutated as raw bytes).
    const mutateChannel = seed.channel !== undefined && (rnd() & 1) === 1;
    const { bytes, what, mustFail } = mutateChannel
      ? mutate(rawSeed("channel", seed.channel!), rnd)
      : mutate(seed, rnd);
    const main = mutateChannel ? seed.bytes : bytes;
    const channelBytes = mutateChannel ? bytes : seed.channel;
    say(`start ${i}`);
    await Deno.writeFile(input, main);
    if (channelBytes) await Deno.writeFile(channel, channelBytes);
    const useBase = (rnd() & 3) === 0;
    if (useBase) await Deno.writeFile(base, baseBytes);
    const t0 = performance.now();
    let failure = await runCommands(
      dir,
      input,
      mutateChannel ? channel : input,
      channelBytes ? channel : undefined,
      useBase ? base : undefined,
      (i & 7) === 0 && !mutateChannel,
      mutateChannel ? undefined : mustFail,
    );
    const ms = performance.now() - t0;
    if (!failure && ms > timeLimit) failure = `took ${ms.toFixed(0)} ms (limit ${timeLimit})`;
    const rss = Deno.memoryUsage().rss / 1048576;
    if (!failure && rss > rssLimit) failure = `RSS ${rss.toFixed(0)} MiB over ${rssLimit}`;
    failure ??= await changed(input, main, "input file");
    if (!failure && channelBytes) failure = await changed(channel, channelBytes, "channel file");
    if (!failure && useBase) failure = await changed(base, baseBytes, "base image");
    say(failure ? `fail ${i} ${seed.name} ${what} :: ${failure}` : `ok ${i}`);
    if (failure) {
      const keep = `${ROOT}tmp/fuzz-failures/case-${seedArg}-${i}`;
      await Deno.copyFile(input, `${keep}.mig`).catch(() => {});
      if (channelBytes) await Deno.copyFile(channel, `${keep}.channel`).catch(() => {});
    }
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/** A worker process running cases `from`… with the time and memory limits. */
function spawnWorker(
  self: string,
  seed: number,
  from: number,
  iterations: number,
  timeLimit: number,
  rssLimit: number,
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      `--v8-flags=--max-old-space-size=${rssLimit}`,
      self,
      "--worker",
      "--seed",
      String(seed),
      "--from",
      String(from),
      "--to",
      String(iterations),
      "--time-limit",
      String(timeLimit),
      "--rss-limit",
      String(rssLimit),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function supervise(iterations: number, seed: number, timeLimit: number, rssLimit: number) {
  const self = fileURLToPath(import.meta.url);
  let next = 0;
  let passed = 0;
  const failures: string[] = [];
  const t0 = performance.now();
  await Deno.mkdir(`${ROOT}tmp/fuzz-failures`, { recursive: true });
  while (next < iterations) {
    const child = spawnWorker(self, seed, next, iterations, timeLimit, rssLimit);
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let current = -1;
    let hung = false;
    for (;;) {
      const timer = setTimeout(() => {
        hung = true;
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
      }, timeLimit * 5 + 20000);
      const r = await reader.read();
      clearTimeout(timer);
      if (r.done) break;
      buf += r.value;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [tag, num] = line.split(" ");
        if (tag === "start") current = Number(num);
        else if (tag === "ok") {
          passed++;
          next = Number(num) + 1;
          current = -1;
        } else if (tag === "fail") {
          failures.push(line);
          next = Number(num) + 1;
          current = -1;
        }
      }
    }
    const status = await child.status;
    const stderr = await new Response(child.stderr).text();
    if (current >= 0) {
      failures.push(
        `fail ${current} :: ${
          hung
            ? "hang (killed)"
            : `worker died (${status.code}): ${stderr.split("\n").slice(-3).join(" | ")}`
        }`,
      );
      next = current + 1;
    } else if (!status.success && next < iterations) {
      failures.push(`worker exited ${status.code} before case ${next}: ${stderr.slice(-300)}`);
      next++;
    }
  }
  const secs = (performance.now() - t0) / 1000;
  for (const f of failures.slice(0, 50)) console.log(f);
  console.log(`fuzz: seed ${seed}, ${iterations} cases in ${secs.toFixed(0)} s`);
  console.log(`${passed} passed, ${failures.length} failed`);
  return failures.length;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      iterations: { type: "string", default: "2000" },
      seed: { type: "string", default: "1" },
      "time-limit": { type: "string", default: "10000" },
      "rss-limit": { type: "string", default: "1024" },
      worker: { type: "boolean", default: false },
      from: { type: "string", default: "0" },
      to: { type: "string", default: "0" },
    },
  });
  const tl = Number(values["time-limit"]);
  const rl = Number(values["rss-limit"]);
  if (values.worker) {
    await worker(Number(values.seed), Number(values.from), Number(values.to), tl, rl);
  } else {
    Deno.exitCode = (await supervise(Number(values.iterations), Number(values.seed), tl, rl))
      ? 1
      : 0;
  }
}
