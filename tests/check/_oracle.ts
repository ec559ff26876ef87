/**
 * An independent prediction for `check --against` on a shared capture, without src/: the
 * stream's device sections and subsections are found in its raw bytes (the header `04 id len
 * idstr instance version`, the marker `05 len name`) from the vmdesc JSON read at the offset
 * the captures' README gives; the dump is walked as QEMU wrote it. The rules are QEMU's loader
 * checks, stated again here: machine name prefix, version above `version_id`, below
 * `minimum_version_id` (of every description of that name), subsection names and versions.
 */
import type { ReadmeExpect } from "../_helpers.ts";

/** An error the oracle expects: where, and a word of QEMU's message. */
export interface ExpectedError {
  offset: number;
  section: string;
  word: string;
}

/** What the report must say. */
export interface Expected {
  errors: ExpectedError[];
  checkedSections: number;
  sections: number;
  checkedSubsections: number;
  subsections: number;
  /** Devices the dump does not describe, in stream order. */
  undescribed: string[];
}

interface RawDesc {
  name: string;
  version_id: number;
  minimum_version_id: number;
  Fields?: { Description?: RawDesc }[];
  Subsections?: RawDesc[];
}

interface VmdescNode {
  vmsd_name?: string;
  name?: string;
  instance_id?: number;
  version?: number;
  fields?: { type: string; struct?: VmdescNode; fields?: VmdescNode[] }[];
  subsections?: VmdescNode[];
}

function index(dump: Record<string, { Description?: RawDesc }>): Map<string, RawDesc[]> {
  const m = new Map<string, RawDesc[]>();
  const walk = (d: RawDesc) => {
    m.set(d.name, [...(m.get(d.name) ?? []), d]);
    for (const f of d.Fields ?? []) if (f.Description) walk(f.Description);
    for (const s of d.Subsections ?? []) walk(s);
  };
  for (const [k, v] of Object.entries(dump)) {
    if (k !== "vmschkmachine" && v.Description) walk(v.Description);
  }
  return m;
}

/** The first position from `from` where `pattern` (null: any byte) occurs. */
function find(bytes: Uint8Array, pattern: (number | null)[], from: number): number {
  for (let i = from; i + pattern.length <= bytes.length; i++) {
    if (pattern.every((b, k) => b === null || bytes[i + k] === b)) return i;
  }
  throw new Error(`pattern not found from ${from}`);
}

const be32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const utf8 = (s: string) => [...new TextEncoder().encode(s)];

/** Subsections of a vmdesc device in wire order: each description's fields, then its own. */
function subsections(node: VmdescNode, parent: string): { parent: string; sub: VmdescNode }[] {
  const out: { parent: string; sub: VmdescNode }[] = [];
  for (const f of node.fields ?? []) {
    if (f.struct) out.push(...subsections(f.struct, f.struct.vmsd_name!));
  }
  for (const s of node.subsections ?? []) {
    out.push({ parent, sub: s }, ...subsections(s, s.vmsd_name!));
  }
  return out;
}

function deviceErrors(
  bytes: Uint8Array,
  idx: Map<string, RawDesc[]>,
  d: VmdescNode,
  at: number,
  e: Expected,
) {
  const cands = idx.get(d.vmsd_name!);
  if (!cands) {
    e.undescribed.push(d.name!);
    e.subsections += subsections(d, d.vmsd_name!).length;
    return;
  }
  e.checkedSections++;
  const v = d.version!;
  if (cands.every((c) => v > c.version_id)) {
    e.errors.push({ offset: at, section: d.name!, word: "unsupported version" });
  } else if (cands.every((c) => v < c.minimum_version_id)) {
    e.errors.push({ offset: at, section: d.name!, word: "too old" });
  }
  let pos = at;
  for (const { parent, sub } of subsections(d, d.vmsd_name!)) {
    e.subsections++;
    const name = sub.vmsd_name!;
    pos = find(bytes, [5, utf8(name).length, ...utf8(name)], pos);
    const parents = idx.get(parent);
    if (!parents) continue;
    e.checkedSubsections++;
    const found = parents.flatMap((p) => (p.Subsections ?? []).filter((s) => s.name === name));
    if (!found.length) e.errors.push({ offset: pos, section: d.name!, word: "not found" });
    else if (found.every((s) => sub.version! > s.version_id)) {
      e.errors.push({ offset: pos, section: d.name!, word: "too new" });
    }
    pos++;
  }
}

/** The oracle's expectations for `bytes` (a shared capture) against `dump` (raw JSON). */
export function expectCheck(
  bytes: Uint8Array,
  readme: ReadmeExpect,
  dump: Record<string, { Description?: RawDesc; Name?: string }>,
): Expected {
  const e: Expected = {
    errors: [],
    checkedSections: readme.sections.SECTION_START,
    sections: readme.sections.SECTION_START + readme.sections.SECTION_FULL,
    checkedSubsections: 0,
    subsections: 0,
    undescribed: [],
  };
  const cfg = readme.configurationOffset!;
  const len = (bytes[cfg + 1] << 24) | (bytes[cfg + 2] << 16) | (bytes[cfg + 3] << 8) |
    bytes[cfg + 4];
  const machine = new TextDecoder().decode(bytes.subarray(cfg + 5, cfg + 5 + len));
  if (!String(dump.vmschkmachine.Name).startsWith(machine)) {
    e.errors.push({ offset: cfg, section: "configuration", word: "Machine type received" });
  }
  const at = readme.vmdescOffset! + 5;
  const vmdesc = JSON.parse(
    new TextDecoder().decode(bytes.subarray(at, at + readme.vmdescJsonLength!)),
  );
  const idx = index(dump);
  let pos = readme.configurationOffset!;
  for (const d of vmdesc.devices as VmdescNode[]) {
    const name = utf8(d.name!);
    pos = find(bytes, [
      4,
      null,
      null,
      null,
      null,
      name.length,
      ...name,
      ...be32(d.instance_id!),
      ...be32(d.version!),
    ], pos);
    deviceErrors(bytes, idx, d, pos, e);
    pos++;
  }
  return e;
}
