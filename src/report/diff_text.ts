/**
 * The text report of `diff`: one block per aspect (configuration, sections, RAM blocks, device
 * state, vmdesc, RAM content), each a verdict line — one line when equal — then at most
 * {@link SHOWN} items of each list and "… and K more"; numbers in device fields in hex, buffers
 * and arrays by their first difference. A last line sums up.
 * @module
 */
import type {
  ConfigDiff,
  ConfigItem,
  ContentAspect,
  ContentDiff,
  DeviceSchemaDiff,
  DevicesDiff,
  DiffResult,
  FieldDiff,
  FieldShape,
  RamBlocksDiff,
  SchemaDiff,
  SectionRef,
  SectionsDiff,
  Shown,
} from "../diff/types.ts";
import { fitLine, formatBytes, plural, renderTable } from "./table.ts";

/** Items listed per list before "… and K more". */
export const SHOWN = 10;
/** Runs of differing pages listed per RAM block. */
const RANGES_SHOWN = 4;
/** Bytes shown of a differing buffer or page (the JSON document keeps 16). */
const BYTES_SHOWN = 8;

/** Layout of the report. */
export interface DiffTextOptions {
  /** Fit lines to a terminal this wide (full lines without it). */
  width?: number;
}

/** A number or bigint in hex (`-0x5` for a negative one). */
export function hexNumber(n: number | bigint): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/** Hex bytes `"0a0b"` spaced: `0a 0b`; past {@link BYTES_SHOWN} bytes, `…`. */
function spaced(hex: string): string {
  const bytes = hex.match(/../g) ?? [];
  const shown = bytes.slice(0, BYTES_SHOWN).join(" ");
  return bytes.length > BYTES_SHOWN ? `${shown} …` : shown;
}

const differ = (n: number) => `${n} ${n === 1 ? "differs" : "differ"}`;

/** A device field value: numbers in hex, bytes spaced (the first 16), compound by size. */
export function showValue(v: Shown): string {
  if (typeof v === "number" || typeof v === "bigint") return hexNumber(v);
  if (typeof v === "string") {
    const n = v.length >> 1;
    return n <= BYTES_SHOWN ? spaced(v) || "(0 bytes)" : `${spaced(v)} (${n} bytes)`;
  }
  if (v === null || typeof v === "boolean") return String(v);
  return "struct" in v ? `(${plural(v.struct, "field")})` : `(array of ${v.array})`;
}

/** `items` rendered by `line`, the first {@link SHOWN}, then how many are left out. */
function capped<T>(items: T[], line: (t: T) => string, indent = "  ", what = "more"): string[] {
  const out = items.slice(0, SHOWN).map((t) => indent + line(t));
  if (items.length > SHOWN) out.push(`${indent}… and ${items.length - SHOWN} ${what}`);
  return out;
}

function counts(parts: [number, string][]): string {
  return parts.filter(([n]) => n > 0).map(([n, w]) => `${n} ${w}`).join(", ");
}

// ---- configuration ----

function configValue(v: ConfigItem["a"]): string {
  if (Array.isArray(v)) return v.length ? v.join(",") : "none";
  return v === null ? "not sent" : String(v);
}

function configurationText(c: ConfigDiff): string[] {
  const equal = c.items.filter((i) => i.equal).map((i) => `${i.key} ${configValue(i.a)}`);
  if (c.equal) return [`Configuration: equal (${equal.join(", ")})`];
  const differ = c.items.filter((i) => !i.equal);
  const w = Math.max(...differ.map((i) => i.key.length));
  return [
    `Configuration: ${differ.map((i) => i.key).join(", ")} ${
      differ.length === 1 ? "differs" : "differ"
    }`,
    ...differ.map((i) => `  ${i.key.padEnd(w)}  A ${configValue(i.a)}  B ${configValue(i.b)}`),
    ...(equal.length ? [`  equal: ${equal.join(", ")}`] : []),
  ];
}

// ---- sections ----

const sectionName = (s: { name: string; instance: number }) => `${s.name} #${s.instance}`;
const sectionLine = (s: SectionRef, side: string) =>
  `${s.type} ${sectionName(s)}, version ${s.version} (${side} position ${s.position})`;

