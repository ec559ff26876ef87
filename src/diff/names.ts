/**
 * Unique field names for a vmdesc. QEMU describes an array of structs as one field entry per
 * element, all with the array's name (`bus`, `bus`, …; QEMU 7.2 adds `index` 0, 1, … to each,
 * QEMU 10 to all but the last), and a device may repeat a name (`unused`); decoded into an
 * object by name, the later element would hide the earlier. Renamed here by occurrence —
 * `bus[0]`, `bus[1]` — the description keeps its layout (order, types, sizes), so the same
 * bytes are read, and every element gets its own path for the comparison, the same whichever
 * QEMU wrote the description.
 * @module
 */
import type { VmDesc, VmdescDevice, VmdescField, VmdescVmsd } from "../protocol/records.ts";

/** The names of `fields` made unique; `reserved` names (subsections) are never given out. */
export function uniqueNames(fields: VmdescField[], reserved: string[] = []): string[] {
  const count = new Map<string, number>();
  for (const f of fields) count.set(f.name, (count.get(f.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  const used = new Set(reserved);
  return fields.map((f) => {
    const n = seen.get(f.name) ?? 0;
    seen.set(f.name, n + 1);
    let name = (count.get(f.name) ?? 0) > 1 ? `${f.name}[${n}]` : f.name;
    for (let k = 2; used.has(name); k++) name = `${f.name}#${k}`;
    used.add(name);
    return name;
  });
}

function renameFields(
  fields: VmdescField[] | undefined,
  subsections: VmdescVmsd[] | undefined,
  depth: number,
): VmdescField[] | undefined {
  if (!Array.isArray(fields) || depth > 64) return fields;
  const valid = fields.every((f) =>
    typeof f === "object" && f !== null && typeof f.name === "string"
  );
  if (!valid) return fields;
  const subs = Array.isArray(subsections) ? subsections.map((s) => String(s?.vmsd_name)) : [];
  const names = uniqueNames(fields, subs);
  return fields.map((f, i) => {
    const out: VmdescField = { ...f, name: names[i] };
    if (f.struct && typeof f.struct === "object") out.struct = renameVmsd(f.struct, depth + 1);
    if (f.fields) out.fields = renameFields(f.fields, f.subsections, depth + 1);
    if (f.subsections) out.subsections = renameSubsections(f.subsections, depth + 1);
    return out;
  });
}

function renameSubsections(subs: VmdescVmsd[] | undefined, depth: number) {
  if (!Array.isArray(subs)) return subs;
  return subs.map((s) => (typeof s === "object" && s !== null ? renameVmsd(s, depth + 1) : s));
}

function renameVmsd(v: VmdescVmsd, depth: number): VmdescVmsd {
  return {
    ...v,
    fields: renameFields(v.fields, v.subsections, depth),
    subsections: renameSubsections(v.subsections, depth),
  };
}

/** A device's description with unique field names at every level. */
export function uniqueDevice(d: VmdescDevice): VmdescDevice {
  if (typeof d !== "object" || d === null) return d;
  return {
    ...d,
    fields: renameFields(d.fields, d.subsections, 0),
    subsections: renameSubsections(d.subsections, 0),
  };
}

/**
 * A vmdesc whose field names are unique at every level (see the module comment); the input is
 * left as it is.
 *
 * @example
 * ```ts
 * import { uniqueVmdesc } from "./names.ts";
 * const v = uniqueVmdesc({
 *   page_size: 4096,
 *   devices: [{
 *     name: "ide",
 *     instance_id: 0,
 *     fields: [
 *       { name: "bus", index: 0, type: "struct", size: 2 },
 *       { name: "bus", index: 1, type: "struct", size: 2 },
 *       { name: "unused", type: "unused_buffer", size: 4 },
 *       { name: "unused", type: "unused_buffer", size: 4 },
 *     ],
 *   }],
 * });
 * const names = v.devices[0].fields!.map((f) => f.name).join();
 * if (names !== "bus[0],bus[1],unused[0],unused[1]") throw new Error(names);
 * ```
 */
export function uniqueVmdesc(v: VmDesc): VmDesc {
  if (!Array.isArray(v.devices)) return v;
  return { ...v, devices: v.devices.map(uniqueDevice) };
}
