/**
 * The qcow2 header (versions 2 and 3, big-endian) and its extensions, as facts for `info` and
 * for reading snapshot state: cluster size, L2 geometry (extended L2 entries are 16 bytes and
 * split a cluster in 32 subclusters), the compression type, and the features this read-only
 * reader must refuse (encryption, an external data file, unknown incompatible features).
 * @module
 */
import { StreamError } from "../protocol/errors.ts";
import { type RandomAccess, readFully } from "../wire/random_access.ts";

/** The decoded header. */
export interface Qcow2Header {
  version: number;
  backingFileOffset: number;
  backingFileSize: number;
  /** The backing file's name, when there is one (at most 1023 bytes). */
  backingFile?: string;
  clusterBits: number;
  clusterSize: number;
  /** Virtual disk size in bytes. */
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
  /** 0 zlib (deflate), 1 zstd. */
  compressionType: number;
  compression: "zlib" | "zstd";
  extendedL2: boolean;
  /** log2 of the entries of one L2 table. */
  l2Bits: number;
  /** Bytes of one L2 entry (8, or 16 with extended L2). */
  l2EntrySize: number;
  /** Marked dirty (refcounts may be stale: harmless for reading). */
  dirty: boolean;
  /** Marked corrupt by QEMU. */
  corrupt: boolean;
  /** Header extension types present, in order. */
  extensions: number[];
}

/** Smallest and largest cluster_bits QEMU accepts. */
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
/** Incompatible feature bits. */
export const INCOMPAT = { DIRTY: 0, CORRUPT: 1, DATA_FILE: 2, COMPRESSION: 3, EXTL2: 4 };
/** Header extension types. */
export const EXT = {
  END: 0,
  BACKING_FORMAT: 0xe2792aca,
  FEATURE_TABLE: 0x6803f857,
  BITMAPS: 0x23852875,
  CRYPTO: 0x0537be77,
  DATA_FILE: 0x44415441,
};

const SECTION = "qcow2 header";

function fail(offset: number, record: string, detail: string): never {
  throw new StreamError({ offset, section: SECTION, record }, detail);
}

