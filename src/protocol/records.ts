/**
 * The records a migration stream is made of, as the parser yields them.
 *
 * Every record carries its absolute byte `offset`, its `length` on the wire and the PACKAGED
 * nesting `depth` (0 = top level). Byte payloads (`data`) are views into the reader's buffer:
 * they are valid only until the consumer asks for the next record.
 * @module
 */
import type { SectionType } from "./constants.ts";

/** Fields shared by every record. */
export interface RecordBase {
  /** Absolute offset of the record's first byte. */
  offset: number;
  /** Bytes the record occupies on the wire. */
  length: number;
  /** PACKAGED nesting depth (0 = main stream). */
  depth: number;
}

/** The `QEVM` magic and version. */
export interface HeaderRecord extends RecordBase {
  kind: "header";
  version: number;
}

/** The CONFIGURATION section (machine type and validated settings). */
export interface ConfigurationRecord extends RecordBase {
  kind: "configuration";
  machine: string;
  /** Names from `configuration/capabilities`. */
  capabilities: string[];
  /** `configuration/target-page-bits`, when present. */
  targetPageBits?: number;
  /** `configuration/uuid` as canonical text, when present. */
  uuid?: string;
  /** Names of the subsections present, in order. */
  subsections: string[];
}

/** A section header (START/PART/END/FULL). */
export interface SectionRecord extends RecordBase {
  kind: "section";
  type: SectionType;
  sectionId: number;
  idstr: string;
  instanceId: number;
  version: number;
}

/** A section footer (`0x7E` + section id). */
export interface FooterRecord extends RecordBase {
  kind: "footer";
  sectionId: number;
  idstr: string;
}

/** One `(start, length)` byte range of POSTCOPY_RAM_DISCARD. */
export interface DiscardRange {
  start: number;
  length: number;
}

/** A COMMAND record with its payload decoded. */
export interface CommandRecord extends RecordBase {
  kind: "command";
  cmd: number;
  name: string;
  /** PING value. */
  value?: number;
  /** POSTCOPY_ADVISE: host page-size summary and target page size (16-byte form). */
  hostPageSizes?: number;
  targetPageSize?: number;
  /** POSTCOPY_RAM_DISCARD / RECV_BITMAP: the RAM block named. */
  block?: string;
  /** POSTCOPY_RAM_DISCARD ranges (byte offsets within `block`). */
  ranges?: DiscardRange[];
  /** PACKAGED: bytes of nested stream that follow. */
  packageLength?: number;
}

/** End of a PACKAGED payload (the outer stream resumes after it). */
export interface PackageEndRecord extends RecordBase {
  kind: "package-end";
}

/** One RAM block as announced by MEM_SIZE. */
export interface RamBlockInfo {
  name: string;
  /** used_length in bytes. */
  size: number;
  /** Host page size of the block (postcopy + hugepages only). */
  pageSize?: number;
  /** Guest-physical address (x-ignore-shared only). */
  mrAddr?: number;
  /** mapped-ram header, when the stream uses mapped-ram. */
  mappedRam?: MappedRamHeader;
}

/** Per-block mapped-ram header (`MappedRamHeader`). */
export interface MappedRamHeader {
  /** Absolute file offset of the 28-byte header itself. */
  headerOffset: number;
  version: number;
  pageSize: number;
  bitmapOffset: number;
  pagesOffset: number;
}

/** Kinds of RAM record. */
export type RamKind =
  | "mem_size"
  | "zero"
  | "page"
  | "xbzrle"
  | "compressed"
  | "eos"
  | "multifd_flush";

/** A record of the `ram` section. */
export interface RamRecord extends RecordBase {
  kind: "ram";
  type: RamKind;
  sectionId: number;
  /** Raw flag bits of the header. */
  flags: number;
  /** Block name (carried forward for CONTINUE records). */
  block: string;
  /** Page offset within the block. */
  addr: number;
  /** Header used CONTINUE (no block name on the wire). */
  cont: boolean;
  /** Dirty pass this record belongs to (1 = first pass over RAM). */
  pass: number;
  /** ZERO: the fill byte. */
  fill?: number;
  /** PAGE: page bytes; XBZRLE: encoded delta; COMPRESS_PAGE: zlib bytes. A transient view. */
  data?: Uint8Array;
  /** Length of the payload on the wire (set even when `data` is not materialised). */
  dataLength: number;
  /** XBZRLE: page bytes the delta covers (validated without the old page). */
  covered?: number;
  /** MEM_SIZE: total bytes and the block list. */
  total?: number;
  blocks?: RamBlockInfo[];
  /** MEM_SIZE: the stream's target page size (the unit of every page record after it). */
  pageSize?: number;
}

