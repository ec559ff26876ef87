/**
 * `inspect MAIN --channel FILE…`: the extra connections of a migration read with what the main
 * stream told (page size, RAM blocks, the source UUID when validate-uuid put it in the
 * configuration): which connection is which (multifd channel id, or postcopy-preempt), and
 * their packets and pages, so that the pages of all connections add up to query-migrate's.
 * @module
 */
import { openInput } from "../parse/input.ts";
import { parseMultifdChannel } from "../parse/multifd.ts";
import { parsePreemptChannel } from "../parse/preempt.ts";
import { FILE_MAGIC, MULTIFD_MAGIC } from "../protocol/constants.ts";
import { printable, StreamError } from "../protocol/errors.ts";
import {
  addChannelItem,
  addPreemptBatch,
  newChannelSummary,
  newPreemptSummary,
} from "../report/channel_summary.ts";
import type { ChannelReport } from "../report/channel_text.ts";
import type { Summary } from "../report/summary_types.ts";

/** What {@link inspectChannels} found: every channel read up to where it stopped. */
export interface ChannelsResult {
  channels: ChannelReport[];
  error?: Error;
}

async function readChannel(path: string, main: Summary, reports: ChannelReport[]) {
  const input = await openInput(path, { readTrailer: false });
  try {
    const r = input.reader;
    const magic = (await r.peekUpTo(4)) >= 4 ? r.peekBe32(0) : -1;
    if (magic === FILE_MAGIC) {
      throw new StreamError(
        { offset: 0, record: "file header" },
        `${path} is a main stream (QEVM)`,
      );
    }
    if (magic === MULTIFD_MAGIC) {
      const multifd = newChannelSummary();
      reports.push({ file: path, kind: "multifd", multifd });
      const pageSize = main.stream.pageSize;
      for await (const p of parseMultifdChannel(r, input.name, { pageSize })) {
        addChannelItem(multifd, p);
      }
      return;
    }
    const preempt = newPreemptSummary();
    reports.push({ file: path, kind: "preempt", preempt });
    const blocks = main.ram.blocks.map((b) => ({ name: b.name, size: b.size }));
    if (!blocks.length) {
      throw new StreamError(
        { offset: 0, record: "file header" },
        `${printable(path)} has no magic (a postcopy-preempt channel), but the main stream sized ` +
          "no RAM block",
      );
    }
    const opts = { pageSize: main.stream.pageSize, blocks };
    for await (const b of parsePreemptChannel(r, input.name, opts)) addPreemptBatch(preempt, b);
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

/** Reads each channel after the main stream; stops at the first error. */
export async function inspectChannels(paths: string[], main: Summary): Promise<ChannelsResult> {
  const channels: ChannelReport[] = [];
  for (const path of paths) {
    try {
      await readChannel(path, main, channels);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const msg = err instanceof StreamError ? err.message : `--channel ${path}: ${err.message}`;
      return { channels, error: err instanceof StreamError ? err : new Error(msg) };
    }
  }
  return { channels, error: checkIdentity(channels, main) };
}
