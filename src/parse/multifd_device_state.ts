/**
 * Multifd device-state packets (QEMU 10.0+, VFIO): the common header, idstr[256], be32
 * instance_id, be32 next_packet_size, then that many bytes of opaque device state. The payload
 * is never RAM: it is kept as its size and sha256, read in bounded pieces.
 * @module
 */
import { MULTIFD_DEVICE_STATE_SIZE } from "../protocol/multifd.ts";
import type { ByteReader } from "../wire/reader.ts";
import { decodeName } from "./state.ts";

/** One device-state packet. */
export interface MultifdDeviceState {
  kind: "device-state";
  offset: number;
  /** Bytes on the wire: header and payload. */
  length: number;
  flags: number;
  idstr: string;
  instanceId: number;
  /** Bytes of the opaque payload. */
  size: number;
  /** Hex sha256 of the payload. */
  sha256: string;
}

type Hash = { update(b: Uint8Array): Hash; digest(enc: "hex"): string };
let crypto: { createHash(alg: string): Hash } | undefined;

const PIECE = 1 << 20;

/** Reads one device-state packet at the reader's position (its header is checked already). */
export async function readDeviceStatePacket(
  r: ByteReader,
  fail: (offset: number, detail: string) => never,
): Promise<MultifdDeviceState> {
  const offset = r.pos;
  await r.fill(MULTIFD_DEVICE_STATE_SIZE);
  const flags = r.peekBe32(8);
  const nameBytes = r.peekBytes(256, 12);
  const nul = nameBytes.indexOf(0);
  if (nul <= 0) fail(offset + 12, "device-state packet idstr is empty or not NUL-terminated");
  const idstr = decodeName(nameBytes.subarray(0, nul));
  const instanceId = r.peekBe32(268);
  const size = r.peekBe32(272);
  r.advance(MULTIFD_DEVICE_STATE_SIZE);
  crypto ??= await import("node:crypto") as unknown as { createHash(alg: string): Hash };
  const hash = crypto.createHash("sha256");
  for (let left = size; left > 0;) {
    const n = Math.min(left, PIECE);
    await r.fill(n);
    hash.update(r.bytes(n));
    left -= n;
  }
  return {
    kind: "device-state",
    offset,
    length: MULTIFD_DEVICE_STATE_SIZE + size,
    flags,
    idstr,
    instanceId,
    size,
    sha256: hash.digest("hex"),
  };
}
