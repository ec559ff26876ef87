/**
 * FULL (device state) section bodies, delimited and decoded field by field with the vmdesc JSON.
 * The wire carries no lengths or names for device fields: the JSON's per-field `size` (bytes
 * actually written for the first element) and subsection lists are the only map.
 * @module
 */
import { VM } from "../protocol/constants.ts";
import { printable } from "../protocol/errors.ts";
import type { FieldValue, VmdescDevice, VmdescField, VmdescVmsd } from "../protocol/records.ts";
import type { ByteReader } from "../wire/reader.ts";

/** Deepest struct/subsection nesting accepted from a vmdesc JSON. */
export const MAX_VMDESC_DEPTH = 64;
/** Largest single field or array element size accepted from a vmdesc JSON. */
export const MAX_FIELD_SIZE = 64 << 20;
/** Largest array length accepted from a vmdesc JSON. */
export const MAX_ARRAY_LEN = 1 << 24;

/** A problem delimiting a device body; `offset` is where the reader was. */
export class DeviceLayoutError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
    this.name = "DeviceLayoutError";
  }
}

const utf8 = new TextDecoder();

function hex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, "0");
  return s;
}

/** Decodes one scalar field by its vmdesc type name and the bytes written for it. */
export function decodeScalar(type: string, b: Uint8Array): FieldValue {
  const n = b.length;
  if (type === "bool" && n === 1) return b[0] !== 0;
  if (type === "nullptr") return null;
  const numeric = /^(u?int(8|16|32|64)|timer|CPU_Double_U)/.test(type);
  if (!numeric || !(n === 1 || n === 2 || n === 4 || n === 8)) return hex(b);
  const signed = type.startsWith("int") || type === "timer";
  const dv = new DataView(b.buffer, b.byteOffset, n);
  const le = type.endsWith(" le");
  switch (n) {
    case 1:
      return signed ? dv.getInt8(0) : dv.getUint8(0);
    case 2:
      return signed ? dv.getInt16(0, le) : dv.getUint16(0, le);
    case 4:
      return signed ? dv.getInt32(0, le) : dv.getUint32(0, le);
    default: {
      const v = signed ? dv.getBigInt64(0, le) : dv.getBigUint64(0, le);
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v;
    }
  }
}

type Out = { [name: string]: FieldValue } | null;

async function readVmsd(
  r: ByteReader,
  fields: VmdescField[] | undefined,
  subsections: VmdescVmsd[] | undefined,
  out: Out,
  depth: number,
): Promise<void> {
  if (depth > MAX_VMDESC_DEPTH) {
    throw new DeviceLayoutError(r.pos, `vmdesc nests deeper than ${MAX_VMDESC_DEPTH} levels`);
  }
  for (const f of fields ?? []) await readField(r, f, out, depth);
  for (const sub of subsections ?? []) {
    const at = r.pos;
    await r.fill(2);
    if (r.peekU8() !== VM.SUBSECTION) {
      throw new DeviceLayoutError(
        at,
        `subsection '${sub.vmsd_name}' listed in vmdesc is missing (byte 0x${
          r.peekU8().toString(16)
        } instead of 0x05)`,
      );
    }
    const len = r.peekU8(1);
    await r.fill(2 + len + 4);
    r.advance(2);
    const name = utf8.decode(r.bytes(len));
    const version = r.be32();
    if (name !== sub.vmsd_name) {
      throw new DeviceLayoutError(
        at,
        `subsection '${printable(name)}' found where vmdesc lists '${
          printable(String(sub.vmsd_name))
        }'`,
      );
    }
    let child: Out = null;
    if (out) {
      child = { __version: version };
      out[name] = child;
    }
    await readVmsd(r, sub.fields, sub.subsections, child, depth + 1);
  }
}

async function readElement(
  r: ByteReader,
  f: VmdescField,
  want: boolean,
  depth: number,
): Promise<FieldValue> {
  const nested = (f.type === "struct" || f.type === "vstruct") ? f.struct : undefined;
  if (nested && (nested.fields || nested.subsections)) {
    const o: Out = want ? {} : null;
    await readVmsd(r, nested.fields, nested.subsections, o, depth + 1);
    return o;
  }
  if (f.fields) {
    const o: Out = want ? {} : null;
    await readVmsd(r, f.fields, f.subsections, o, depth + 1);
    return o;
  }
  const size = f.size;
  if (!Number.isInteger(size) || size < 0 || size > MAX_FIELD_SIZE) {
    throw new DeviceLayoutError(r.pos, `vmdesc field '${f.name}' has an invalid size ${size}`);
  }
  if (!want) {
    if (r.has(size)) r.advance(size);
    else await r.skip(size);
    return null;
  }
  await r.fill(size);
  return decodeScalar(f.type, r.bytes(size));
}

async function readField(r: ByteReader, f: VmdescField, out: Out, depth: number): Promise<void> {
  if (typeof f !== "object" || f === null || typeof f.name !== "string") {
    throw new DeviceLayoutError(r.pos, "vmdesc field without a name");
  }
  const count = f.array_len ?? 1;
  if (!Number.isInteger(count) || count < 0 || count > MAX_ARRAY_LEN) {
    throw new DeviceLayoutError(
      r.pos,
      `vmdesc field '${f.name}' has an invalid array_len ${count}`,
    );
  }
  if (f.array_len === undefined) {
    const v = await readElement(r, f, out !== null, depth);
    if (out) out[f.name] = v;
    return;
  }
  const values: FieldValue[] = [];
  for (let i = 0; i < count; i++) {
    const v = await readElement(r, f, out !== null, depth);
    if (out) values.push(v);
  }
  if (out) out[f.name] = values;
}

/**
 * Reads one device body as `dev` describes it. With `decode`, returns the field tree;
 * otherwise only moves the reader past the body.
 */
export async function readDeviceBody(
  r: ByteReader,
  dev: VmdescDevice,
  decode: boolean,
): Promise<{ [name: string]: FieldValue } | undefined> {
  const out: Out = decode ? {} : null;
  if (dev.fields === undefined && typeof dev.size === "number") {
    // Legacy device (save_state callback): an opaque buffer of `size` bytes.
    await readField(r, { name: "data", type: "buffer", size: dev.size }, out, 0);
  } else {
    await readVmsd(r, dev.fields, dev.subsections, out, 0);
  }
  return out ?? undefined;
}

/** Index of vmdesc devices by `idstr` and instance id. */
export function indexVmdesc(devices: VmdescDevice[]): Map<string, VmdescDevice> {
  const m = new Map<string, VmdescDevice>();
  for (const d of devices) m.set(`${d.name}\u0000${d.instance_id}`, d);
  return m;
}
