/**
 * A snapshot's VM state as positional bytes: offsets 0..vm_state_size of the state map to the
 * image's virtual offsets from the snapshot's state offset on, read through the snapshot's own
 * L1 table. Unallocated and zero clusters read as zeros; contiguous data clusters are read with
 * one positional read; the last compressed cluster stays inflated.
 * @module
 */
import { StreamError } from "../protocol/errors.ts";
import type { RandomAccess } from "../wire/random_access.ts";
import type { ClusterInflater } from "./qcow2_compressed.ts";
import type { Qcow2Header } from "./qcow2_header.ts";
import { ClusterMap, type ClusterRef } from "./qcow2_map.ts";
import { MAX_L1_BYTES, type Qcow2Snapshot } from "./qcow2_snapshots.ts";

/** How many clusters of the state are of each kind. */
export interface ClusterKinds {
  data: number;
  zero: number;
  unallocated: number;
  compressed: number;
  /** Extended L2 clusters with subclusters of different kinds. */
  mixed: number;
}

/** The state of one snapshot, positional. */
export interface SnapshotState extends RandomAccess {
  /** Counts the clusters of the state by kind (reads every L2 table the state uses). */
  clusterKinds(): ClusterKinds;
  /** The cluster holding the state's last byte is allocated (else the state was cut short). */
  lastClusterAllocated(): boolean;
}

/** `snapshot 1 'snapA'`. */
export function snapshotLabel(s: Qcow2Snapshot): string {
  return `snapshot ${s.id} '${s.name}'`;
}

function checkSnapshot(ra: RandomAccess, h: Qcow2Header, s: Qcow2Snapshot) {
  const loc = { offset: s.entryOffset, section: "qcow2 snapshot table", record: snapshotLabel(s) };
  const fail = (d: string): never => {
    throw new StreamError(loc, d);
  };
  if (s.vmStateSize === 0) fail("the snapshot has no VM state (a disk-only snapshot)");
  if (s.l1Size * 8 > MAX_L1_BYTES) {
    fail(`l1_size ${s.l1Size} exceeds QEMU's ${MAX_L1_BYTES / 8} entries`);
  }
  if (s.l1TableOffset % h.clusterSize) {
    fail(`L1 table offset ${s.l1TableOffset} is not cluster aligned`);
  }
  if (s.l1TableOffset + s.l1Size * 8 > ra.size) {
    fail(
      `L1 table at ${s.l1TableOffset} (${s.l1Size} entries) runs past the end of the file (${ra.size} bytes)`,
    );
  }
  const mapped = s.l1Size * 2 ** (h.clusterBits + h.l2Bits);
  const end = s.stateOffset + s.vmStateSize;
  if (!Number.isSafeInteger(end) || end > mapped) {
    fail(
      `VM state of ${s.vmStateSize} bytes at virtual offset ${s.stateOffset} lies beyond what its L1 table (${s.l1Size} entries) maps`,
    );
  }
}

interface Ctx {
  ra: RandomAccess;
  h: Qcow2Header;
  map: ClusterMap;
  inflate: () => ClusterInflater;
  label: string;
  cached: { host: number; bytes: Uint8Array } | undefined;
}

function inflated(c: Ctx, ref: { host: number; length: number }): Uint8Array {
  if (c.cached?.host === ref.host) return c.cached.bytes;
  const len = Math.min(ref.length, c.ra.size - ref.host, c.h.clusterSize * 2 + 512);
  const data = new Uint8Array(len);
  c.ra.read(data, ref.host);
  let bytes: Uint8Array;
  try {
    bytes = c.inflate()(data, c.h.clusterSize);
  } catch (e) {
    throw new StreamError(
      { offset: ref.host, section: `qcow2 ${c.label}`, record: "compressed cluster" },
      `the compressed cluster ${(e as Error).message}`,
    );
  }
  c.cached = { host: ref.host, bytes };
  return bytes;
}

