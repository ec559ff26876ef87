/**
 * Hand-built inputs of the report tests, written from QEMU's wire format with the byte writer
 * of tests/report/_inputs.ts (not with src/emit):
 * - {@link hostileStream}: names that are markup — RAM blocks, a device section, the machine
 *   type, a command's package — for the escaping tests;
 * - {@link bigGuestStream}: a 64 GiB guest's precopy, generated chunk by chunk (never held in
 *   memory): every page once as ZERO (a few as data), then a second pass re-sending some.
 */
import { Bytes } from "../report/_inputs.ts";

const PAGE = 4096;
const RAM = { ZERO: 0x02, MEM_SIZE: 0x04, PAGE: 0x08, EOS: 0x10, CONTINUE: 0x20 };

/** Markup that would run script if a report put it into the page as HTML. */
export const HOSTILE = {
  img: "<img src=x onerror=alert(1)>",
  script: "</script><script>alert(1)</script>",
  device: "<svg onload=alert(2)>dev",
  machine: "pc-<b>&amp;\u2028</b>",
};

function header(w: Bytes, machine: string) {
  const m = new TextEncoder().encode(machine);
  w.be32(0x5145564d).be32(3).u8(0x07).be32(m.length).bytes(m);
}

function section(w: Bytes, type: number, id: number, idstr?: string, version = 4) {
  w.u8(type).be32(id);
  if (idstr !== undefined) w.counted(idstr).be32(0).be32(version);
}

/**
 * A stream whose RAM blocks, device section and machine type are markup: two blocks of 4
 * pages (data, zero and re-sent pages), a SWITCHOVER_START command, a FULL section of a device
 * named {@link HOSTILE.device} described by the VMDESCRIPTION trailer, and EOF.
 */
export function hostileStream(): Uint8Array {
  const w = new Bytes();
  header(w, HOSTILE.machine);
  section(w, 0x01, 1, "ram");
  const blocks: [string, number][] = [[HOSTILE.img, 4 * PAGE], [HOSTILE.script, 4 * PAGE]];
  w.be64(8 * PAGE + RAM.MEM_SIZE);
  for (const [name, size] of blocks) w.counted(name).be64(size);
  w.be64(RAM.EOS).u8(0x7e).be32(1);
  section(w, 0x02, 1);
  w.be64(0 + RAM.PAGE).counted(HOSTILE.img).bytes(new Uint8Array(PAGE).fill(0x41));
  for (let p = 1; p < 4; p++) w.be64(p * PAGE + RAM.ZERO + RAM.CONTINUE).u8(0);
  w.be64(2 * PAGE + RAM.PAGE).counted(HOSTILE.script).bytes(new Uint8Array(PAGE).fill(0x42));
  w.be64(RAM.EOS).u8(0x7e).be32(1);
  w.u8(0x08).be16(11).be16(0); // SWITCHOVER_START
  section(w, 0x03, 1);
  w.be64(0 + RAM.PAGE).counted(HOSTILE.img).bytes(new Uint8Array(PAGE).fill(0x43));
  w.be64(RAM.EOS).u8(0x7e).be32(1);
  section(w, 0x04, 2, HOSTILE.device, 1);
  w.be32(0xdeadbeef).u8(0x7e).be32(2);
  w.u8(0x00);
  const vmdesc = {
    page_size: PAGE,
    devices: [{
      name: HOSTILE.device,
      instance_id: 0,
      vmsd_name: HOSTILE.device,
      version: 1,
      fields: [{ name: "<i>x</i>", type: "uint32", size: 4 }],
    }],
  };
  const json = new TextEncoder().encode(JSON.stringify(vmdesc));
  w.u8(0x06).be32(json.length).bytes(json);
  return w.result();
}

/** The shape of {@link bigGuestStream}. */
export interface BigGuest {
  /** Bytes of the one RAM block `pc.ram`. */
  size: number;
  /** Every this many pages of the first pass is a data page (the rest ZERO). */
  dataEvery: number;
  /** Pages re-sent in the second pass (data pages, evenly spread). */
  resent: number;
}

/** 64 GiB, one data page in 4096, 1000 pages re-sent. */
export const BIG_GUEST: BigGuest = { size: 64 * 2 ** 30, dataEvery: 4096, resent: 1000 };

/** Pages of each kind {@link bigGuestStream} sends. */
export function bigGuestCounts(g: BigGuest): { page: number; zero: number; passes: number } {
  const pages = g.size / PAGE;
  const data = Math.ceil(pages / g.dataEvery);
  return { page: data + g.resent, zero: pages - data, passes: 2 };
}

/**
 * The precopy of a guest of `g.size` bytes as a stream read chunk by chunk: START with
 * MEM_SIZE, a PART per 2^20 pages of the first pass (ZERO with CONTINUE, every
 * `g.dataEvery`-th page as data), a PART with the second pass, END, EOF.
 */
export function bigGuestStream(g: BigGuest = BIG_GUEST): ReadableStream<Uint8Array> {
  const pages = g.size / PAGE;
  const PER_PART = 1 << 20;
  const data = new Uint8Array(PAGE).fill(0x5a);
  function* chunks(): Generator<Uint8Array> {
    const w = new Bytes();
    header(w, "pc-i440fx-7.2");
    section(w, 0x01, 1, "ram");
    w.be64(g.size + RAM.MEM_SIZE).counted("pc.ram").be64(g.size);
    w.be64(RAM.EOS).u8(0x7e).be32(1);
    yield w.result();
    for (let first = 0; first < pages; first += PER_PART) {
      yield part(first, Math.min(pages, first + PER_PART));
    }
    const s = new Bytes();
    section(s, 0x02, 1);
    const step = Math.floor(pages / g.resent);
    for (let i = 0; i < g.resent; i++) {
      s.be64(i * step * PAGE + RAM.PAGE + (i ? RAM.CONTINUE : 0));
      if (!i) s.counted("pc.ram");
      s.bytes(data);
    }
    s.be64(RAM.EOS).u8(0x7e).be32(1);
    section(s, 0x03, 1);
    s.be64(RAM.EOS).u8(0x7e).be32(1).u8(0x00);
    yield s.result();
  }
  /** One PART of the first pass, written straight into a buffer (9 bytes per ZERO record). */
  function part(from: number, to: number): Uint8Array {
    const dataPages = Math.ceil(to / g.dataEvery) - Math.ceil(from / g.dataEvery);
    const out = new Uint8Array(5 + 7 + (to - from) * 9 + dataPages * PAGE + 8 + 5);
    const v = new DataView(out.buffer);
    let o = 0;
    out[o] = 0x02;
    v.setUint32(o + 1, 1);
    o += 5;
    for (let p = from; p < to; p++) {
      const isData = p % g.dataEvery === 0;
      const flags = (isData ? RAM.PAGE : RAM.ZERO) + (p === from ? 0 : RAM.CONTINUE);
      const addr = p * PAGE + flags;
      v.setUint32(o, Math.floor(addr / 2 ** 32));
      v.setUint32(o + 4, addr >>> 0);
      o += 8;
      if (p === from) {
        out.set([6, ...new TextEncoder().encode("pc.ram")], o);
        o += 7;
      }
      if (isData) {
        out.set(data, o);
        o += PAGE;
      } else out[o++] = 0;
    }
    v.setUint32(o, 0);
    v.setUint32(o + 4, RAM.EOS);
    out[o + 8] = 0x7e;
    v.setUint32(o + 9, 1);
    return out.subarray(0, o + 13);
  }
  return ReadableStream.from(chunks());
}
