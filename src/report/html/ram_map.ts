/**
 * The RAM map of `migscope report`: per RAM block a grid of at most {@link MAX_CELLS} cells,
 * each cell a run of pages, counted from {@link RamBatch} columns in one pass over the records
 * (no object per page). A cell holds the records of each kind that wrote its pages and, from a
 * one-byte state per page (the last kind in 2 bits, the sends in 6, saturating at 63), how many
 * of its pages a record of each kind wrote last, how many none wrote, and the most times one
 * of its pages was sent. Page state is allocated per cell when the cell is first written, so a
 * stream that declares a huge block and sends little costs little; cells of more than
 * {@link MAX_TRACKED_CELL_PAGES} pages (blocks past 1 TiB of 4 KiB pages) keep the counts only.
 * @module
 */
import { RAM_CODE, type RamBatch } from "../../protocol/ram_batch.ts";

/** Cells per block at most. */
export const MAX_CELLS = 4096;
/** Pages of one cell up to which each page's last kind and sends are kept. */
export const MAX_TRACKED_CELL_PAGES = 65536;
/** Sends counted per page at most (6 bits). */
export const MAX_SENDS = 63;

/** Page kinds of the map, in RAM_CODE order (code − 1). */
export const MAP_KINDS = ["zero", "page", "xbzrle", "compressed"] as const;

/** Per-kind numbers of a cell grid, one array per kind. */
export type KindColumns = Record<(typeof MAP_KINDS)[number], number[]>;

/** One block's grid as the report embeds it. */
export interface BlockGridJson {
  name: string;
  size: number;
  pages: number;
  /** Pages per cell (the last cell may hold fewer). */
  cellPages: number;
  cells: number;
  /** Where the pages came from: records (and channels), or a mapped-ram bitmap. */
  source: "records" | "mapped-ram";
  /** Records of each kind per cell. */
  records: KindColumns;
  /** Pages per cell whose last record was of each kind (absent: cells too large to track). */
  last?: KindColumns;
  /** Pages per cell no record wrote. */
  unsent?: number[];
  /** The most times one page of the cell was sent (63 means 63 or more). */
  maxSends?: number[];
  /** Pages per cell that differ from an --expect image (verify). */
  diff?: number[];
}

/** One dirty pass of the main stream, by kind: the convergence picture. */
export interface PassStats {
  index: number;
  offset: number;
  pages: number;
  bytes: number;
  /** Pages and record bytes of each kind. */
  kinds: Record<(typeof MAP_KINDS)[number], { pages: number; bytes: number }>;
  /** Pages of the pass that an earlier record had sent already. */
  resent: number;
  /** resent ÷ pages of the first pass (0 when the first pass has none). */
  resendRatio: number;
  /** The pages sent after POSTCOPY_RUN (one pass, whatever their order). */
  postcopy?: true;
}

/** A block's counting state. */
export class BlockGrid {
  readonly pages: number;
  readonly cellPages: number;
  readonly cells: number;
  /** Records per kind per cell: index (code − 1) * cells + cell. */
  readonly records: Float64Array;
  readonly diff: Float64Array;
  readonly #state: (Uint8Array | undefined)[];
  readonly tracked: boolean;
  source: "records" | "mapped-ram" = "records";

  constructor(readonly name: string, readonly size: number, pageSize: number, maxCells: number) {
    this.pages = Math.ceil(size / pageSize);
    this.cellPages = Math.max(1, Math.ceil(this.pages / maxCells));
    this.cells = Math.ceil(this.pages / this.cellPages);
    this.records = new Float64Array(4 * this.cells);
    this.diff = new Float64Array(this.cells);
    this.#state = new Array(this.cells);
    this.tracked = this.cellPages <= MAX_TRACKED_CELL_PAGES;
  }

  /**
   * Counts a record of kind `code` (1–4) for `page`; resolves whether the page had been sent
   * before (undefined where the cell is not tracked). Pages past the block are ignored (null).
   */
  add(page: number, code: number): boolean | undefined | null {
    if (!(page >= 0 && page < this.pages)) return null;
    const cell = Math.floor(page / this.cellPages);
    this.records[(code - 1) * this.cells + cell]++;
    if (!this.tracked) return undefined;
    const st = this.#state[cell] ??= new Uint8Array(this.cellPages);
    const i = page - cell * this.cellPages;
    const old = st[i];
    const sends = old >> 2;
    st[i] = (Math.min(sends + 1, MAX_SENDS) << 2) | (code - 1);
    return sends > 0;
  }

  /** Marks a differing page (verify). */
  addDiff(page: number): void {
    if (page >= 0 && page < this.pages) this.diff[Math.floor(page / this.cellPages)]++;
  }

  /** Marks pages `from` to `to` (exclusive) as differing, cell by cell. */
  addDiffRange(from: number, to: number): void {
    let p = Math.max(0, from);
    const end = Math.min(to, this.pages);
    while (p < end) {
      const cell = Math.floor(p / this.cellPages);
      const next = Math.min(end, (cell + 1) * this.cellPages);
      this.diff[cell] += next - p;
      p = next;
    }
  }

  /** Pages in `cell` (the last cell may be short). */
  cellSize(cell: number): number {
    return Math.min(this.cellPages, this.pages - cell * this.cellPages);
  }

