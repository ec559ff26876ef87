/**
 * The other connections of a migration (`report MAIN --channel FILE…`), read once each after
 * the main stream: their summaries as `inspect --channel` counts them (the same summary
 * functions) and their pages onto the RAM map — a multifd channel's normal and zero pages by
 * offset, a postcopy-preempt channel's records from their batches.
 * @module
 */
import { openInput } from "../../parse/input.ts";
import { parseMultifdChannel } from "../../parse/multifd.ts";
import { parsePreemptChannel } from "../../parse/preempt.ts";
import { FILE_MAGIC, MULTIFD_MAGIC } from "../../protocol/constants.ts";
import { printable, StreamError } from "../../protocol/errors.ts";
import { RAM_CODE } from "../../protocol/ram_batch.ts";
import {
  addChannelItem,
  addPreemptBatch,
  newChannelSummary,
  newPreemptSummary,
} from "../channel_summary.ts";
import type { ChannelReport } from "../channel_text.ts";
import type { Summary } from "../summary_types.ts";
import type { RamMap } from "./ram_map.ts";

/** What the channels held, up to the first error. */
export interface ChannelsCollected {
  channels: ChannelReport[];
  error?: Error;
}

const headerError = (message: string) =>
  new StreamError({ offset: 0, record: "file header" }, message);

async function readChannel(path: string, main: Summary, map: RamMap, out: ChannelReport[]) {
  const input = await openInput(path, { readTrailer: false });
  try {
    const r = input.reader;
    const magic = (await r.peekUpTo(4)) >= 4 ? r.peekBe32(0) : -1;
    if (magic === FILE_MAGIC) throw headerError(`${path} is a main stream (QEVM)`);
    const pageSize = main.stream.pageSize;
    if (magic === MULTIFD_MAGIC) {
      const multifd = newChannelSummary();
      out.push({ file: path, kind: "multifd", multifd });
      for await (const p of parseMultifdChannel(r, input.name, { pageSize })) {
        addChannelItem(multifd, p);
        if (p.kind !== "packet") continue;
        const n = p.normalPages;
        map.addPages(p.block, p.offsets, 0, n, RAM_CODE.PAGE);
        map.addPages(p.block, p.offsets, n, n + p.zeroPages, RAM_CODE.ZERO);
      }
      return;
    }
    const preempt = newPreemptSummary();
    out.push({ file: path, kind: "preempt", preempt });
    const blocks = main.ram.blocks.map((b) => ({ name: b.name, size: b.size }));
    if (!blocks.length) {
      throw headerError(
        `${printable(path)} has no magic (a postcopy-preempt channel), but the main stream sized ` +
          "no RAM block",
      );
    }
    for await (const b of parsePreemptChannel(r, input.name, { pageSize, blocks })) {
      addPreemptBatch(preempt, b);
      map.addBatch(b, false);
    }
  } finally {
    input.close();
  }
}

/** Channel ids must be distinct and every channel must come from the main stream's source. */
function checkIdentity(reports: ChannelReport[], main: Summary): Error | undefined {
  const ids = new Map<number, string>();
  let uuid = main.configuration.uuid;
  let uuidFrom = "the main stream's configuration";
  for (const c of reports) {
    const m = c.multifd;
    if (!m || m.id === undefined) continue;
    const other = ids.get(m.id);
    if (other !== undefined) {
      return new Error(`--channel ${c.file}: multifd channel id ${m.id} again (${other} has it)`);
    }
    ids.set(m.id, c.file);
    if (uuid === undefined) {
      uuid = m.uuid;
      uuidFrom = `channel ${c.file}`;
    } else if (m.uuid !== uuid) {
      return new Error(
        `--channel ${c.file}: source UUID ${m.uuid}, but ${uuidFrom} says ${uuid}: ` +
          "not a channel of this migration",
      );
    }
  }
  return undefined;
}

/**
 * Reads each channel after the main stream (as `inspect --channel` does, with the same checks);
 * stops at the first error.
 */
export async function collectChannels(
  paths: string[],
  main: Summary,
  map: RamMap,
): Promise<ChannelsCollected> {
  const channels: ChannelReport[] = [];
  for (const path of paths) {
    try {
      await readChannel(path, main, map, channels);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      if (err instanceof StreamError) return { channels, error: err };
      return { channels, error: new Error(`--channel ${path}: ${err.message}`) };
    }
  }
  return { channels, error: checkIdentity(channels, main) };
}
