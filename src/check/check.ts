/**
 * The prediction: a stream's facts against a destination's, checked in the order QEMU's loader
 * meets them — the machine type (can the destination start at all?), the CONFIGURATION
 * section, then every section in stream order (lookup, version, the `ram` section's block
 * list, subsections) — and, after them, what the destination has that the stream lacks. The
 * first error is what QEMU stops at; every finding is listed.
 * @module
 */
import { printable } from "../protocol/errors.ts";
import { configurationFindings, unknownMachine } from "./rules_config.ts";
import { ramBlockFindings } from "./rules_ram.ts";
import {
  assumedNote,
  type KnownSection,
  lookupSection,
  subsectionCheckable,
  subsectionFindings,
  versionFindings,
} from "./rules_sections.ts";
import {
  type CheckResult,
  type DestinationFacts,
  type Finding,
  finding,
  type StreamFacts,
  type StreamSection,
} from "./types.ts";

interface Pass {
  findings: Finding[];
  notChecked: string[];
  /** Sections the facts do not describe (dump) or whose minimum version is unknown. */
  undescribed: string[];
  noMinimum: string[];
  uncheckedParents: Set<string>;
  checked: { sections: number; subsections: number };
}

function sectionFindings(s: StreamSection, d: DestinationFacts, p: Pass): void {
  const k = lookupSection(s, d);
  if (k === undefined) {
    p.undescribed.push(s.idstr);
    return;
  }
  if ("kind" in k) {
    p.findings.push(k);
    return;
  }
  p.checked.sections++;
  p.checked.subsections += s.subsections.filter((x) => subsectionCheckable(x, d)).length;
  if (k.how === "assumed") p.findings.push(assumedNote(s, d, k));
  if (k.how === "registered" && !k.schema.length && s.type === "FULL") p.noMinimum.push(s.idstr);
  p.findings.push(...versionFindings(s, k as KnownSection));
  if (s.ramBlocks) p.findings.push(...ramBlockFindings(s.ramBlocks, d));
  p.findings.push(...subsectionFindings(s, d, p.uncheckedParents));
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** What the destination has and the stream lacks: QEMU loads without them. */
function missingFromStream(s: StreamFacts, d: DestinationFacts): Finding[] {
  const out: Finding[] = [];
  const at = { offset: s.eofOffset ?? null };
  for (const r of d.registry ?? []) {
    if (s.sections.some((x) => x.idstr === r.idstr && x.instance === r.instance)) continue;
    out.push(finding(
      "section-not-sent",
      { ...at, section: r.idstr, instance: r.instance },
      `the destination has section '${printable(r.idstr)}' ${r.instance}, the stream does ` +
        "not: QEMU loads without it (the device keeps its reset state)",
    ));
  }
  const sent = new Set(s.sections.flatMap((x) => x.ramBlocks ?? []).map((b) => b.name));
  for (const b of d.ramBlocks ?? []) {
    if (sent.has(b.name) || s.sections.every((x) => !x.ramBlocks)) continue;
    out.push(finding(
      "ramblock-not-sent",
      { ...at, section: "ram", instance: 0 },
      `the destination has RAM block '${
        printable(b.name)
      }', the stream does not: it keeps the destination's content`,
    ));
  }
  return out;
}

function notCheckedLines(s: StreamFacts, d: DestinationFacts, p: Pass): string[] {
  const out = [...p.notChecked];
  if (d.origin === "dump") {
    out.push(
      "RAM blocks, target page size and capabilities: a -dump-vmstate schema does not give " +
        "them (use --qemu)",
      "which devices the destination creates: a dump lists device types, not a command line's " +
        "devices",
    );
  }
  const list = (names: string[]) => unique(names).map((n) => printable(n)).join(", ");
  if (p.undescribed.length) {
    out.push(`sections the dump does not describe: ${list(p.undescribed)}`);
  }
  if (p.noMinimum.length) {
    out.push(`minimum versions of sections not in -dump-vmstate: ${list(p.noMinimum)}`);
  }
  if (p.uncheckedParents.size) {
    out.push(
      `subsections of descriptions the dump does not have: ${list([...p.uncheckedParents])}`,
    );
  }
  if (!s.vmdesc && s.sections.some((x) => x.type === "FULL")) {
    out.push("subsections: the stream has no vmdesc JSON to tell them");
  }
  return out;
}

/**
 * Checks `s` against `d`. Pure: no I/O.
 *
 * @example A section the destination's machine does not register
 * ```ts
 * import { checkStream } from "./check.ts";
 * const stream = {
 *   machine: "pc-i440fx-7.2", configurationOffset: 8, capabilities: [], pageSize: 4096,
 *   undelimited: [], vmdesc: true, sections: [
 *     { offset: 500, sectionId: 9, type: "FULL" as const, idstr: "0000:00:03.0/virtio-rng",
 *       instance: 0, version: 1, subsections: [] }],
 * };
 * const dest = {
 *   origin: "qemu" as const, path: "qemu-system-x86_64", machine: "pc-i440fx-7.2",
 *   requested: "pc-i440fx-7.2", schema: new Map(), registry: [], assumeDevices: false,
 * };
 * const r = checkStream(stream, dest);
 * if (r.loads || r.firstError?.message !== "Unknown savevm section or instance '0000:00:03.0/virtio-rng' 0") {
 *   throw new Error(r.firstError?.message);
 * }
 * ```
 */
export function checkStream(s: StreamFacts, d: DestinationFacts): CheckResult {
  const p: Pass = {
    findings: [],
    notChecked: [],
    undescribed: [],
    noMinimum: [],
    uncheckedParents: new Set(),
    checked: { sections: 0, subsections: 0 },
  };
  if (d.unknownMachine) {
    const f = unknownMachine(s, d);
    return {
      loads: false,
      firstError: f,
      findings: [f],
      notChecked: ["everything else: the destination cannot start with this machine type"],
      checked: p.checked,
    };
  }
  p.findings.push(...configurationFindings(s, d));
  for (const sec of s.sections) sectionFindings(sec, d, p);
  for (const u of s.undelimited) {
    p.findings.push(finding(
      "undelimited",
      { section: u.idstr, offset: u.offset },
      `device sections from '${printable(u.idstr)}' on (inside the postcopy package) could ` +
        "not be read without the vmdesc JSON: not checked (pass --vmdesc)",
    ));
  }
  p.findings.push(...missingFromStream(s, d));
  const firstError = p.findings.find((f) => f.level === "error");
  return {
    loads: firstError === undefined,
    ...(firstError ? { firstError } : {}),
    findings: p.findings,
    notChecked: notCheckedLines(s, d, p),
    checked: p.checked,
  };
}
