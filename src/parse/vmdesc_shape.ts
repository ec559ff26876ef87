/**
 * The vmdesc JSON is input like any other: this checks it against the shape the parser relies
 * on before anything reads it — `devices[]` with `name` and `instance_id`, field entries with
 * `name`, `type` and `size`, `array_len` a non-negative integer, nested `struct`, inline
 * `fields` and `subsections` of the same shape, `page_size` a power of two from 512 — and
 * names the first violation by its JSON path. It also gives each device's described cost: the
 * bytes its body must hold, with every array element counted as at least one unit of work, so a
 * description whose nested `array_len`s multiply beyond the bytes left is refused before a
 * single element is read.
 * @module
 */
import { printable } from "../protocol/errors.ts";
import type { VmDesc, VmdescDevice, VmdescField, VmdescVmsd } from "../protocol/records.ts";
import { validPageSize } from "../protocol/stream_info.ts";

/** Deepest struct/subsection nesting accepted from a vmdesc JSON. */
export const MAX_VMDESC_DEPTH = 64;
/** Largest single field or array element size accepted from a vmdesc JSON. */
export const MAX_FIELD_SIZE = 64 << 20;
/** Largest array length accepted from a vmdesc JSON. */
export const MAX_ARRAY_LEN = 1 << 24;

/** A vmdesc JSON that does not have the shape the parser relies on; one line. */
export class VmdescShapeError extends Error {
  constructor(readonly path: string, detail: string) {
    const p = path.length > 200 ? `${path.slice(0, 80)}…${path.slice(-110)}` : path;
    super(`vmdesc JSON ${p} ${detail}`);
    this.name = "VmdescShapeError";
  }
}

type Obj = Record<string, unknown>;

function kind(v: unknown): string {
  if (v === undefined) return "absent";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string "${printable(v, 40)}"`;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return `an ${typeof v}`;
}

function object(v: unknown, path: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new VmdescShapeError(path, `is ${kind(v)}, not an object`);
  }
  return v as Obj;
}

function string(o: Obj, key: string, path: string, required: boolean): void {
  const v = o[key];
  if (v === undefined && !required) return;
  if (typeof v !== "string") {
    throw new VmdescShapeError(`${path}.${key}`, `is ${kind(v)}, not a string`);
  }
}

function integer(o: Obj, key: string, path: string, max: number, required = false): void {
  const v = o[key];
  if (v === undefined && !required) return;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw new VmdescShapeError(
      `${path}.${key}`,
      `is ${kind(v)}, not an integer from 0 to ${max}`,
    );
  }
}

function array(o: Obj, key: string, path: string): unknown[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    throw new VmdescShapeError(`${path}.${key}`, `is ${kind(v)}, not an array`);
  }
  return v;
}

function label(o: Obj, key: string): string {
  const v = o[key];
  return typeof v === "string" ? ` ('${printable(v, 40)}')` : "";
}

function checkField(v: unknown, path: string, depth: number): void {
  const f = object(v, path);
  string(f, "name", path, true);
  string(f, "type", path, true);
  integer(f, "size", path, MAX_FIELD_SIZE, true);
  integer(f, "array_len", path, MAX_ARRAY_LEN);
  integer(f, "index", path, 0xffffffff);
  if (f.struct !== undefined) checkVmsd(f.struct, `${path}.struct`, depth + 1, false);
  if (f.fields !== undefined || f.subsections !== undefined) checkVmsd(f, path, depth + 1, false);
}

function checkVmsd(v: unknown, path: string, depth: number, named: boolean): void {
  if (depth > MAX_VMDESC_DEPTH) {
    throw new VmdescShapeError(path, `nests deeper than ${MAX_VMDESC_DEPTH} levels`);
  }
  const o = object(v, path);
  string(o, "vmsd_name", path, named);
  integer(o, "version", path, 0xffffffff);
  array(o, "fields", path).forEach((f, i) => {
    const p = `${path}.fields[${i}]`;
    checkField(f, p + label(object(f, p), "name"), depth);
  });
  array(o, "subsections", path).forEach((s, i) => {
    const p = `${path}.subsections[${i}]`;
    checkVmsd(s, p + label(object(s, p), "vmsd_name"), depth + 1, true);
  });
}

function checkDevice(v: unknown, path: string): void {
  const d = object(v, path);
  string(d, "name", path, true);
  if (d.name === "") throw new VmdescShapeError(`${path}.name`, "is empty");
  integer(d, "instance_id", path, 0xffffffff, true);
  integer(d, "size", path, MAX_FIELD_SIZE);
  checkVmsd(d, path, 0, false);
}

/**
 * Checks a parsed vmdesc JSON document; returns it typed, or throws {@link VmdescShapeError}
 * naming the first violation by its path (`devices[3] ('cpu').fields[2] ('env.regs').array_len
 * is -256, not an integer from 0 to 16777216`).
 *
 * @example
 * ```ts
 * import { checkVmdesc } from "./vmdesc_shape.ts";
 * checkVmdesc({ page_size: 4096, devices: [] });
 * let message = "";
 * try {
 *   checkVmdesc({ page_size: 4096, devices: [null] });
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * if (message !== "vmdesc JSON devices[0] is null, not an object") throw new Error(message);
 * ```
 */
export function checkVmdesc(doc: unknown): VmDesc {
  const o = object(doc, "document");
  if (o.page_size !== undefined) {
    const ps = o.page_size;
    if (typeof ps !== "number" || !validPageSize(ps)) {
      throw new VmdescShapeError(
        "page_size",
        `is ${kind(ps)}, not a power of two from 512 to ${2 ** 30}`,
      );
    }
  }
  if (o.configuration !== undefined) checkVmsd(o.configuration, "configuration", 0, false);
  if (!Array.isArray(o.devices)) {
    throw new VmdescShapeError("devices", `is ${kind(o.devices)}, not an array`);
  }
  o.devices.forEach((d, i) => {
    const p = `devices[${i}]`;
    checkDevice(d, p + label(object(d, p), "name"));
  });
  return o as unknown as VmDesc;
}

function fieldCost(f: VmdescField): number {
  const nested = (f.type === "struct" || f.type === "vstruct") ? f.struct : undefined;
  let element: number;
  if (nested && (nested.fields || nested.subsections)) element = vmsdCost(nested);
  else if (f.fields) element = vmsdCost(f);
  else element = f.size;
  return (f.array_len ?? 1) * Math.max(1, element);
}

function vmsdCost(v: { fields?: VmdescField[]; subsections?: VmdescVmsd[] }): number {
  let n = 0;
  for (const f of v.fields ?? []) n += fieldCost(f);
  for (const s of v.subsections ?? []) n += 6 + s.vmsd_name.length + vmsdCost(s);
  return n;
}

const costs = new WeakMap<VmdescDevice, number>();

/**
 * What a (checked) device description costs to read: the least number of body bytes it
 * implies, where every array element counts at least 1 (an empty struct or a zero-size field
 * is still work). A body can only be read if the stream has that many bytes left.
 */
export function describedCost(dev: VmdescDevice): number {
  let c = costs.get(dev);
  if (c === undefined) {
    c = dev.fields === undefined && typeof dev.size === "number"
      ? Math.max(1, dev.size)
      : vmsdCost(dev);
    costs.set(dev, c);
  }
  return c;
}
