/**
 * The qcow2 snapshot table: one entry per internal snapshot (`savevm`, `qemu-img snapshot -c`),
 * 8-byte aligned: u64 l1_table_offset, u32 l1_size, u16 id_str_size, u16 name_size, u32
 * date_sec, u32 date_nsec, u64 vm_clock_nsec, u32 vm_state_size, u32 extra_data_size, the extra
 * data (u64 vm_state_size_large, u64 disk_size, i64 icount), the id, the name. A snapshot's VM
 * state lives in the image's virtual address space just past its disk, at the first L2-table
 * boundary after disk_size, and is read through that snapshot's own L1 table.
 * @module
 */
import { StreamError } from "../protocol/errors.ts";
import { type RandomAccess, readFully } from "../wire/random_access.ts";
import type { Qcow2Header } from "./qcow2_header.ts";

/** One snapshot table entry, decoded. */
export interface Qcow2Snapshot {
  /** Position in the table (0-based). */
  index: number;
  /** File offset of the entry. */
  entryOffset: number;
  l1TableOffset: number;
  l1Size: number;
  id: string;
  name: string;
  dateSec: number;
  dateNsec: number;
  /** Guest clock at the snapshot, in nanoseconds. */
  vmClockNs: number;
  /** The 32-bit vm_state_size field. */
  vmStateSize32: number;
  extraDataSize: number;
  /** Bytes of VM state (vm_state_size_large when the extra data has it). */
  vmStateSize: number;
  /** Virtual disk size when the snapshot was taken (extra data, else the image's). */
  diskSize: number;
  /** Instruction count under record/replay, or -1. */
  icount: number;
  /** Virtual offset of the VM state. */
  stateOffset: number;
}

/** QEMU's limits: snapshots per image, bytes of table, bytes of extra data, L1 bytes. */
export const MAX_SNAPSHOTS = 65536;
export const MAX_SNAPSHOT_TABLE = 64 << 20;
export const MAX_EXTRA_DATA = 1024;
export const MAX_L1_BYTES = 32 << 20;

const SECTION = "qcow2 snapshot table";
const ENTRY_FIXED = 40;

function fail(offset: number, record: string, detail: string): never {
  throw new StreamError({ offset, section: SECTION, record }, detail);
}

function safe(v: bigint, at: number, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(at, what, `${what} ${v} is too large`);
  return Number(v);
}

/** The virtual offset where a snapshot's VM state starts, for a disk of `diskSize` bytes. */
export function stateOffsetFor(h: Qcow2Header, diskSize: number): number {
  const span = 2 ** (h.clusterBits + h.l2Bits);
  return Math.ceil(diskSize / span) * span;
}

function readEntry(
  ra: RandomAccess,
  h: Qcow2Header,
  index: number,
  at: number,
): [Qcow2Snapshot, number] {
  const rec = `entry ${index + 1} at ${at}`;
  const fixed = new Uint8Array(ENTRY_FIXED);
  if (readFully(ra, fixed, at) < ENTRY_FIXED) fail(at, rec, "the file ends inside the entry");
  const dv = new DataView(fixed.buffer);
  const idSize = dv.getUint16(12);
  const nameSize = dv.getUint16(14);
  const extraDataSize = dv.getUint32(36);
  if (extraDataSize > MAX_EXTRA_DATA) {
    fail(at + 36, rec, `extra_data_size ${extraDataSize} exceeds ${MAX_EXTRA_DATA}`);
  }
  const varLen = extraDataSize + idSize + nameSize;
  const rest = new Uint8Array(varLen);
  if (readFully(ra, rest, at + ENTRY_FIXED) < varLen) {
    fail(at, rec, "the file ends inside the entry's extra data, id or name");
  }
  const ex = new DataView(rest.buffer, 0, extraDataSize);
  const dec = new TextDecoder();
  const vmStateSize32 = dv.getUint32(32);
  const extraAt = at + ENTRY_FIXED;
  const diskSize = extraDataSize >= 16
    ? safe(ex.getBigUint64(8), extraAt + 8, "disk_size")
    : h.size;
  const s: Qcow2Snapshot = {
    index,
    entryOffset: at,
    l1TableOffset: safe(dv.getBigUint64(0), at, "l1_table_offset"),
    l1Size: dv.getUint32(8),
    id: dec.decode(rest.subarray(extraDataSize, extraDataSize + idSize)),
    name: dec.decode(rest.subarray(extraDataSize + idSize)),
    dateSec: dv.getUint32(16),
    dateNsec: dv.getUint32(20),
    vmClockNs: Number(dv.getBigUint64(24)),
    vmStateSize32,
    extraDataSize,
    vmStateSize: extraDataSize >= 8
      ? safe(ex.getBigUint64(0), extraAt, "vm_state_size_large")
      : vmStateSize32,
    diskSize,
    icount: extraDataSize >= 24 ? Number(ex.getBigInt64(16)) : -1,
    stateOffset: stateOffsetFor(h, diskSize),
  };
  const len = Math.ceil((ENTRY_FIXED + varLen) / 8) * 8;
  return [s, len];
}

/**
 * Reads the snapshot table of the image in `ra`, bounded by QEMU's limits; a malformed table is
 * a one-line StreamError naming the entry's offset.
 */
export function readSnapshotTable(ra: RandomAccess, h: Qcow2Header): Qcow2Snapshot[] {
  const n = h.nbSnapshots;
  if (n === 0) return [];
  if (n > MAX_SNAPSHOTS) fail(60, "nb_snapshots", `${n} snapshots exceed QEMU's ${MAX_SNAPSHOTS}`);
  const base = h.snapshotsOffset;
  if (base % h.clusterSize) {
    fail(64, "snapshots_offset", `table offset ${base} is not cluster aligned`);
  }
  if (base >= ra.size) {
    fail(
      64,
      "snapshots_offset",
      `table offset ${base} is past the end of the file (${ra.size} bytes)`,
    );
  }
  const out: Qcow2Snapshot[] = [];
  let at = base;
  for (let i = 0; i < n; i++) {
    const [s, len] = readEntry(ra, h, i, at);
    at += len;
    if (at - base > MAX_SNAPSHOT_TABLE) {
      fail(base, `entry ${i + 1}`, `the table grows past ${MAX_SNAPSHOT_TABLE} bytes`);
    }
    out.push(s);
  }
  return out;
}
