/**
 * `inspect`: a stream in, a timeline and summary out (text, JSON or NDJSON).
 * @module
 */
import { StreamError } from "../protocol/errors.ts";
import type { FieldValue, MigRecord } from "../protocol/records.ts";
import {
  liveTimelineHeader,
  liveTimelineRow,
  summaryText,
  timelineTable,
} from "../report/inspect_text.ts";
import type { TimelineRow } from "../report/summary_types.ts";
import type { RecordFilter } from "../report/records_text.ts";
import { fitLine } from "../report/table.ts";
import { type InspectResult, inspectStream } from "../report/inspect_stream.ts";
import { document, errorObject, ndjsonError, ndjsonHeader } from "../report/documents.ts";
import { recordToJson, stringifyJson } from "../report/json.ts";
import { sniff, SNIFF_BYTES, type Sniffed } from "../parse/sniff.ts";
import type { OpenedInput } from "../parse/input.ts";
import { inspectChannel } from "./inspect_channel.ts";
import { inspectCpr } from "./inspect_cpr.ts";
import { type ChannelsResult, inspectChannels } from "./inspect_channels.ts";
import { channelsText } from "../report/channel_text.ts";
import { filterProblem, RecordsWriter } from "./inspect_records.ts";
import { type CommandResult, nullOut, type TextOut } from "./io.ts";
import { openWithVmdesc } from "./open.ts";

export type { CommandResult } from "./io.ts";

/** Options of `inspect`. */
export interface InspectOptions {
  input: string | ReadableStream<Uint8Array>;
  format: "text" | "json" | "ndjson";
  /** Flag-level rows (one per RAM/block record). */
  records: boolean;
  /** Which `records` rows to show (all without it). */
  filter?: RecordFilter;
  /** Print decoded device state as JSON instead of the report. */
  deviceState: boolean;
  /** vmdesc JSON or another capture, for streams without a trailer. */
  vmdesc?: string;
  footers?: "auto" | "on" | "off";
  hugePageBlocks?: string[];
  /** Target page size, for streams that do not say it (no target-page-bits, no trailer). */
  pageSize?: number;
  onListen?: (port: number) => void;
  /** Fit the text report to this many columns (a terminal's width); full lines without it. */
  width?: number;
  /** Write no report: the exit code and the error line are the answer. */
  quiet?: boolean;
  /** Told the input bytes read (of the total when known) while the stream is read; cleared before the result is written. */
  progress?: ProgressSink;
  /** qcow2 images: the snapshot (id or name) whose VM state is inspected. */
  snapshot?: string;
  /** The migration's other connections (multifd, postcopy-preempt), read after the main stream. */
  channels?: string[];
}

/** Where progress goes (src/report/progress.ts ProgressLine, on a terminal's stderr). */
export interface ProgressSink {
  update(done: number, total?: number): void;
  clear(): void;
}

/**
 * How far through its input a run is, from the stream offset parsed: a source that counts the
 * (compressed) bytes it pulled says so itself, a plain file is as far as the stream offset, and
 * a pipe or a compressed input without that count has no total (bytes done only).
 */
export function inputMeter(input: OpenedInput): (offset: number) => [number, number?] {
  const src = input.reader.source as { consumed?: () => number };
  if (typeof src.consumed === "function") return () => [src.consumed!(), input.size];
  if (!input.gzip && input.size) return (offset) => [offset, input.size];
  return (offset) => [offset];
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
  return undefined;
}

