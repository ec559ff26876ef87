/**
 * The streaming parser: a migration stream in, typed records out, in constant memory. One
 * generator runs the main loop and hands each record family to its reader: header and
 * CONFIGURATION, commands (with the PACKAGED stack), section headers and footers, RAM records
 * in batches, MEM_SIZE, block migration, device bodies, the trailer.
 *
 * Page and chunk payloads are views into the reader's buffer; a consumer that needs them later
 * must copy them before asking for the next record.
 * @module
 */
import { BLK_FLAG, CMD, VM } from "../protocol/constants.ts";
import { StreamError } from "../protocol/errors.ts";
import { newRamBatch, type RamBatch, ramRecordAt } from "../protocol/ram_batch.ts";
import type { MigRecord, SectionRecord } from "../protocol/records.ts";
import { BufferLimitError, type ByteReader, EndOfStreamError } from "../wire/reader.ts";
import { SourceError } from "../wire/source.ts";
import { readBlockRecord } from "./block.ts";
import { readCommand } from "./command.ts";
import { readDevice } from "./device_section.ts";
import { readConfiguration, readHeader } from "./header.ts";
import { readMemSize } from "./mem_size.ts";
import {
  RAM_STOP_EOS,
  RAM_STOP_FULL,
  RAM_STOP_INFLATE,
  RAM_STOP_MEM_SIZE,
  readRamBatch,
} from "./ram.ts";
import { loadInflate } from "../wire/inflate.ts";
import { readFooter, readSectionHeader } from "./section.ts";
import { decodeName, type ParseOptions, ParseState } from "./state.ts";
import { readTrailer } from "./trailer.ts";

export type { ParseOptions } from "./state.ts";
export { MAX_RAM_BLOCKS } from "./mem_size.ts";
export { DEFAULT_MAX_DEVICE_TAIL } from "./device_section.ts";

/** Bound on PACKAGED nesting. */
export const MAX_PACKAGE_DEPTH = 8;

/** What the batched parser yields: records, with RAM page records in batches. */
export type StreamItem = MigRecord | RamBatch;

/** Turns reader-level errors into a StreamError naming where the parser was. */
function located(st: ParseState, e: unknown): unknown {
  if (e instanceof StreamError) return e;
  if (e instanceof EndOfStreamError) {
    return new StreamError(
      { offset: e.offset + e.available, section: st.section, record: st.record },
      `truncated: the stream ends ${e.needed - e.available} bytes short of the record`,
    );
  }
  if (e instanceof BufferLimitError) {
    return new StreamError({ offset: e.offset, section: st.section, record: st.record }, e.message);
  }
  if (e instanceof SourceError) {
    return new StreamError({ offset: e.offset, section: st.section, record: st.record }, e.detail);
  }
  return e;
}

async function needInPackage(st: ParseState, n: number): Promise<void> {
  if (st.r.pos + n > st.limit) st.fail("record runs past the end of the PACKAGED payload");
  await st.r.fill(n);
}

/** The RAM records of one section, in batches, with MEM_SIZE records between them. */
async function* ramSection(
  st: ParseState,
  sec: SectionRecord,
  batch: RamBatch,
): AsyncGenerator<StreamItem> {
  batch.sectionId = sec.sectionId;
  batch.depth = sec.depth;
  for (;;) {
    batch.count = 0;
    let status: number;
    try {
      status = readRamBatch(st, batch);
    } catch (e) {
      if (batch.count) yield batch;
      throw e;
    }
    if (batch.count) yield batch;
    if (status === RAM_STOP_EOS) return;
    if (status === RAM_STOP_MEM_SIZE) {
      yield await readMemSize(st, sec.sectionId, sec.depth);
    } else if (status === RAM_STOP_INFLATE) {
      await loadInflate();
    } else if (status !== RAM_STOP_FULL) {
      st.record = `RAM record at ${st.r.pos}`;
      await needInPackage(st, status);
    }
  }
}

async function* blockSection(st: ParseState, sec: SectionRecord): AsyncGenerator<StreamItem> {
  for (;;) {
    const rec = readBlockRecord(st, sec.sectionId, sec.depth);
    if (typeof rec === "number") {
      await needInPackage(st, rec);
      continue;
    }
    yield rec;
    if (rec.flags & BLK_FLAG.EOS) return;
  }
}

async function* endPackage(st: ParseState, depth: number): AsyncGenerator<MigRecord> {
  const frame = st.packages.pop()!;
  if (st.r.pos !== frame.end) {
    st.fail(
      `PACKAGED payload from offset ${frame.offset} has ${
        frame.end - st.r.pos
      } bytes after its last record`,
    );
  }
  st.limit = st.packages.length ? st.packages[st.packages.length - 1].end : Infinity;
  yield { kind: "package-end", offset: frame.end, length: 0, depth };
}

