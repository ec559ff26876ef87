/**
 * Hand-built inputs of the golden tests, written byte by byte from QEMU's wire format
 * (migration/savevm.c, ram.c, multifd.c) without src/, so a change in migscope's own writers
 * cannot change them. Every builder is deterministic; the golden tests build them in memory.
 *
 * - {@link tinyStream}: the smallest stream with every kind of timeline row: configuration,
 *   a `ram` START (MEM_SIZE of two blocks) / PART / END, a named PAGE, CONTINUE ZERO, an
 *   XBZRLE delta (a zero run of 16 bytes, then 2 literal bytes: covers 18), a page of a
 *   second block, a SWITCHOVER_START command, a FULL device section `dev0` (8 bytes:
 *   be32 0xdeadbeef, be16 1, be16 2), EOF and a VMDESCRIPTION trailer describing `dev0`.
 * - {@link findingsStream} with {@link findingsBase} and {@link findingsExpect}: a replay
 *   that raises each RAM finding (`zero-after-data`, `zero-fill`, `unwritten-nonzero`) and an
 *   expected image differing in a written and in an unwritten page.
 * - {@link channelFile}: a multifd channel (MultiFDInit_t, then MultiFDPacket_t packets).
 */

const PAGE = 4096;

/** A minimal big-endian writer that remembers named offsets. */
export class Bytes {
  #parts: number[] = [];
  /** Offsets of interest, by label. */
  readonly at: Record<string, number> = {};

  get offset(): number {
    return this.#parts.length;
  }
  mark(label: string): this {
    this.at[label] = this.offset;
    return this;
  }
  u8(v: number): this {
    this.#parts.push(v & 0xff);
    return this;
  }
  be16(v: number): this {
    return this.u8(v >>> 8).u8(v);
  }
  be32(v: number): this {
    return this.be16(Math.floor(v / 0x10000)).be16(v);
  }
  be64(v: number): this {
    return this.be32(Math.floor(v / 2 ** 32)).be32(v >>> 0);
  }
  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.#parts.push(b[i]);
    return this;
  }
  /** A u8-counted string (QEMU's qemu_put_counted_string). */
  counted(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u8(b.length).bytes(b);
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.#parts.push(0);
    return this;
  }
  result(): Uint8Array {
    return Uint8Array.from(this.#parts);
  }
}

const RAM = { ZERO: 0x02, MEM_SIZE: 0x04, PAGE: 0x08, EOS: 0x10, CONTINUE: 0x20, XBZRLE: 0x40 };

function header(w: Bytes, machine = "pc-i440fx-7.2"): void {
  w.be32(0x5145564d).be32(3); // QEVM, version 3
  w.mark("configuration").u8(0x07).be32(machine.length).bytes(new TextEncoder().encode(machine));
}
function start(w: Bytes, id: number, idstr: string, instance: number, version: number) {
  w.u8(0x01).be32(id).counted(idstr).be32(instance).be32(version);
}
function footer(w: Bytes, id: number) {
  w.u8(0x7e).be32(id);
}
function memSize(w: Bytes, blocks: [string, number][]) {
  const total = blocks.reduce((a, [, s]) => a + s, 0);
  w.be64(total + RAM.MEM_SIZE);
  for (const [name, size] of blocks) w.counted(name).be64(size);
}
function pageRecord(w: Bytes, addr: number, fill: number, block?: string) {
  w.be64(addr + RAM.PAGE + (block ? 0 : RAM.CONTINUE));
  if (block) w.counted(block);
  w.bytes(new Uint8Array(PAGE).fill(fill));
}
function zeroRecord(w: Bytes, addr: number, fill: number, block?: string) {
  w.be64(addr + RAM.ZERO + (block ? 0 : RAM.CONTINUE));
  if (block) w.counted(block);
  w.u8(fill);
}
function xbzrleRecord(w: Bytes, addr: number, enc: number[], block?: string) {
  w.be64(addr + RAM.XBZRLE + (block ? 0 : RAM.CONTINUE));
  if (block) w.counted(block);
  w.u8(0x01).be16(enc.length).bytes(enc);
}
function eos(w: Bytes) {
  w.be64(RAM.EOS);
}

