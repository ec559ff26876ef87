/**
 * Section and subsection checks, as QEMU's loader meets a START/FULL section: find the section
 * by idstr and instance ("Unknown savevm section or instance"), compare the stream's version
 * with the registered one and the description's minimum, then look up each subsection in the
 * description it belongs to.
 * @module
 */
import { printable } from "../protocol/errors.ts";
import {
  type DestinationFacts,
  type Finding,
  finding,
  type StreamSection,
  type StreamSubsection,
  type VmsdSchema,
} from "./types.ts";

/** Iterative sections no device class describes: idstr → version, and until which QEMU. */
const ITERATIVE: Record<string, { version: number; removedIn?: [number, number] }> = {
  ram: { version: 4 },
  // Block migration: removed in QEMU 9.1.
  block: { version: 1, removedIn: [9, 1] },
};

/** How the destination knows a section, when it does. */
export interface KnownSection {
  how: "registered" | "assumed" | "schema" | "iterative";
  /** The version the destination registers (upper bound). */
  version: number;
  /** The descriptions of its name in the schema (minimum versions, subsections). */
  schema: VmsdSchema[];
}

/** The description name of a section: the vmdesc's, else the idstr after its device path. */
export function vmsdName(s: StreamSection): string {
  return s.vmsd ?? s.idstr.slice(s.idstr.lastIndexOf("/") + 1);
}

function olderThan(version: string | undefined, [major, minor]: [number, number]): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? "");
  if (!m) return false;
  return Number(m[1]) < major || (Number(m[1]) === major && Number(m[2]) < minor);
}

function iterative(s: StreamSection, d: DestinationFacts): KnownSection | undefined {
  const it = ITERATIVE[s.idstr];
  if (!it || s.type !== "START" || s.instance !== 0) return undefined;
  if (it.removedIn && (d.origin === "dump" || !olderThan(d.qemuVersion, it.removedIn))) {
    return undefined;
  }
  return { how: "iterative", version: it.version, schema: [] };
}

function unknownSection(s: StreamSection, schema: VmsdSchema[]): Finding {
  const vmsd = vmsdName(s);
  const hint = schema.length
    ? `this QEMU has the device type (VMState '${printable(vmsd)}'), but the destination's ` +
      "command line does not create this instance"
    : `no device type of this QEMU has VMState '${printable(vmsd)}'`;
  return finding(
    "section-unknown",
    { section: s.idstr, instance: s.instance, offset: s.offset },
    `Unknown savevm section or instance '${printable(s.idstr)}' ${s.instance}`,
    hint,
  );
}

/**
 * How the destination knows section `s`, or the finding that it does not; undefined when the
 * destination facts cannot tell (a dump that does not describe it).
 */
export function lookupSection(
  s: StreamSection,
  d: DestinationFacts,
): KnownSection | Finding | undefined {
  const schema = d.schema.get(vmsdName(s)) ?? [];
  const it = iterative(s, d);
  if (d.origin === "dump") {
    if (it) return it;
    if (!schema.length || s.type !== "FULL") return undefined;
    return { how: "schema", version: Math.max(...schema.map((x) => x.version)), schema };
  }
  const reg = d.registry?.find((r) => r.idstr === s.idstr && r.instance === s.instance);
  if (reg) {
    const same = schema.filter((x) => x.version === reg.version);
    return { how: "registered", version: reg.version, schema: same.length ? same : schema };
  }
  if (it) return it;
  if (schema.length && d.assumeDevices && s.type === "FULL") {
    return { how: "assumed", version: Math.max(...schema.map((x) => x.version)), schema };
  }
  return unknownSection(s, schema);
}

