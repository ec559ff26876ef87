/**
 * Structure-aware mutations for tools/fuzz.ts: they know where a stream's length fields, vmdesc
 * JSON and record boundaries are, and rewrite them consistently — length fields nudged by small
 * amounts (a COMPRESS_PAGE length grown by 10 swallows the next record), the vmdesc JSON given
 * hostile shapes and re-framed with a correct be32 length, a stray `00` at a record boundary,
 * and the whole case delivered as gzip (several members, truncated, corrupted, trailing bytes).
 * Also the seeds these need: COMPRESS_PAGE records with a device and a trailer, and a postcopy
 * stream with device sections inside PACKAGED and no trailer.
 */
import { deflateSync, gzipSync } from "node:zlib";
import { ByteWriter } from "../src/wire/writer.ts";
import * as F from "../src/emit/frame.ts";
import { CMD } from "../src/protocol/constants.ts";
import { TINY_VMDESC, writeTinyDeviceBody } from "../tests/_build.ts";

/** What the structure-aware mutations need to know about a seed. */
export interface StructureInfo {
  bytes: Uint8Array;
  /** [offset, width] of length fields (commands, XBZRLE, PACKAGED, vmdesc). */
  lengths: [number, number][];
  /** Offsets of counted names (the length byte). */
  names: number[];
  /** Offsets of COMPRESS_PAGE be32 lengths. */
  compressed: number[];
  /** Offsets of top-level sections and commands (a stray `00` there ends the stream early). */
  boundaries: number[];
  /** The VMDESCRIPTION trailer, when the seed has one. */
  trailer?: { offset: number; jsonLength: number };
}

/** Number of structure-aware mutation kinds. */
export const STRUCTURE_KINDS = 5;

type Rnd = () => number;
/**
 * A mutated case; `mustFail` says why both commands must reject it (exit 2): a stream that
 * passes quietly is a silent wrong answer.
 */
export type Mutated = { bytes: Uint8Array; what: string; mustFail?: string };
// deno-lint-ignore no-explicit-any
type Json = any;

const pick = <T>(rnd: Rnd, a: T[]): T | undefined => (a.length ? a[rnd() % a.length] : undefined);

/** A length field nudged: ±1, ±10, doubled, zeroed, or set to its maximum. */
function nudgeLength(s: StructureInfo, rnd: Rnd): Mutated {
  const b = s.bytes.slice();
  const fields: [number, number][] = [
    ...s.lengths,
    ...s.compressed.map((o): [number, number] => [o, 4]),
    ...s.names.map((o): [number, number] => [o, 1]),
  ];
  const f = pick(rnd, fields);
  if (!f) return { bytes: b, what: "no length field" };
  const [at, width] = f;
  const dv = new DataView(b.buffer);
  const old = width === 1 ? b[at] : width === 2 ? dv.getUint16(at) : dv.getUint32(at);
  const max = width === 1 ? 0xff : width === 2 ? 0xffff : 0xffffffff;
  const v = Math.max(
    0,
    Math.min(max, pick(rnd, [old + 1, old - 1, old + 10, old - 10, old * 2, 0, max])!),
  );
  if (width === 1) b[at] = v;
  else if (width === 2) dv.setUint16(at, v);
  else dv.setUint32(at, v);
  const what = `length at ${at} (${width} bytes) ${old} := ${v}`;
  // A COMPRESS_PAGE payload must be exactly its zlib stream: any other length is an error.
  const compressed = s.compressed.includes(at) && v !== old;
  return { bytes: b, what, mustFail: compressed ? "a COMPRESS_PAGE length changed" : undefined };
}

/** Hostile values for a JSON slot. */
const HOSTILE: unknown[] = [
  null,
  -256,
  -1,
  0,
  1.5,
  "2",
  1 << 24,
  1e12,
  [],
  {},
  true,
  "x".repeat(300),
];

/** Every object and array in a JSON tree, with how to replace a key of it. */
function nodes(v: Json, out: Json[] = []): Json[] {
  if (v !== null && typeof v === "object") {
    out.push(v);
    for (const k of Object.keys(v)) nodes(v[k], out);
  }
  return out;
}