function readHost(c: Ctx, buf: Uint8Array, host: number) {
  let got = 0;
  while (got < buf.length) {
    const n = c.ra.read(buf.subarray(got), host + got);
    if (n <= 0) {
      throw new StreamError(
        { offset: host + got, section: `qcow2 ${c.label}`, record: "data cluster" },
        `the file ends inside a data cluster of the VM state (${c.ra.size} bytes): truncated image`,
      );
    }
    got += n;
  }
}

/** Copies the bytes of a mixed extended-L2 cluster from `inCluster` into `out`. */
function readSubclusters(
  c: Ctx,
  out: Uint8Array,
  ref: ClusterRef & { kind: "subclusters" },
  inCluster: number,
) {
  const sc = c.h.clusterSize / 32;
  let done = 0;
  while (done < out.length) {
    const off = inCluster + done;
    const k = Math.floor(off / sc);
    const n = Math.min(out.length - done, (k + 1) * sc - off);
    const part = out.subarray(done, done + n);
    if ((ref.alloc >>> k) & 1) readHost(c, part, ref.host + off);
    else part.fill(0);
    done += n;
  }
}

/** Fills `out` from virtual offset `v` (within one run starting in one cluster); returns bytes. */
function readRun(c: Ctx, out: Uint8Array, v: number): number {
  const cs = c.h.clusterSize;
  const vc = Math.floor(v / cs);
  const inCluster = v - vc * cs;
  let n = Math.min(out.length, cs - inCluster);
  const ref = c.map.lookup(vc);
  switch (ref.kind) {
    case "data": {
      // Extend over following clusters that are data at contiguous host offsets.
      let next = vc + 1;
      while (n < out.length) {
        const r = c.map.lookup(next);
        if (r.kind !== "data" || r.host !== ref.host + (next - vc) * cs) break;
        n = Math.min(out.length, n + cs);
        next++;
      }
      readHost(c, out.subarray(0, n), ref.host + inCluster);
      break;
    }
    case "subclusters":
      readSubclusters(c, out.subarray(0, n), ref, inCluster);
      break;
    case "compressed":
      out.set(inflated(c, ref).subarray(inCluster, inCluster + n));
      break;
    default:
      out.fill(0, 0, n);
  }
  return n;
}

/**
 * The VM state of snapshot `s` in the qcow2 image `ra` (header `h`). `inflate` supplies the
 * compressed-cluster inflater (loaded up front: positional reads are synchronous).
 */
export function snapshotState(
  ra: RandomAccess,
  h: Qcow2Header,
  s: Qcow2Snapshot,
  inflate: () => ClusterInflater,
): SnapshotState {
  checkSnapshot(ra, h, s);
  const label = snapshotLabel(s);
  const map = new ClusterMap(ra, h, { offset: s.l1TableOffset, entries: s.l1Size, label });
  const c: Ctx = { ra, h, map, inflate, label, cached: undefined };
  const size = s.vmStateSize;
  const cs = h.clusterSize;
  const firstVc = Math.floor(s.stateOffset / cs);
  const lastVc = Math.floor((s.stateOffset + size - 1) / cs);
  return {
    size,
    read(buf: Uint8Array, position: number): number {
      if (position >= size || buf.length === 0) return 0;
      const total = Math.min(buf.length, size - position);
      let done = 0;
      while (done < total) {
        done += readRun(c, buf.subarray(done, total), s.stateOffset + position + done);
      }
      return total;
    },
    clusterKinds(): ClusterKinds {
      const k: ClusterKinds = { data: 0, zero: 0, unallocated: 0, compressed: 0, mixed: 0 };
      for (let vc = firstVc; vc <= lastVc; vc++) {
        const kind = map.lookup(vc).kind;
        k[kind === "subclusters" ? "mixed" : kind]++;
      }
      return k;
    },
    lastClusterAllocated(): boolean {
      const kind = map.lookup(lastVc).kind;
      return kind !== "unallocated" && kind !== "zero";
    },
    close() {
      ra.close();
    },
  };
}
