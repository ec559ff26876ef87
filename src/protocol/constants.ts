/**
 * QEMU migration wire constants (savevm.c, ram.c, block.c, xbzrle.c, multifd.c), as facts.
 * @module
 */

/** `QEVM`: first four bytes of a main-channel stream. */
export const FILE_MAGIC = 0x5145564d;
/** The only stream version QEMU accepts. */
export const FILE_VERSION = 3;
/** The obsolete version QEMU rejects explicitly. */
export const FILE_VERSION_COMPAT = 2;
/** First four bytes of a multifd channel. */
export const MULTIFD_MAGIC = 0x11223344;

/** Top-level record type bytes (`QEMU_VM_*`). */
export const VM = {
  EOF: 0x00,
  SECTION_START: 0x01,
  SECTION_PART: 0x02,
  SECTION_END: 0x03,
  SECTION_FULL: 0x04,
  SUBSECTION: 0x05,
  VMDESCRIPTION: 0x06,
  CONFIGURATION: 0x07,
  COMMAND: 0x08,
  SECTION_FOOTER: 0x7e,
} as const;

/** Section header types by their byte. */
export const SECTION_TYPE_NAMES: Record<number, SectionType> = {
  0x01: "START",
  0x02: "PART",
  0x03: "END",
  0x04: "FULL",
};

/** The four section kinds. */
export type SectionType = "START" | "PART" | "END" | "FULL";

/** COMMAND numbers (`MIG_CMD_*`) and their fixed payload length (-1: variable). */
export const COMMANDS: ReadonlyArray<{ cmd: number; name: string; len: number }> = [
  { cmd: 1, name: "OPEN_RETURN_PATH", len: 0 },
  { cmd: 2, name: "PING", len: 4 },
  { cmd: 3, name: "POSTCOPY_ADVISE", len: -1 },
  { cmd: 4, name: "POSTCOPY_LISTEN", len: 0 },
  { cmd: 5, name: "POSTCOPY_RUN", len: 0 },
  { cmd: 6, name: "POSTCOPY_RAM_DISCARD", len: -1 },
  { cmd: 7, name: "PACKAGED", len: 4 },
  { cmd: 8, name: "ENABLE_COLO", len: 0 },
  { cmd: 9, name: "POSTCOPY_RESUME", len: 0 },
  { cmd: 10, name: "RECV_BITMAP", len: -1 },
  { cmd: 11, name: "SWITCHOVER_START", len: 0 },
];

/** Command numbers by name. */
export const CMD = {
  OPEN_RETURN_PATH: 1,
  PING: 2,
  POSTCOPY_ADVISE: 3,
  POSTCOPY_LISTEN: 4,
  POSTCOPY_RUN: 5,
  POSTCOPY_RAM_DISCARD: 6,
  PACKAGED: 7,
  ENABLE_COLO: 8,
  POSTCOPY_RESUME: 9,
  RECV_BITMAP: 10,
  SWITCHOVER_START: 11,
} as const;

/** RAM record flags (`RAM_SAVE_FLAG_*`), low bits of the be64 record header. */
export const RAM_FLAG = {
  FULL: 0x001,
  ZERO: 0x002,
  MEM_SIZE: 0x004,
  PAGE: 0x008,
  EOS: 0x010,
  CONTINUE: 0x020,
  XBZRLE: 0x040,
  HOOK: 0x080,
  COMPRESS_PAGE: 0x100,
  MULTIFD_FLUSH: 0x200,
} as const;

/** Names of RAM flags, for messages and `--records`. */
export function ramFlagNames(flags: number): string {
  const out: string[] = [];
  for (const [name, bit] of Object.entries(RAM_FLAG)) if (flags & bit) out.push(name);
  const known = Object.values(RAM_FLAG).reduce((a, b) => a | b, 0);
  if (flags & ~known) out.push(`0x${(flags & ~known).toString(16)}`);
  return out.length ? out.join("|") : "0";
}

/** The XBZRLE record's encoding byte (`ENCODING_FLAG_XBZRLE`). */
export const XBZRLE_ENCODING_FLAG = 0x01;

/** Block-migration record flags (`BLK_MIG_FLAG_*`), low 9 bits of the be64 header. */
export const BLK_FLAG = {
  DEVICE_BLOCK: 0x01,
  EOS: 0x02,
  PROGRESS: 0x04,
  ZERO_BLOCK: 0x08,
} as const;

/** Block migration chunk size (`BLK_MIG_BLOCK_SIZE`). */
export const BLK_CHUNK_SIZE = 1 << 20;
/** Block migration sector size. */
export const BLK_SECTOR_SIZE = 512;
/** Sectors per chunk. */
export const BLK_SECTORS_PER_CHUNK = BLK_CHUNK_SIZE / BLK_SECTOR_SIZE;

/** The x86 target page size; other sizes come from the stream (target-page-bits, vmdesc). */
export const DEFAULT_PAGE_SIZE = 4096;

/** The RAM section's idstr and the only version the loader accepts. */
export const RAM_SECTION = { idstr: "ram", version: 4 } as const;
/** The block-migration section's idstr and version. */
export const BLOCK_SECTION = { idstr: "block", version: 1 } as const;

/** mapped-ram: header version, size, and region alignment. */
export const MAPPED_RAM = {
  HEADER_VERSION: 1,
  HEADER_SIZE: 28,
  FILE_OFFSET_ALIGNMENT: 1 << 20,
} as const;

/** Validated capabilities QEMU may announce in `configuration/capabilities`. */
export const KNOWN_CAPABILITIES = ["x-ignore-shared", "mapped-ram"] as const;
