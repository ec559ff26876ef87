/**
 * Everything `info` says about a file, gathered without printing: the container's kind and
 * header fields, and for each stream inside (one; or each qcow2 snapshot with VM state) its
 * head (machine, capabilities, RAM blocks), size and SHA-256 — all read in constant memory.
 * @module
 */
import { fileAccess } from "../wire/random_access.ts";
import { drain, type Hasher, hashingSource, sha256Access, sha256Hasher } from "./digest.ts";
import type { ContainerKind } from "./detect.ts";
import type { LibvirtImage } from "./libvirt.ts";
import { openContainer, type OpenedContainer } from "./open.ts";
import { type Qcow2Header, readQcow2Header } from "./qcow2_header.ts";
import { type Qcow2Snapshot, readSnapshotTable } from "./qcow2_snapshots.ts";
import { type ClusterKinds, snapshotLabel } from "./qcow2_state.ts";
import { SnapshotChoiceError } from "./snapshot_choice.ts";
import { readStreamHead, type StreamHead } from "./stream_head.ts";

/** One stream of a container. */
export interface StreamReport {
  /** `stream`, or `snapshot 1 'snapA'`. */
  label: string;
  /** qcow2: the snapshot's id. */
  snapshot?: string;
  /** Where the stream (or its compressed form) starts in the container. */
  offset: number;
  compression?: string;
  /** Bytes of the (decompressed) stream, counted while hashing. */
  size?: number;
  sha256?: string;
  /** The container says the stream is incomplete. */
  incomplete: boolean;
  head?: StreamHead;
  /** qcow2: the state's clusters by kind. */
  clusterKinds?: ClusterKinds;
  /** Why the stream could not be opened or read to its end. */
  error?: unknown;
}

/** What `info` reports. */
export interface ContainerReport {
  path: string;
  fileSize: number;
  sha256?: string;
  kind: ContainerKind;
  describe: string;
  gzipWrapped: boolean;
  libvirt?: LibvirtImage;
  qcow2?: { header: Qcow2Header; snapshots: Qcow2Snapshot[] };
  streams: StreamReport[];
}

/** Options of {@link describeContainer}. */
export interface DescribeOptions {
  /** qcow2: describe only this snapshot (id or name). */
  snapshot?: string;
  /** Hash the container and the streams (reads everything; default true). */
  digests?: boolean;
}

async function streamReport(c: OpenedContainer, digests: boolean): Promise<StreamReport> {
  const q = c.qcow2;
  const rep: StreamReport = {
    label: q ? snapshotLabel(q.snapshot) : "stream",
    snapshot: q?.snapshot.id,
    offset: c.streamOffset,
    compression: c.compression,
    size: c.streamSize,
    incomplete: c.incomplete,
  };
  if (q) rep.clusterKinds = q.state.clusterKinds();
  let hasher: Hasher | undefined;
  const src = digests ? hashingSource(c.source, hasher = await sha256Hasher()) : c.source;
  if (c.kind !== "multifd-channel") rep.head = await readStreamHead(src, c.baseOffset);
  if (hasher) {
    try {
      await drain(src);
      rep.sha256 = hasher.hex();
      rep.size = (src as ReturnType<typeof hashingSource>).bytes();
    } catch (e) {
      rep.error = e;
    }
  }
  return rep;
}

async function eachSnapshot(
  path: string,
  snaps: Qcow2Snapshot[],
  digests: boolean,
): Promise<StreamReport[]> {
  const out: StreamReport[] = [];
  for (const s of snaps) {
    let c: OpenedContainer | undefined;
    try {
      c = await openContainer(path, { snapshot: s.id });
      out.push(await streamReport(c, digests));
    } catch (e) {
      out.push({
        label: snapshotLabel(s),
        snapshot: s.id,
        offset: s.stateOffset,
        incomplete: false,
        error: e,
      });
    } finally {
      c?.close();
    }
  }
  return out;
}

/**
 * Describes the container at `path`. A container that cannot be opened at all throws (as
 * {@link openContainer} does); a qcow2 image with several snapshots is described whole, with
 * one stream per snapshot that has VM state, unless `opts.snapshot` picks one.
 */
export async function describeContainer(
  path: string,
  opts: DescribeOptions = {},
): Promise<ContainerReport> {
  const digests = opts.digests !== false;
  let c: OpenedContainer | undefined;
  try {
    c = await openContainer(path, { snapshot: opts.snapshot });
  } catch (e) {
    if (!(e instanceof SnapshotChoiceError) || opts.snapshot !== undefined) throw e;
  }
  const report = c ? await single(c, digests) : await multiSnapshot(path, digests);
  if (digests) {
    const ra = fileAccess(path);
    try {
      report.sha256 = await sha256Access(ra);
    } finally {
      ra.close();
    }
  }
  return report;
}

async function single(c: OpenedContainer, digests: boolean): Promise<ContainerReport> {
  try {
    const q = c.qcow2;
    return {
      path: c.path,
      fileSize: c.fileSize,
      kind: c.kind,
      describe: q ? "qcow2 image" : c.describe,
      gzipWrapped: c.gzipWrapped,
      libvirt: c.libvirt,
      qcow2: q ? { header: q.header, snapshots: q.snapshots } : undefined,
      streams: [await streamReport(c, digests)],
    };
  } finally {
    c.close();
  }
}

/** A qcow2 image with no single snapshot to take: the table, and each snapshot with state. */
async function multiSnapshot(path: string, digests: boolean): Promise<ContainerReport> {
  const ra = fileAccess(path);
  let header: Qcow2Header;
  let snapshots: Qcow2Snapshot[];
  try {
    header = readQcow2Header(ra);
    snapshots = readSnapshotTable(ra, header);
  } finally {
    ra.close();
  }
  const withState = snapshots.filter((s) => s.vmStateSize > 0);
  return {
    path,
    fileSize: ra.size,
    kind: "qcow2",
    describe: "qcow2 image",
    gzipWrapped: false,
    qcow2: { header, snapshots },
    streams: withState.length ? await eachSnapshot(path, withState, digests) : [],
  };
}
