/**
 * Applying RAM records as QEMU's loader does: MEM_SIZE opens one image per block, ZERO fills
 * the page (7.2: with the fill byte; ≥ 8.2 with --strict-zero-fill rejects non-zero bytes),
 * PAGE copies, XBZRLE decodes against the page's current content, COMPRESS_PAGE inflates.
 * Works on {@link RamBatch} columns: no object per page.
 * @module
 */
import { printable } from "../protocol/errors.ts";
import { batchData, RAM_CODE, type RamBatch } from "../protocol/ram_batch.ts";
import type { RamBlockInfo } from "../protocol/records.ts";
import { inflatePage } from "../wire/inflate.ts";
import { isAllZero } from "../wire/zero.ts";
import { xbzrleDecode } from "../xbzrle/decode.ts";
import { openTarget, ReplayError } from "./errors.ts";
import type { Findings } from "./findings.ts";
import { DATA, Slot, UNTOUCHED } from "./slot.ts";
import type { ReplayTargets } from "./targets.ts";
import { WRITER } from "./writers.ts";

/** Options of the RAM applier. */
export interface RamApplierOptions {
  trackWriters?: boolean;
  strictZeroFill?: boolean;
}

/** Applies RAM records to one image per block. */
export class RamApplier {
  /** Slots by block name. */
  readonly slots = new Map<string, Slot>();
  /** The stream's target page size (from MEM_SIZE). */
  pageSize = 0;
  readonly #targets: ReplayTargets;
  readonly #findings: Findings;
  readonly #opts: RamApplierOptions;
  #page = new Uint8Array(0);

  /** Every block MEM_SIZE named, in order (a postcopy-preempt channel refers to them). */
  readonly blocks: RamBlockInfo[] = [];

  constructor(targets: ReplayTargets, findings: Findings, opts: RamApplierOptions) {
    this.#targets = targets;
    this.#findings = findings;
    this.#opts = opts;
  }

