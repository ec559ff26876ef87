/**
 * The independent prediction for `check --destination FILE` on a shared capture, without src/:
 * the capture's sections, MEM_SIZE entries and subsections found in its raw bytes (from the
 * README's block list and the vmdesc JSON at the README's offset), the destination file read
 * as plain JSON, and QEMU's loader rules stated again: section lookup by idstr and instance,
 * version above the registered one or below every minimum of its description, RAM blocks by
 * name (unknown, size differs, resizeable up to its maximum), subsections by the description
 * they belong to (or those the destination sent itself), target page bits.
 */
import type { ReadmeExpect } from "../_helpers.ts";

/** One row the report must have. */
export interface Row {
  offset: number | null;
  level: "error" | "warning" | "note";
  section: string;
  word: string;
}

interface Schema {
  name: string;
  version: number;
  minVersion: number;
  subsections: Schema[];
}

/** The destination file, as JSON. */
export interface Facts {
  machine: string;
  assumeDevices: boolean;
  pageSize: number | null;
  targetPageBits: number | null;
  ramBlocks: { name: string; used: number; max: number }[];
  registry: { idstr: string; instance: number; version: number }[];
  sentSubsections: Record<string, Record<string, number>>;
  schema: Record<string, Schema[]>;
}

interface Node {
  name?: string;
  vmsd_name?: string;
  instance_id?: number;
  version?: number;
  fields?: { struct?: Node }[];
  subsections?: Node[];
}

const utf8 = (s: string) => [...new TextEncoder().encode(s)];
const be = (n: number, bytes: number) =>
  Array.from({ length: bytes }, (_, i) => Math.floor(n / 2 ** (8 * (bytes - 1 - i))) & 255);

function find(b: Uint8Array, pattern: (number | null)[], from: number): number {
  for (let i = from; i + pattern.length <= b.length; i++) {
    if (pattern.every((x, k) => x === null || b[i + k] === x)) return i;
  }
  throw new Error(`pattern not found from ${from}`);
}

function subs(node: Node, parent: string): { parent: string; sub: Node }[] {
  const out: { parent: string; sub: Node }[] = [];
  for (const f of node.fields ?? []) if (f.struct) out.push(...subs(f.struct, f.struct.vmsd_name!));
  for (const s of node.subsections ?? []) out.push({ parent, sub: s }, ...subs(s, s.vmsd_name!));
  return out;
}

function ramRows(b: Uint8Array, readme: ReadmeExpect, f: Facts, rows: Row[]): void {
  const ram = find(b, [1, null, null, null, null, 3, ...utf8("ram"), 0, 0, 0, 0, 0, 0, 0, 4], 0);
  let pos = ram;
  for (const blk of readme.blocks) {
    pos = find(b, [utf8(blk.name).length, ...utf8(blk.name), ...be(blk.size, 8)], pos);
    const have = f.ramBlocks.find((x) => x.name === blk.name);
    const slash = blk.name.lastIndexOf("/");
    const dev = slash > 0 && !blk.name.startsWith("/") ? blk.name.slice(0, slash) : undefined;
    const row = (level: Row["level"], word: string) =>
      rows.push({ offset: pos, level, section: "ram", word });
    if (!have) {
      const assumed = dev && f.assumeDevices &&
        !f.registry.some((r) => r.idstr.startsWith(dev + "/"));
      row(assumed ? "note" : "error", assumed ? "not checked" : "Unknown ramblock");
    } else if (have.used !== blk.size) {
      const resizeable = blk.name.startsWith("/rom@") || have.max > have.used;
      if (!resizeable) row("error", "Size mismatch");
      else if (blk.size > have.max) row("error", "Size too large");
      else row("note", "resized");
    }
    pos++;
  }
}

function subsectionRows(b: Uint8Array, f: Facts, d: Node, at: number, rows: Row[]): void {
  let pos = at;
  for (const { parent, sub } of subs(d, d.vmsd_name!)) {
    const name = sub.vmsd_name!;
    pos = find(b, [5, utf8(name).length, ...utf8(name)], pos);
    const row = (level: Row["level"], word: string) =>
      rows.push({ offset: pos, level, section: d.name!, word });
    const parents = f.schema[parent];
    const sent = f.sentSubsections[parent]?.[name];
    if (parents) {
      const found = parents.flatMap((p) => p.subsections.filter((s) => s.name === name));
      if (!found.length) row("error", "not found");
      else if (found.every((s) => sub.version! > s.version)) row("error", "too new");
      else if (found.every((s) => sub.version! < s.minVersion)) row("error", "too old");
    } else if (sent === undefined) row("warning", "not checked");
    else if (sub.version! > sent) row("error", "too new");
    pos++;
  }
}

function deviceRows(b: Uint8Array, f: Facts, d: Node, at: number, rows: Row[]): void {
  const row = (level: Row["level"], word: string) =>
    rows.push({ offset: at, level, section: d.name!, word });
  const schema = f.schema[d.vmsd_name!] ?? [];
  const reg = f.registry.find((r) => r.idstr === d.name && r.instance === d.instance_id);
  const v = d.version!;
  if (reg) {
    const same = schema.filter((s) => s.version === reg.version);
    const cands = same.length ? same : schema;
    if (v > reg.version) row("error", "unsupported version");
    else if (cands.length && cands.every((s) => v < s.minVersion)) row("error", "too old");
  } else if (schema.length && f.assumeDevices) {
    row("note", "assumed");
    if (schema.every((s) => v > s.version)) row("error", "unsupported version");
    else if (schema.every((s) => v < s.minVersion)) row("error", "too old");
  } else {
    row("error", "Unknown savevm section");
    return;
  }
  subsectionRows(b, f, d, at, rows);
}

/** The rows `check --destination` must print for the capture `b`, in the loader's order. */
export function expectFacts(b: Uint8Array, readme: ReadmeExpect, f: Facts): Row[] {
  const rows: Row[] = [];
  const ours = f.targetPageBits ?? Math.log2(f.pageSize ?? 4096);
  if (ours !== 12) {
    rows.push({
      offset: readme.configurationOffset!,
      level: "error",
      section: "configuration",
      word: "target page bits",
    });
  }
  ramRows(b, readme, f, rows);
  const at = readme.vmdescOffset! + 5;
  const vmdesc = JSON.parse(
    new TextDecoder().decode(b.subarray(at, at + readme.vmdescJsonLength!)),
  );
  let pos = readme.configurationOffset!;
  const seen: Node[] = vmdesc.devices;
  for (const d of seen) {
    const n = utf8(d.name!);
    pos = find(b, [
      4,
      null,
      null,
      null,
      null,
      n.length,
      ...n,
      ...be(d.instance_id!, 4),
      ...be(d.version!, 4),
    ], pos);
    deviceRows(b, f, d, pos, rows);
    pos++;
  }
  for (const r of f.registry) {
    const inStream = r.idstr === "ram" ||
      seen.some((d) => d.name === r.idstr && d.instance_id === r.instance);
    if (!inStream) {
      rows.push({
        offset: readme.eofOffset!,
        level: "note",
        section: r.idstr,
        word: "the stream does not",
      });
    }
  }
  for (const blk of f.ramBlocks) {
    if (!readme.blocks.some((x) => x.name === blk.name)) {
      rows.push({
        offset: readme.eofOffset!,
        level: "note",
        section: "ram",
        word: "the stream does not",
      });
    }
  }
  return rows;
}
