/**
 * `inspect`: a stream in, a timeline and summary out (text, JSON or NDJSON).
 * @module
 */
import { oneLine, StreamError } from "../protocol/errors.ts";
import type { FieldValue, MigRecord } from "../protocol/records.ts";
import { recordRow, summaryText, timelineTable } from "../report/inspect_text.ts";
import { inspectStream } from "../report/inspect_stream.ts";
import { recordToJson, stringifyJson } from "../report/json.ts";
import { sniff, SNIFF_BYTES, type Sniffed } from "../parse/sniff.ts";
import type { OpenedInput } from "../parse/input.ts";
import { inspectChannel } from "./inspect_channel.ts";
import type { CommandResult, TextOut } from "./io.ts";
import { openWithVmdesc } from "./open.ts";

export type { CommandResult } from "./io.ts";

/** Options of `inspect`. */
export interface InspectOptions {
  input: string | ReadableStream<Uint8Array>;
  format: "text" | "json" | "ndjson";
  /** Flag-level rows (one per RAM/block record). */
  records: boolean;
  /** Print decoded device state as JSON instead of the report. */
  deviceState: boolean;
  /** vmdesc JSON or another capture, for streams without a trailer. */
  vmdesc?: string;
  footers?: "auto" | "on" | "off";
  hugePageBlocks?: string[];
  /** Target page size, for streams that do not say it (no target-page-bits, no trailer). */
  pageSize?: number;
  onListen?: (port: number) => void;
}

interface DeviceState {
  name: string;
  instance: number;
  version: number;
  fields?: { [k: string]: FieldValue };
}

/** What to do with each record object, or undefined to only count (the fast path). */
function visitor(opts: InspectOptions, out: TextOut, devices: DeviceState[]) {
  if (opts.deviceState) {
    return (rec: MigRecord) => {
      if (rec.kind !== "device") return;
      devices.push({
        name: rec.idstr,
        instance: rec.instanceId,
        version: rec.version,
        fields: rec.fields,
      });
    };
  }
  if (opts.format === "ndjson") {
    return (rec: MigRecord) => out.write(stringifyJson(recordToJson(rec)) + "\n");
  }
  if (opts.format === "text" && opts.records) {
    return async (rec: MigRecord) => {
      const row = recordRow(rec);
      if (row) await out.write(row + "\n");
    };
  }
  return undefined;
}

/** What the input's first bytes look like, or the one-line error reading them. */
async function sniffInput(input: OpenedInput): Promise<Sniffed | string> {
  try {
    const n = Math.min(await input.reader.peekUpTo(SNIFF_BYTES), SNIFF_BYTES);
    return sniff(input.reader.peekBytes(n));
  } catch (e) {
    return oneLine((e as Error).message?.split("\n")[0] ?? String(e));
  }
}

/** The error for an input that is not a migration stream: what it looks like instead. */
function notAStream(input: OpenedInput, s: Sniffed): StreamError {
  const gz = input.gzip ? " (after gzip decompression)" : "";
  return new StreamError(
    { offset: 0, record: "file header" },
    `not a QEMU migration stream${gz}: ${s.what}`,
  );
}

/** The first option given that a multifd channel capture would ignore. */
function channelUnused(opts: InspectOptions): string | undefined {
  if (opts.deviceState) return "--device-state";
  if (opts.vmdesc) return "--vmdesc";
  if (opts.footers && opts.footers !== "auto") return "--footers";
  if (opts.hugePageBlocks?.length) return "--hugepage-block";
  return undefined;
}

/** Runs `inspect`, writing the report to `out`. Never throws for bad input. */
export async function runInspect(opts: InspectOptions, out: TextOut): Promise<CommandResult> {
  const o = await openWithVmdesc(opts.input, opts.vmdesc, { onListen: opts.onListen });
  if (!o.ok) return { code: 2, error: o.error };
  const opened = o.input;
  const kind = await sniffInput(opened);
  if (typeof kind === "string" || (kind.kind !== "migration" && kind.kind !== "multifd")) {
    opened.close();
    return { code: 2, error: typeof kind === "string" ? kind : notAStream(opened, kind).message };
  }
  if (kind.kind === "multifd") {
    const unused = channelUnused(opts);
    if (unused) {
      opened.close();
      const e = new StreamError(
        { offset: 0, record: "file header" },
        `a multifd channel capture (magic 0x11223344): ${unused} does not apply to it`,
      );
      return { code: 2, error: e.message };
    }
    return await inspectChannel(opened, opts.format, opts.records, out, opts.pageSize);
  }
  const text = opts.format === "text" && !opts.deviceState;
  if (text) await out.write(`migscope inspect ${opened.name}${opened.gzip ? " (gzip)" : ""}\n\n`);
  const devices: DeviceState[] = [];
  const res = await inspectStream(opened, {
    vmdesc: o.vmdesc,
    decodeDevices: opts.deviceState,
    footers: opts.footers,
    hugePageBlocks: opts.hugePageBlocks,
    pageSize: opts.pageSize,
    visit: visitor(opts, out, devices),
  });
  opened.close();
  const e = res.error;
  const error = e
    ? (e instanceof StreamError ? e.message : oneLine(e.message.split("\n")[0]))
    : undefined;
  const errorOffset = e instanceof StreamError ? e.offset : undefined;
  const summary = res.summary;
  if (opts.deviceState) {
    await out.write(stringifyJson({ devices, ...(error ? { error } : {}) }, 2) + "\n");
  } else if (opts.format === "json") {
    const err = error ? { error: { message: error, offset: errorOffset } } : {};
    await out.write(stringifyJson({ summary, timeline: res.timeline, ...err }, 2) + "\n");
  } else if (opts.format === "ndjson") {
    await out.write(
      stringifyJson({ kind: "summary", ...summary, ...(error ? { error } : {}) }) + "\n",
    );
  } else {
    if (opts.records) await out.write("\n");
    await out.write("Timeline\n" + timelineTable(res.timeline) + "\n");
    await out.write(summaryText(summary));
    if (error) await out.write(`\nstopped: ${error}\n`);
  }
  await out.flush();
  return error ? { code: 2, error: oneLine(error) } : { code: 0 };
}
