/**
 * Multifd wire facts (multifd.h): packet flags, the compression methods the flags name, and
 * the sizes of the fixed parts of a channel.
 * @module
 */

/** Packet flag bits. */
export const MULTIFD_FLAG = {
  SYNC: 0x1,
  /** The bits that name the compression method (one value, not a set). */
  COMPRESSION_MASK: 0x3e,
  /** The packet carries device state (MultiFDPacketDeviceState_t), not RAM. */
  DEVICE_STATE: 0x40,
} as const;

/** A multifd compression method, as `multifd-compression` names it. */
export type MultifdCompression = "none" | "zlib" | "zstd" | "qpl" | "uadk" | "qatzip";

/** The compression field of the flags → its method. */
export const MULTIFD_COMPRESSION: Readonly<Record<number, MultifdCompression>> = {
  0x00: "none",
  0x02: "zlib",
  0x04: "zstd",
  0x08: "qpl",
  0x10: "uadk",
  0x20: "qatzip",
};

/** Bytes of MultiFDInit_t, the channel's first packet. */
export const MULTIFD_INIT_SIZE = 64;
/** Bytes of MultiFDPacketHdr_t: magic, version, flags. */
export const MULTIFD_HEADER_SIZE = 12;
/** Bytes of a RAM packet's fixed part before the page offsets (incl. the 256-byte block name). */
export const MULTIFD_RAM_FIXED_SIZE = 320;
/** Bytes of MultiFDPacketDeviceState_t: header, idstr[256], instance_id, next_packet_size. */
export const MULTIFD_DEVICE_STATE_SIZE = 276;
/** A RAM packet's capacity: 512 KiB of pages. */
export const MULTIFD_PACKET_BYTES = 512 * 1024;
/**
 * The most payload bytes a receiver takes for one RAM packet of a compressing method: its
 * buffer is twice the packet's capacity (zlib, zstd, qatzip).
 */
export const MULTIFD_MAX_COMPRESSED = 2 * MULTIFD_PACKET_BYTES;
