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
import { MAX_ARRAY_LEN, MAX_FIELD_SIZE, MAX_VMDESC_DEPTH } from "./vmdesc_shape.ts";

export { MAX_ARRAY_LEN, MAX_FIELD_SIZE, MAX_VMDESC_DEPTH } from "./vmdesc_shape.ts";

/**
 * Element visits allowed beyond the bytes consumed: the work of reading device bodies is bounded
 * by the input even when a description lists elements that take no bytes (zero-size fields,
 * empty structs) — QEMU's own descriptions have none.
 */
export const MAX_IDLE_VISITS = 1 << 16;

/** Work done reading device bodies, shared by every body of one stream. */
export interface DeviceWork {
  /** Element visits that consumed no byte. */
  idle: number;
}

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

/** Sets `out[key]` as an own property, whatever the key (`__proto__` included). */
function put(out: { [name: string]: FieldValue }, key: string, v: FieldValue): void {
  Object.defineProperty(out, key, {
    value: v,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

interface Ctx {
  r: ByteReader;
  work: DeviceWork;
}

async function readVmsd(
  c: Ctx,
  fields: VmdescField[] | undefined,
  subsections: VmdescVmsd[] | undefined,
  out: Out,
  depth: number,
): Promise<void> {
  const r = c.r;
  if (depth > MAX_VMDESC_DEPTH) {
    throw new DeviceLayoutError(r.pos, `vmdesc nests deeper than ${MAX_VMDESC_DEPTH} levels`);
  }
  for (const f of fields ?? []) await readField(c, f, out, depth);
  for (const sub of subsections ?? []) {
    const at = r.pos;
    await r.fill(2);
    if (r.peekU8() !== VM.SUBSECTION) {
      throw new DeviceLayoutError(
        at,
        `subsection '${printable(String(sub.vmsd_name))}' listed in vmdesc is missing (byte 0x${
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
      put(out, name, child);
    }
    await readVmsd(c, sub.fields, sub.subsections, child, depth + 1);
  }
}

async function readElement(
  c: Ctx,
  f: VmdescField,
  want: boolean,
  depth: number,
): Promise<FieldValue> {
  const r = c.r;
  const nested = (f.type === "struct" || f.type === "vstruct") ? f.struct : undefined;
  if (nested && (nested.fields || nested.subsections)) {
    const o: Out = want ? {} : null;
    await readVmsd(c, nested.fields, nested.subsections, o, depth + 1);
    return o;
  }
  if (f.fields) {
    const o: Out = want ? {} : null;
    await readVmsd(c, f.fields, f.subsections, o, depth + 1);
    return o;
  }
  const size = f.size;
  if (!Number.isInteger(size) || size < 0 || size > MAX_FIELD_SIZE) {
    throw new DeviceLayoutError(
      r.pos,
      `vmdesc field '${printable(f.name)}' has an invalid size ${size}`,
    );
  }
  if (!want) {
    if (r.has(size)) r.advance(size);
    else await r.skip(size);
    return null;
  }
  await r.fill(size);
  return decodeScalar(f.type, r.bytes(size));
}

/** One element, counted: visits that consume no byte are bounded by {@link MAX_IDLE_VISITS}. */
async function visit(c: Ctx, f: VmdescField, want: boolean, depth: number): Promise<FieldValue> {
  const at = c.r.pos;
  const v = await readElement(c, f, want, depth);
  if (c.r.pos === at && ++c.work.idle > MAX_IDLE_VISITS + at) {
    throw new DeviceLayoutError(
      at,
      `vmdesc field '${printable(f.name)}' describes more elements of no size than the stream ` +
        "has bytes (array_len of empty elements)",
    );
  }
  return v;
}

async function readField(c: Ctx, f: VmdescField, out: Out, depth: number): Promise<void> {
  const r = c.r;
  if (typeof f !== "object" || f === null || typeof f.name !== "string") {
    throw new DeviceLayoutError(r.pos, "vmdesc field without a name");
  }
  const count = f.array_len ?? 1;
  if (!Number.isInteger(count) || count < 0 || count > MAX_ARRAY_LEN) {
    throw new DeviceLayoutError(
      r.pos,
      `vmdesc field '${printable(f.name)}' has an invalid array_len ${count}`,
    );
  }
  if (f.array_len === undefined) {
    const v = await visit(c, f, out !== null, depth);
    if (out) put(out, f.name, v);
    return;
  }
  const values: FieldValue[] = [];
  for (let i = 0; i < count; i++) {
    const v = await visit(c, f, out !== null, depth);
    if (out) values.push(v);
  }
  if (out) put(out, f.name, values);
}

/**
 * Reads one device body as `dev` describes it. With `decode`, returns the field tree;
 * otherwise only moves the reader past the body.
 */
export async function readDeviceBody(
  r: ByteReader,
  dev: VmdescDevice,
  decode: boolean,
  work: DeviceWork = { idle: 0 },
): Promise<{ [name: string]: FieldValue } | undefined> {
  const out: Out = decode ? {} : null;
  const c: Ctx = { r, work };
  if (dev.fields === undefined && typeof dev.size === "number") {
    // Legacy device (save_state callback): an opaque buffer of `size` bytes.
    await readField(c, { name: "data", type: "buffer", size: dev.size }, out, 0);
  } else {
    await readVmsd(c, dev.fields, dev.subsections, out, 0);
  }
  return out ?? undefined;
}

/** Index of vmdesc devices by `idstr` and instance id. */
export function indexVmdesc(devices: VmdescDevice[]): Map<string, VmdescDevice> {
  const m = new Map<string, VmdescDevice>();
  for (const d of devices) m.set(`${d.name}\u0000${d.instance_id}`, d);
  return m;
}
