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
 * the case. Failing cases are written to tmp/fuzz-failures/ for a reproducer.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { parseStream } from "../src/parse/stream.ts";
import { runInspect } from "../src/commands/inspect.ts";
import { runReplay } from "../src/commands/replay.ts";
import { memoryOut } from "../src/commands/io.ts";
import { ByteWriter } from "../src/wire/writer.ts";
import * as F from "../src/emit/frame.ts";
import { prng } from "./samples.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CAPTURES = fileURLToPath(new URL("../../shared/captures/", import.meta.url));

/** A seed stream and the offsets of fields worth mutating. */
interface Seed {
  name: string;
  bytes: Uint8Array;
  /** [offset, width] of length fields. */
  lengths: [number, number][];
  /** Offsets of be64 RAM record headers. */
  ramHeaders: number[];
  /** Offsets of MEM_SIZE entry lengths (be64). */
  memLengths: number[];
  /** Offsets of counted block names (the length byte). */
  names: number[];
  /** A multifd channel replayed with this main stream; either side may be the one mutated. */
  channel?: Uint8Array;
}

/** Shrinks a real capture: its framing, MEM_SIZE and first records, then its device sections. */
async function shrinkCapture(bytes: Uint8Array, keep: number): Promise<Uint8Array> {
  const { bytesSource } = await import("../src/wire/source.ts");
  const { ByteReader } = await import("../src/wire/reader.ts");
  let firstPartBody = -1;
  let cut = -1;
  let firstFull = -1;
  let ramId = 0;
  let n = 0;
  for await (const rec of parseStream(new ByteReader(bytesSource(bytes)))) {
    if (rec.kind === "section" && rec.type === "START" && rec.idstr === "ram") {
      ramId = rec.sectionId;
    }
    if (rec.kind === "section" && rec.type === "PART" && rec.idstr === "ram" && firstPartBody < 0) {
      firstPartBody = rec.offset + rec.length;
    }
    if (rec.kind === "ram" && firstPartBody >= 0 && cut < 0 && ++n >= keep) {
      cut = rec.offset + rec.length;
    }
    if (rec.kind === "section" && rec.type === "FULL" && firstFull < 0) firstFull = rec.offset;
  }
  const w = new ByteWriter();
  w.bytes(bytes.subarray(0, cut));
  F.writeRamEos(w);
  F.writeFooter(w, ramId);
  F.writeSectionShort(w, "END", ramId);
  F.writeRamEos(w);
  F.writeFooter(w, ramId);
  w.bytes(bytes.subarray(firstFull));
  return w.result();
}

/** A 7.2-style multifd main stream (ZERO records, EOS syncs) and one channel with its packets. */
function multifdSeed(): { name: string; bytes: Uint8Array; channel: Uint8Array } {
  const PAGE = 4096;
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 16 * PAGE }]);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "PART", 1);
  F.writeRamZero(w, 3 * PAGE, "pc.ram");
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "END", 1);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  const c = new ByteWriter();
  c.be32(0x11223344).be32(1).zeros(56);
  const packet = (sync: boolean, pages: number[]) => {
    c.be32(0x11223344).be32(1).be32(sync ? 1 : 0).be32(128).be32(pages.length).be32(
      pages.length * PAGE,
    );
    c.be64(0).be32(0).zeros(28);
    const name = new Uint8Array(256);
    name.set(new TextEncoder().encode("pc.ram"));
    c.bytes(name);
    for (let i = 0; i < 128; i++) c.be64(i < pages.length ? pages[i] * PAGE : 0);
    for (const p of pages) c.bytes(new Uint8Array(PAGE).fill(p + 1));
  };
  packet(true, []);
  packet(false, [1, 2, 5]);
  packet(true, []);
  packet(true, []);
  return { name: "multifd", bytes: w.result(), channel: c.result() };
}

