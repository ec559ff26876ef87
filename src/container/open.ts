/**
 * Opening any saved-VM container as the bare QEMU stream inside it: a bare stream or multifd
 * channel as is, a gzip file (whose content may itself be a libvirt save image), a libvirt save
 * image (raw and sparse positional; gzip, bzip2, xz, lzop, zstd streamed through a
 * decompressor), or one snapshot's VM state inside a qcow2 image (positional). Memory stays
 * bounded whatever the size of the image.
 * @module
 */
import { StreamError } from "../protocol/errors.ts";
import { fileAccess, type RandomAccess } from "../wire/random_access.ts";
import { type ByteSource, randomSource } from "../wire/source.ts";
import {
  forwardFromAccess,
  forwardFromSource,
  prefixedSource,
  rangeChunks,
  readSourceFully,
  sourceChunks,
  windowAccess,
} from "./bytes.ts";
import { type Compression, decompressSource } from "./decompress.ts";
import { type ContainerKind, detectKind, SNIFF_BYTES } from "./detect.ts";
import { type LibvirtImage, readLibvirtImage } from "./libvirt.ts";
import { type ClusterInflater, clusterInflater } from "./qcow2_compressed.ts";
import { type Qcow2Header, readQcow2Header } from "./qcow2_header.ts";
import { type Qcow2Snapshot, readSnapshotTable } from "./qcow2_snapshots.ts";
import { snapshotLabel, type SnapshotState, snapshotState } from "./qcow2_state.ts";
import { chooseSnapshot } from "./snapshot_choice.ts";

export type { ContainerKind } from "./detect.ts";
export { SnapshotChoiceError } from "./snapshot_choice.ts";

/** Options of {@link openContainer}. */
export interface ContainerOptions {
  /** qcow2: the snapshot (id or name) whose VM state is read. */
  snapshot?: string;
}

/** A qcow2 image's header, snapshots, and the one being read. */
export interface Qcow2Info {
  header: Qcow2Header;
  snapshots: Qcow2Snapshot[];
  snapshot: Qcow2Snapshot;
  state: SnapshotState;
}

/** An opened container: what it is, and its inner stream as a source. */
export interface OpenedContainer {
  /** What the file is (for a gzip file holding a libvirt image: `libvirt-save`, gzipWrapped). */
  kind: ContainerKind;
  path: string;
  /** Bytes of the file on disk. */
  fileSize: number;
  /** The whole file was gzip-compressed (outside any libvirt compression). */
  gzipWrapped: boolean;
  /** One line for messages, e.g. `libvirt save image (xz)`, `qcow2 snapshot 1 'snapA'`. */
  describe: string;
  libvirt?: LibvirtImage;
  qcow2?: Qcow2Info;
  /** How the stream part is compressed inside the container (libvirt formats). */
  compression?: Compression;
  /** The bare QEMU stream; `random` is set when it is positional (raw, sparse, qcow2). */
  source: ByteSource;
  /**
   * Offset to give the stream's first byte (`new ByteReader(source, { baseOffset })`): 0, or
   * for a libvirt `sparse` image the stream offset, whose mapped-ram offsets are absolute.
   */
  baseOffset: number;
  /** Where the stream (or its compressed form) starts in the (decompressed) file. */
  streamOffset: number;
  /** Bytes of the stream when known without reading it (positional kinds). */
  streamSize?: number;
  /** The container says its stream is incomplete (LibvirtQemudPart; qcow2 state cut short). */
  incomplete: boolean;
  close(): void;
}

type Base = Pick<OpenedContainer, "path" | "fileSize">;

function bare(ra: RandomAccess, base: Base, kind: ContainerKind): OpenedContainer {
  const describe = kind === "qemu-stream"
    ? "QEMU migration stream"
    : kind === "multifd-channel"
    ? "multifd channel"
    : "unknown file (read as a QEMU stream)";
  return {
    ...base,
    kind,
    gzipWrapped: false,
    describe,
    source: randomSource(ra),
    baseOffset: 0,
    streamOffset: 0,
    streamSize: ra.size,
    incomplete: false,
    close: () => ra.close(),
  };
}

function libvirtDescribe(img: LibvirtImage, gz: boolean): string {
  const state = img.complete ? "" : ", incomplete (LibvirtQemudPart)";
  return `libvirt save image (${img.format}${state})${gz ? " in a gzip file" : ""}`;
}

async function positionalLibvirt(ra: RandomAccess, base: Base): Promise<OpenedContainer> {
  const img = await readLibvirtImage(forwardFromAccess(ra), ra.size);
  const at = img.streamOffset;
  const common = {
    ...base,
    kind: "libvirt-save" as const,
    gzipWrapped: false,
    describe: libvirtDescribe(img, false),
    libvirt: img,
    streamOffset: at,
    incomplete: !img.complete,
    close: () => ra.close(),
  };
  if (img.format === "raw") {
    const win = windowAccess(ra, at, ra.size - at);
    return { ...common, source: randomSource(win), baseOffset: 0, streamSize: win.size };
  }
  if (img.format === "sparse") {
    const src = randomSource(ra);
    await src.skip!(at);
    return { ...common, source: src, baseOffset: at, streamSize: ra.size - at };
  }
  const win = windowAccess(ra, at, ra.size - at);
  const source = await decompressSource(rangeChunks(win), img.format, {
    offset: at,
    label: common.describe,
    lenient: !img.complete,
  });
  const close = () => {
    source.close();
    ra.close();
  };
  return { ...common, source, baseOffset: 0, compression: img.format, close };
}