/** Kinds of block-migration record. */
export type BlockKind = "data" | "zero" | "progress" | "eos";

/** A record of the `block` (block migration) section. */
export interface BlockRecord extends RecordBase {
  kind: "block";
  type: BlockKind;
  sectionId: number;
  flags: number;
  /** Device (BlockBackend) name, for data and zero chunks. */
  device?: string;
  /** First 512-byte sector of the chunk. */
  sector: number;
  /** PROGRESS percentage. */
  percent?: number;
  /** Chunk bytes (always 1 MiB on the wire), a transient view. */
  data?: Uint8Array;
  /** Length of the chunk on the wire (0 for zero blocks and other records). */
  dataLength: number;
}

/** A decoded device field tree (numbers, booleans, hex strings, nested objects, arrays). */
export type FieldValue =
  | number
  | bigint
  | boolean
  | string
  | null
  | FieldValue[]
  | { [name: string]: FieldValue };

/** A FULL (device state) section body. */
export interface DeviceRecord extends RecordBase {
  kind: "device";
  sectionId: number;
  idstr: string;
  instanceId: number;
  version: number;
  /** Decoded fields, with subsections under their names (only when asked for). */
  fields?: { [name: string]: FieldValue };
}

/** QEMU_VM_EOF. */
export interface EofRecord extends RecordBase {
  kind: "eof";
}

/** The VMDESCRIPTION trailer. */
export interface VmdescRecord extends RecordBase {
  kind: "vmdesc";
  jsonLength: number;
  json: VmDesc;
}

/** Bytes after EOF that are not a VMDESCRIPTION trailer (QEMU only warns). */
export interface TrailingRecord extends RecordBase {
  kind: "trailing";
}

/**
 * Device sections that could not be delimited: inside a PACKAGED payload (postcopy) when no
 * vmdesc JSON is known. The payload's length bounds them; they run from `offset` for `length`
 * bytes, up to the payload's closing POSTCOPY_RUN.
 */
export interface UndelimitedRecord extends RecordBase {
  kind: "undelimited";
  /** idstr of the first device section in the range. */
  idstr: string;
  /** Why the range could not be delimited, for reports. */
  reason: string;
}

/** Any record. */
export type MigRecord =
  | HeaderRecord
  | ConfigurationRecord
  | SectionRecord
  | FooterRecord
  | CommandRecord
  | PackageEndRecord
  | RamRecord
  | BlockRecord
  | DeviceRecord
  | EofRecord
  | VmdescRecord
  | TrailingRecord
  | UndelimitedRecord;

/** A field of a VMState description in the vmdesc JSON. */
export interface VmdescField {
  name: string;
  type: string;
  size: number;
  array_len?: number;
  index?: number;
  struct?: VmdescVmsd;
  /** Inline description (`tmp` fields). */
  vmsd_name?: string;
  version?: number;
  fields?: VmdescField[];
  subsections?: VmdescVmsd[];
}

/** A VMState description object in the vmdesc JSON. */
export interface VmdescVmsd {
  vmsd_name: string;
  version: number;
  fields?: VmdescField[];
  subsections?: VmdescVmsd[];
}

/** One device of the vmdesc JSON. */
export interface VmdescDevice {
  name: string;
  instance_id: number;
  vmsd_name?: string;
  version?: number;
  /** Legacy (non-VMState) devices: body size in bytes. */
  size?: number;
  fields?: VmdescField[];
  subsections?: VmdescVmsd[];
}

/** The vmdesc JSON document. */
export interface VmDesc {
  configuration?: VmdescVmsd;
  page_size: number;
  devices: VmdescDevice[];
}