/** The version checks of a known section. */
export function versionFindings(s: StreamSection, k: KnownSection): Finding[] {
  const at = { section: s.idstr, instance: s.instance, offset: s.offset };
  if (s.version > k.version) {
    return [finding(
      "version-too-new",
      at,
      `savevm: unsupported version ${s.version} for '${printable(s.idstr)}' v${k.version}`,
    )];
  }
  if (k.schema.length && k.schema.every((x) => s.version < x.minVersion)) {
    const min = Math.min(...k.schema.map((x) => x.minVersion));
    return [finding(
      "version-too-old",
      at,
      `${
        printable(vmsdName(s))
      }: incoming version_id ${s.version} is too old for local minimum version_id ${min}`,
    )];
  }
  return [];
}

function subsectionVersion(s: StreamSection, sub: StreamSubsection, found: VmsdSchema[]) {
  const at = { section: s.idstr, instance: s.instance, offset: sub.offset };
  const name = printable(sub.name);
  if (found.every((x) => sub.version > x.version)) {
    const v = Math.max(...found.map((x) => x.version));
    return [finding(
      "subsection-too-new",
      at,
      `${name}: incoming version_id ${sub.version} is too new for local version_id ${v}`,
    )];
  }
  if (found.every((x) => sub.version < x.minVersion)) {
    const min = Math.min(...found.map((x) => x.minVersion));
    return [finding(
      "subsection-too-old",
      at,
      `${name}: incoming version_id ${sub.version} is too old for local minimum version_id ${min}`,
    )];
  }
  return [];
}

/** Whether the destination facts tell if `sub` is known: its parent described or it sent it. */
export function subsectionCheckable(sub: StreamSubsection, d: DestinationFacts): boolean {
  return d.schema.has(sub.parent) || d.sentSubsections?.get(sub.parent)?.has(sub.name) === true;
}

/** One subsection: known to the schema, sent by the destination itself, or not checkable. */
function subsectionFinding(
  s: StreamSection,
  sub: StreamSubsection,
  d: DestinationFacts,
  unchecked: Set<string>,
): Finding[] {
  const at = { section: s.idstr, instance: s.instance, offset: sub.offset };
  const parents = d.schema.get(sub.parent);
  if (parents) {
    const found = parents.flatMap((p) => p.subsections.filter((x) => x.name === sub.name));
    if (found.length) return subsectionVersion(s, sub, found);
    return [finding(
      "subsection-unknown",
      at,
      `subsection '${printable(sub.name)}' of '${printable(sub.parent)}' not found on the ` +
        "destination",
      `QEMU says only: error while loading state for instance 0x${
        s.instance.toString(16)
      } of device '${printable(s.idstr)}'`,
    )];
  }
  const sent = d.sentSubsections?.get(sub.parent)?.get(sub.name);
  if (sent !== undefined) {
    return subsectionVersion(s, sub, [{
      name: sub.name,
      version: sent,
      minVersion: 0,
      subsections: [],
    }]);
  }
  if (d.origin === "dump") {
    unchecked.add(sub.parent);
    return [];
  }
  return [finding(
    "subsection-unchecked",
    at,
    `subsection '${printable(sub.name)}' of '${printable(sub.parent)}' not checked`,
    `'${
      printable(sub.parent)
    }' is not in -dump-vmstate and the destination did not send this subsection ` +
      "itself, so whether it knows it is not known",
  )];
}

/** The subsection findings of a device section, in stream order. */
export function subsectionFindings(
  s: StreamSection,
  d: DestinationFacts,
  unchecked: Set<string>,
): Finding[] {
  return s.subsections.flatMap((sub) => subsectionFinding(s, sub, d, unchecked));
}

/** The note for a section the destination's machine does not create but its QEMU knows. */
export function assumedNote(s: StreamSection, d: DestinationFacts, k: KnownSection): Finding {
  const v = [...new Set(k.schema.map((x) => `v${x.version}, min ${x.minVersion}`))].join("; ");
  return finding(
    "section-assumed",
    { section: s.idstr, instance: s.instance, offset: s.offset },
    `'${printable(s.idstr)}' ${s.instance} is not created by -M ${
      printable(d.machine)
    } -nodefaults: ` +
      `assumed on the destination's command line (VMState '${printable(vmsdName(s))}' ${v})`,
  );
}
