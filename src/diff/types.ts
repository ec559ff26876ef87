/**
 * What `diff` finds between two streams A and B: one result per aspect (configuration, section
 * list, RAM blocks, device state, vmdesc schema, RAM content), each with its own `equal`. These
 * shapes are the `migscope-diff` JSON document's keys.
 * @module
 */
import type { FieldValue } from "../protocol/records.ts";

/** A value as shown: scalars as they are, compound values by their size only. */
export type Shown =
  | number
  | bigint
  | boolean
  | string
  | null
  | { struct: number }
  | { array: number };

/** One configuration property of both streams. */
export interface ConfigItem {
  key: "machine" | "capabilities" | "page-size" | "target-page-bits" | "uuid";
  /** `null`: the stream does not say it. */
  a: string | number | string[] | null;
  b: string | number | string[] | null;
  equal: boolean;
}

/** Configuration aspect. */
export interface ConfigDiff {
  equal: boolean;
  items: ConfigItem[];
}

/** A section (START or FULL) of one stream; `position` is its 1-based place in the list. */
export interface SectionRef {
  type: string;
  id: number;
  name: string;
  instance: number;
  version: number;
  position: number;
}

/** A section both streams have, whose type or version differs. */
export interface SectionChange {
  name: string;
  instance: number;
  a: SectionRef;
  b: SectionRef;
}

/** Section list aspect: matched by idstr and instance (section ids are per stream). */
export interface SectionsDiff {
  equal: boolean;
  countA: number;
  countB: number;
  added: SectionRef[];
  removed: SectionRef[];
  changed: SectionChange[];
  /**
   * Sections both have that are not in the same relative order: the fewest that must move to
   * turn A's order into B's (what stays is a longest common subsequence).
   */
  moved: SectionChange[];
}

/** A RAM block announced by MEM_SIZE. */
export interface BlockRef {
  name: string;
  size: number;
}

/** RAM blocks aspect. */
export interface RamBlocksDiff {
  equal: boolean;
  countA: number;
  countB: number;
  added: BlockRef[];
  removed: BlockRef[];
  resized: { name: string; a: number; b: number }[];
}

/** One difference in a device's decoded state. */
export type FieldDiff =
  | { path: string; kind: "value"; a: Shown; b: Shown }
  | { path: string; kind: "only-a" | "only-b"; value: Shown }
  | {
    /** An array of scalars: how many indexes differ, and the first of them. */
    path: string;
    kind: "array";
    lengthA: number;
    lengthB: number;
    differing: number;
    index: number;
    /** The elements at `index` (absent past that side's end). */
    a?: Shown;
    b?: Shown;
  }
  | {
    /** A byte buffer: how many bytes differ, and the first bytes (up to 16) from the first. */
    path: string;
    kind: "bytes";
    lengthA: number;
    lengthB: number;
    differing: number;
    index: number;
    a: string;
    b: string;
  };

/** The differences of one device present in both streams. */
export interface DeviceFieldsDiff {
  name: string;
  instance: number;
  fields: FieldDiff[];
}

/** Device state aspect. */
export interface DevicesDiff {
  equal: boolean;
  /** Devices in both streams, compared field by field. */
  compared: number;
  devices: DeviceFieldsDiff[];
}

/** The shape of one field (or subsection, type `subsection`) in a vmdesc. */
export interface FieldShape {
  path: string;
  type: string;
  size: number;
  arrayLen?: number;
  /** The version of a subsection, or of a struct field's description. */
  version?: number;
}

/** The vmdesc differences of one device both streams describe. */
export interface DeviceSchemaDiff {
  name: string;
  instance: number;
  /** Device-level differences: vmsd name, version, legacy body size. */
  header: {
    key: "vmsd" | "version" | "size";
    a: string | number | null;
    b: string | number | null;
  }[];
  added: FieldShape[];
  removed: FieldShape[];
  changed: { path: string; a: FieldShape; b: FieldShape }[];
  subsectionsAdded: string[];
  subsectionsRemoved: string[];
}

/** A device one vmdesc describes and the other does not. */
export interface SchemaDeviceRef {
  name: string;
  instance: number;
  vmsd?: string;
  version?: number;
  fields: number;
}

/** vmdesc schema aspect. */
export interface SchemaDiff {
  equal: boolean;
  /** Whether each stream has a vmdesc (trailer or --vmdesc); one without is a difference. */
  present: { a: boolean; b: boolean };
  /** Devices both describe. */
  compared: number;
  added: SchemaDeviceRef[];
  removed: SchemaDeviceRef[];
  devices: DeviceSchemaDiff[];
}

/** A run of differing pages: `addr` of the first, `pages` long. */
export interface PageRange {
  addr: number;
  pages: number;
}

/** The first differing bytes of a differing page. */
export interface PageSample {
  addr: number;
  /** Offset in the page of the first differing byte. */
  offset: number;
  /** Up to 16 bytes from `offset`, hex. */
  a: string;
  b: string;
}

/** The content comparison of one RAM block (or block-migration disk) both streams have. */
export interface ContentDiff {
  name: string;
  kind: "ram" | "disk";
  sizeA: number;
  sizeB: number;
  /** Pages compared: those both images have. */
  pages: number;
  different: number;
  equal: boolean;
  /** Coalesced runs of differing pages, in address order (the first {@link MAX_RANGES}). */
  ranges: PageRange[];
  /** All runs, whether listed or not. */
  rangeCount: number;
  /** The first {@link MAX_SAMPLES} differing pages' first differing bytes. */
  samples: PageSample[];
}

/** Runs of differing pages kept per block. */
export const MAX_RANGES = 4096;
/** Differing pages whose first bytes are kept per block. */
export const MAX_SAMPLES = 3;

/** RAM content aspect. */
export interface ContentAspect {
  /** False: not compared (`reason` says why); it then counts neither as equal nor different. */
  compared: boolean;
  reason?: string;
  equal: boolean;
  pageSize?: number;
  blocks: ContentDiff[];
  /** Images one replay produced and the other did not. */
  onlyA: string[];
  onlyB: string[];
}

/** One input as the report names it. */
export interface InputRef {
  name: string;
  container?: string;
}

/** The whole comparison. */
export interface DiffResult {
  equal: boolean;
  a: InputRef;
  b: InputRef;
  configuration: ConfigDiff;
  sections: SectionsDiff;
  ramBlocks: RamBlocksDiff;
  devices: DevicesDiff;
  vmdesc: SchemaDiff;
  ram: ContentAspect;
}

/** A decoded device of one stream. */
export interface CollectedDevice {
  name: string;
  instance: number;
  version: number;
  fields: { [name: string]: FieldValue };
}
