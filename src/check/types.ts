/**
 * What `check` works with: the facts read from a stream, the facts known of a destination
 * (from a running QEMU or from a `-dump-vmstate` schema), and the findings, declared once in
 * {@link FINDINGS} with their level.
 * @module
 */

/** A RAM block as the stream's MEM_SIZE list announces it. */
export interface StreamRamBlock {
  name: string;
  /** used_length in bytes. */
  size: number;
  /** Offset of the block's entry in the MEM_SIZE list. */
  offset: number;
}

/** A subsection a device section carries, in stream order (from the stream's vmdesc JSON). */
export interface StreamSubsection {
  /** The VMState description it belongs to (the device's, a nested struct's, a subsection's). */
  parent: string;
  name: string;
  version: number;
  /** Offset of its `0x05` marker, or of the section when it could not be placed. */
  offset: number;
}

/** A START or FULL section of the stream. */
export interface StreamSection {
  offset: number;
  sectionId: number;
  type: "START" | "FULL";
  idstr: string;
  instance: number;
  version: number;
  /** VMState description name (vmdesc `vmsd_name`), for FULL sections the vmdesc describes. */
  vmsd?: string;
  subsections: StreamSubsection[];
  /** `ram` START: the MEM_SIZE list. */
  ramBlocks?: StreamRamBlock[];
}

/** What a stream asks of its destination. */
export interface StreamFacts {
  /** Machine type from the CONFIGURATION section (absent: the stream has none). */
  machine?: string;
  configurationOffset?: number;
  capabilities: string[];
  targetPageBits?: number;
  pageSize: number;
  sections: StreamSection[];
  /** Device sections inside a PACKAGED payload that could not be read (no vmdesc). */
  undelimited: { offset: number; idstr: string }[];
  /** The stream carried (or was given) a vmdesc JSON: subsections are known. */
  vmdesc: boolean;
  eofOffset?: number;
}

/** One VMState description as a destination knows it. */
export interface VmsdSchema {
  name: string;
  version: number;
  minVersion: number;
  subsections: VmsdSchema[];
}

/** A RAM block of the destination (HMP `info ramblock`). */
export interface DestRamBlock {
  name: string;
  used: number;
  /** max_length: a resizeable block may grow up to it. */
  max: number;
}

/** A section the destination registers: its own stream's START/FULL sections. */
export interface DestSection {
  idstr: string;
  instance: number;
  version: number;
}

/** What is known of the destination. */
export interface DestinationFacts {
  /** `qemu`: a QEMU binary was run; `dump`: a `-dump-vmstate` JSON only. */
  origin: "qemu" | "dump";
  /** The QEMU binary or the dump file. */
  path: string;
  /** The destination file (`--destination`) the facts were read from. */
  from?: string;
  qemuVersion?: string;
  /** The machine type the destination runs (an alias resolved), or the one asked for. */
  machine: string;
  /** The machine type as asked for (`--machine`, or the stream's). */
  requested: string;
  /** The destination's QEMU has no such machine type; these are the ones it has. */
  unknownMachine?: string[];
  /** Every machine type the destination's QEMU has (qemu only). */
  machines?: string[];
  /** VMState descriptions by name (several when classes share a name). */
  schema: Map<string, VmsdSchema[]>;
  /** Sections the running destination registers (qemu only). */
  registry?: DestSection[];
  /** Subsections the destination sent in its own stream, by parent description (qemu only). */
  sentSubsections?: Map<string, Map<string, number>>;
  ramBlocks?: DestRamBlock[];
  /** Migration capabilities the destination knows (qemu only). */
  capabilities?: string[];
  pageSize?: number;
  targetPageBits?: number;
  /** The destination's command line as probed (qemu only). */
  commandLine?: string[];
  /**
   * Probed with `-nodefaults` and no devices: a section whose device type the destination's
   * QEMU knows is taken to come from the destination's command line (`false`: the command line
   * was given, and what it does not create is missing).
   */
  assumeDevices: boolean;
}

/** How sure a finding is that QEMU fails. */
export type Level = "error" | "warning" | "note";

/** Every kind of finding, with its level and what it is about; raised by id. */
export const FINDINGS = {
  "machine-unknown": { level: "error", about: "the destination's QEMU has no such machine type" },
  "machine-mismatch": { level: "error", about: "the stream was saved on another machine type" },
  "no-configuration": { level: "note", about: "no CONFIGURATION section: machine not checked" },
  "page-size": { level: "error", about: "target page size differs" },
  "capability-unknown": { level: "error", about: "validated capability unknown to QEMU" },
  "capability-off": { level: "error", about: "validated capability off on the destination" },
  "section-unknown": { level: "error", about: "section or instance the destination lacks" },
  "section-assumed": { level: "note", about: "device assumed on the destination command line" },
  "section-unchecked": { level: "note", about: "section the destination facts do not describe" },
  "version-too-new": { level: "error", about: "section version above the destination's" },
  "version-too-old": { level: "error", about: "section version below the minimum" },
  "subsection-unknown": { level: "error", about: "subsection the destination lacks" },
  "subsection-too-new": { level: "error", about: "subsection version above the destination's" },
  "subsection-too-old": { level: "error", about: "subsection version below the minimum" },
  "subsection-unchecked": { level: "warning", about: "subsection that could not be checked" },
  "ramblock-unknown": { level: "error", about: "RAM block the destination lacks" },
  "ramblock-size": { level: "error", about: "RAM block size differs" },
  "ramblock-too-large": { level: "error", about: "resizeable RAM block larger than its maximum" },
  "ramblock-resized": { level: "note", about: "resizeable RAM block of another size" },
  "ramblock-assumed": { level: "note", about: "RAM block of a device assumed on the command line" },
  "section-not-sent": { level: "note", about: "destination section the stream lacks" },
  "ramblock-not-sent": { level: "note", about: "destination RAM block the stream lacks" },
  "undelimited": { level: "warning", about: "device sections that could not be read" },
} as const satisfies Record<string, { level: Level; about: string }>;

/** A finding's id. */
export type FindingKind = keyof typeof FINDINGS;

/** One finding, in the order QEMU's loader meets it. */
export interface Finding {
  kind: FindingKind;
  level: Level;
  /** The section (idstr; `configuration` for the CONFIGURATION section), or null. */
  section: string | null;
  instance: number | null;
  offset: number | null;
  /** One line; QEMU's own words where it has them. */
  message: string;
  /** Why, or what to do (e.g. that a size comes from the command line). */
  hint?: string;
}

/** The verdict and every finding. */
export interface CheckResult {
  loads: boolean;
  /** The first error: what QEMU stops at. */
  firstError?: Finding;
  findings: Finding[];
  /** What could not be checked with these destination facts, one line each. */
  notChecked: string[];
  /** How much was checked: sections found (or assumed) and subsections looked up. */
  checked: { sections: number; subsections: number };
}

/** A finding of `kind` (its level from {@link FINDINGS}). */
export function finding(
  kind: FindingKind,
  at: { section?: string | null; instance?: number | null; offset?: number | null },
  message: string,
  hint?: string,
): Finding {
  return {
    kind,
    level: FINDINGS[kind].level,
    section: at.section ?? null,
    instance: at.instance ?? null,
    offset: at.offset ?? null,
    message,
    ...(hint ? { hint } : {}),
  };
}