/** The vmdesc of {@link tinyStream}: one device `dev0` with a u32 and a be16 array of 2. */
export const TINY_VMDESC = {
  page_size: 4096,
  devices: [{
    name: "dev0",
    instance_id: 0,
    vmsd_name: "dev0",
    version: 1,
    fields: [
      { name: "a", type: "uint32", size: 4 },
      { name: "arr", type: "uint16", size: 2, array_len: 2 },
    ],
  }],
};

/** Body length of `dev0` in {@link tinyStream} (for the walker). */
export const TINY_BODIES = { dev0: 8 };

/** See the module doc. `at` holds the offset of every record, by label. */
export function tinyStream(): { bytes: Uint8Array; at: Record<string, number> } {
  const w = new Bytes();
  header(w);
  w.mark("start");
  start(w, 2, "ram", 0, 4);
  w.mark("memSize");
  memSize(w, [["pc.ram", 8 * PAGE], ["pc.rom", 2 * PAGE]]);
  w.mark("eos1");
  eos(w);
  footer(w, 2);
  w.mark("part").u8(0x02).be32(2);
  w.mark("page1");
  pageRecord(w, 0x1000, 0xaa, "pc.ram");
  w.mark("zero2");
  zeroRecord(w, 0x2000, 0);
  w.mark("xbzrle1");
  xbzrleRecord(w, 0x1000, [0x10, 0x02, 0x01, 0x02]);
  w.mark("rom1");
  pageRecord(w, 0x1000, 0xbb, "pc.rom");
  w.mark("eos2");
  eos(w);
  footer(w, 2);
  w.mark("command").u8(0x08).be16(11).be16(0); // MIG_CMD_SWITCHOVER_START
  w.mark("end").u8(0x03).be32(2);
  w.mark("zero0");
  zeroRecord(w, 0, 0, "pc.ram");
  w.mark("zero3");
  zeroRecord(w, 0x3000, 0);
  w.mark("eos3");
  eos(w);
  footer(w, 2);
  w.mark("full");
  w.u8(0x04).be32(3).counted("dev0").be32(0).be32(1);
  w.mark("body").be32(0xdeadbeef).be16(1).be16(2);
  footer(w, 3);
  w.mark("eof").u8(0x00);
  const json = new TextEncoder().encode(JSON.stringify(TINY_VMDESC));
  w.mark("vmdesc").u8(0x06).be32(json.length).bytes(json);
  return { bytes: w.result(), at: w.at };
}

/**
 * A replay with findings: `pc.ram` of 8 pages; page 1 sent as data then as ZERO
 * (zero-after-data), page 2 as ZERO with fill byte 0x5a (zero-fill: QEMU 7.2 fills the page),
 * page 3 as data then an XBZRLE delta; pages 0, 4-7 are never written.
 */
export function findingsStream(): { bytes: Uint8Array; at: Record<string, number> } {
  const w = new Bytes();
  header(w);
  start(w, 1, "ram", 0, 4);
  memSize(w, [["pc.ram", 8 * PAGE]]);
  eos(w);
  footer(w, 1);
  w.u8(0x03).be32(1); // END
  w.mark("page1");
  pageRecord(w, 1 * PAGE, 0xaa, "pc.ram");
  w.mark("zero1");
  zeroRecord(w, 1 * PAGE, 0);
  w.mark("zero2");
  zeroRecord(w, 2 * PAGE, 0x5a);
  w.mark("page3");
  pageRecord(w, 3 * PAGE, 0x11);
  w.mark("xbzrle3");
  // zero run 100, literal run 4: bytes 100..103 of page 3 become 01 02 03 04
  xbzrleRecord(w, 3 * PAGE, [100, 4, 1, 2, 3, 4]);
  eos(w);
  footer(w, 1);
  w.mark("eof").u8(0x00);
  return { bytes: w.result(), at: w.at };
}

