/**
 * Applying parsed records to RAM images and disks exactly as a QEMU destination loads them:
 * ZERO fills (7.2: with the fill byte), PAGE copies, XBZRLE decodes against the page's current
 * content, COMPRESS_PAGE inflates, RAM_DISCARD ranges are zeroed, block chunks are written and
 * clipped at the device end, ZERO_BLOCK chunks become zeros. Nested PACKAGED records are
 * applied like any other. Findings note what a migration engineer should know about.
 * @module
 */
import { inflateSync } from "node:zlib";
import { BLK_CHUNK_SIZE, BLK_SECTOR_SIZE, DEFAULT_PAGE_SIZE } from "../protocol/constants.ts";
import type { MigRecord, RamBlockInfo } from "../protocol/records.ts";
import { isAllZero } from "../wire/zero.ts";
import { xbzrleDecode } from "../xbzrle/decode.ts";
import type { ImageTarget } from "./target.ts";
import { oneLine, printable } from "../protocol/errors.ts";
import { bitSet, hasRegion, paddingBits, readBitmap } from "../parse/mapped_ram.ts";
import type { MultifdInit, MultifdPacket } from "../parse/multifd.ts";

/** Largest disk replayed without a known size (a chunk beyond it needs --disk-size). */
export const MAX_UNSIZED_DISK = 2 ** 40;

/** A replay that cannot continue (the destination would fail here too). */
export class ReplayError extends Error {
  constructor(readonly offset: number, message: string) {
    super(oneLine(`offset ${offset} (0x${offset.toString(16)}): ${message}`));
    this.name = "ReplayError";
  }
}

/** Kinds of finding. */
export type FindingKind =
  | "zero-fill"
  | "zero-after-data"
  | "unwritten-nonzero"
  | "chunk-past-end"
  | "discard"
  | "stale-slot"
  | "bitmap-padding";

/** One observation, with where it happened. */
export interface Finding {
  kind: FindingKind;
  offset: number;
  target: string;
  addr: number;
  detail: string;
}

/** What wrote a page last: record kinds as stored in the writer map. */
export const WRITER_KINDS = [
  "none",
  "ZERO",
  "PAGE",
  "XBZRLE",
  "COMPRESS_PAGE",
  "RAM_DISCARD",
  "DEVICE_BLOCK",
  "ZERO_BLOCK",
] as const;

/** Where replay writes; the caller decides file names and base images. */
export interface ReplayTargets {
  /** Opens the image for a RAM block announced by MEM_SIZE (throws when it cannot). */
  openRam(block: RamBlockInfo): ImageTarget;
  /** Opens the image for a block-migration device on its first chunk. */
  openDisk(device: string): ImageTarget;
}

/** Options of {@link replayRecords}. */
export interface ReplayOptions {
  pageSize?: number;
  /** Remember the last record that wrote each page (8 bytes per page), for verify. */
  trackWriters?: boolean;
  /** Check pages no record wrote for non-zero content in base images. */
  checkUnwritten?: boolean;
  /** QEMU ≥ 8.2 semantics: a non-zero ZERO fill byte is an error, not a memset. */
  strictZeroFill?: boolean;
  /** Examples kept per finding kind (counts are always complete). */
  maxFindingsPerKind?: number;
  /** Positional reads of the input, needed for mapped-ram files. */
  readAt?: (buf: Uint8Array, position: number) => Promise<number>;
  /** mapped-ram: read the slots of clear-bit pages and report stale (non-zero) ones. */
  checkStaleSlots?: boolean;
  /**
   * Multifd channels replayed with the main stream: their packets are applied up to each
   * channel's next SYNC packet at every RAM EOS (QEMU 7.2) or, once the main stream has shown
   * one, at every MULTIFD_FLUSH (8.1+); whatever remains is applied at the end.
   */
  channels?: { name: string; packets: AsyncIterator<MultifdInit | MultifdPacket> }[];
  /** Called now and then with the stream offset reached. */
  onProgress?: (offset: number) => void;
}

/** Per-target counters. */
export interface TargetStats {
  name: string;
  path: string;
  size: number;
  zero: number;
  page: number;
  xbzrle: number;
  compressed: number;
  data: number;
  zeroBlocks: number;
  discarded: number;
}