  /** MEM_SIZE: opens an image for each new block; returns the slots opened. */
  memSize(
    blocks: RamBlockInfo[],
    pageSize: number,
    offset: number,
  ): { block: RamBlockInfo; slot: Slot }[] {
    this.pageSize = pageSize;
    if (this.#page.length !== pageSize) this.#page = new Uint8Array(pageSize);
    const opened = [];
    for (const b of blocks) {
      if (this.slots.has(b.name)) continue;
      this.blocks.push(b);
      const target = openTarget(offset, () => this.#targets.openRam(b));
      const slot = new Slot(target, b.name, pageSize, !!this.#opts.trackWriters);
      this.slots.set(b.name, slot);
      opened.push({ block: b, slot });
    }
    return opened;
  }

  /** The slot of a block, or a ReplayError naming the record. */
  slot(name: string, offset: number): Slot {
    const s = this.slots.get(name);
    if (!s) {
      throw new ReplayError(offset, `RAM block '${printable(name)}' was never sized by MEM_SIZE`);
    }
    return s;
  }

  /**
   * Applies records `from`, `from+1`, … of `b` up to the first EOS or MULTIFD_FLUSH; returns
   * its index (or `b.count`), so the caller can synchronise multifd channels there.
   */
  applyUntilSync(b: RamBatch, from: number): number {
    const blocks = b.info.blocks;
    let lastBlock = -1;
    let s: Slot | undefined;
    for (let i = from; i < b.count; i++) {
      const code = b.code[i];
      if (code >= RAM_CODE.EOS) return i;
      const blk = b.block[i];
      if (blk !== lastBlock) {
        s = this.slot(blocks[blk].name, b.offset[i]);
        lastBlock = blk;
      }
      const addr = b.addr[i];
      if (code === RAM_CODE.PAGE) {
        s!.target.write(batchData(b, i), addr);
        s!.stats.page++;
        this.#wrote(s!, addr, b.offset[i], WRITER.PAGE, true);
      } else if (code === RAM_CODE.ZERO) this.#zero(s!, b, i);
      else if (code === RAM_CODE.XBZRLE) this.#xbzrle(s!, b, i);
      else this.#compressed(s!, b, i);
    }
    return b.count;
  }

  #wrote(s: Slot, addr: number, offset: number, kind: 1 | 2 | 3 | 4, data: boolean) {
    const u = addr / this.pageSize;
    s.wrote(u, u + 1, offset, kind, data);
  }

  #zero(s: Slot, b: RamBatch, i: number) {
    const fill = b.fill[i];
    const addr = b.addr[i];
    const offset = b.offset[i];
    const name = s.stats.name;
    if (fill !== 0) {
      if (this.#opts.strictZeroFill) {
        throw new ReplayError(
          offset,
          `ZERO record with fill byte 0x${fill.toString(16)} (QEMU ≥ 8.2 rejects it)`,
        );
      }
      this.#findings.note(
        "zero-fill",
        offset,
        name,
        addr,
        `fill byte 0x${
          fill.toString(16)
        }: the page is filled with it (QEMU 7.2), rejected by QEMU ≥ 8.2`,
      );
    }
    if (s.state[addr / this.pageSize] === DATA) {
      this.#findings.note(
        "zero-after-data",
        offset,
        name,
        addr,
        "ZERO record after data for this page: applied (the page is cleared)",
      );
    }
    s.target.fill(addr, this.pageSize, fill);
    s.stats.zero++;
    this.#wrote(s, addr, offset, WRITER.ZERO, fill !== 0);
  }

  #xbzrle(s: Slot, b: RamBatch, i: number) {
    const page = this.#page;
    const addr = b.addr[i];
    s.target.read(page, addr);
    const r = xbzrleDecode(batchData(b, i), page);
    if (typeof r !== "number") {
      throw new ReplayError(b.offset[i], `XBZRLE delta rejected: ${r.reason}`);
    }
    s.target.write(page, addr);
    s.stats.xbzrle++;
    this.#wrote(s, addr, b.offset[i], WRITER.XBZRLE, true);
  }

  #compressed(s: Slot, b: RamBatch, i: number) {
    const offset = b.offset[i];
    // The parser has loaded the inflater and checked the payload; this is the page it holds.
    const out = inflatePage(batchData(b, i), this.pageSize);
    if (typeof out === "string") throw new ReplayError(offset, `COMPRESS_PAGE payload ${out}`);
    s.target.write(out, b.addr[i]);
    s.stats.compressed++;
    this.#wrote(s, b.addr[i], offset, WRITER.COMPRESS_PAGE, true);
  }

  /**
   * Raises block-not-sent for each RAM block no record of any kind wrote. Without multifd
   * channels (`channels` false) the detail names them too: a QEMU 7.2 multifd main stream
   * carries no page at all, only its sync EOS records.
   */
  checkUnsent(findings: Findings, channels = false): void {
    for (const s of this.slots.values()) {
      const t = s.stats;
      if (t.size > 0 && t.page + t.zero + t.xbzrle + t.compressed + t.discarded + t.data === 0) {
        findings.note(
          "block-not-sent",
          -1,
          t.name,
          0,
          `MEM_SIZE sized '${t.name}' (${t.size} bytes) but no page of it was sent` +
            (channels ? "" : " (a multifd migration sends its pages on the multifd channels: " +
              "give them with --channel)"),
        );
      }
    }
  }

  /**
   * A QEMU 7.2 multifd main stream replayed without its channels: the main stream sent ZERO
   * records but no data page at all (7.2 sends every data page on a channel), and some block
   * got no page (a non-zero ROM). Returns such a block's name. A cpr-transfer stream (no page
   * of any kind) and an all-zero guest (every block gets ZERO records) do not match.
   */
  multifdWithoutChannels(): string | undefined {
    let zero = 0;
    let unsent: string | undefined;
    for (const s of this.slots.values()) {
      const t = s.stats;
      if (t.page + t.xbzrle + t.compressed) return undefined;
      zero += t.zero;
      if (t.size > 0 && t.zero + t.discarded === 0) unsent ??= t.name;
    }
    return zero > 0 ? unsent : undefined;
  }

  /** Pages no record wrote whose base image is non-zero (only for images with a base). */
  checkUnwritten(findings: Findings): void {
    const page = this.#page;
    for (const s of this.slots.values()) {
      if (s.target.fresh) continue;
      for (let u = 0; u < s.state.length; u++) {
        if (s.state[u] !== UNTOUCHED) continue;
        s.target.read(page, u * this.pageSize);
        if (!isAllZero(page)) {
          findings.note(
            "unwritten-nonzero",
            -1,
            s.stats.name,
            u * this.pageSize,
            "no record wrote this page, and the target image has non-zero content there (kept as is)",
          );
        }
      }
    }
  }
}