function sectionsText(s: SectionsDiff): string[] {
  const sizes = `A ${s.countA}, B ${s.countB}`;
  if (s.equal) return [`Sections: equal (${s.countA} in both, same order, types and versions)`];
  const head = counts([
    [s.added.length, "added"],
    [s.removed.length, "removed"],
    [s.changed.length, "changed"],
    [s.moved.length, "moved"],
  ]);
  const change = (c: SectionsDiff["changed"][number]) => {
    const what = c.a.type !== c.b.type
      ? `type A ${c.a.type}, B ${c.b.type}; version A ${c.a.version}, B ${c.b.version}`
      : `version A ${c.a.version}, B ${c.b.version}`;
    return `~ ${sectionName(c)}: ${what}`;
  };
  return [
    `Sections: ${head} (${sizes}; section ids are not compared)`,
    ...capped(s.added, (x) => `+ ${sectionLine(x, "B")}`, "  ", "more added"),
    ...capped(s.removed, (x) => `- ${sectionLine(x, "A")}`, "  ", "more removed"),
    ...capped(s.changed, change, "  ", "more changed"),
    ...capped(
      s.moved,
      (m) => `moved: ${sectionName(m)} (A position ${m.a.position}, B position ${m.b.position})`,
      "  ",
      "more moved",
    ),
  ];
}

// ---- RAM blocks ----

const size = (n: number) => `${n} (${formatBytes(n)})`;

function ramBlocksText(r: RamBlocksDiff): string[] {
  if (r.equal) return [`RAM blocks: equal (${plural(r.countA, "block")} in both)`];
  const head = counts([
    [r.added.length, "added"],
    [r.removed.length, "removed"],
    [r.resized.length, "resized"],
  ]);
  return [
    `RAM blocks: ${head} (A ${r.countA}, B ${r.countB})`,
    ...capped(r.added, (b) => `+ ${b.name} ${size(b.size)}`, "  ", "more added"),
    ...capped(r.removed, (b) => `- ${b.name} ${size(b.size)}`, "  ", "more removed"),
    ...capped(r.resized, (b) => `~ ${b.name} A ${size(b.a)}  B ${size(b.b)}`, "  ", "more resized"),
  ];
}

// ---- device state ----

/** One field difference, after its path. */
export function fieldText(f: FieldDiff): string {
  switch (f.kind) {
    case "value":
      return `A ${showValue(f.a)}  B ${showValue(f.b)}`;
    case "only-a":
      return `only in A: ${showValue(f.value)}`;
    case "only-b":
      return `only in B: ${showValue(f.value)}`;
    case "array": {
      const len = f.lengthA === f.lengthB
        ? `${f.lengthA} elements`
        : `A ${f.lengthA} elements, B ${f.lengthB}`;
      const side = (v: Shown | undefined) => (v === undefined ? "(none)" : showValue(v));
      return `${len}, ${differ(f.differing)}, first [${f.index}]: A ${side(f.a)}  B ${side(f.b)}`;
    }
    case "bytes": {
      const len = f.lengthA === f.lengthB
        ? `${f.lengthA} bytes`
        : `A ${f.lengthA} bytes, B ${f.lengthB}`;
      const more = (hex: string, n: number) => {
        const text = hex ? spaced(hex) : "(none)";
        const cut = hex.length > 2 * BYTES_SHOWN || f.index + (hex.length >> 1) >= n;
        return cut ? text : `${text} …`;
      };
      return `${len}, ${differ(f.differing)}, first at byte ${f.index}: A ${
        more(f.a, f.lengthA)
      }  B ${more(f.b, f.lengthB)}`;
    }
  }
}

/** Lines of `rows` (path, text) with the paths padded to one column (at most 32 wide). */
function column(rows: [string, string][], indent: string): string[] {
  const w = Math.min(32, Math.max(0, ...rows.map(([p]) => p.length)));
  return rows.map(([p, t]) => `${indent}${p.padEnd(w)}  ${t}`);
}

