/**
 * QEMU's `-dump-vmstate FILE` JSON: the machine type it was dumped for (`vmschkmachine`), and
 * for every device class with a VMState description its name, `version_id`,
 * `minimum_version_id`, fields (nested descriptions) and subsections. Read into an index of
 * descriptions by name, nested ones included; classes that share a description name (e.g. the
 * PCI host bridges' `PCIHost`) give one entry, different descriptions of one name several.
 * @module
 */
import type { DestinationFacts, VmsdSchema } from "./types.ts";

/** A parsed dump. */
export interface VmstateDump {
  machine: string;
  schema: Map<string, VmsdSchema[]>;
}

/** Bound on the dump's size (QEMU 10's x86 dump is about 0.8 MB). */
export const MAX_DUMP_BYTES = 64 << 20;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function toSchema(d: Json, depth: number): VmsdSchema | undefined {
  if (typeof d.name !== "string" || typeof d.version_id !== "number" || depth > 64) {
    return undefined;
  }
  const subs = Array.isArray(d.Subsections) ? d.Subsections : [];
  return {
    name: d.name,
    version: d.version_id,
    minVersion: typeof d.minimum_version_id === "number" ? d.minimum_version_id : 0,
    subsections: subs.filter(isObject).map((s) => toSchema(s, depth + 1)).filter((s) =>
      s !== undefined
    ),
  };
}

function signature(s: VmsdSchema): string {
  return `${s.version}/${s.minVersion}/${s.subsections.map((x) => x.name).join(",")}`;
}

function add(index: Map<string, VmsdSchema[]>, s: VmsdSchema): void {
  const list = index.get(s.name);
  if (!list) index.set(s.name, [s]);
  else if (!list.some((x) => signature(x) === signature(s))) list.push(s);
}

/** Every description in `d` (a Description, its fields' and its subsections'). */
function collect(index: Map<string, VmsdSchema[]>, d: Json, depth: number): void {
  if (depth > 64) return;
  const s = toSchema(d, depth);
  if (s) add(index, s);
  for (const key of ["Fields", "Subsections"]) {
    const list = d[key];
    if (!Array.isArray(list)) continue;
    for (const x of list) {
      if (!isObject(x)) continue;
      if (key === "Subsections") collect(index, x, depth + 1);
      else if (isObject(x.Description)) collect(index, x.Description, depth + 1);
    }
  }
}

/**
 * Parses the text of a `-dump-vmstate` file. Throws an Error with a one-line reason when it
 * is not one.
 *
 * @example
 * ```ts
 * import { parseVmstateDump } from "./dump.ts";
 * const dump = parseVmstateDump(JSON.stringify({
 *   vmschkmachine: { Name: "pc-i440fx-7.2" },
 *   "isa-serial": { Name: "isa-serial", version_id: 3, minimum_version_id: 2, Description: {
 *     name: "serial", version_id: 3, minimum_version_id: 2,
 *     Subsections: [{ name: "serial/tsr", version_id: 1, minimum_version_id: 1 }] } },
 * }));
 * const serial = dump.schema.get("serial")![0];
 * if (dump.machine !== "pc-i440fx-7.2" || serial.subsections[0].name !== "serial/tsr") {
 *   throw new Error("machine and descriptions");
 * }
 * ```
 */
export function parseVmstateDump(text: string): VmstateDump {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc) || !isObject(doc.vmschkmachine)) {
    throw new Error("no 'vmschkmachine' key: not the output of QEMU's -dump-vmstate");
  }
  const machine = doc.vmschkmachine.Name;
  if (typeof machine !== "string" || machine === "") {
    throw new Error("'vmschkmachine' names no machine type");
  }
  const schema = new Map<string, VmsdSchema[]>();
  for (const [key, cls] of Object.entries(doc)) {
    if (key === "vmschkmachine" || !isObject(cls) || !isObject(cls.Description)) continue;
    collect(schema, cls.Description, 0);
  }
  return { machine, schema };
}

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const out = ReadableStream.from<BufferSource>([bytes]).pipeThrough(
    new DecompressionStream("gzip"),
  );
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of out) {
    size += c.length;
    if (size > MAX_DUMP_BYTES) throw new Error(`larger than ${MAX_DUMP_BYTES} bytes unpacked`);
    chunks.push(c);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/** The text of a file, plain or gzip, of at most `max` bytes (unpacked). */
export async function readTextFile(path: string, max = MAX_DUMP_BYTES): Promise<string> {
  const st = await Deno.stat(path);
  if (st.size > max) throw new Error(`${st.size} bytes: larger than expected (max ${max})`);
  const raw = await Deno.readFile(path);
  let bytes: Uint8Array = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = await gunzip(raw);
    } catch (e) {
      throw new Error(`gzip: ${(e as Error).message}`);
    }
  }
  return new TextDecoder().decode(bytes);
}

/** Reads and parses a dump file, plain or gzip (bounded by {@link MAX_DUMP_BYTES}). */
export async function readVmstateDump(path: string): Promise<VmstateDump> {
  return parseVmstateDump(await readTextFile(path));
}

/** The destination facts of a dump: its machine type and schema, nothing else. */
export function dumpDestination(path: string, dump: VmstateDump): DestinationFacts {
  return {
    origin: "dump",
    path,
    machine: dump.machine,
    requested: dump.machine,
    schema: dump.schema,
    assumeDevices: true,
  };
}
