/**
 * Mapping a virtual cluster of a qcow2 image to where its bytes are, through a given L1 table
 * (a snapshot's own), its L2 tables (a few cached) and the L2 entry: unallocated, all-zero,
 * a data cluster at a host offset (with extended L2, per 32 subclusters: allocated, zero or
 * unallocated), or a compressed cluster (host offset and byte length). Every table and cluster
 * offset is checked against the file before it is used.
 * @module
 */
import { StreamError } from "../protocol/errors.ts";
import { type RandomAccess, readFully } from "../wire/random_access.ts";
import type { Qcow2Header } from "./qcow2_header.ts";

/** Where one virtual cluster's bytes are. */
export type ClusterRef =
  | { kind: "unallocated" }
  | { kind: "zero" }
  | { kind: "data"; host: number }
  /** Extended L2 with mixed subclusters: `alloc`/`zero` bit i for subcluster i. */
  | { kind: "subclusters"; host: number; alloc: number; zero: number }
  | { kind: "compressed"; host: number; length: number };

/** L2 tables kept in memory. */
const L2_CACHE = 4;
/** L1 entries read at a time. */
const L1_CHUNK = 512;
const TWO32 = 2 ** 32;

/** The L1 table to map through, and the label for messages (`snapshot 1 'snapA'`). */
export interface L1Table {
  offset: number;
  entries: number;
  label: string;
}

/** Maps virtual clusters through one L1 table. */
export class ClusterMap {
  readonly #ra: RandomAccess;
  readonly #h: Qcow2Header;
  readonly #l1: L1Table;
  #l1Chunk = new Uint8Array(0);
  #l1ChunkFirst = -1;
  #l2 = new Map<number, DataView>();

  constructor(ra: RandomAccess, h: Qcow2Header, l1: L1Table) {
    this.#ra = ra;
    this.#h = h;
    this.#l1 = l1;
  }

  #fail(offset: number, record: string, detail: string): never {
    throw new StreamError({ offset, section: `qcow2 ${this.#l1.label}`, record }, detail);
  }

  /** The L2 table offset of L1 entry `i` (0: none). */
  #l1Entry(i: number): number {
    const first = i - (i % L1_CHUNK);
    if (first !== this.#l1ChunkFirst) {
      const n = Math.min(L1_CHUNK, this.#l1.entries - first);
      this.#l1Chunk = new Uint8Array(n * 8);
      const at = this.#l1.offset + first * 8;
      if (readFully(this.#ra, this.#l1Chunk, at) < this.#l1Chunk.length) {
        this.#fail(at, "L1 table", "the L1 table runs past the end of the file");
      }
      this.#l1ChunkFirst = first;
    }
    const dv = new DataView(this.#l1Chunk.buffer);
    const k = (i - first) * 8;
    return (dv.getUint32(k) & 0x00ffffff) * TWO32 + ((dv.getUint32(k + 4) & 0xfffffe00) >>> 0);
  }

  #checkTable(off: number, i: number) {
    const cs = this.#h.clusterSize;
    const rec = `L1 entry ${i}`;
    if (off % cs) this.#fail(off, rec, `L2 table offset ${off} is not cluster aligned`);
    if (off + cs > this.#ra.size) {
      this.#fail(
        off,
        rec,
        `L2 table at ${off} lies past the end of the file (${this.#ra.size} bytes)`,
      );
    }
    const l1End = this.#l1.offset + this.#l1.entries * 8;
    if (off < cs || (off < l1End && off + cs > this.#l1.offset)) {
      this.#fail(
        off,
        rec,
        `L2 table at ${off} overlaps the header or the L1 table (a metadata loop)`,
      );
    }
  }

  #l2Table(off: number, i: number): DataView {
    const hit = this.#l2.get(off);
    if (hit) {
      this.#l2.delete(off);
      this.#l2.set(off, hit);
      return hit;
    }
    this.#checkTable(off, i);
    const b = new Uint8Array(this.#h.clusterSize);
    readFully(this.#ra, b, off);
    const dv = new DataView(b.buffer);
    if (this.#l2.size >= L2_CACHE) this.#l2.delete(this.#l2.keys().next().value!);
    this.#l2.set(off, dv);
    return dv;
  }

  /** Where virtual cluster `vc` is. */
  lookup(vc: number): ClusterRef {
    const h = this.#h;
    const perL2 = 2 ** h.l2Bits;
    const i = Math.floor(vc / perL2);
    if (i >= this.#l1.entries) return { kind: "unallocated" };
    const l2Off = this.#l1Entry(i);
    if (l2Off === 0) return { kind: "unallocated" };
    const t = this.#l2Table(l2Off, i);
    const at = (vc % perL2) * h.l2EntrySize;
    const hi = t.getUint32(at);
    const lo = t.getUint32(at + 4);
    const where = l2Off + at;
    if (hi & 0x40000000) return this.#compressed(hi, lo, where);
    const host = (hi & 0x00ffffff) * TWO32 + ((lo & 0xfffffe00) >>> 0);
    if (h.extendedL2) {
      const zero = t.getUint32(at + 8);
      const alloc = t.getUint32(at + 12);
      if (host === 0 || alloc === 0) {
        return zero === 0xffffffff ? { kind: "zero" } : { kind: "unallocated" };
      }
      this.#checkData(host, where, l2Off);
      if (alloc === 0xffffffff) return { kind: "data", host };
      return { kind: "subclusters", host, alloc, zero };
    }
    if (lo & 1) return { kind: "zero" };
    if (host === 0) return { kind: "unallocated" };
    this.#checkData(host, where, l2Off);
    return { kind: "data", host };
  }

  #checkData(host: number, where: number, l2Off: number) {
    const cs = this.#h.clusterSize;
    const rec = `L2 entry at ${where}`;
    if (host % cs) this.#fail(where, rec, `data cluster offset ${host} is not cluster aligned`);
    if (host >= this.#ra.size) {
      this.#fail(
        where,
        rec,
        `data cluster at ${host} lies past the end of the file (${this.#ra.size} bytes)`,
      );
    }
    if (host === l2Off || host < cs) {
      this.#fail(
        where,
        rec,
        `data cluster at ${host} is the header or the L2 table itself (a metadata loop)`,
      );
    }
  }

  #compressed(hi: number, lo: number, where: number): ClusterRef {
    const x = 62 - (this.#h.clusterBits - 8);
    const v = (BigInt(hi & 0x3fffffff) << 32n) | BigInt(lo >>> 0);
    const host = Number(v & ((1n << BigInt(x)) - 1n));
    const sectors = Number(v >> BigInt(x));
    const length = (sectors + 1) * 512 - (host % 512);
    if (host >= this.#ra.size || host < this.#h.clusterSize) {
      this.#fail(
        where,
        `L2 entry at ${where}`,
        `compressed cluster at ${host} lies outside the file's data`,
      );
    }
    return { kind: "compressed", host, length };
  }
}