function openPackage(st: ParseState, packageLength: number, offset: number, depth: number) {
  if (depth >= MAX_PACKAGE_DEPTH) {
    st.fail(`PACKAGED nesting deeper than ${MAX_PACKAGE_DEPTH}`, offset);
  }
  const end = st.r.pos + packageLength;
  if (end > st.limit) st.fail("PACKAGED payload runs past the enclosing payload", offset);
  st.packages.push({ end, offset });
  st.limit = end;
}

const POSTCOPY_RUN = [VM.COMMAND, 0, CMD.POSTCOPY_RUN, 0, 0];
/** A PING command's first bytes (`08`, be16 cmd 2, be16 length 4); its be32 value follows. */
const PING_HEAD = [VM.COMMAND, 0, CMD.PING, 0, 4];
const PING_BYTES = PING_HEAD.length + 4;
/** Most PING commands looked for between a package's device sections and its POSTCOPY_RUN. */
const MAX_TAIL_PINGS = 4;

/**
 * Where the device sections of a package end, given `tail`, the bytes before its POSTCOPY_RUN:
 * QEMU writes PING 3 after them (and PING 0x42 since 10.2, savevm.h's
 * `QEMU_VM_PING_PACKAGED_LOADED`). With footers on, the last device section ends with `7e` and
 * a be32 id, and a PING's fifth-last byte is its length byte `04`, never `7e`, so each PING is
 * told from the footer exactly. Without footers they stay in the range.
 */
function devicesEnd(st: ParseState, tail: Uint8Array): number {
  let end = tail.length;
  if (!st.info.footers) return end;
  while (
    end >= PING_BYTES && PING_HEAD.every((b, i) => tail[end - PING_BYTES + i] === b)
  ) end -= PING_BYTES;
  return end;
}

/**
 * Device sections inside a PACKAGED payload with no vmdesc known — a postcopy stream carries
 * none, so no trailer is looked for ahead. The payload's length bounds them: they are reported
 * as one undelimited range up to the PINGs and the POSTCOPY_RUN that close the payload
 * (checked), skipped, and the PINGs and POSTCOPY_RUN are read as records; the outer stream
 * resumes after the payload, as QEMU's destination, which reads the whole payload before
 * parsing it.
 */
async function* undelimitedPackage(st: ParseState, depth: number): AsyncGenerator<MigRecord> {
  const frame = st.packages[depth - 1];
  const offset = st.r.pos;
  st.record = `device sections at ${offset}`;
  const run = frame.end - POSTCOPY_RUN.length;
  await st.need(6, "section header");
  const len = st.r.peekU8(5);
  if (offset + 6 + len > run) {
    st.fail(`PACKAGED payload from offset ${frame.offset} ends inside a device section header`);
  }
  await st.need(6 + len, "section idstr");
  const idstr = decodeName(st.r.peekBytes(len, 6));
  const from = Math.max(offset + 6 + len, run - MAX_TAIL_PINGS * PING_BYTES);
  await st.r.skip(from - offset);
  await st.need(frame.end - from, "POSTCOPY_RUN");
  if (POSTCOPY_RUN.some((b, i) => st.r.peekU8(run - from + i) !== b)) {
    st.record = `end of PACKAGED payload at ${run}`;
    st.fail(
      `the PACKAGED payload from offset ${frame.offset} does not end with POSTCOPY_RUN, so its ` +
        "device sections cannot be skipped without the vmdesc JSON; pass --vmdesc",
      run,
    );
  }
  const end = from + devicesEnd(st, st.r.peekBytes(run - from));
  st.r.advance(end - from);
  yield {
    kind: "undelimited",
    offset,
    length: end - offset,
    depth,
    idstr,
    reason: "device sections in a PACKAGED payload, not delimited without the vmdesc JSON " +
      "(postcopy streams carry none; pass --vmdesc to read them)",
  };
}

/** One section: header, body by handler, footer. */
async function* section(st: ParseState, depth: number, batch: RamBatch) {
  const sec = await readSectionHeader(st, depth);
  yield sec;
  const handler = st.sections.get(sec.sectionId)!.handler;
  if (sec.type === "FULL") yield await readDevice(st, sec);
  else if (handler === "ram") yield* ramSection(st, sec, batch);
  else yield* blockSection(st, sec);
  const footer = await readFooter(st, sec);
  if (footer) yield footer;
}

/** Is the stream over (true), or does the next record start here (false)? */
async function atStreamEnd(st: ParseState, depth: number): Promise<boolean> {
  if (depth > 0 && st.r.pos >= st.limit) {
    st.fail(
      `PACKAGED payload from offset ${st.packages[depth - 1].offset} ends without POSTCOPY_RUN`,
    );
  }
  if ((await st.r.peekUpTo(1)) > 0) return false;
  if (st.opts.headerless && depth === 0) return true;
  st.record = "next record";
  st.fail("truncated: the stream ends before QEMU_VM_EOF");
}