function devicesText(d: DevicesDiff): string[] {
  if (d.equal) {
    return [`Device state: equal (${plural(d.compared, "device")} in both, field by field)`];
  }
  const fields = d.devices.reduce((n, x) => n + x.fields.length, 0);
  const out = [
    `Device state: ${plural(fields, "field")} ${fields === 1 ? "differs" : "differ"} in ${
      plural(d.devices.length, "device")
    } (${plural(d.compared, "device")} in both)`,
  ];
  for (const dev of d.devices.slice(0, SHOWN)) {
    out.push(`  ${sectionName(dev)}`);
    const rows = dev.fields.slice(0, SHOWN).map((f): [string, string] => [f.path, fieldText(f)]);
    out.push(...column(rows, "    "));
    if (dev.fields.length > SHOWN) out.push(`    … and ${dev.fields.length - SHOWN} more fields`);
  }
  if (d.devices.length > SHOWN) out.push(`  … and ${d.devices.length - SHOWN} more devices`);
  return out;
}

// ---- vmdesc ----

/** A field's shape: `uint32, 4 bytes`, `uint8, 1 byte × 16`, `subsection, version 2`. */
export function shapeText(s: FieldShape): string {
  if (s.type === "subsection") return `subsection, version ${s.version}`;
  const n = `${s.type}, ${plural(s.size, "byte")}${
    s.arrayLen !== undefined ? ` × ${s.arrayLen}` : ""
  }`;
  return s.version !== undefined ? `${n}, version ${s.version}` : n;
}

function schemaDeviceLines(d: DeviceSchemaDiff): string[] {
  const rows: [string, string][] = [
    ...d.header.map((
      h,
    ): [string, string] => [`(${h.key})`, `A ${h.a ?? "none"}  B ${h.b ?? "none"}`]),
    ...d.added.map((f): [string, string] => [`+ ${f.path}`, shapeText(f)]),
    ...d.removed.map((f): [string, string] => [`- ${f.path}`, shapeText(f)]),
    ...d.changed.map((
      c,
    ): [string, string] => [`~ ${c.path}`, `A ${shapeText(c.a)}  B ${shapeText(c.b)}`]),
    ...d.subsectionsAdded.map((p): [string, string] => [`+ ${p}`, "subsection"]),
    ...d.subsectionsRemoved.map((p): [string, string] => [`- ${p}`, "subsection"]),
  ];
  const out = [`  ${sectionName(d)}`, ...column(rows.slice(0, SHOWN), "    ")];
  if (rows.length > SHOWN) out.push(`    … and ${rows.length - SHOWN} more`);
  return out;
}

function schemaText(s: SchemaDiff): string[] {
  if (!s.present.a || !s.present.b) {
    if (s.equal) return ["vmdesc: neither stream has one"];
    return [`vmdesc: only ${s.present.a ? "A" : "B"} has one`];
  }
  if (s.equal) return [`vmdesc: equal (${plural(s.compared, "device")} described in both)`];
  const head = counts([
    [s.added.length, s.added.length === 1 ? "device added" : "devices added"],
    [s.removed.length, s.removed.length === 1 ? "device removed" : "devices removed"],
    [s.devices.length, s.devices.length === 1 ? "device differs" : "devices differ"],
  ]);
  const ref = (r: SchemaDiff["added"][number]) =>
    `${sectionName(r)}: vmsd ${r.vmsd ?? "(none)"}, version ${r.version ?? "(none)"}, ${
      plural(r.fields, "field")
    }`;
  const out = [
    `vmdesc: ${head} (${plural(s.compared, "device")} described in both)`,
    ...capped(s.added, (r) => `+ ${ref(r)}`, "  ", "more added"),
    ...capped(s.removed, (r) => `- ${ref(r)}`, "  ", "more removed"),
  ];
  for (const d of s.devices.slice(0, SHOWN)) out.push(...schemaDeviceLines(d));
  if (s.devices.length > SHOWN) out.push(`  … and ${s.devices.length - SHOWN} more devices`);
  return out;
}

// ---- RAM content ----

function rangesText(d: ContentDiff, pageSize: number): string {
  const r = d.ranges.slice(0, RANGES_SHOWN).map((x) =>
    `0x${x.addr.toString(16)}-0x${(x.addr + x.pages * pageSize - 1).toString(16)}`
  );
  const more = d.rangeCount > RANGES_SHOWN ? ` … (${d.rangeCount} ranges)` : "";
  const sizes = d.sizeA !== d.sizeB ? "; sizes differ" : "";
  return r.join(", ") + more + sizes;
}