/** One hostile change to a vmdesc JSON document. */
function hostileShape(doc: Json, rnd: Rnd): string {
  const all = nodes(doc);
  const fields = all.filter((n) => !Array.isArray(n) && typeof n.name === "string" && "size" in n);
  switch (rnd() % 6) {
    case 0: {
      doc.page_size = pick(rnd, [0, -256, 3, 3000, 2 ** 40, "4096", null]);
      return `page_size := ${JSON.stringify(doc.page_size)}`;
    }
    case 1: {
      const f = pick(rnd, fields);
      if (!f) return "no field";
      f.array_len = pick(rnd, [-256, -1, 1 << 24, 2 ** 31, 1.5, "3", null]);
      return `${f.name}.array_len := ${JSON.stringify(f.array_len)}`;
    }
    case 2: {
      // Nested arrays whose lengths multiply: 2^24 elements of a struct of 2^24 (empty) elements.
      const f = pick(rnd, fields);
      if (!f) return "no field";
      const inner = {
        name: "in",
        type: rnd() & 1 ? "uint8" : "struct",
        size: rnd() & 1,
        array_len: 1 << 24,
      };
      Object.assign(f, {
        type: "struct",
        array_len: 1 << 24,
        struct: { vmsd_name: "s", version: 1, fields: [inner] },
      });
      return `${f.name} := 2^24 × 2^24 nested`;
    }
    case 3: {
      const n = pick(rnd, all.filter((x) => !Array.isArray(x)))!;
      const keys = Object.keys(n);
      const k = pick(rnd, keys.length ? keys : ["devices"])!;
      n[k] = pick(rnd, HOSTILE);
      return `${k} := ${JSON.stringify(n[k])?.slice(0, 40)}`;
    }
    case 4: {
      const n = pick(rnd, all.filter((x) => !Array.isArray(x)))!;
      const k = pick(rnd, Object.keys(n));
      if (k !== undefined) delete n[k];
      return `delete ${k}`;
    }
    default: {
      const arr = pick(rnd, all.filter((x) => Array.isArray(x)));
      if (!arr || arr.length === 0) return "no array";
      arr[rnd() % arr.length] = pick(rnd, HOSTILE);
      return "array element := hostile";
    }
  }
}

/** The trailer's JSON given a hostile shape, re-framed with a correct length. */
function vmdescShape(s: StructureInfo, rnd: Rnd): Mutated {
  const t = s.trailer;
  if (!t) return nudgeLength(s, rnd);
  const text = new TextDecoder().decode(
    s.bytes.subarray(t.offset + 5, t.offset + 5 + t.jsonLength),
  );
  const doc = JSON.parse(text);
  const what = hostileShape(doc, rnd);
  const w = new ByteWriter();
  w.bytes(s.bytes.subarray(0, t.offset));
  F.writeVmdesc(w, JSON.stringify(doc));
  w.bytes(s.bytes.subarray(t.offset + 5 + t.jsonLength));
  return { bytes: w.result(), what: `vmdesc ${what}` };
}