/** What the input's first bytes look like, or the error reading them. */
async function sniffInput(input: OpenedInput): Promise<Sniffed | Error> {
  try {
    const n = Math.min(await input.reader.peekUpTo(SNIFF_BYTES), SNIFF_BYTES);
    return sniff(input.reader.peekBytes(n));
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
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
  const f = opts.filter;
  if (f?.blocks?.length) return "--block";
  if (f?.kinds?.length) return "--kind";
  if (f?.passes?.length) return "--pass";
  if (f?.sections?.length) return "--section";
  return undefined;
}

/** Writes the JSON document (or NDJSON error line) of an input that is not a stream. */
async function writeNotAStream(opts: InspectOptions, out: TextOut, e: Error): Promise<void> {
  if (opts.deviceState) {
    await out.write(stringifyJson(document("migscope-device-state", {}, e), 2) + "\n");
  } else if (opts.format === "json") {
    await out.write(stringifyJson(document("migscope-inspect", {}, e), 2) + "\n");
  } else if (opts.format === "ndjson") {
    await out.write(stringifyJson(ndjsonHeader("migscope-inspect-ndjson")) + "\n");
    await out.write(stringifyJson(ndjsonError(e)) + "\n");
  }
  await out.flush();
}

/**
 * The live timeline of an input read as it arrives: writes the heading and the column header
 * at once, and returns what writes each row (fixed-width columns) the moment inspectStream
 * hands it over, flushed, after clearing the progress line it would otherwise tear.
 */
async function liveTimeline(
  out: TextOut,
  width: number | undefined,
  progress?: ProgressSink,
): Promise<(row: TimelineRow) => Promise<void>> {
  await out.write("Timeline\n" + liveTimelineHeader());
  await out.flush();
  return async (row) => {
    progress?.clear();
    await out.write(liveTimelineRow(row, { width }));
    await out.flush();
  };
}

/** Writes what inspect found, in the format asked for (the timeline only if not `live`). */
async function writeResult(
  opts: InspectOptions,
  out: TextOut,
  res: InspectResult,
  devices: DeviceState[],
  records?: RecordsWriter,
  ch?: ChannelsResult,
  live = false,
): Promise<void> {
  const { summary, timeline } = res;
  const error = res.error ?? ch?.error;
  const channels = ch ? { channels: ch.channels } : {};
  if (opts.deviceState) {
    await out.write(stringifyJson(document("migscope-device-state", { devices }, error), 2) + "\n");
  } else if (opts.format === "json") {
    const doc = document("migscope-inspect", { summary, timeline, ...channels }, error);
    await out.write(stringifyJson(doc, 2) + "\n");
  } else if (opts.format === "ndjson") {
    await out.write(stringifyJson({ kind: "summary", ...summary }) + "\n");
    for (const c of ch?.channels ?? []) {
      await out.write(stringifyJson({ kind: "channel", channel: c }) + "\n");
    }
    if (error) await out.write(stringifyJson(ndjsonError(error)) + "\n");
  } else {
    const footer = records?.footer();
    if (footer) await out.write(footer + "\n");
    if (records) await out.write("\n");
    const width = opts.width;
    if (!live) await out.write("Timeline\n" + timelineTable(timeline, { width }));
    await out.write("\n" + summaryText(summary, { width }));
    if (ch) {
      const main = { page: summary.ram.page, zero: summary.ram.zero };
      await out.write("\n" + channelsText(ch.channels, main, { width }));
    }
    if (error) {
      await out.write(`\n${fitLine(`stopped: ${errorObject(error).message}`, width, 2)}\n`);
    }
  }
  await out.flush();
}

/** What comes before the stream is read: the text report's title line, the NDJSON header. */
async function writeHead(opts: InspectOptions, out: TextOut, opened: OpenedInput, text: boolean) {
  if (text) {
    const what = opened.container ?? (opened.gzip ? "gzip" : undefined);
    await out.write(`migscope inspect ${opened.name}${what ? ` (${what})` : ""}\n\n`);
  }
  if (opts.format === "ndjson") {
    await out.write(stringifyJson(ndjsonHeader("migscope-inspect-ndjson")) + "\n");
  }
}

/** Runs `inspect`, writing the report to `out`. Never throws for bad input. */
export async function runInspect(opts: InspectOptions, report: TextOut): Promise<CommandResult> {
  const out = opts.quiet ? nullOut() : report;
  const o = await openWithVmdesc(opts.input, opts.vmdesc, {
    onListen: opts.onListen,
    snapshot: opts.snapshot,
  });
  if (!o.ok) return { code: 2, error: o.error };
  const opened = o.input;
  const kind = await sniffInput(opened);
  if (
    kind instanceof Error ||
    (kind.kind !== "migration" && kind.kind !== "multifd" && kind.kind !== "cpr")
  ) {
    opened.close();
    const e = kind instanceof Error ? kind : notAStream(opened, kind);
    await writeNotAStream(opts, out, e);
    return { code: 2, error: errorObject(e).message };
  }
  if (kind.kind === "multifd") {
    const unused = opts.channels?.length ? "--channel" : channelUnused(opts);
    if (unused) {
      opened.close();
      const e = new StreamError(
        { offset: 0, record: "file header" },
        `a multifd channel capture (magic 0x11223344): ${unused} does not apply to it`,
      );
      return { code: 2, error: e.message };
    }
    return await inspectChannel(opened, opts, out);
  }
  if (kind.kind === "cpr") {
    const unused = opts.channels?.length
      ? "--channel"
      : opts.pageSize !== undefined
      ? "--page-size"
      : opts.records
      ? "--records"
      : channelUnused(opts);
    if (unused) {
      opened.close();
      const e = new StreamError(
        { offset: 0, record: "file header" },
        `a cpr-transfer channel capture (magic QCPR): ${unused} does not apply to it`,
      );
      return { code: 2, error: e.message };
    }
    return await inspectCpr(opened, opts, out);
  }
  const text = opts.format === "text" && !opts.deviceState;
  await writeHead(opts, out, opened, text);
  const records = text && opts.records ? new RecordsWriter(out, opts.filter) : undefined;
  const meter = inputMeter(opened);
  const progress = opts.quiet ? undefined : opts.progress;
  await records?.header();
  // A pipe or socket (openInput knows no size only for those): timeline rows as they are final.
  const live = text && !records && opened.size === undefined;
  const onRow = live ? await liveTimeline(out, opts.width, progress) : undefined;
  const devices: DeviceState[] = [];
  const res = await inspectStream(opened, {
    vmdesc: o.vmdesc,
    decodeDevices: opts.deviceState,
    footers: opts.footers,
    hugePageBlocks: opts.hugePageBlocks,
    pageSize: opts.pageSize,
    visit: records?.visit ?? visitor(opts, out, devices),
    onRow,
    onProgress: progress && ((offset) => progress.update(...meter(offset))),
  });
  opened.close();
  const ch = opts.channels?.length && !res.error
    ? await inspectChannels(opts.channels, res.summary)
    : undefined;
  progress?.clear();
  await writeResult(opts, out, res, devices, records, ch, live);
  const error = res.error ?? ch?.error;
  if (error) return { code: 2, error: errorObject(error).message };
  const bad = opts.filter && filterProblem(opts.filter, res.summary, res.timeline);
  return bad ? { code: 2, error: bad } : { code: 0 };
}