/** `--hugepage-block` names a block no MEM_SIZE announced: the option would do nothing. */
function checkHugePageBlocks(st: ParseState) {
  const unknown = (st.opts.hugePageBlocks ?? []).filter((n) => !st.blockIndex.has(n));
  if (unknown.length === 0) return;
  const have = st.blocks.map((b) => b.name).join(", ") || "none";
  st.record = "QEMU_VM_EOF";
  st.fail(
    `--hugepage-block ${unknown.join(", ")}: the stream has no such RAM block (it has: ${have})`,
  );
}

/** The main loop over top-level (and PACKAGED) records. */
async function* records(st: ParseState): AsyncGenerator<StreamItem> {
  const r = st.r;
  const batch = newRamBatch(st.info);
  if (!st.opts.headerless) {
    yield await readHeader(st);
    if ((await r.peekUpTo(1)) > 0 && r.peekU8() === VM.CONFIGURATION) {
      yield await readConfiguration(st);
    }
  }
  for (;;) {
    const depth = st.packages.length;
    st.section = undefined;
    st.record = undefined;
    if (await atStreamEnd(st, depth)) return;
    const offset = r.pos;
    const type = r.peekU8();
    if (type === VM.EOF) {
      r.advance(1);
      yield { kind: "eof", offset, length: 1, depth };
      if (depth === 0) {
        checkHugePageBlocks(st);
        return yield* readTrailer(st);
      }
      yield* endPackage(st, depth);
    } else if (type === VM.SECTION_FULL && depth > 0 && !st.vmdesc) {
      yield* undelimitedPackage(st, depth);
    } else if (type >= VM.SECTION_START && type <= VM.SECTION_FULL) {
      yield* section(st, depth, batch);
    } else if (type === VM.COMMAND) {
      const cmd = await readCommand(st, depth);
      yield cmd;
      if (cmd.cmd === CMD.PACKAGED) openPackage(st, cmd.packageLength!, offset, depth);
      else if (cmd.cmd === CMD.POSTCOPY_RUN && depth > 0) yield* endPackage(st, depth);
    } else {
      st.record = `record type byte at ${offset}`;
      st.fail(`unknown section type 0x${type.toString(16).padStart(2, "0")}`);
    }
  }
}

/**
 * Parses a migration stream from `r`, yielding records in stream order with RAM page records
 * gathered in {@link RamBatch}es (the fast path: no object per page). Throws
 * {@link StreamError} (one line, with offset, section and record) on malformed input, after
 * yielding everything before the bad record.
 *
 * @example Count RAM records without making an object per page
 * ```ts
 * import { openInput } from "./input.ts";
 * import { parseStreamItems } from "./stream.ts";
 * const input = await openInput("samples/small-xbzrle.mig");
 * let ram = 0;
 * const opts = { vmdesc: input.vmdesc, payloads: false };
 * for await (const item of parseStreamItems(input.reader, opts)) {
 *   if (item.kind === "ram-batch") ram += item.count;
 * }
 * input.close();
 * if (ram !== 3142) throw new Error("1046 PAGE + 1468 ZERO + 623 XBZRLE + 5 EOS records");
 * ```
 */
export async function* parseStreamItems(
  r: ByteReader,
  opts: ParseOptions = {},
): AsyncGenerator<StreamItem> {
  const st = new ParseState(r, opts);
  try {
    yield* records(st);
  } catch (e) {
    throw located(st, e);
  }
}

/**
 * Parses a migration stream from `r`, yielding one record object per record in stream order.
 * Throws {@link StreamError} (one line, with offset, section and record) on malformed input.
 *
 * @example Count records by kind
 * ```ts
 * import { openInput } from "./input.ts";
 * import { parseStream } from "./stream.ts";
 * const input = await openInput("samples/small-block.mig");
 * const kinds = new Map<string, number>();
 * for await (const rec of parseStream(input.reader, { vmdesc: input.vmdesc })) {
 *   kinds.set(rec.kind, (kinds.get(rec.kind) ?? 0) + 1);
 * }
 * input.close();
 * if (kinds.get("header") !== 1 || !kinds.get("block") || kinds.get("eof") !== 1) {
 *   throw new Error("a header, block-migration records and one EOF");
 * }
 * ```
 */
export async function* parseStream(
  r: ByteReader,
  opts: ParseOptions = {},
): AsyncGenerator<MigRecord> {
  const payloads = opts.payloads !== false;
  for await (const item of parseStreamItems(r, opts)) {
    if (item.kind !== "ram-batch") yield item;
    else for (let i = 0; i < item.count; i++) yield ramRecordAt(item, i, payloads);
  }
}
