/**
 * The fuzz corpus (tools/fuzz.ts): shrunk real captures, the samples, hand-built streams
 * (hostile block names, nested PACKAGED, COMPRESS_PAGE records, postcopy without a trailer) and
 * a multifd main stream with its channel — each with the offsets of the fields worth mutating.
 */
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { parseStream } from "../src/parse/stream.ts";
import { ByteWriter } from "../src/wire/writer.ts";
import * as F from "../src/emit/frame.ts";
import { type StructureInfo, structureSeeds } from "./fuzz_structure.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CAPTURES = fileURLToPath(new URL("../../shared/captures/", import.meta.url));

/** A seed stream and the offsets of fields worth mutating. */
export interface Seed extends StructureInfo {
  name: string;
  /** Offsets of be64 RAM record headers. */
  ramHeaders: number[];
  /** Offsets of MEM_SIZE entry lengths (be64). */
  memLengths: number[];
  /** A multifd channel replayed with this main stream; either side may be the one mutated. */
  channel?: Uint8Array;
}

/** A seed with nothing known about its structure (a channel mutated as raw bytes). */
export function rawSeed(name: string, bytes: Uint8Array): Seed {
  return {
    name,
    bytes,
    lengths: [],
    ramHeaders: [],
    memLengths: [],
    names: [],
    compressed: [],
    boundaries: [],
  };
}

/** Shrinks a real capture: its framing, MEM_SIZE and first records, then its device sections. */
export async function shrinkCapture(bytes: Uint8Array, keep: number): Promise<Uint8Array> {
  const { bytesSource } = await import("../src/wire/source.ts");
  const { ByteReader } = await import("../src/wire/reader.ts");
  let firstPartBody = -1;
  let cut = -1;
  let firstFull = -1;
  let ramId = 0;
  let n = 0;
  for await (const rec of parseStream(new ByteReader(bytesSource(bytes)))) {
    if (rec.kind === "section" && rec.type === "START" && rec.idstr === "ram") {
      ramId = rec.sectionId;
    }
    if (rec.kind === "section" && rec.type === "PART" && rec.idstr === "ram" && firstPartBody < 0) {
      firstPartBody = rec.offset + rec.length;
    }
    if (rec.kind === "ram" && firstPartBody >= 0 && cut < 0 && ++n >= keep) {
      cut = rec.offset + rec.length;
    }
    if (rec.kind === "section" && rec.type === "FULL" && firstFull < 0) firstFull = rec.offset;
  }
  const w = new ByteWriter();
  w.bytes(bytes.subarray(0, cut));
  F.writeRamEos(w);
  F.writeFooter(w, ramId);
  F.writeSectionShort(w, "END", ramId);
  F.writeRamEos(w);
  F.writeFooter(w, ramId);
  w.bytes(bytes.subarray(firstFull));
  return w.result();
}

/** A 7.2-style multifd main stream (ZERO records, EOS syncs) and one channel with its packets. */
export function multifdSeed(): { name: string; bytes: Uint8Array; channel: Uint8Array } {
  const PAGE = 4096;
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: 16 * PAGE }]);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "PART", 1);
  F.writeRamZero(w, 3 * PAGE, "pc.ram");
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "END", 1);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  const c = new ByteWriter();
  c.be32(0x11223344).be32(1).zeros(56);
  const packet = (sync: boolean, pages: number[]) => {
    c.be32(0x11223344).be32(1).be32(sync ? 1 : 0).be32(128).be32(pages.length).be32(
      pages.length * PAGE,
    );
    c.be64(0).be32(0).zeros(28);
    const name = new Uint8Array(256);
    name.set(new TextEncoder().encode("pc.ram"));
    c.bytes(name);
    for (let i = 0; i < 128; i++) c.be64(i < pages.length ? pages[i] * PAGE : 0);
    for (const p of pages) c.bytes(new Uint8Array(PAGE).fill(p + 1));
  };
  packet(true, []);
  packet(false, [1, 2, 5]);
  packet(true, []);
  packet(true, []);
  return { name: "multifd", bytes: w.result(), channel: c.result() };
}