/** A `00` (read as QEMU_VM_EOF) inserted at a top-level record boundary. */
function strayEof(s: StructureInfo, rnd: Rnd): Mutated {
  const at = pick(rnd, s.boundaries);
  if (at === undefined) return { bytes: s.bytes.slice(), what: "no boundary" };
  const out = new Uint8Array(s.bytes.length + 1);
  out.set(s.bytes.subarray(0, at));
  out.set(s.bytes.subarray(at), at + 1);
  return { bytes: out, what: `stray 00 at ${at}`, mustFail: "a stray 00 before a record" };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `bytes` as gzip: in several members, truncated, with a corrupt byte, or trailing bytes. */
export function gzipCase(bytes: Uint8Array, rnd: Rnd): Mutated {
  const cuts = [
    0,
    ...Array.from({ length: rnd() % 3 }, () => rnd() % (bytes.length + 1)),
    bytes.length,
  ]
    .sort((a, b) => a - b);
  const members = cuts.slice(1).map((end, k) =>
    new Uint8Array(gzipSync(bytes.subarray(cuts[k], end)))
  );
  const gz = concat(members);
  const what = `gzip in ${members.length} members`;
  switch (rnd() % 4) {
    case 0:
      return { bytes: gz, what };
    case 1: {
      const at = 10 + rnd() % Math.max(1, gz.length - 10);
      return { bytes: gz.subarray(0, at), what: `${what}, truncated at ${at}` };
    }
    case 2: {
      const at = 10 + rnd() % Math.max(1, gz.length - 10);
      const out = gz.slice();
      out[at] ^= 1 << (rnd() % 8);
      return { bytes: out, what: `${what}, bit flipped at ${at}` };
    }
    default:
      return {
        bytes: concat([gz, Uint8Array.of(rnd() & 0xff, 0, 0, 0)]),
        what: `${what}, trailing bytes`,
      };
  }
}

/** One structure-aware mutation of kind `k` (0 ≤ k < {@link STRUCTURE_KINDS}). */
export function mutateStructure(s: StructureInfo, rnd: Rnd, k: number): Mutated {
  switch (k) {
    case 0:
      return nudgeLength(s, rnd);
    case 1:
      return vmdescShape(s, rnd);
    case 2:
      return strayEof(s, rnd);
    case 3:
      return gzipCase(s.bytes, rnd);
    default: {
      // Two at once: a nudged length or hostile vmdesc, delivered as gzip.
      const inner = rnd() & 1 ? nudgeLength(s, rnd) : vmdescShape(s, rnd);
      const outer = gzipCase(inner.bytes, rnd);
      return { bytes: outer.bytes, what: `${inner.what}; ${outer.what}`, mustFail: inner.mustFail };
    }
  }
}

function ramStart(w: ByteWriter, pages: number): void {
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(w, [{ name: "pc.ram", size: pages * 4096 }]);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
}

/** Seeds for the structure-aware mutations: COMPRESS_PAGE records, and postcopy. */
export function structureSeeds(): { name: string; bytes: Uint8Array }[] {
  const page = (b: number) => new Uint8Array(4096).fill(b);
  // COMPRESS_PAGE records between other records, a device section and a trailer.
  const c = new ByteWriter();
  ramStart(c, 16);
  F.writeSectionShort(c, "PART", 1);
  F.writeRamCompressed(c, 0, new Uint8Array(deflateSync(page(1))), "pc.ram");
  F.writeRamZero(c, 4096);
  F.writeRamCompressed(c, 2 * 4096, new Uint8Array(deflateSync(page(2).fill(9, 100, 900))));
  F.writeRamPage(c, 3 * 4096, page(3));
  F.writeRamEos(c);
  F.writeFooter(c, 1);
  F.writeSectionFull(c, "FULL", 3, "dev0", 0, 1);
  writeTinyDeviceBody(c);
  F.writeFooter(c, 3);
  F.writeEof(c);
  F.writeVmdesc(c, JSON.stringify(TINY_VMDESC));
  // Postcopy: discard, PACKAGED with device sections, pages after it, no trailer.
  const inner = new ByteWriter();
  F.writeCommand(inner, CMD.POSTCOPY_LISTEN);
  F.writeSectionFull(inner, "FULL", 3, "dev0", 0, 1);
  writeTinyDeviceBody(inner);
  F.writeFooter(inner, 3);
  F.writePing(inner, 3);
  F.writeCommand(inner, CMD.POSTCOPY_RUN);
  const pkg = inner.result();
  const p = new ByteWriter();
  ramStart(p, 16);
  F.writeSectionShort(p, "PART", 1);
  F.writeRamPage(p, 0, page(5), "pc.ram");
  F.writeRamEos(p);
  F.writeFooter(p, 1);
  const discard = new ByteWriter();
  discard.u8(0).counted("pc.ram").u8(0).be64(0).be64(4096);
  F.writeCommand(p, CMD.POSTCOPY_RAM_DISCARD, discard.result());
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, pkg.length);
  F.writeCommand(p, CMD.PACKAGED, len);
  p.bytes(pkg);
  F.writeSectionShort(p, "END", 1);
  F.writeRamPage(p, 4096, page(6));
  F.writeRamZero(p, 0);
  F.writeRamEos(p);
  F.writeFooter(p, 1);
  F.writeEof(p);
  return [{ name: "compressed", bytes: c.result() }, { name: "postcopy", bytes: p.result() }];
}
