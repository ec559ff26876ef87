/**
 * The vmdesc aspect of `diff`: each stream's description of its devices (the VMDESCRIPTION
 * trailer, or the --vmdesc given), device by device — devices added or removed, a device's
 * vmsd name, version or legacy size, and its fields and subsections added, removed or changed
 * (type, size, array length, version). Field paths are those of the device state aspect (names
 * made unique as in names.ts); what lies inside an added or removed field or subsection is not
 * listed again.
 * @module
 */
import type { VmDesc, VmdescDevice, VmdescField, VmdescVmsd } from "../protocol/records.ts";
import { uniqueDevice } from "./names.ts";
import type { DeviceSchemaDiff, FieldShape, SchemaDeviceRef, SchemaDiff } from "./types.ts";

/** A shape and the path of what contains it (`""`: the device). */
interface Entry {
  shape: FieldShape;
  parent: string;
}

interface Flat {
  fields: Map<string, Entry>;
  subsections: Map<string, Entry>;
}

const MAX_DEPTH = 64;

function walk(
  flat: Flat,
  fields: VmdescField[] | undefined,
  subsections: VmdescVmsd[] | undefined,
  parent: string,
  depth: number,
): void {
  if (depth > MAX_DEPTH) return;
  const at = (name: string) => (parent ? `${parent}.${name}` : name);
  for (const f of Array.isArray(fields) ? fields : []) {
    const path = at(f.name);
    const shape: FieldShape = { path, type: String(f.type), size: f.size };
    if (typeof f.array_len === "number") shape.arrayLen = f.array_len;
    if (typeof f.struct?.version === "number") shape.version = f.struct.version;
    flat.fields.set(path, { shape, parent });
    if (f.struct) walk(flat, f.struct.fields, f.struct.subsections, path, depth + 1);
    if (f.fields) walk(flat, f.fields, f.subsections, path, depth + 1);
  }
  for (const s of Array.isArray(subsections) ? subsections : []) {
    const path = at(String(s.vmsd_name));
    const shape: FieldShape = { path, type: "subsection", size: 0, version: s.version };
    flat.subsections.set(path, { shape, parent });
    walk(flat, s.fields, s.subsections, path, depth + 1);
  }
}

function flatten(d: VmdescDevice): Flat {
  const flat: Flat = { fields: new Map(), subsections: new Map() };
  const u = uniqueDevice(d);
  walk(flat, u.fields, u.subsections, "", 0);
  return flat;
}

/** A parent that both descriptions have (the device itself always). */
function shared(parent: string, a: Flat, b: Flat): boolean {
  if (parent === "") return true;
  const has = (f: Flat) => f.fields.has(parent) || f.subsections.has(parent);
  return has(a) && has(b);
}

/** Entries of `x` that `y` lacks, whose parent both have. */
function onlyIn(x: Map<string, Entry>, y: Map<string, Entry>, a: Flat, b: Flat): Entry[] {
  return [...x.values()].filter((e) => !y.has(e.shape.path) && shared(e.parent, a, b));
}

function sameShape(x: FieldShape, y: FieldShape): boolean {
  return x.type === y.type && x.size === y.size && x.arrayLen === y.arrayLen &&
    x.version === y.version;
}

function header(a: VmdescDevice, b: VmdescDevice): DeviceSchemaDiff["header"] {
  const out: DeviceSchemaDiff["header"] = [];
  const pairs = [
    ["vmsd", a.vmsd_name, b.vmsd_name],
    ["version", a.version, b.version],
    ["size", a.size, b.size],
  ] as const;
  for (const [key, va, vb] of pairs) {
    if (va !== vb) out.push({ key, a: va ?? null, b: vb ?? null });
  }
  return out;
}

/** The differences of one device's two descriptions, or undefined when they are the same. */
export function compareDeviceSchema(
  a: VmdescDevice,
  b: VmdescDevice,
): DeviceSchemaDiff | undefined {
  const fa = flatten(a);
  const fb = flatten(b);
  const changed: DeviceSchemaDiff["changed"] = [];
  for (const kind of ["fields", "subsections"] as const) {
    for (const [path, ea] of fa[kind]) {
      const eb = fb[kind].get(path);
      if (eb && !sameShape(ea.shape, eb.shape)) changed.push({ path, a: ea.shape, b: eb.shape });
    }
  }
  const d: DeviceSchemaDiff = {
    name: a.name,
    instance: a.instance_id,
    header: header(a, b),
    added: onlyIn(fb.fields, fa.fields, fa, fb).map((e) => e.shape),
    removed: onlyIn(fa.fields, fb.fields, fa, fb).map((e) => e.shape),
    changed,
    subsectionsAdded: onlyIn(fb.subsections, fa.subsections, fa, fb).map((e) => e.shape.path),
    subsectionsRemoved: onlyIn(fa.subsections, fb.subsections, fa, fb).map((e) => e.shape.path),
  };
  const n = d.header.length + d.added.length + d.removed.length + d.changed.length +
    d.subsectionsAdded.length + d.subsectionsRemoved.length;
  return n ? d : undefined;
}

function ref(d: VmdescDevice): SchemaDeviceRef {
  return {
    name: d.name,
    instance: d.instance_id,
    ...(d.vmsd_name !== undefined ? { vmsd: d.vmsd_name } : {}),
    ...(d.version !== undefined ? { version: d.version } : {}),
    fields: flatten(d).fields.size,
  };
}

/**
 * Compares two vmdesc documents device by device (matched by name and instance id).
 *
 * @example
 * ```ts
 * import { compareSchema } from "./schema.ts";
 * const dev = (fields: { name: string; type: string; size: number }[]) =>
 *   ({ name: "hpet", instance_id: 0, vmsd_name: "hpet", version: 2, fields });
 * const d = compareSchema(
 *   { page_size: 4096, devices: [dev([{ name: "num_timers", type: "uint8", size: 1 }])] },
 *   { page_size: 4096, devices: [dev([{ name: "num_timers_save", type: "uint8", size: 1 }])] },
 * );
 * const [h] = d.devices;
 * if (h.added[0].path !== "num_timers_save" || h.removed[0].path !== "num_timers") {
 *   throw new Error("one field renamed: one added, one removed");
 * }
 * ```
 */
export function compareSchema(a: VmDesc, b: VmDesc): SchemaDiff {
  const key = (d: VmdescDevice) => `${d.name}\u0000${d.instance_id}`;
  const inB = new Map(b.devices.map((d) => [key(d), d]));
  const inA = new Set(a.devices.map(key));
  const devices: DeviceSchemaDiff[] = [];
  let compared = 0;
  for (const da of a.devices) {
    const db = inB.get(key(da));
    if (!db) continue;
    compared++;
    const d = compareDeviceSchema(da, db);
    if (d) devices.push(d);
  }
  const added = b.devices.filter((d) => !inA.has(key(d))).map(ref);
  const removed = a.devices.filter((d) => !inB.has(key(d))).map(ref);
  return {
    equal: devices.length + added.length + removed.length === 0,
    present: { a: true, b: true },
    compared,
    added,
    removed,
    devices,
  };
}
