/**
 * `inspect` of a multifd channel capture: its initial packet and every page packet.
 * @module
 */
import type { OpenedInput } from "../parse/input.ts";
import { parseMultifdChannel } from "../parse/multifd.ts";
import { addChannelItem, newChannelSummary } from "../report/channel_summary.ts";
import { document, errorObject, ndjsonError, ndjsonHeader } from "../report/documents.ts";
import { stringifyJson } from "../report/json.ts";
import {
  type ChannelSummary,
  channelText,
  deviceStateRow,
  packetRow,
} from "../report/channel_text.ts";
import type { CommandResult, TextOut } from "./io.ts";

/** Rows of the packet table without --records (SYNC packets are shown past it). */
export const MAX_ROWS = 200;

/** What {@link inspectChannel} takes from inspect's options. */
export interface ChannelOptions {
  format: "text" | "json" | "ndjson";
  /** Every packet in the table (otherwise the first 200 and every SYNC packet). */
  records: boolean;
  pageSize?: number;
  /** Fit the text to this many columns. */
  width?: number;
}

/** Inspects an opened multifd channel capture. */
export async function inspectChannel(
  input: OpenedInput,
  opts: ChannelOptions,
  out: TextOut,
): Promise<CommandResult> {
  const { format, records, pageSize } = opts;
  const s: ChannelSummary = newChannelSummary();
  const rows: string[][] = [];
  /** Packets past the first MAX_ROWS rows that are not shown (every SYNC packet is). */
  let hidden = 0;
  let error: Error | undefined;
  if (format === "ndjson") {
    await out.write(stringifyJson(ndjsonHeader("migscope-channel-ndjson")) + "\n");
  }
  try {
    for await (const p of parseMultifdChannel(input.reader, input.name, { pageSize })) {
      addChannelItem(s, p);
      if (p.kind === "init") {
        if (format === "ndjson") await out.write(stringifyJson(p) + "\n");
        continue;
      }
      if (format === "ndjson") {
        const rest = p.kind === "packet" ? { ...p, data: undefined } : p;
        await out.write(stringifyJson(rest) + "\n");
      } else if (format !== "text") continue;
      else if (records || (p.kind === "packet" && p.sync) || rows.length < MAX_ROWS) {
        rows.push(p.kind === "packet" ? packetRow(p) : deviceStateRow(p));
      } else hidden++;
    }
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
  } finally {
    input.close();
  }
  if (format === "json") {
    await out.write(stringifyJson(document("migscope-channel", { channel: s }, error), 2) + "\n");
  } else if (format === "ndjson") {
    await out.write(stringifyJson({ kind: "summary", ...s }) + "\n");
    if (error) await out.write(stringifyJson(ndjsonError(error)) + "\n");
  } else {
    await out.write(channelText(input.name, s, rows, { width: opts.width }, hidden));
  }
  await out.flush();
  return error ? { code: 2, error: errorObject(error).message } : { code: 0 };
}
