/**
 * The postcopy-preempt channel (QEMU 8.0+ with `postcopy-preempt`): a connection the source
 * opens when postcopy starts, with no magic and no header, carrying the pages the destination
 * asked for urgently as bare RAM records (ZERO or PAGE, the block named on the first record and
 * CONTINUE after, as on the main channel but with its own "last block"), in runs each ended by
 * an EOS. The block table comes from the main stream's MEM_SIZE record: the channel never
 * repeats it. Records are read into {@link RamBatch}es, as the main channel's are.
 * @module
 */
import { printable, StreamError } from "../protocol/errors.ts";
import { newRamBatch, RAM_CODE, RAM_CODE_KIND, type RamBatch } from "../protocol/ram_batch.ts";
import type { RamBlockInfo } from "../protocol/records.ts";
import { BufferLimitError, type ByteReader, EndOfStreamError } from "../wire/reader.ts";
import { RAM_STOP_INFLATE, RAM_STOP_MEM_SIZE, readRamBatch } from "./ram.ts";
import { ParseState } from "./state.ts";

/** What a preempt channel's parse needs from the main stream. */
export interface PreemptOptions {
  /** The main stream's target page size. */
  pageSize: number;
  /** The main stream's RAM blocks (its MEM_SIZE record). */
  blocks: RamBlockInfo[];
}

/** Record kinds the preempt channel may carry. */
const ALLOWED = new Set<number>([RAM_CODE.ZERO, RAM_CODE.PAGE, RAM_CODE.EOS]);

/** Drops the records from the first one of a kind the channel cannot carry, and fails there. */
function checkKinds(st: ParseState, b: RamBatch) {
  for (let i = 0; i < b.count; i++) {
    if (!ALLOWED.has(b.code[i])) {
      b.count = i;
      st.record = `${RAM_CODE_KIND[b.code[i]].toUpperCase()} record at ${b.offset[i]}`;
      st.fail(
        "only ZERO, PAGE and EOS records travel on the postcopy-preempt channel",
        b.offset[i],
      );
    }
  }
}

/**
 * Parses a postcopy-preempt channel into RAM batches (each valid until the next is asked for).
 * Throws StreamError naming the channel, offset and record.
 *
 * @example
 * ```ts
 * import { parsePreemptChannel } from "./preempt.ts";
 * import { ByteReader } from "../wire/reader.ts";
 * import { bytesSource } from "../wire/source.ts";
 * // One ZERO record for page 0x3000 of "pc.ram" (flags 0x2), then EOS (0x10).
 * const name = new TextEncoder().encode("pc.ram");
 * const bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 0x30, 0x02, name.length, ...name, 0,
 *   0, 0, 0, 0, 0, 0, 0, 0x10]);
 * let pages = 0;
 * const blocks = [{ name: "pc.ram", size: 1 << 20 }];
 * for await (const b of parsePreemptChannel(new ByteReader(bytesSource(bytes)), "p", {
 *   pageSize: 4096, blocks,
 * })) {
 *   for (let i = 0; i < b.count; i++) if (b.code[i] === 1 && b.addr[i] === 0x3000) pages++;
 * }
 * if (pages !== 1) throw new Error("one zero page");
 * ```
 */
export async function* parsePreemptChannel(
  r: ByteReader,
  name: string,
  opts: PreemptOptions,
): AsyncGenerator<RamBatch> {
  const st = new ParseState(r, { pageSize: opts.pageSize, headerless: true });
  st.info.blocks.push(...opts.blocks.map((b) => ({ ...b })));
  opts.blocks.forEach((b, i) => st.blockIndex.set(b.name, i));
  st.section = `postcopy-preempt channel ${printable(name)}`;
  const batch = newRamBatch(st.info);
  try {
    for (;;) {
      batch.count = 0;
      let stop: number;
      try {
        stop = readRamBatch(st, batch);
        checkKinds(st, batch);
      } catch (e) {
        if (batch.count) yield batch;
        throw e;
      }
      if (batch.count) yield batch;
      if (stop === RAM_STOP_MEM_SIZE || stop === RAM_STOP_INFLATE) {
        st.record = `record at ${r.pos}`;
        st.fail("only ZERO, PAGE and EOS records travel on the postcopy-preempt channel");
      }
      if (stop > 0) {
        const avail = await r.peekUpTo(stop);
        if (avail === 0) return;
        if (avail < stop) {
          st.record = `record at ${r.pos}`;
          st.fail("truncated: the channel ends inside a record", r.pos + avail);
        }
      }
    }
  } catch (e) {
    if (e instanceof EndOfStreamError) {
      throw new StreamError(
        { offset: e.offset + e.available, section: st.section, record: st.record },
        "truncated: the channel ends inside a record",
      );
    }
    if (e instanceof BufferLimitError) {
      throw new StreamError({ offset: e.offset, section: st.section }, e.message);
    }
    throw e;
  }
}