function handBuilt(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  // Hostile block names, with XBZRLE and zero pages.
  const hostile = ["../x", "/etc/passwd", "..", "nul\u0000byte", "x".repeat(255)];
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, hostile.map((name) => ({ name, size: 2 * 4096 })));
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "PART", 1);
  for (const name of hostile) {
    F.writeRamPage(w, 0, new Uint8Array(4096).fill(7), name);
    F.writeRamXbzrle(w, 0, Uint8Array.of(0x10, 0x02, 0xaa, 0xbb));
    F.writeRamZero(w, 4096);
  }
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  out.push({ name: "hostile-names", bytes: w.result() });
  // PACKAGED within PACKAGED, with a RAM_DISCARD and a block-migration section.
  const inner = new ByteWriter();
  F.writeCommand(inner, 4);
  F.writePing(inner, 3);
  F.writeCommand(inner, 5);
  const l2 = inner.result();
  const mid = new ByteWriter();
  F.writeCommand(mid, 7, Uint8Array.of(0, 0, 0, l2.length));
  mid.bytes(l2);
  F.writeCommand(mid, 5);
  const l1 = mid.result();
  const p = new ByteWriter();
  F.writeHeader(p);
  F.writeSectionFull(p, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(p, [{ name: "pc.ram", size: 16 * 4096 }]);
  F.writeRamEos(p);
  F.writeFooter(p, 1);
  F.writeSectionFull(p, "START", 2, "block", 0, 1);
  F.writeBlockChunk(p, 0, "d0", null);
  F.writeBlockChunk(p, 2048, "d0", new Uint8Array(1 << 20).fill(3));
  F.writeBlockProgress(p, 50);
  F.writeBlockEos(p);
  F.writeFooter(p, 2);
  const disc = new ByteWriter();
  disc.u8(0).counted("pc.ram").u8(0).be64(4096).be64(8192);
  F.writeCommand(p, 6, disc.result());
  F.writeCommand(p, 7, Uint8Array.of(0, 0, 0, l1.length));
  p.bytes(l1);
  F.writeEof(p);
  out.push({ name: "packaged-nested", bytes: p.result() });
  return out;
}

async function analyse(name: string, bytes: Uint8Array): Promise<Seed> {
  const { bytesSource } = await import("../src/wire/source.ts");
  const { ByteReader } = await import("../src/wire/reader.ts");
  const s: Seed = { name, bytes, lengths: [], ramHeaders: [], memLengths: [], names: [] };
  try {
    for await (const rec of parseStream(new ByteReader(bytesSource(bytes)))) {
      if (rec.kind === "ram") {
        s.ramHeaders.push(rec.offset);
        if (rec.type === "mem_size") {
          let at = rec.offset + 8;
          for (const b of rec.blocks!) {
            s.names.push(at);
            at += 1 + new TextEncoder().encode(b.name).length;
            s.memLengths.push(at);
            at += 8 + (b.mappedRam ? 28 : 0);
          }
        } else if (!rec.cont && rec.type !== "eos" && rec.type !== "multifd_flush") {
          s.names.push(rec.offset + 8);
          if (rec.type === "xbzrle") {
            s.lengths.push([rec.offset + 9 + bytes[rec.offset + 8] + 1, 2]);
          }
        }
      } else if (rec.kind === "command") {
        s.lengths.push([rec.offset + 3, 2]);
        if (rec.name === "PACKAGED") s.lengths.push([rec.offset + 5, 4]);
      } else if (rec.kind === "vmdesc") s.lengths.push([rec.offset + 1, 4]);
      else if (rec.kind === "section" && (rec.type === "START" || rec.type === "FULL")) {
        s.names.push(rec.offset + 5);
      }
    }
  } catch { /* seeds may be partial */ }
  return s;
}

/** Loads the seed corpus. */
export async function loadSeeds(): Promise<Seed[]> {
  const seeds: Seed[] = [];
  for (const name of ["a_precopy_idle", "b_xbzrle", "c_block_zero_blocks", "m2_modern_precopy"]) {
    try {
      const bytes = new Uint8Array(
        gunzipSync(await Deno.readFile(`${CAPTURES}/${name}/capture.bin.gz`)),
      );
      seeds.push(await analyse(name, await shrinkCapture(bytes, 400)));
    } catch { /* capture not present */ }
  }
  for (const name of ["small-xbzrle.mig", "small-block.mig"]) {
    const b = await Deno.readFile(`${ROOT}samples/${name}`);
    seeds.push(await analyse(name, b.subarray(0, Math.min(b.length, 3 << 20))));
  }
  for (const h of handBuilt()) seeds.push(await analyse(h.name, h.bytes));
  const m = multifdSeed();
  seeds.push({ ...(await analyse(m.name, m.bytes)), channel: m.channel });
  return seeds;
}