async function gzipWrapped(ra: RandomAccess, base: Base): Promise<OpenedContainer> {
  const outer = await decompressSource(rangeChunks(ra), "gzip", { offset: 0, label: "gzip file" });
  const close = () => {
    outer.close();
    ra.close();
  };
  try {
    const head = new Uint8Array(SNIFF_BYTES);
    const got = await readSourceFully(outer, head);
    const kind = detectKind(head.subarray(0, got));
    const src = prefixedSource(head.subarray(0, got), outer);
    const common = { ...base, gzipWrapped: true, baseOffset: 0, incomplete: false, close };
    if (kind === "qcow2" || kind === "gzip") {
      throw new Error(
        `${base.path} is a gzip-compressed ${
          kind === "qcow2" ? "qcow2 image" : "gzip file"
        }: decompress it first (gunzip -k)`,
      );
    }
    if (kind !== "libvirt-save") {
      const describe = `gzip file (${kind === "qemu-stream" ? "QEMU migration stream" : kind})`;
      return { ...common, kind, describe, source: src, streamOffset: 0 };
    }
    return await wrappedLibvirt(src, common);
  } catch (e) {
    close();
    throw e;
  }
}

async function wrappedLibvirt(
  src: ByteSource,
  common: Omit<OpenedContainer, "kind" | "describe" | "source" | "streamOffset">,
): Promise<OpenedContainer> {
  const img = await readLibvirtImage(forwardFromSource(src));
  const describe = libvirtDescribe(img, true);
  const out = {
    ...common,
    kind: "libvirt-save" as const,
    describe,
    libvirt: img,
    streamOffset: img.streamOffset,
    incomplete: !img.complete,
  };
  if (img.format === "raw") return { ...out, source: src };
  if (img.format === "sparse") {
    throw new StreamError(
      { offset: 28, section: "libvirt save image", record: "format" },
      "a sparse (mapped-ram) save image inside a gzip file needs positional reads: decompress it first",
    );
  }
  const inner = await decompressSource(sourceChunks(src), img.format, {
    offset: img.streamOffset,
    label: describe,
    lenient: !img.complete,
  });
  const close = () => {
    inner.close();
    common.close();
  };
  return { ...out, source: inner, compression: img.format, close };
}

async function qcow2(
  ra: RandomAccess,
  base: Base,
  opts: ContainerOptions,
): Promise<OpenedContainer> {
  const header = readQcow2Header(ra);
  const snapshots = readSnapshotTable(ra, header);
  const snapshot = chooseSnapshot(snapshots, opts.snapshot);
  const inflater: ClusterInflater = await clusterInflater(header.compression);
  const state = snapshotState(ra, header, snapshot, () => inflater);
  return {
    ...base,
    kind: "qcow2",
    gzipWrapped: false,
    describe: `qcow2 ${snapshotLabel(snapshot)}`,
    qcow2: { header, snapshots, snapshot, state },
    source: randomSource(state),
    baseOffset: 0,
    streamOffset: snapshot.stateOffset,
    streamSize: state.size,
    incomplete: !state.lastClusterAllocated(),
    close: () => ra.close(),
  };
}

/**
 * Opens the container at `path` and returns its inner QEMU stream. Malformed containers throw a
 * one-line {@link StreamError} naming the container offset; a qcow2 image whose snapshot cannot
 * be chosen throws {@link SnapshotChoiceError}; a missing decompression tool, a plain Error.
 *
 * @example A bare stream is its own container
 * ```ts
 * import { openContainer } from "./open.ts";
 * const c = await openContainer("samples/small-xbzrle.mig");
 * c.close();
 * if (c.kind !== "qemu-stream" || c.streamSize !== c.fileSize) throw new Error("as is");
 * ```
 */
export async function openContainer(
  path: string,
  opts: ContainerOptions = {},
): Promise<OpenedContainer> {
  const file = fileAccess(path);
  let closed = false;
  const ra: RandomAccess = {
    size: file.size,
    read: (buf, pos) => file.read(buf, pos),
    close() {
      if (!closed) file.close();
      closed = true;
    },
  };
  const base: Base = { path, fileSize: ra.size };
  try {
    const head = new Uint8Array(Math.min(SNIFF_BYTES, ra.size));
    ra.read(head, 0);
    const kind = detectKind(head);
    if (kind === "libvirt-save") return await positionalLibvirt(ra, base);
    if (kind === "gzip") return await gzipWrapped(ra, base);
    if (kind === "qcow2") return await qcow2(ra, base, opts);
    return bare(ra, base, kind);
  } catch (e) {
    ra.close();
    throw e;
  }
}
