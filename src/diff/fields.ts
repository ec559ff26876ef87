/**
 * The device state aspect of `diff`: the devices both streams have (matched by idstr and
 * instance id), compared field by field as each stream's own vmdesc decoded them. Scalars that
 * differ are listed with both values; arrays of scalars and byte buffers as one difference each
 * (how many elements or bytes differ, and the first); arrays of structs element by element;
 * fields and subsections present in one stream only as such.
 * @module
 */
import type { FieldValue } from "../protocol/records.ts";
import type { CollectedDevice, DeviceFieldsDiff, DevicesDiff, FieldDiff, Shown } from "./types.ts";

type Obj = { [name: string]: FieldValue };

/** Bytes of a buffer shown from its first differing byte. */
export const SAMPLE_BYTES = 16;

const isObject = (v: FieldValue): v is Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isScalar = (v: FieldValue) => typeof v !== "object" || v === null;

/** A value as the report shows it: compound values by their size. */
export function shown(v: FieldValue): Shown {
  if (Array.isArray(v)) return { array: v.length };
  if (isObject(v)) return { struct: Object.keys(v).length };
  return v;
}

function bytesDiff(path: string, a: string, b: string): FieldDiff | undefined {
  if (a === b) return undefined;
  const la = a.length >> 1;
  const lb = b.length >> 1;
  let differing = 0;
  let index = -1;
  for (let i = 0; i < Math.max(la, lb); i++) {
    const j = 2 * i;
    if (a.charCodeAt(j) === b.charCodeAt(j) && a.charCodeAt(j + 1) === b.charCodeAt(j + 1)) {
      continue;
    }
    differing++;
    if (index < 0) index = i;
  }
  const from = (s: string) => s.slice(2 * index, 2 * (index + SAMPLE_BYTES));
  return {
    path,
    kind: "bytes",
    lengthA: la,
    lengthB: lb,
    differing,
    index,
    a: from(a),
    b: from(b),
  };
}

function scalarArrayDiff(path: string, a: FieldValue[], b: FieldValue[]): FieldDiff | undefined {
  let differing = 0;
  let index = -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length && i < b.length && a[i] === b[i]) continue;
    differing++;
    if (index < 0) index = i;
  }
  if (differing === 0) return undefined;
  return {
    path,
    kind: "array",
    lengthA: a.length,
    lengthB: b.length,
    differing,
    index,
    ...(index < a.length ? { a: shown(a[index]) } : {}),
    ...(index < b.length ? { b: shown(b[index]) } : {}),
  };
}

function arrayDiff(path: string, a: FieldValue[], b: FieldValue[], out: FieldDiff[]): void {
  if (a.every(isScalar) && b.every(isScalar)) {
    const d = scalarArrayDiff(path, a, b);
    if (d) out.push(d);
    return;
  }
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const p = `${path}[${i}]`;
    if (i >= b.length) out.push({ path: p, kind: "only-a", value: shown(a[i]) });
    else if (i >= a.length) out.push({ path: p, kind: "only-b", value: shown(b[i]) });
    else valueDiff(p, a[i], b[i], out);
  }
}

function objectDiff(prefix: string, a: Obj, b: Obj, out: FieldDiff[]): void {
  const at = (k: string) => (prefix ? `${prefix}.${k}` : k);
  const has = (o: Obj, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  for (const k of Object.keys(a)) {
    if (has(b, k)) valueDiff(at(k), a[k], b[k], out);
    else out.push({ path: at(k), kind: "only-a", value: shown(a[k]) });
  }
  for (const k of Object.keys(b)) {
    if (!has(a, k)) out.push({ path: at(k), kind: "only-b", value: shown(b[k]) });
  }
}

function valueDiff(path: string, a: FieldValue, b: FieldValue, out: FieldDiff[]): void {
  if (isObject(a) && isObject(b)) return objectDiff(path, a, b, out);
  if (Array.isArray(a) && Array.isArray(b)) return arrayDiff(path, a, b, out);
  if (typeof a === "string" && typeof b === "string") {
    const d = bytesDiff(path, a, b);
    if (d) out.push(d);
    return;
  }
  if (a === b) return;
  out.push({ path, kind: "value", a: shown(a), b: shown(b) });
}

/**
 * The differences between two decoded field trees (device.ts `readDeviceBody` output: scalars,
 * hex strings for buffers, arrays, subsections as objects with `__version`).
 *
 * @example
 * ```ts
 * import { compareFields } from "./fields.ts";
 * const d = compareFields(
 *   { irr: 1, regs: [1, 2, 3], buf: "00ff00", "dev/sub": { __version: 1, x: 5 } },
 *   { irr: 2, regs: [1, 9, 3], buf: "00fe00", extra: true },
 * );
 * const kinds = d.map((f) => `${f.path}:${f.kind}`).join();
 * if (kinds !== "irr:value,regs:array,buf:bytes,dev/sub:only-a,extra:only-b") throw new Error(kinds);
 * ```
 */
export function compareFields(a: Obj, b: Obj): FieldDiff[] {
  const out: FieldDiff[] = [];
  objectDiff("", a, b, out);
  return out;
}

const key = (d: CollectedDevice) => `${d.name}\u0000${d.instance}`;

/** Compares the devices both lists have (the n-th of one idstr/instance with the n-th). */
export function compareDevices(a: CollectedDevice[], b: CollectedDevice[]): DevicesDiff {
  const byKey = new Map<string, CollectedDevice[]>();
  for (const d of b) byKey.set(key(d), [...(byKey.get(key(d)) ?? []), d]);
  const devices: DeviceFieldsDiff[] = [];
  let compared = 0;
  for (const da of a) {
    const db = byKey.get(key(da))?.shift();
    if (!db) continue;
    compared++;
    const fields = compareFields(da.fields, db.fields);
    if (fields.length) devices.push({ name: da.name, instance: da.instance, fields });
  }
  return { equal: devices.length === 0, compared, devices };
}
