/**
 * Hand-built streams with a target page size other than 4096 (1 KiB, 16 KiB, 64 KiB), written
 * with the emitter's frame writers, together with the RAM image a destination must end up with.
 * The expected image is computed here from the records as they are written, in a few plain
 * lines (PAGE copies, ZERO clears the whole page, XBZRLE copies its literal runs), without any
 * of the parser's or replayer's code.
 */
import { ByteWriter } from "../src/wire/writer.ts";
import * as F from "../src/emit/frame.ts";

/** RAM block of every stream built here. */
export const BLOCK = "mach.ram";
/** Pages in {@link BLOCK}. */
export const PAGES = 16;

/** The last record that wrote a page: where it starts and the kind name verify prints. */
export interface Writer {
  offset: number;
  kind: string;
}

/** A stream and what replaying it must produce. */
export interface Built {
  pageSize: number;
  /** The main stream. */
  bytes: Uint8Array;
  /** The multifd channel, for the multifd variant. */
  channel?: Uint8Array;
  /** Expected final content of {@link BLOCK}. */
  image: Uint8Array;
  /** Last writer per page index. */
  writers: Map<number, Writer>;
  /** Records per kind on the main stream (multifd pages are counted apart). */
  counts: { page: number; zero: number; xbzrle: number };
  /** Offset of the VMDESCRIPTION trailer (its 0x06 marker), when there is one. */
  trailerAt?: number;
}

/** Options: the page size and whether the stream says it in target-page-bits / the trailer. */
export interface BuildOptions {
  pageSize: number;
  targetPageBits?: boolean;
  trailer?: boolean;
  /** Page content mostly zero (one byte at each end), as many real pages are. */
  sparse?: boolean;
}

/** The small ULEB128 QEMU's XBZRLE uses (values up to 0x3fff). */
function uleb(n: number): number[] {
  if (n < 0 || n > 0x3fff) throw new Error(`run ${n} does not fit the small ULEB128`);
  return n < 0x80 ? [n] : [(n & 0x7f) | 0x80, n >> 7];
}

/** A delta from (position, new bytes) edits in ascending order (gaps ≤ 0x3fff). */
export function xbzrleDelta(edits: [number, number[]][]): Uint8Array {
  const out: number[] = [];
  let pos = 0;
  for (const [at, bytes] of edits) {
    out.push(...uleb(at - pos), ...uleb(bytes.length), ...bytes);
    pos = at + bytes.length;
  }
  return Uint8Array.from(out);
}

/**
 * Edits spread over a whole page: 3 bytes every quarter page (at most 12000 bytes apart, so each
 * skip fits the small ULEB128) and the last 2 bytes, so deltas reach past offset 4096.
 */
function spreadEdits(pageSize: number, seed: number): [number, number[]][] {
  const step = Math.min(pageSize / 4, 12000);
  const edits: [number, number[]][] = [];
  for (let o = 7, k = 0; o + 3 < pageSize - 2; o += step, k++) {
    edits.push([o, [0xc0 ^ seed, (0x11 * (k + 1)) & 0xff, 0x80 | k]]);
  }
  edits.push([pageSize - 2, [0xee ^ seed, 0x5a]]);
  return edits;
}

/**
 * Page content that differs from page to page and along the page (also past 4096); sparse:
 * zero but for the first and last byte.
 */
function pattern(pageSize: number, seed: number, sparse = false): Uint8Array {
  const p = new Uint8Array(pageSize);
  if (sparse) {
    p[0] = p[pageSize - 1] = seed | 1;
    return p;
  }
  for (let i = 0; i < pageSize; i++) p[i] = (seed * 29 + i * 7 + (i >> 10) * 13 + 1) & 0xff;
  return p;
}

/** Writes RAM records and applies them to the expected image as it goes. */
class Ram {
  readonly image: Uint8Array;
  readonly writers = new Map<number, Writer>();
  readonly counts = { page: 0, zero: 0, xbzrle: 0 };

  constructor(readonly w: ByteWriter, readonly ps: number, readonly sparse = false) {
    this.image = new Uint8Array(PAGES * ps);
  }

  page(n: number, seed: number, named = false) {
    this.writers.set(n, { offset: this.w.offset, kind: "PAGE" });
    const data = pattern(this.ps, seed, this.sparse);
    F.writeRamPage(this.w, n * this.ps, data, named ? BLOCK : undefined);
    this.image.set(data, n * this.ps);
    this.counts.page++;
  }

  zero(n: number, named = false) {
    this.writers.set(n, { offset: this.w.offset, kind: "ZERO" });
    F.writeRamZero(this.w, n * this.ps, named ? BLOCK : undefined);
    this.image.fill(0, n * this.ps, (n + 1) * this.ps);
    this.counts.zero++;
  }

  xbzrle(n: number, seed: number, named = false) {
    this.writers.set(n, { offset: this.w.offset, kind: "XBZRLE" });
    const edits = spreadEdits(this.ps, seed);
    F.writeRamXbzrle(this.w, n * this.ps, xbzrleDelta(edits), named ? BLOCK : undefined);
    for (const [at, bytes] of edits) this.image.set(bytes, n * this.ps + at);
    this.counts.xbzrle++;
  }
}

