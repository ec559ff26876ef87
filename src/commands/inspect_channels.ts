/**
 * `inspect MAIN --channel FILE…`: the extra connections of a migration read with what the main
 * stream told (page size, RAM blocks, the source UUID when validate-uuid put it in the
 * configuration): which connection is which (multifd channel id, or postcopy-preempt), and
 * their packets and pages, so that the pages of all connections add up to query-migrate's.
 * The checks are those of replay (src/parse/channel_identity.ts); `report --channel` reads the
 * channels through {@link readChannels} too, with a hook that maps their pages.
 * @module
 */
import {
  channelKind,
  checkChannelIdentity,
  checkPacketPages,
  liveChannelError,
  PacketNumbers,
} from "../parse/channel_identity.ts";
import { openInput } from "../parse/input.ts";
import { type MultifdItem, parseMultifdChannel } from "../parse/multifd.ts";
import { parsePreemptChannel } from "../parse/preempt.ts";
import type { RamBatch } from "../protocol/ram_batch.ts";
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

/** Called with every item read, after the checks (report maps the pages). */
export interface ChannelHooks {
  multifd?: (item: MultifdItem) => void;
  preempt?: (batch: RamBatch) => void;
}

interface ReadState {
  main: Summary;
  blocks: Map<string, number>;
  numbers: PacketNumbers;
  hooks: ChannelHooks;
  out: ChannelReport[];
}

async function readChannel(path: string, st: ReadState) {
  const live = liveChannelError(path);
  if (live) throw new Error(live);
  const input = await openInput(path, { readTrailer: false });
  try {
    const r = input.reader;
    const pageSize = st.main.stream.pageSize;
    if (await channelKind(r, path) === "multifd") {
      const multifd = newChannelSummary();
      st.out.push({ file: path, kind: "multifd", multifd });
      for await (const p of parseMultifdChannel(r, input.name, { pageSize })) {
        if (p.kind === "packet") {
          checkPacketPages(p, st.blocks, pageSize, path);
          st.numbers.add(p.packetNum, input.name, p.offset);
        }
        addChannelItem(multifd, p);
        st.hooks.multifd?.(p);
      }
      return;
    }
    const preempt = newPreemptSummary();
    st.out.push({ file: path, kind: "preempt", preempt });
    const blocks = st.main.ram.blocks.map((b) => ({ name: b.name, size: b.size }));
    if (!blocks.length) {
      throw new StreamError(
        { offset: 0, record: "file header" },
        `${printable(path)} has no magic (a postcopy-preempt channel), but the main stream sized ` +
          "no RAM block",
      );
    }
    for await (const b of parsePreemptChannel(r, input.name, { pageSize, blocks })) {
      addPreemptBatch(preempt, b);
      st.hooks.preempt?.(b);
    }
  } finally {
    input.close();
  }
}

/**
 * Reads each channel after the main stream with replay's checks (what a channel file is, the
 * pages within the main stream's blocks, then distinct ids, one source UUID and no channel
 * missing); stops at the first error.
 */
export async function readChannels(
  paths: string[],
  main: Summary,
  hooks: ChannelHooks = {},
): Promise<ChannelsResult> {
  const blocks = new Map(main.ram.blocks.map((b) => [b.name, b.size]));
  const st: ReadState = { main, blocks, numbers: new PacketNumbers(), hooks, out: [] };
  for (const path of paths) {
    try {
      await readChannel(path, st);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      if (err instanceof StreamError || err.message.startsWith("--channel ")) {
        return { channels: st.out, error: err };
      }
      return { channels: st.out, error: new Error(`--channel ${path}: ${err.message}`) };
    }
  }
  const ids = st.out.flatMap((c) =>
    c.multifd?.id !== undefined ? [{ name: c.file, id: c.multifd.id, uuid: c.multifd.uuid! }] : []
  );
  const error = checkChannelIdentity(ids, main.configuration.uuid) ?? st.numbers.missing();
  return { channels: st.out, error };
}

/** `inspect MAIN --channel FILE…`: {@link readChannels} without hooks. */
export function inspectChannels(paths: string[], main: Summary): Promise<ChannelsResult> {
  return readChannels(paths, main);
}