/** A big-endian u64 that must fit a safe integer (file offsets, sizes). */
export function be64(dv: DataView, at: number, what: string, base = 0): number {
  const v = dv.getBigUint64(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(base + at, what, `${what} ${v} is too large`);
  return Number(v);
}

function extensions(ra: RandomAccess, h: Qcow2Header): number[] {
  const out: number[] = [];
  const end = Math.min(h.clusterSize, ra.size);
  let at = h.headerLength;
  const b = new Uint8Array(8);
  while (at + 8 <= end) {
    readFully(ra, b, at);
    const dv = new DataView(b.buffer);
    const type = dv.getUint32(0);
    const len = dv.getUint32(4);
    if (type === EXT.END) break;
    out.push(type);
    if (at + 8 + len > end) {
      fail(
        at,
        "header extension",
        `extension 0x${type.toString(16)} of ${len} bytes runs past the first cluster`,
      );
    }
    at += 8 + Math.ceil(len / 8) * 8;
  }
  return out;
}

function checkSupported(h: Qcow2Header) {
  const bit = (n: number) => (h.incompatibleFeatures >> BigInt(n)) & 1n;
  if (bit(INCOMPAT.DATA_FILE)) {
    fail(
      72,
      "incompatible_features",
      "the image keeps its data in an external data file, which is not supported",
    );
  }
  const known = (1n << 5n) - 1n;
  const unknown = h.incompatibleFeatures & ~known;
  if (unknown) {
    fail(72, "incompatible_features", `unknown incompatible features 0x${unknown.toString(16)}`);
  }
  if (h.cryptMethod !== 0) {
    fail(
      32,
      "crypt_method",
      `the image is encrypted (method ${h.cryptMethod}), which is not supported`,
    );
  }
  if (h.extendedL2 && h.clusterBits < 14) {
    fail(20, "cluster_bits", "extended L2 entries need clusters of at least 16 KiB");
  }
}

function v3Fields(dv: DataView, h: Qcow2Header) {
  h.incompatibleFeatures = dv.getBigUint64(72);
  h.compatibleFeatures = dv.getBigUint64(80);
  h.autoclearFeatures = dv.getBigUint64(88);
  h.refcountOrder = dv.getUint32(96);
  h.headerLength = dv.getUint32(100);
  if (h.headerLength < 104 || h.headerLength > h.clusterSize || h.headerLength % 8) {
    fail(100, "header_length", `header_length ${h.headerLength} is invalid`);
  }
  if (h.headerLength > 104) h.compressionType = dv.getUint8(104);
  const bit = (n: number) => ((h.incompatibleFeatures >> BigInt(n)) & 1n) === 1n;
  if (h.compressionType > 1) {
    fail(104, "compression_type", `unknown compression type ${h.compressionType}`);
  }
  if (h.compressionType !== 0 && !bit(INCOMPAT.COMPRESSION)) {
    fail(104, "compression_type", "a compression type without its incompatible feature bit");
  }
  h.compression = h.compressionType === 1 ? "zstd" : "zlib";
  h.extendedL2 = bit(INCOMPAT.EXTL2);
  h.dirty = bit(INCOMPAT.DIRTY);
  h.corrupt = bit(INCOMPAT.CORRUPT);
}

function backingName(ra: RandomAccess, h: Qcow2Header) {
  if (!h.backingFileOffset) return;
  if (h.backingFileSize > 1023 || h.backingFileOffset + h.backingFileSize > h.clusterSize) {
    fail(8, "backing_file_offset", "the backing file name does not fit in the first cluster");
  }
  const b = new Uint8Array(h.backingFileSize);
  readFully(ra, b, h.backingFileOffset);
  h.backingFile = new TextDecoder().decode(b);
}

/** Decodes and checks the header of the qcow2 image in `ra`. */
export function readQcow2Header(ra: RandomAccess): Qcow2Header {
  const b = new Uint8Array(112);
  const got = readFully(ra, b, 0);
  if (got < 72) fail(got, "header", "the file ends inside the qcow2 header");
  const dv = new DataView(b.buffer);
  if (dv.getUint32(0) !== 0x514649fb) fail(0, "magic", "not a qcow2 image");
  const version = dv.getUint32(4);
  if (version !== 2 && version !== 3) fail(4, "version", `unsupported qcow2 version ${version}`);
  if (version === 3 && got < 104) fail(got, "header", "the file ends inside the qcow2 v3 header");
  const clusterBits = dv.getUint32(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    fail(
      20,
      "cluster_bits",
      `cluster_bits ${clusterBits} is outside ${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS}`,
    );
  }
  const h: Qcow2Header = {
    version,
    backingFileOffset: be64(dv, 8, "backing_file_offset"),
    backingFileSize: dv.getUint32(16),
    clusterBits,
    clusterSize: 2 ** clusterBits,
    size: be64(dv, 24, "size"),
    cryptMethod: dv.getUint32(32),
    l1Size: dv.getUint32(36),
    l1TableOffset: be64(dv, 40, "l1_table_offset"),
    refcountTableOffset: be64(dv, 48, "refcount_table_offset"),
    refcountTableClusters: dv.getUint32(56),
    nbSnapshots: dv.getUint32(60),
    snapshotsOffset: be64(dv, 64, "snapshots_offset"),
    incompatibleFeatures: 0n,
    compatibleFeatures: 0n,
    autoclearFeatures: 0n,
    refcountOrder: 4,
    headerLength: 72,
    compressionType: 0,
    compression: "zlib",
    extendedL2: false,
    l2Bits: 0,
    l2EntrySize: 8,
    dirty: false,
    corrupt: false,
    extensions: [],
  };
  if (version === 3) v3Fields(dv, h);
  checkSupported(h);
  h.l2EntrySize = h.extendedL2 ? 16 : 8;
  h.l2Bits = clusterBits - Math.log2(h.l2EntrySize);
  h.extensions = extensions(ra, h);
  backingName(ra, h);
  return h;
}
