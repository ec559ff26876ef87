/**
 * An idle-guest-shaped migration stream built in memory, and the baseline that walks its RAM
 * records with a DataView. Shared by tools/bench.ts (the end-to-end run) and
 * bench/parse_bench.ts (`deno bench`).
 *
 * Shape: QEMU 7.2's precopy of a guest that sits in its BIOS — a CONFIGURATION record, the
 * `ram` section's START (MEM_SIZE, EOS), then PART sections of 65536 RAM records each and an
 * END, each section with its footer, then EOF. ≈98 % of the pages are ZERO records with
 * CONTINUE (9 bytes each); the rest are PAGE records (4105 bytes) in runs of 16 pages every
 * 800 pages, the first record of each section names the block.
 * @module
 */

const PAGE = 4096;
/** RAM flag bits (QEMU's RAM_SAVE_FLAG_*). */
const ZERO = 0x02;
const MEM_SIZE = 0x04;
const PAGE_FLAG = 0x08;
const EOS = 0x10;
const CONTINUE = 0x20;
const RAM_SECTION = 2;
const BLOCK = "pc.ram";

/** What {@link idleStream} built. */
export interface IdleStream {
  bytes: Uint8Array;
  /** RAM records in the stream, EOS records included (what the parser's batches count). */
  records: number;
  zero: number;
  page: number;
  /** Byte ranges `[start, end)` that hold only RAM records (for the baseline walk). */
  ramRanges: [number, number][];
}

/**
 * Builds the stream of a guest with `pages` 4 KiB pages (default 1 Mi pages: a 4 GiB guest).
 * `pageEvery`/`pageRun`: a run of `pageRun` PAGE records every `pageEvery` pages (2 %).
 */
export function idleStream(pages = 1 << 20, pageEvery = 800, pageRun = 16): IdleStream {
  const sectionRecords = 65536;
  const isPage = (p: number) => p % pageEvery < pageRun;
  let nPage = 0;
  for (let p = 0; p < pages; p++) if (isPage(p)) nPage++;
  const sections = Math.ceil(pages / sectionRecords);
  const size = 64 + 64 + (pages - nPage) * 9 + nPage * (8 + PAGE) + (sections + 2) * 32 +
    sections * 8;
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  const payload = new Uint8Array(PAGE);
  let x = 0x9e3779b9;
  for (let i = 0; i < PAGE; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    dv.setUint32(0, x);
    payload.set(buf.subarray(0, 4), i);
  }
  let o = 0;
  const u8 = (v: number) => {
    buf[o++] = v;
  };
  const be32 = (v: number) => {
    dv.setUint32(o, v);
    o += 4;
  };
  const be64 = (v: number) => {
    dv.setUint32(o, Math.floor(v / 4294967296));
    dv.setUint32(o + 4, v >>> 0);
    o += 8;
  };
  const counted = (s: string) => {
    u8(s.length);
    for (let i = 0; i < s.length; i++) u8(s.charCodeAt(i));
  };
  const footer = () => {
    u8(0x7e);
    be32(RAM_SECTION);
  };
  be32(0x5145564d); // QEVM
  be32(3);
  const machine = "pc-i440fx-7.2";
  u8(0x07);
  be32(machine.length);
  for (let i = 0; i < machine.length; i++) u8(machine.charCodeAt(i));
  // START: MEM_SIZE + EOS.
  u8(0x01);
  be32(RAM_SECTION);
  counted("ram");
  be32(0);
  be32(4);
  be64(pages * PAGE + MEM_SIZE);
  counted(BLOCK);
  be64(pages * PAGE);
  const ramRanges: [number, number][] = [];
  let start = o;
  be64(EOS);
  ramRanges.push([start, o]);
  footer();
  let records = 1;
  for (let s = 0; s < sections; s++) {
    const last = s === sections - 1;
    u8(last ? 0x03 : 0x02);
    be32(RAM_SECTION);
    start = o;
    const from = s * sectionRecords;
    const to = Math.min(pages, from + sectionRecords);
    for (let p = from; p < to; p++) {
      const named = p === from;
      const flags = (isPage(p) ? PAGE_FLAG : ZERO) | (named ? 0 : CONTINUE);
      be64(p * PAGE + flags);
      if (named) counted(BLOCK);
      if (isPage(p)) {
        buf.set(payload, o);
        o += PAGE;
      } else u8(0);
    }
    be64(EOS);
    ramRanges.push([start, o]);
    footer();
    records += to - from + 1;
  }
  u8(0x00); // EOF
  return {
    bytes: buf.subarray(0, o),
    records,
    zero: pages - nPage,
    page: nPage,
    ramRanges,
  };
}

/**
 * The baseline: walks the RAM records of `s` with a DataView — reads each be64 header, decodes
 * the flags, skips the block name and the payload — and returns how many it saw.
 */
export function walkRecords(s: IdleStream): number {
  const dv = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
  const buf = s.bytes;
  let n = 0;
  for (const [start, end] of s.ramRanges) {
    let p = start;
    while (p < end) {
      const lo = dv.getUint32(p + 4);
      const flags = lo & (PAGE - 1);
      const addr = dv.getUint32(p) * 4294967296 + (lo - flags);
      p += 8;
      n++;
      if (flags & EOS) continue;
      if ((flags & CONTINUE) === 0) p += 1 + buf[p];
      if (flags & ZERO) p += 1;
      else if (flags & PAGE_FLAG) p += PAGE;
      else throw new Error(`unexpected flags 0x${flags.toString(16)} at ${addr}`);
    }
  }
  return n;
}