/** The destination's RAM before the load: pages 5 and 6 non-zero, the rest zero. */
export function findingsBase(): Uint8Array {
  const b = new Uint8Array(8 * PAGE);
  b[5 * PAGE + 7] = 0x55;
  b.fill(0x66, 6 * PAGE, 7 * PAGE);
  return b;
}

/**
 * The image {@link findingsStream} should produce on {@link findingsBase}, except two
 * deliberate differences: page 3 byte 101 (written last by the XBZRLE record) and page 6
 * byte 0 (written by no record).
 */
export function findingsExpect(): Uint8Array {
  const e = findingsBase();
  e.fill(0x5a, 2 * PAGE, 3 * PAGE);
  e.fill(0x11, 3 * PAGE, 4 * PAGE);
  e.set([1, 2, 3, 4], 3 * PAGE + 100);
  e[3 * PAGE + 101] = 0xee; // differs: the replay has 2 here
  e[6 * PAGE] = 0x00; // differs: the base (kept) has 0x66 here
  return e;
}

/** Packets of {@link channelFile}: flags, block, normal page offsets, zero page offsets. */
export const CHANNEL_PACKETS: {
  sync: boolean;
  block: string;
  normal: number[];
  zero: number[];
}[] = [
  { sync: true, block: "", normal: [], zero: [] },
  { sync: false, block: "pc.ram", normal: [0x0, 0x1000, 0x5000], zero: [0x2000, 0x3000] },
  { sync: false, block: "pc.rom", normal: [0x0], zero: [] },
  { sync: true, block: "", normal: [], zero: [] },
  { sync: false, block: "pc.ram", normal: [], zero: [0x7000] },
];

/**
 * A long channel: 250 packets, SYNC at 0, 110 and 220, the others one or two zero pages of
 * pc.ram each (more than the 200 rows the packet table shows without --records).
 */
export const LONG_CHANNEL_PACKETS: typeof CHANNEL_PACKETS = Array.from(
  { length: 250 },
  (_, n) =>
    n % 110 === 0 ? { sync: true, block: "", normal: [], zero: [] } : {
      sync: false,
      block: "pc.ram",
      normal: [],
      zero: [(n % 64) * PAGE, ((n * 5) % 64) * PAGE],
    },
);

/** The source UUID written in the channel's initial packet. */
export const CHANNEL_UUID = "00112233-4455-6677-8899-aabbccddeeff";

/**
 * A multifd channel (id 1) with {@link CHANNEL_PACKETS}: MultiFDInit_t (magic 0x11223344,
 * version 1, UUID, id, 39 zero bytes), then per packet a 64-byte header (magic, version 1,
 * flags, pages_alloc 128, normal_pages, next_packet_size, be64 packet_num, zero_pages, then
 * zeros), the 256-byte block name, 128 be64 offsets (normal then zero pages) and the normal
 * pages' data (page k of packet n filled with 0x10 * n + k).
 */
export function channelFile(
  packets: typeof CHANNEL_PACKETS = CHANNEL_PACKETS,
): { bytes: Uint8Array; at: number[] } {
  const w = new Bytes();
  w.be32(0x11223344).be32(1);
  w.bytes(CHANNEL_UUID.replaceAll("-", "").match(/../g)!.map((h) => parseInt(h, 16)));
  w.u8(1).zeros(39);
  const at: number[] = [];
  packets.forEach((p, n) => {
    at.push(w.offset);
    w.be32(0x11223344).be32(1).be32(p.sync ? 1 : 0).be32(128);
    w.be32(p.normal.length).be32(p.normal.length * PAGE).be64(n).be32(p.zero.length).zeros(28);
    const name = new Uint8Array(256);
    name.set(new TextEncoder().encode(p.block));
    w.bytes(name);
    const offsets = [...p.normal, ...p.zero];
    for (let i = 0; i < 128; i++) w.be64(offsets[i] ?? 0);
    p.normal.forEach((_, k) => w.bytes(new Uint8Array(PAGE).fill(0x10 * n + k)));
  });
  return { bytes: w.result(), at };
}
