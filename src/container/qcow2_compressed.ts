/**
 * Compressed qcow2 clusters: each holds one cluster, compressed alone (raw deflate, or zstd
 * when the header's compression type says so), stored at a byte offset with a size rounded up
 * to whole 512-byte sectors — so the bytes read may run into the next compressed cluster. A
 * cluster must inflate to exactly one cluster: more or less is an error, as it is for QEMU.
 * @module
 */
import { nodeZlib } from "./decompress.ts";

/** Inflates one compressed cluster's bytes (possibly followed by unrelated bytes). */
export type ClusterInflater = (data: Uint8Array, clusterSize: number) => Uint8Array;

const ZSTD_MAGIC = 0xfd2fb528;

function le24(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
}

/**
 * Length of the zstd frame (or skippable frame) at the start of `b`, walking its block headers;
 * -1 when it is not a frame or runs past `b`.
 */
export function zstdFrameLength(b: Uint8Array): number {
  if (b.length < 8) return -1;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = dv.getUint32(0, true);
  if ((magic & 0xfffffff0) === 0x184d2a50) {
    const len = 8 + dv.getUint32(4, true);
    return len <= b.length ? len : -1;
  }
  if (magic !== ZSTD_MAGIC) return -1;
  const fhd = b[4];
  const single = (fhd >> 5) & 1;
  const fcsSize = [single ? 1 : 0, 2, 4, 8][fhd >> 6];
  let at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3] + fcsSize;
  for (;;) {
    if (at + 3 > b.length) return -1;
    const bh = le24(b, at);
    const type = (bh >> 1) & 3;
    if (type === 3) return -1;
    at += 3 + (type === 1 ? 1 : bh >>> 3);
    if (bh & 1) break;
  }
  if ((fhd >> 2) & 1) at += 4;
  return at <= b.length ? at : -1;
}

function why(e: unknown): string {
  const err = e as { code?: string; message?: string };
  if (err.code === "ERR_BUFFER_TOO_LARGE") return "inflates past one cluster";
  return `does not inflate: ${err.message ?? e}`;
}

/** The inflater for the image's compression type (loads node:zlib once). */
export async function clusterInflater(kind: "zlib" | "zstd"): Promise<ClusterInflater> {
  const [zlib] = await nodeZlib();
  if (kind === "zlib") {
    return (data, clusterSize) => {
      let out: Uint8Array;
      try {
        out = zlib.inflateRawSync(data, { maxOutputLength: clusterSize });
      } catch (e) {
        throw new Error(why(e));
      }
      if (out.length !== clusterSize) {
        throw new Error(`inflates to ${out.length} bytes, not one cluster (${clusterSize})`);
      }
      return out;
    };
  }
  const zstd = (zlib as unknown as {
    zstdDecompressSync?: (b: Uint8Array, o: object) => Uint8Array;
  }).zstdDecompressSync;
  if (!zstd) throw new Error("this runtime's node:zlib has no zstd: zstd clusters cannot be read");
  return (data, clusterSize) => zstdCluster(zstd, data, clusterSize);
}

function zstdCluster(
  zstd: (b: Uint8Array, o: object) => Uint8Array,
  data: Uint8Array,
  clusterSize: number,
): Uint8Array {
  const out = new Uint8Array(clusterSize);
  let filled = 0;
  let at = 0;
  while (filled < clusterSize) {
    const len = zstdFrameLength(data.subarray(at));
    if (len < 0) throw new Error("does not inflate: no complete zstd frame");
    const frame = data.subarray(at, at + len);
    at += len;
    if (new DataView(frame.buffer, frame.byteOffset).getUint32(0, true) !== ZSTD_MAGIC) continue;
    let part: Uint8Array;
    try {
      part = zstd(frame, { maxOutputLength: clusterSize - filled });
    } catch (e) {
      throw new Error(why(e));
    }
    out.set(part, filled);
    filled += part.length;
    if (part.length === 0) throw new Error("does not inflate: an empty zstd frame");
  }
  return out;
}