const BIG = [0xffffffff, 0x7fffffff, 0x10000, 0x1001, 0x17b, 0];

/** Produces one mutated case from a seed; returns the bytes and a short description. */
export function mutate(seed: Seed, rnd: () => number): { bytes: Uint8Array; what: string } {
  const b = seed.bytes.slice();
  const pick = <T>(a: T[]): T | undefined => (a.length ? a[rnd() % a.length] : undefined);
  const kind = rnd() % 10;
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
  if (!/offset \d+/.test(e)) return `${cmd}: error names no offset: ${e}`;
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
  for (let i = from; i < to; i++) {
    const rnd = prng((seedArg * 1000003 + i * 7919) >>> 0);
    const seed = seeds[i % seeds.length];
    // With a channel, mutate the main stream or the channel (a channel is mutated as raw bytes).
    const mutateChannel = seed.channel !== undefined && (rnd() & 1) === 1;
    const { bytes, what } = mutateChannel
      ? mutate({
        name: "channel",
        bytes: seed.channel!,
        lengths: [],
        ramHeaders: [],
        memLengths: [],
        names: [],
      }, rnd)
      : mutate(seed, rnd);
    const main = mutateChannel ? seed.bytes : bytes;
    const channelBytes = mutateChannel ? bytes : seed.channel;
    say(`start ${i}`);
    const input = `${dir}/case.mig`;
    await Deno.writeFile(input, main);
    const channel = `${dir}/channel.bin`;
    if (channelBytes) await Deno.writeFile(channel, channelBytes);
    const base = `${dir}/base.ram`;
    const useBase = (rnd() & 3) === 0;
    const baseBytes = new Uint8Array(16 * 4096).fill(0x5a);
    if (useBase) await Deno.writeFile(base, baseBytes);
    const t0 = performance.now();
    let failure: string | undefined;
    try {
      const ri = await runInspect({
        input: mutateChannel ? channel : input,
        format: "json",
        records: false,
        deviceState: (i & 7) === 0,
      }, memoryOut());
      failure = checkResult("inspect", ri);
      await Deno.remove(`${dir}/out`, { recursive: true }).catch(() => {});
      const rr = await runReplay({
        input,
        out: `${dir}/out`,
        ram: useBase ? new Map([["pc.ram", base]]) : undefined,
        channels: channelBytes ? [channel] : undefined,
      }, memoryOut());
      failure ??= checkResult("replay", rr);
    } catch (e) {
      failure = `exception: ${(e as Error).stack?.split("\n").slice(0, 3).join(" | ")}`;
    }
    const ms = performance.now() - t0;
    if (!failure && ms > timeLimit) failure = `took ${ms.toFixed(0)} ms (limit ${timeLimit})`;
    const rss = Deno.memoryUsage().rss / 1048576;
    if (!failure && rss > rssLimit) failure = `RSS ${rss.toFixed(0)} MiB over ${rssLimit}`;
    const after = await Deno.readFile(input);
    if (!failure && (after.length !== main.length || after.some((x, k) => x !== main[k]))) {
      failure = "input file changed";
    }
    if (!failure && channelBytes) {
      const ch = await Deno.readFile(channel);
      if (ch.length !== channelBytes.length || ch.some((x, k) => x !== channelBytes[k])) {
        failure = "channel file changed";
      }
    }
    if (!failure && useBase) {
      const nb = await Deno.readFile(base);
      if (nb.some((x, k) => x !== baseBytes[k])) failure = "base image changed";
    }
    say(failure ? `fail ${i} ${seed.name} ${what} :: ${failure}` : `ok ${i}`);
    if (failure) await Deno.copyFile(input, `${dir}/case-${i}.mig`).catch(() => {});
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

async function supervise(iterations: number, seed: number, timeLimit: number, rssLimit: number) {
  const self = fileURLToPath(import.meta.url);
  let next = 0;
  let passed = 0;
  const failures: string[] = [];
  const t0 = performance.now();
  await Deno.mkdir(`${ROOT}tmp/fuzz-failures`, { recursive: true });
  while (next < iterations) {
    const child = new Deno.Command(Deno.execPath(), {
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
        String(next),
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
