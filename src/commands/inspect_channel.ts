/**
 * `inspect` of a multifd channel capture: its initial packet and every page packet.
 * @module
 */
import type { OpenedInput } from "../parse/input.ts";
import { parseMultifdChannel } from "../parse/multifd.ts";
import { document, errorObject, ndjsonError, ndjsonHeader } from "../report/documents.ts";
import { stringifyJson } from "../report/json.ts";
import { type ChannelSummary, channelText, packetRow } from "../report/channel_text.ts";
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
  const s: ChannelSummary = {
    packets: 0,
    syncs: 0,
    normalPages: 0,
    zeroPages: 0,
    bytes: 0,
    blocks: {},
  };
  const rows: string[][] = [];
  /** Packets past the first MAX_ROWS rows that are not shown (every SYNC packet is). */
  let hidden = 0;
  let error: Error | undefined;
  if (format === "ndjson") {
    await out.write(stringifyJson(ndjsonHeader("migscope-channel-ndjson")) + "\n");
  }
  try {
    for await (const p of parseMultifdChannel(input.reader, input.name, { pageSize })) {
      if (p.kind === "init") {
        s.id = p.id;
        s.uuid = p.uuid;
        if (format === "ndjson") await out.write(stringifyJson(p) + "\n");
        continue;
      }
      s.packets++;
      if (p.sync) s.syncs++;
      s.normalPages += p.normalPages;
      s.zeroPages += p.zeroPages;
      s.bytes = p.offset + p.length;
      if (p.normalPages + p.zeroPages) {
        s.blocks[p.block] = (s.blocks[p.block] ?? 0) + p.normalPages + p.zeroPages;
      }
      if (format === "ndjson") {
        const { data: _data, ...rest } = p;
        await out.write(stringifyJson(rest) + "\n");
      } else if (format === "text" && (records || p.sync || rows.length < MAX_ROWS)) {
        rows.push(packetRow(p));
      } else if (format === "text") hidden++;
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
