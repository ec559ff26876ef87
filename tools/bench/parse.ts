/**
 * In-process RAM-record parsing rate on an idle-guest-shaped stream in memory
 * ({@link idleStream}), against a DataView walk of the same records in the same process.
 *
 * Run on its own to profile one case:
 *   deno run -A --cpu-prof tools/bench/parse.ts --case items|summary|records|walk [--pages N]
 * @module
 */
import { parseArgs } from "node:util";
import { parseStream, parseStreamItems } from "../../src/parse/stream.ts";
import { Summarizer } from "../../src/report/summary.ts";
import { ByteReader } from "../../src/wire/reader.ts";
import { type IdleStream, idleStream, walkRecords } from "./idle_stream.ts";
import { median } from "./util.ts";

/** parseStreamItems: the count of records in `ram-batch` items (the fast path). */
export async function countBatched(bytes: Uint8Array): Promise<number> {
  let n = 0;
  for await (const item of parseStreamItems(ByteReader.ofBytes(bytes))) {
    if (item.kind === "ram-batch") n += item.count;
  }
  return n;
}

/** parseStreamItems + Summarizer (what inspect does per item); returns the summarized records. */
export async function countSummarized(bytes: Uint8Array): Promise<number> {
  const s = new Summarizer();
  let n = 0;
  for await (const item of parseStreamItems(ByteReader.ofBytes(bytes))) {
    s.add(item);
    if (item.kind === "ram-batch") n += item.count;
  }
  return n;
}

/** parseStream: one record object per RAM record (payload views off, as inspect asks). */
export async function countRecords(bytes: Uint8Array): Promise<number> {
  let n = 0;
  for await (const rec of parseStream(ByteReader.ofBytes(bytes), { payloads: false })) {
    if (rec.kind === "ram" && rec.type !== "mem_size") n++;
  }
  return n;
}

/** The cases, by name. */
export const PARSE_CASES = {
  walk: (s: IdleStream) => Promise.resolve(walkRecords(s)),
  items: (s: IdleStream) => countBatched(s.bytes),
  summary: (s: IdleStream) => countSummarized(s.bytes),
  records: (s: IdleStream) => countRecords(s.bytes),
} as const;

export type ParseCase = keyof typeof PARSE_CASES;

/** Rates in M records/s. */
export interface ParseRates {
  records: number;
  streamBytes: number;
  rates: Record<ParseCase, number>;
}

/**
 * Measures every case on a stream of `pages` pages: `warmup` untimed runs of each case, then
 * `reps` rounds that time each case once (round-robin, so that load from other processes
 * falls on all cases alike); the median per case.
 */
export async function parseRates(pages: number, reps: number, warmup = 5): Promise<ParseRates> {
  const s = idleStream(pages);
  const names = Object.keys(PARSE_CASES) as ParseCase[];
  const times = new Map<ParseCase, number[]>(names.map((n) => [n, []]));
  for (let i = 0; i < warmup + reps; i++) {
    for (const name of names) {
      const t0 = performance.now();
      const n = await PARSE_CASES[name](s);
      const t = (performance.now() - t0) / 1000;
      if (n !== s.records) throw new Error(`${name}: counted ${n} records, expected ${s.records}`);
      if (i >= warmup) times.get(name)!.push(t);
    }
  }
  const rates = {} as Record<ParseCase, number>;
  for (const name of names) rates[name] = s.records / median(times.get(name)!) / 1e6;
  return { records: s.records, streamBytes: s.bytes.length, rates };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      case: { type: "string", default: "items" },
      pages: { type: "string", default: String(1 << 20) },
      reps: { type: "string", default: "20" },
    },
  });
  const s = idleStream(Number(values.pages));
  const fn = PARSE_CASES[values.case as ParseCase];
  if (!fn) throw new Error(`--case: one of ${Object.keys(PARSE_CASES).join(", ")}`);
  const t0 = performance.now();
  for (let i = 0; i < Number(values.reps); i++) await fn(s);
  const t = (performance.now() - t0) / 1000 / Number(values.reps);
  console.log(`${values.case}: ${(s.records / t / 1e6).toFixed(1)} M records/s`);
}
