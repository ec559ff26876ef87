/**
 * A destination's facts as a file: what `check --qemu … --save-destination FILE` learnt from a
 * QEMU (machine, schema, registered sections, RAM blocks, capabilities, page size, command
 * line), read back by `check --destination FILE` to check streams where that QEMU is not
 * installed. The document starts with `format` (`migscope-check-destination`) and `version`.
 * @module
 */
import type { DestinationFacts, DestRamBlock, DestSection, VmsdSchema } from "./types.ts";

/** The `format` of a destination file. */
export const DESTINATION_FORMAT = "migscope-check-destination";

/** Bound on a destination file's size. */
export const MAX_DESTINATION_BYTES = 64 << 20;

/** The document of `d` (a QEMU's facts; a dump's are the dump itself). */
export function destinationJson(d: DestinationFacts): Record<string, unknown> {
  return {
    format: DESTINATION_FORMAT,
    version: 1,
    path: d.path,
    qemuVersion: d.qemuVersion ?? null,
    machine: d.machine,
    requested: d.requested,
    machines: d.machines ?? null,
    commandLine: d.commandLine ?? null,
    assumeDevices: d.assumeDevices,
    pageSize: d.pageSize ?? null,
    targetPageBits: d.targetPageBits ?? null,
    capabilities: d.capabilities ?? null,
    ramBlocks: d.ramBlocks ?? null,
    registry: d.registry ?? null,
    sentSubsections: Object.fromEntries(
      [...d.sentSubsections ?? []].map(([p, m]) => [p, Object.fromEntries(m)]),
    ),
    schema: Object.fromEntries(d.schema),
  };
}

type Json = Record<string, unknown>;

function fail(what: string): never {
  throw new Error(`not a ${DESTINATION_FORMAT} document: ${what}`);
}

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function strings(v: unknown, what: string): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) fail(`${what} is not a list`);
  return v;
}

function vmsd(v: unknown, depth: number): VmsdSchema {
  if (!isObj(v) || typeof v.name !== "string" || !isNum(v.version) || !isNum(v.minVersion)) {
    fail("a schema entry lacks name, version or minVersion");
  }
  if (!Array.isArray(v.subsections) || depth > 64) fail(`'${v.name}' has no subsection list`);
  const subsections = v.subsections.map((s) => vmsd(s, depth + 1));
  return { name: v.name, version: v.version, minVersion: v.minVersion, subsections };
}

function list<T>(v: unknown, what: string, ok: (x: Json) => boolean): T[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => isObj(x) && ok(x))) fail(`bad ${what}`);
  return v as T[];
}

function sent(v: unknown): Map<string, Map<string, number>> {
  if (!isObj(v)) fail("sentSubsections is not an object");
  return new Map(
    Object.entries(v).map(([p, m]) => {
      if (!isObj(m) || !Object.values(m).every(isNum)) fail(`sentSubsections of '${p}'`);
      return [p, new Map(Object.entries(m as Record<string, number>))];
    }),
  );
}

/**
 * Reads a destination document. Throws an Error with a one-line reason when it is not one.
 *
 * @example
 * ```ts
 * import { destinationJson, parseDestinationJson } from "./facts_json.ts";
 * const d = parseDestinationJson(JSON.stringify(destinationJson({
 *   origin: "qemu", path: "qemu", machine: "pc-i440fx-7.2", requested: "pc",
 *   schema: new Map([["vga", [{ name: "vga", version: 2, minVersion: 2, subsections: [] }]]]),
 *   assumeDevices: true, ramBlocks: [{ name: "pc.ram", used: 1 << 26, max: 1 << 26 }],
 * })));
 * if (d.schema.get("vga")?.[0].version !== 2 || d.ramBlocks?.[0].name !== "pc.ram") {
 *   throw new Error("round trip");
 * }
 * ```
 */
export function parseDestinationJson(text: string, path = "destination"): DestinationFacts {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON: ${(e as Error).message}`);
  }
  if (!isObj(doc) || doc.format !== DESTINATION_FORMAT) fail(`no format '${DESTINATION_FORMAT}'`);
  if (doc.version !== 1) fail(`version ${doc.version} (this migscope reads 1)`);
  if (typeof doc.machine !== "string" || typeof doc.requested !== "string") fail("no machine");
  if (!isObj(doc.schema)) fail("no schema");
  const schema = new Map(
    Object.entries(doc.schema).map(([name, l]) => {
      if (!Array.isArray(l)) fail(`schema of '${name}' is not a list`);
      return [name, l.map((s) => vmsd(s, 0))];
    }),
  );
  const num = (v: unknown) => (isNum(v) ? v : undefined);
  return {
    origin: "qemu",
    path: typeof doc.path === "string" ? doc.path : path,
    qemuVersion: typeof doc.qemuVersion === "string" ? doc.qemuVersion : undefined,
    machine: doc.machine,
    requested: doc.requested,
    machines: strings(doc.machines, "machines"),
    schema,
    registry: list<DestSection>(
      doc.registry,
      "registry",
      (x) => typeof x.idstr === "string" && isNum(x.instance) && isNum(x.version),
    ),
    sentSubsections: sent(doc.sentSubsections ?? {}),
    ramBlocks: list<DestRamBlock>(
      doc.ramBlocks,
      "ramBlocks",
      (x) => typeof x.name === "string" && isNum(x.used) && isNum(x.max),
    ),
    capabilities: strings(doc.capabilities, "capabilities"),
    pageSize: num(doc.pageSize),
    targetPageBits: num(doc.targetPageBits),
    commandLine: strings(doc.commandLine, "commandLine"),
    assumeDevices: doc.assumeDevices !== false,
  };
}