  /** The grid as JSON columns. */
  toJson(withDiff: boolean): BlockGridJson {
    const n = this.cells;
    const col = (k: number) => Array.from(this.records.subarray(k * n, (k + 1) * n));
    const json: BlockGridJson = {
      name: this.name,
      size: this.size,
      pages: this.pages,
      cellPages: this.cellPages,
      cells: n,
      source: this.source,
      records: { zero: col(0), page: col(1), xbzrle: col(2), compressed: col(3) },
    };
    if (this.tracked) Object.assign(json, this.#pageColumns());
    if (withDiff) json.diff = Array.from(this.diff);
    return json;
  }

  /** Last kind, unsent pages and max sends per cell, from the page states. */
  #pageColumns(): Pick<BlockGridJson, "last" | "unsent" | "maxSends"> {
    const n = this.cells;
    const last: KindColumns = { zero: [], page: [], xbzrle: [], compressed: [] };
    const unsent: number[] = [];
    const maxSends: number[] = [];
    const k = new Float64Array(4);
    for (let c = 0; c < n; c++) {
      const st = this.#state[c];
      const size = this.cellSize(c);
      k.fill(0);
      let none = size;
      let max = 0;
      if (st) {
        none = 0;
        for (let i = 0; i < size; i++) {
          const s = st[i];
          const sends = s >> 2;
          if (sends === 0) none++;
          else k[s & 3]++;
          if (sends > max) max = sends;
        }
      }
      last.zero.push(k[0]);
      last.page.push(k[1]);
      last.xbzrle.push(k[2]);
      last.compressed.push(k[3]);
      unsent.push(none);
      maxSends.push(max);
    }
    return { last, unsent, maxSends };
  }
}

interface PassAcc {
  index: number;
  offset: number;
  pages: Float64Array;
  bytes: Float64Array;
  resent: number;
  postcopy: boolean;
}

/** Counts page records into per-block grids and per-pass statistics. */
export class RamMap {
  readonly grids = new Map<string, BlockGrid>();
  readonly #passes: PassAcc[] = [];
  #pageSize = 4096;
  /** Page records of blocks the map does not know or past their block. */
  unmapped = 0;

  constructor(readonly maxCells = MAX_CELLS) {}

  /** The grid of a block, made when first named (by MEM_SIZE or a record). */
  grid(name: string, size: number, pageSize: number): BlockGrid {
    this.#pageSize = pageSize;
    let g = this.grids.get(name);
    if (!g) {
      g = new BlockGrid(name, size, pageSize, this.maxCells);
      this.grids.set(name, g);
    }
    return g;
  }

  #pass(index: number, offset: number, postcopy: boolean): PassAcc {
    const last = this.#passes.at(-1);
    if (last && last.index === index) return last;
    const p = {
      index,
      offset,
      pages: new Float64Array(4),
      bytes: new Float64Array(4),
      resent: 0,
      postcopy,
    };
    this.#passes.push(p);
    return p;
  }

  /**
   * Adds a batch of RAM records. `passes`: count them into the dirty passes too (the main
   * stream's records; not a channel's).
   */
  addBatch(b: RamBatch, passes = true): void {
    const blocks = b.info.blocks;
    const ps = b.info.pageSize;
    let k = -2;
    let g: BlockGrid | undefined;
    let pass: PassAcc | undefined;
    for (let i = 0; i < b.count; i++) {
      const code = b.code[i];
      if (code < RAM_CODE.ZERO || code > RAM_CODE.COMPRESSED) continue;
      if (b.block[i] !== k) {
        k = b.block[i];
        const info = k >= 0 ? blocks[k] : undefined;
        g = info ? this.grid(info.name, info.size, ps) : undefined;
      }
      if (passes && (pass === undefined || pass.index !== b.pass[i])) {
        pass = this.#pass(b.pass[i], b.offset[i], b.pass[i] === b.info.postcopyPass);
      }
      const before = g ? g.add(Math.floor(b.addr[i] / ps), code) : null;
      if (before === null) this.unmapped++;
      if (!pass || !passes) continue;
      pass.pages[code - 1]++;
      pass.bytes[code - 1] += b.length[i];
      if (before === true || (before === undefined && pass !== this.#passes[0])) pass.resent++;
    }
  }

  /** Adds pages named by offset (a multifd packet's normal or zero pages). */
  addPages(block: string, offsets: ArrayLike<number>, from: number, to: number, code: number) {
    const g = this.grids.get(block);
    for (let i = from; i < to; i++) {
      if (!g || g.add(Math.floor(offsets[i] / this.#pageSize), code) === null) this.unmapped++;
    }
  }

  /** A mapped-ram block's pages from its bitmap: a set bit is a page, a clear one a zero page. */
  addBitmap(block: string, bitmap: Uint8Array): void {
    const g = this.grids.get(block);
    if (!g) return;
    g.source = "mapped-ram";
    for (let p = 0; p < g.pages; p++) {
      const set = (bitmap[p >> 3] >> (p & 7)) & 1;
      g.add(p, set ? RAM_CODE.PAGE : RAM_CODE.ZERO);
    }
  }

  /** The dirty passes with their re-send ratio. */
  passes(): PassStats[] {
    const first = this.#passes[0];
    const firstPages = first ? first.pages.reduce((a, v) => a + v, 0) : 0;
    return this.#passes.map((p) => {
      const kinds = Object.fromEntries(
        MAP_KINDS.map((name, c) => [name, { pages: p.pages[c], bytes: p.bytes[c] }]),
      ) as PassStats["kinds"];
      return {
        index: p.index,
        offset: p.offset,
        pages: p.pages.reduce((a, v) => a + v, 0),
        bytes: p.bytes.reduce((a, v) => a + v, 0),
        kinds,
        resent: p.resent,
        resendRatio: firstPages > 0 ? p.resent / firstPages : 0,
        ...(p.postcopy && { postcopy: true as const }),
      };
    });
  }
}