function start(w: ByteWriter, o: BuildOptions) {
  F.writeHeader(w);
  F.writeConfiguration(w, "virt-9.0", {
    targetPageBits: o.targetPageBits ? Math.log2(o.pageSize) : undefined,
  });
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: BLOCK, size: PAGES * o.pageSize }]);
}

function finish(w: ByteWriter, o: BuildOptions): number | undefined {
  F.writeEof(w);
  if (!o.trailer) return undefined;
  const at = w.offset;
  F.writeVmdesc(w, JSON.stringify({ page_size: o.pageSize, devices: [] }));
  return at;
}

/**
 * START (MEM_SIZE), PART 1 (PAGE 0–7, ZERO 8–11), PART 2 (ZERO over pages 2 and 5 that held
 * data, XBZRLE on pages 1, 2 and 3, PAGE 12), END (PAGE 15, XBZRLE 12), EOF, [trailer];
 * footers after every section.
 */
export function ramStream(o: BuildOptions): Built {
  const w = new ByteWriter();
  const ram = new Ram(w, o.pageSize, o.sparse);
  start(w, o);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "PART", 1);
  for (let n = 0; n < 8; n++) ram.page(n, n + 1, n === 0);
  for (let n = 8; n < 12; n++) ram.zero(n);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "PART", 1);
  ram.zero(2); // CONTINUE across sections: the block stays the last one named
  ram.zero(5);
  ram.xbzrle(1, 0x21);
  ram.xbzrle(2, 0x42); // against the page just zeroed
  ram.xbzrle(3, 0x63);
  ram.page(12, 99, true);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "END", 1);
  ram.page(15, 77);
  ram.xbzrle(12, 0x14);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  const trailerAt = finish(w, o);
  return {
    pageSize: o.pageSize,
    bytes: w.result(),
    image: ram.image,
    writers: ram.writers,
    counts: ram.counts,
    trailerAt,
  };
}

/** One multifd packet: normal pages (with their data) then zero pages, or a SYNC. */
interface Packet {
  normal?: [number, number][];
  zero?: number[];
  sync?: boolean;
}

function multifdChannel(
  ps: number,
  packets: Packet[],
  image: Uint8Array,
  writers: Map<number, Writer>,
): { bytes: Uint8Array; apply: (batch: number) => void } {
  const cap = (512 * 1024) / ps;
  const w = new ByteWriter();
  w.be32(0x11223344).be32(1).zeros(56);
  const pending: (() => void)[][] = [[]];
  let num = 0;
  for (const p of packets) {
    const normal = p.normal ?? [];
    const zero = p.zero ?? [];
    const offset = w.offset;
    w.be32(0x11223344).be32(1).be32(p.sync ? 1 : 0).be32(cap).be32(normal.length);
    w.be32(normal.length * ps).be64(num++).be32(zero.length).zeros(28);
    const name = new Uint8Array(256);
    name.set(new TextEncoder().encode(BLOCK));
    w.bytes(name);
    const offs = [...normal.map(([n]) => n * ps), ...zero.map((n) => n * ps)];
    for (let i = 0; i < cap; i++) w.be64(i < offs.length ? offs[i] : 0);
    const batch = pending[pending.length - 1];
    for (const [n, seed] of normal) {
      const data = pattern(ps, seed);
      w.bytes(data);
      batch.push(() => {
        image.set(data, n * ps);
        writers.set(n, { offset, kind: "multifd page" });
      });
    }
    for (const n of zero) {
      batch.push(() => {
        image.fill(0, n * ps, (n + 1) * ps);
        writers.set(n, { offset, kind: "multifd zero page" });
      });
    }
    if (p.sync) pending.push([]);
  }
  return {
    bytes: w.result(),
    apply: (batch) => {
      for (const f of pending[batch] ?? []) f();
    },
  };
}

/**
 * QEMU 8.1+ multifd framing: MULTIFD_FLUSH at setup, after the pass, at completion. The main
 * channel carries a ZERO record (legacy zero detection) for page 6 in the middle of the pass;
 * the channel sends pages 0, 1, 6, 9 as data in pass 1 (applied at the second flush, so page 6
 * ends with data), then page 2 as data and pages 1 and 9 as multifd zero pages (applied at the
 * completion flush: whole pages cleared).
 */
export function multifdStreams(o: BuildOptions): Built {
  const ps = o.pageSize;
  const w = new ByteWriter();
  const ram = new Ram(w, ps);
  const ch = multifdChannel(
    ps,
    [
      { sync: true },
      { normal: [[0, 3], [1, 4], [6, 5], [9, 6]] },
      { sync: true },
      { normal: [[2, 7]], zero: [1, 9] },
      { sync: true },
    ],
    ram.image,
    ram.writers,
  );
  const flush = (batch: number) => {
    w.be64(0x200);
    ch.apply(batch);
  };
  start(w, o);
  flush(0);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "PART", 1);
  ram.zero(6, true);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "PART", 1);
  flush(1);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "END", 1);
  flush(2);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  const trailerAt = finish(w, o);
  return {
    pageSize: ps,
    bytes: w.result(),
    channel: ch.bytes,
    image: ram.image,
    writers: ram.writers,
    counts: ram.counts,
    trailerAt,
  };
}