export function handBuilt(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  // Hostile block names, with XBZRLE and zero pages.
  const hostile = ["../x", "/etc/passwd", "..", "nul\u0000byte", "x".repeat(255)];
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, hostile.map((name) => ({ name, size: 2 * 4096 })));
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "PART", 1);
  for (const name of hostile) {
    F.writeRamPage(w, 0, new Uint8Array(4096).fill(7), name);
    F.writeRamXbzrle(w, 0, Uint8Array.of(0x10, 0x02, 0xaa, 0xbb));
    F.writeRamZero(w, 4096);
  }
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  out.push({ name: "hostile-names", bytes: w.result() });
  // PACKAGED within PACKAGED, with a RAM_DISCARD and a block-migration section.
  const inner = new ByteWriter();
  F.writeCommand(inner, 4);
  F.writePing(inner, 3);
  F.writeCommand(inner, 5);
  const l2 = inner.result();
  const mid = new ByteWriter();
  F.writeCommand(mid, 7, Uint8Array.of(0, 0, 0, l2.length));
  mid.bytes(l2);
  F.writeCommand(mid, 5);
  const l1 = mid.result();
  const p = new ByteWriter();
  F.writeHeader(p);
  F.writeSectionFull(p, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(p, [{ name: "pc.ram", size: 16 * 4096 }]);
  F.writeRamEos(p);
  F.writeFooter(p, 1);
  F.writeSectionFull(p, "START", 2, "block", 0, 1);
  F.writeBlockChunk(p, 0, "d0", null);
  F.writeBlockChunk(p, 2048, "d0", new Uint8Array(1 << 20).fill(3));
  F.writeBlockProgress(p, 50);
  F.writeBlockEos(p);
  F.writeFooter(p, 2);
  const disc = new ByteWriter();
  disc.u8(0).counted("pc.ram").u8(0).be64(4096).be64(8192);
  F.writeCommand(p, 6, disc.result());
  F.writeCommand(p, 7, Uint8Array.of(0, 0, 0, l1.length));
  p.bytes(l1);
  F.writeEof(p);
  out.push({ name: "packaged-nested", bytes: p.result() });
  return out;
}

export async function analyse(name: string, bytes: Uint8Array): Promise<Seed> {
  const { bytesSource } = await import("../src/wire/source.ts");
  const { ByteReader } = await import("../src/wire/reader.ts");
  const s = rawSeed(name, bytes);
  try {
    for await (const rec of parseStream(new ByteReader(bytesSource(bytes)))) {
      const top = rec.kind === "section" || rec.kind === "command";
      if (top && rec.depth === 0) s.boundaries.push(rec.offset);
      if (rec.kind === "ram") {
        s.ramHeaders.push(rec.offset);
        if (rec.type === "mem_size") {
          let at = rec.offset + 8;
          for (const b of rec.blocks!) {
            s.names.push(at);
            at += 1 + new TextEncoder().encode(b.name).length;
            s.memLengths.push(at);
            at += 8 + (b.mappedRam ? 28 : 0);
          }
        } else if (!rec.cont && rec.type !== "eos" && rec.type !== "multifd_flush") {
          s.names.push(rec.offset + 8);
          if (rec.type === "xbzrle") {
            s.lengths.push([rec.offset + 9 + bytes[rec.offset + 8] + 1, 2]);
          }
        }
        if (rec.type === "compressed") {
          s.compressed.push(rec.offset + rec.length - rec.dataLength - 4);
        }
      } else if (rec.kind === "command") {
        s.lengths.push([rec.offset + 3, 2]);
        if (rec.name === "PACKAGED") s.lengths.push([rec.offset + 5, 4]);
      } else if (rec.kind === "vmdesc") {
        s.lengths.push([rec.offset + 1, 4]);
        s.trailer = { offset: rec.offset, jsonLength: rec.jsonLength };
      } else if (rec.kind === "section" && (rec.type === "START" || rec.type === "FULL")) {
        s.names.push(rec.offset + 5);
      }
    }
  } catch { /* seeds may be partial */ }
  return s;
}

/** Loads the seed corpus. */
export async function loadSeeds(): Promise<Seed[]> {
  const seeds: Seed[] = [];
  for (const name of ["a_precopy_idle", "b_xbzrle", "c_block_zero_blocks", "m2_modern_precopy"]) {
    try {
      const bytes = new Uint8Array(
        gunzipSync(await Deno.readFile(`${CAPTURES}/${name}/capture.bin.gz`)),
      );
      seeds.push(await analyse(name, await shrinkCapture(bytes, 400)));
    } catch { /* capture not present */ }
  }
  for (const name of ["small-xbzrle.mig", "small-block.mig"]) {
    const b = await Deno.readFile(`${ROOT}samples/${name}`);
    seeds.push(await analyse(name, b.subarray(0, Math.min(b.length, 3 << 20))));
  }
  for (const h of [...handBuilt(), ...structureSeeds()]) seeds.push(await analyse(h.name, h.bytes));
  const m = multifdSeed();
  seeds.push({ ...(await analyse(m.name, m.bytes)), channel: m.channel });
  return seeds;
}