/** Result of a replay. */
export interface ReplayResult {
  ram: TargetStats[];
  disks: TargetStats[];
  findings: Finding[];
  findingCounts: Partial<Record<FindingKind, number>>;
  /** Last writer per unit, `offset * 8 + kind`, when tracked. */
  writers: Map<string, Float64Array>;
  records: number;
}

interface Slot {
  target: ImageTarget;
  stats: TargetStats;
  /** Per page: 0 untouched, 1 zero record, 2 data. */
  state: Uint8Array;
  writers?: Float64Array;
}

/** Applies `records` to the targets. Throws ReplayError where a destination would fail. */
export async function replayRecords(
  records: AsyncIterable<MigRecord>,
  targets: ReplayTargets,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  const ps = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const ram = new Map<string, Slot>();
  const disks = new Map<string, Slot>();
  const findings: Finding[] = [];
  const counts: Partial<Record<FindingKind, number>> = {};
  const maxPer = opts.maxFindingsPerKind ?? 20;
  const page = new Uint8Array(ps);
  let n = 0;
  let nextProgress = 64 << 20;

  const note = (
    kind: FindingKind,
    offset: number,
    target: string,
    addr: number,
    detail: string,
  ) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
    if (counts[kind]! <= maxPer) findings.push({ kind, offset, target, addr, detail });
  };
  const slot = (target: ImageTarget, name: string, units: number): Slot => ({
    target,
    stats: {
      name,
      path: target.path,
      size: target.size,
      zero: 0,
      page: 0,
      xbzrle: 0,
      compressed: 0,
      data: 0,
      zeroBlocks: 0,
      discarded: 0,
    },
    state: new Uint8Array(units),
    writers: opts.trackWriters ? new Float64Array(units) : undefined,
  });
  const wrote = (s: Slot, unit: number, offset: number, kind: number, data: boolean) => {
    if (unit < s.state.length) s.state[unit] = data ? 2 : 1;
    if (s.writers && unit < s.writers.length) s.writers[unit] = offset * 8 + kind;
  };

  /** mapped-ram: set bits copy their slot, clear bits are zero pages (stale slots ignored). */
  const loadMappedRam = async (s: Slot, b: RamBlockInfo, offset: number) => {
    if (!opts.readAt) {
      throw new ReplayError(
        offset,
        `'${
          printable(b.name)
        }' uses mapped-ram: its pages sit at fixed file offsets, so the input must be a seekable, uncompressed file`,
      );
    }
    const m = b.mappedRam!;
    let bm: Uint8Array;
    try {
      bm = await readBitmap(opts.readAt, b, ps);
    } catch (e) {
      throw new ReplayError(m.bitmapOffset, (e as Error).message.replace(/^offset \d+: /, ""));
    }
    const pages = b.size / ps;
    const pad = paddingBits(bm, pages);
    if (pad) {
      note(
        "bitmap-padding",
        m.bitmapOffset,
        b.name,
        b.size,
        `${pad} bits set past the block's last page (ignored)`,
      );
    }
    const run = new Uint8Array(256 * ps);
    for (let i = 0; i < pages;) {
      const set = bitSet(bm, i);
      let j = i + 1;
      while (j < pages && j - i < 256 && bitSet(bm, j) === set) j++;
      const len = (j - i) * ps;
      if (set) {
        const buf = run.subarray(0, len);
        const got = await opts.readAt(buf, m.pagesOffset + i * ps);
        if (got !== len) {
          throw new ReplayError(
            m.pagesOffset + i * ps,
            `mapped-ram page slots of '${printable(b.name)}' run past the end of the file`,
          );
        }
        s.target.write(buf, i * ps);
        for (let u = i; u < j; u++) wrote(s, u, m.pagesOffset + u * ps, 2, true);
        s.stats.page += j - i;
      } else {
        if (opts.checkStaleSlots) {
          const buf = run.subarray(0, len);
          const got = await opts.readAt(buf, m.pagesOffset + i * ps);
          buf.fill(0, got);
          for (let u = 0; u < j - i; u++) {
            if (!isAllZero(buf.subarray(u * ps, (u + 1) * ps))) {
              note(
                "stale-slot",
                m.pagesOffset + (i + u) * ps,
                b.name,
                (i + u) * ps,
                "bitmap bit clear but the slot holds older bytes: the page is zero (slot ignored)",
              );
            }
          }
        }
        s.target.zero(i * ps, len);
        for (let u = i; u < j; u++) wrote(s, u, m.bitmapOffset, 1, false);
        s.stats.zero += j - i;
      }
      i = j;
    }
  };

  let flushSeen = false;
  let channelUuid: string | undefined;
  const drain = async (untilSync: boolean) => {
    for (const ch of opts.channels ?? []) {
      for (;;) {
        const it = await ch.packets.next();
        if (it.done) break;
        const p = it.value;
        if (p.kind === "init") {
          channelUuid ??= p.uuid;
          if (p.uuid !== channelUuid) {
            throw new ReplayError(
              0,
              `multifd channel ${
                printable(ch.name)
              } has UUID ${p.uuid}, another channel ${channelUuid}`,
            );
          }
          continue;
        }
        if (p.normalPages + p.zeroPages > 0) {
          const s = ram.get(p.block);
          if (!s) {
            throw new ReplayError(
              p.offset,
              `multifd channel ${printable(ch.name)}: unknown RAM block '${printable(p.block)}'`,
            );
          }
          for (let i = 0; i < p.offsets.length; i++) {
            const addr = p.offsets[i];
            if (addr % ps || addr + ps > s.target.size) {
              throw new ReplayError(
                p.offset,
                `multifd channel ${printable(ch.name)}: illegal offset 0x${addr.toString(16)} in '${
                  printable(p.block)
                }'`,
              );
            }
            if (i < p.normalPages) {
              s.target.write(p.data.subarray(i * ps, (i + 1) * ps), addr);
              s.stats.page++;
              wrote(s, addr / ps, p.offset, 2, true);
            } else {
              s.target.zero(addr, ps);
              s.stats.zero++;
              wrote(s, addr / ps, p.offset, 1, false);
            }
          }
        }
        if (p.sync && untilSync) break;
      }
    }
  };

  for await (const rec of records) {
    n++;
    if (opts.channels && rec.kind === "ram") {
      if (rec.type === "multifd_flush") {
        flushSeen = true;
        await drain(true);
      } else if (rec.type === "eos" && !flushSeen) await drain(true);
    }
    if (opts.onProgress && rec.offset >= nextProgress) {
      opts.onProgress(rec.offset);
      nextProgress = rec.offset + (64 << 20);
    }
    if (rec.kind === "ram") {
      if (rec.type === "mem_size") {
        for (const b of rec.blocks!) {
          if (ram.has(b.name)) continue;
          const s = slot(targets.openRam(b), b.name, Math.ceil(b.size / ps));
          ram.set(b.name, s);
          if (hasRegion(b)) await loadMappedRam(s, b, rec.offset);
        }
        continue;
      }
      if (rec.type === "eos" || rec.type === "multifd_flush") continue;
      const s = ram.get(rec.block);
      if (!s) {
        throw new ReplayError(
          rec.offset,
          `RAM block '${printable(rec.block ?? "")}' was never sized by MEM_SIZE`,
        );
      }
      const t = s.target;
      const unit = rec.addr / ps;
      switch (rec.type) {
        case "zero": {
          if (rec.fill !== 0) {
            if (opts.strictZeroFill) {
              throw new ReplayError(
                rec.offset,
                `ZERO record with fill byte 0x${rec.fill!.toString(16)} (QEMU ≥ 8.2 rejects it)`,
              );
            }
            note(
              "zero-fill",
              rec.offset,
              rec.block,
              rec.addr,
              `fill byte 0x${
                rec.fill!.toString(16)
              }: the page is filled with it (QEMU 7.2), rejected by QEMU ≥ 8.2`,
            );
          }
          if (s.state[unit] === 2) {
            note(
              "zero-after-data",
              rec.offset,
              rec.block,
              rec.addr,
              "ZERO record after data for this page: applied (the page is cleared)",
            );
          }
          t.fill(rec.addr, ps, rec.fill!);
          s.stats.zero++;
          wrote(s, unit, rec.offset, 1, rec.fill !== 0);
          break;
        }
        case "page":
          t.write(rec.data!, rec.addr);
          s.stats.page++;
          wrote(s, unit, rec.offset, 2, true);
          break;
        case "xbzrle": {
          t.read(page, rec.addr);
          const r = xbzrleDecode(rec.data!, page);
          if (typeof r !== "number") {
            throw new ReplayError(rec.offset, `XBZRLE delta rejected: ${r.reason}`);
          }
          t.write(page, rec.addr);
          s.stats.xbzrle++;
          wrote(s, unit, rec.offset, 3, true);
          break;
        }
        case "compressed": {
          let out: Uint8Array;
          try {
            out = new Uint8Array(inflateSync(rec.data!));
          } catch (e) {
            throw new ReplayError(
              rec.offset,
              `COMPRESS_PAGE does not inflate: ${(e as Error).message}`,
            );
          }
          if (out.length !== ps) {
            throw new ReplayError(
              rec.offset,
              `COMPRESS_PAGE inflates to ${out.length} bytes, not a ${ps}-byte page`,
            );
          }
          t.write(out, rec.addr);
          s.stats.compressed++;
          wrote(s, unit, rec.offset, 4, true);
          break;
        }
      }
    } else if (rec.kind === "block") {
      if (rec.type !== "data" && rec.type !== "zero") continue;
      let s = disks.get(rec.device!);
      if (!s) {
        const t = targets.openDisk(rec.device!);
        s = slot(t, rec.device!, Math.ceil(t.size / ps));
        disks.set(rec.device!, s);
      }
      const t = s.target;
      const pos = rec.sector * BLK_SECTOR_SIZE;
      const bounded = t.size > 0 && s.state.length > 0;
      if (bounded && pos >= t.size) {
        note(
          "chunk-past-end",
          rec.offset,
          rec.device!,
          pos,
          `chunk at byte ${pos} starts past the device end (${t.size}): ignored`,
        );
        continue;
      }
      const len = bounded ? Math.min(BLK_CHUNK_SIZE, t.size - pos) : BLK_CHUNK_SIZE;
      if (!bounded && pos + len > MAX_UNSIZED_DISK) {
        throw new ReplayError(
          rec.offset,
          `chunk at byte ${pos} of disk '${
            printable(rec.device!)
          }' is beyond ${MAX_UNSIZED_DISK} bytes; give its size with --disk-size or a base image with --disk`,
        );
      }
      if (rec.type === "data") {
        t.write(rec.data!.subarray(0, len), pos);
        s.stats.data++;
      } else {
        t.zero(pos, len);
        s.stats.zeroBlocks++;
      }
      const kind = rec.type === "data" ? 6 : 7;
      for (let u = pos / ps; u < (pos + len) / ps; u++) {
        wrote(s, u, rec.offset, kind, rec.type === "data");
      }
    } else if (rec.kind === "command" && rec.name === "POSTCOPY_RAM_DISCARD") {
      const s = ram.get(rec.block!);
      if (!s) {
        throw new ReplayError(
          rec.offset,
          `RAM_DISCARD names unknown block '${printable(rec.block ?? "")}'`,
        );
      }
      for (const r of rec.ranges!) {
        if (r.start % ps || r.length % ps || r.start + r.length > s.target.size) {
          throw new ReplayError(
            rec.offset,
            `RAM_DISCARD range 0x${r.start.toString(16)}+0x${r.length.toString(16)} is outside '${
              printable(rec.block ?? "")
            }' or not page aligned`,
          );
        }
        s.target.zero(r.start, r.length);
        s.stats.discarded += r.length / ps;
        for (let u = r.start / ps; u < (r.start + r.length) / ps; u++) {
          wrote(s, u, rec.offset, 5, false);
        }
      }
    }
  }

  await drain(false);

  if (opts.checkUnwritten) {
    for (const s of ram.values()) {
      if (s.target.fresh) continue;
      for (let u = 0; u < s.state.length; u++) {
        if (s.state[u] !== 0) continue;
        s.target.read(page, u * ps);
        if (!isAllZero(page)) {
          note(
            "unwritten-nonzero",
            -1,
            s.stats.name,
            u * ps,
            "no record wrote this page, and the target image has non-zero content there (kept as is)",
          );
        }
      }
    }
  }
  const writers = new Map<string, Float64Array>();
  for (const [k, s] of ram) if (s.writers) writers.set(k, s.writers);
  for (const [k, s] of disks) if (s.writers) writers.set(`disk:${k}`, s.writers);
  return {
    ram: [...ram.values()].map((s) => s.stats),
    disks: [...disks.values()].map((s) => s.stats),
    findings,
    findingCounts: counts,
    writers,
    records: n,
  };
}
