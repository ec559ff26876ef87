/**
 * RAM-record parsing on an idle-guest-shaped stream in memory (`deno bench -A
 * bench/parse_bench.ts`): the stream of a 4 GiB guest — 1 Mi RAM records, ≈98 % ZERO records
 * with CONTINUE, PAGE records in runs (tools/bench/idle_stream.ts). Each iteration parses the
 * whole stream, so M records/s = records / time per iteration.
 *
 * Group "parse-idle": the baseline walks the same records with a DataView (reads each be64
 * header, decodes the flags, skips the payload); then parseStreamItems counting `ram-batch`
 * items (the fast path), the same with a Summarizer, and parseStream (one object per record)
 * for contrast. The same cases as tools/bench.ts's target 1, which times them in-process.
 */
import { idleStream, walkRecords } from "../tools/bench/idle_stream.ts";
import { countBatched, countRecords, countSummarized } from "../tools/bench/parse.ts";

const stream = idleStream(1 << 20);
const check = (n: number) => {
  if (n !== stream.records) throw new Error(`counted ${n}, expected ${stream.records}`);
};

Deno.bench({
  name: `DataView walk of ${stream.records} records (baseline)`,
  group: "parse-idle",
  baseline: true,
  fn: () => check(walkRecords(stream)),
});
Deno.bench({
  name: "parseStreamItems (ram-batch counts)",
  group: "parse-idle",
  fn: async () => check(await countBatched(stream.bytes)),
});
Deno.bench({
  name: "parseStreamItems + Summarizer",
  group: "parse-idle",
  fn: async () => check(await countSummarized(stream.bytes)),
});
Deno.bench({
  name: "parseStream (record objects)",
  group: "parse-idle",
  fn: async () => check(await countRecords(stream.bytes)),
});