function contentText(c: ContentAspect, width?: number): string[] {
  if (!c.compared) return [`RAM content: not compared (${c.reason})`];
  const ps = c.pageSize!;
  const pages = c.blocks.reduce((n, d) => n + d.pages, 0);
  const only = [
    ...(c.onlyA.length ? [`  only in A: ${c.onlyA.join(", ")}`] : []),
    ...(c.onlyB.length ? [`  only in B: ${c.onlyB.join(", ")}`] : []),
  ];
  if (c.equal) {
    return [
      `RAM content: equal (${plural(c.blocks.length, "block")}, ${pages} pages of ${ps} bytes)`,
    ];
  }
  const differ = c.blocks.filter((d) => !d.equal);
  const different = differ.reduce((n, d) => n + d.different, 0);
  const label = (d: ContentDiff) => (d.kind === "disk" ? `disk ${d.name}` : d.name);
  const table = renderTable(
    [
      { header: "BLOCK" },
      { header: "PAGES", align: "right" },
      { header: "DIFFERENT", align: "right" },
      { header: "RANGES" },
    ],
    differ.map((d) => [label(d), `${d.pages}`, `${d.different}`, rangesText(d, ps)]),
    { width: width && width - 2 },
  );
  const same = c.blocks.filter((d) => d.equal).map(label);
  const samples = differ.flatMap((d) =>
    d.samples.map((s) =>
      `    ${label(d)} page 0x${s.addr.toString(16)} +0x${s.offset.toString(16)}: A ${
        spaced(s.a)
      }  B ${spaced(s.b)}`
    )
  );
  return [
    `RAM content: ${plural(differ.length, "block")} of ${c.blocks.length} ${
      differ.length === 1 ? "differs" : "differ"
    } (${different} of ${pages} pages of ${ps} bytes)`,
    ...table.trimEnd().split("\n").map((l) => `  ${l}`),
    ...(same.length ? [`  equal: ${same.join(", ")}`] : []),
    ...only,
    ...(samples.length ? ["  first differing bytes:", ...samples] : []),
  ];
}

// ---- the report ----

/** The aspects that differ, by their titles. */
export function differingAspects(r: DiffResult): string[] {
  const out: string[] = [];
  if (!r.configuration.equal) out.push("configuration");
  if (!r.sections.equal) out.push("sections");
  if (!r.ramBlocks.equal) out.push("RAM blocks");
  if (!r.devices.equal) out.push("device state");
  if (!r.vmdesc.equal) out.push("vmdesc");
  if (r.ram.compared && !r.ram.equal) out.push("RAM content");
  return out;
}

/**
 * The whole text report.
 *
 * @example
 * ```ts
 * import { diffText } from "./diff_text.ts";
 * import { notCompared } from "../diff/diff.ts";
 * const none = { added: [], removed: [] };
 * const text = diffText({
 *   equal: true,
 *   a: { name: "a.mig" },
 *   b: { name: "b.mig" },
 *   configuration: { equal: true, items: [{ key: "machine", a: "pc", b: "pc", equal: true }] },
 *   sections: { equal: true, countA: 0, countB: 0, ...none, changed: [], moved: [] },
 *   ramBlocks: { equal: true, countA: 0, countB: 0, ...none, resized: [] },
 *   devices: { equal: true, compared: 0, devices: [] },
 *   vmdesc: { equal: true, present: { a: true, b: true }, compared: 0, ...none, devices: [] },
 *   ram: notCompared("--no-ram"),
 * });
 * if (!text.endsWith("\nResult: equal (RAM content not compared)\n")) throw new Error(text);
 * ```
 */
export function diffText(r: DiffResult, opts: DiffTextOptions = {}): string {
  const w = opts.width;
  const input = (side: string, x: DiffResult["a"]) =>
    `  ${side}  ${x.name}${x.container ? ` (${x.container})` : ""}`;
  const blocks = [
    ["migscope diff", input("A", r.a), input("B", r.b)],
    configurationText(r.configuration),
    sectionsText(r.sections),
    ramBlocksText(r.ramBlocks),
    devicesText(r.devices),
    schemaText(r.vmdesc),
    contentText(r.ram, w),
  ];
  const aspects = differingAspects(r);
  const unchecked = r.ram.compared ? "" : " (RAM content not compared)";
  const result = r.equal ? `Result: equal${unchecked}` : `Result: different: ${aspects.join(", ")}`;
  blocks.push([result]);
  return blocks.map((b) => b.map((l) => fitLine(l, w, 6)).join("\n")).join("\n\n") + "\n";
}
