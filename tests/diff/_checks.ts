/**
 * Checks of diff's text report against what tests/diff/_independent.ts finds without src/diff:
 * section headers by byte pattern, device bodies between header and footer, each stream's own
 * vmdesc JSON, the configuration section's bytes, and replays compared byte by byte.
 */
import { block, parseTable, type Problems } from "../report/_golden.ts";
import {
  type BlockTruth,
  deviceBodies,
  type FoundSection,
  lcsLength,
  sectionsByPattern,
  trailerJson,
} from "./_independent.ts";

/** The block of lines starting with `Title:`. */
export const aspect = (out: string, title: string) => block(out, `${title}:`, true);

/** The configuration section at offset 8: machine name, and whether subsections follow. */
export function configurationOf(bytes: Uint8Array): { machine: string; subsections: boolean } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[8] !== 0x07) throw new Error("no configuration section at offset 8");
  const len = dv.getUint32(9);
  const machine = new TextDecoder().decode(bytes.subarray(13, 13 + len));
  return { machine, subsections: bytes[13 + len] === 0x05 };
}

/** The configuration line of two streams with no configuration subsections (x86 before 10). */
export function checkConfiguration(out: string, a: Uint8Array, b: Uint8Array, p: Problems) {
  const ca = configurationOf(a);
  const cb = configurationOf(b);
  p.ok("neither configuration has subsections", !ca.subsections && !cb.subsections);
  const line = ca.machine === cb.machine
    ? `Configuration: equal (machine ${ca.machine}, capabilities none, page-size 4096, ` +
      "target-page-bits not sent, uuid not sent)"
    : `Configuration: machine differs`;
  p.eq("configuration line", aspect(out, "Configuration")[0], line);
}

const key = (s: { name: string; instance: number }) => `${s.name}#${s.instance}`;
const ref = (s: FoundSection, side: string, list: FoundSection[]) =>
  `${s.type} ${s.name} #${s.instance}, version ${s.version} (${side} position ${
    list.indexOf(s) + 1
  })`;

/** The Sections block against the section headers found in both streams. */
export function checkSections(out: string, a: Uint8Array, b: Uint8Array, p: Problems): void {
  const sa = sectionsByPattern(a);
  const sb = sectionsByPattern(b);
  const inA = new Map(sa.map((s) => [key(s), s]));
  const inB = new Map(sb.map((s) => [key(s), s]));
  const added = sb.filter((s) => !inA.has(key(s)));
  const removed = sa.filter((s) => !inB.has(key(s)));
  const common = sa.filter((s) => inB.has(key(s)));
  const changed = common.filter((s) => {
    const o = inB.get(key(s))!;
    return o.version !== s.version || o.type !== s.type;
  });
  const orderA = common.map(key);
  const orderB = sb.filter((s) => inA.has(key(s))).map(key);
  const moved = common.length - lcsLength(orderA, orderB);
  const lines = aspect(out, "Sections");
  if (added.length + removed.length + changed.length + moved === 0) {
    p.eq("sections line", lines, [
      `Sections: equal (${sa.length} in both, same order, types and versions)`,
    ]);
    return;
  }
  const counts = [[added.length, "added"], [removed.length, "removed"], [
    changed.length,
    "changed",
  ], [moved, "moved"]].filter(([n]) => n).map(([n, w]) => `${n} ${w}`).join(", ");
  p.eq(
    "sections verdict",
    lines[0],
    `Sections: ${counts} (A ${sa.length}, B ${sb.length}; ` +
      "section ids are not compared)",
  );
  p.eq(
    "added",
    lines.filter((l) => l.startsWith("  + ")),
    added.map((s) => `  + ${ref(s, "B", sb)}`),
  );
  p.eq(
    "removed",
    lines.filter((l) => l.startsWith("  - ")),
    removed.map((s) => `  - ${ref(s, "A", sa)}`),
  );
  p.eq("changed", lines.filter((l) => l.startsWith("  ~ ")).length, changed.length);
  const listed = lines.filter((l) => l.startsWith("  moved: "));
  p.eq("moved lines", listed.length, Math.min(moved, 10));
  const gone = new Set<string>();
  for (const l of listed) {
    const m = /^ {2}moved: (.+) #(\d+) \(A position (\d+), B position (\d+)\)$/.exec(l);
    const s = m && inA.get(`${m[1]}#${m[2]}`);
    p.ok(
      `moved line names a section at its positions: ${l}`,
      !!s &&
        sa.indexOf(s) + 1 === Number(m![3]) && sb.indexOf(inB.get(key(s))!) + 1 === Number(m![4]),
    );
    if (s) gone.add(key(s));
  }
  if (moved <= 10) {
    const rest = (o: string[]) => o.filter((k) => !gone.has(k)).join();
    p.eq("order of the sections not moved", rest(orderA), rest(orderB));
  }
}

/** Device names listed under a block's lines (`  name #n`, two spaces in). */
function listedDevices(lines: string[]): string[] {
  return lines.filter((l) => /^ {2}[^ +\-~…]/.test(l) && !l.startsWith("  equal:"))
    .map((l) => l.trim().replace(/ #(\d+)$/, "#$1"));
}

/** JSON descriptions of each device, by `name#instance`. */
// deno-lint-ignore no-explicit-any
function described(bytes: Uint8Array): Map<string, any> {
  return new Map(
    // deno-lint-ignore no-explicit-any
    trailerJson(bytes).json.devices.map((d: any) => [`${d.name}#${d.instance_id}`, d]),
  );
}

/**
 * Device state: every device whose body bytes differ is listed; every device listed has
 * differing bytes or a differing description (the same bytes read as other fields).
 */
export function checkDeviceState(out: string, a: Uint8Array, b: Uint8Array, p: Problems): void {
  const ba = deviceBodies(a);
  const bb = deviceBodies(b);
  const da = described(a);
  const db = described(b);
  const common = [...ba.keys()].filter((k) => bb.has(k));
  const bytesDiffer = common.filter((k) => !equalBytes(ba.get(k)!, bb.get(k)!));
  const lines = aspect(out, "Device state");
  const listed = listedDevices(lines);
  p.ok(
    `device state verdict counts ${common.length} devices in both: ${lines[0]}`,
    lines[0]?.includes(`(${common.length} devices in both`) ?? false,
  );
  for (const k of bytesDiffer) {
    p.ok(`${k}: its body bytes differ, the report lists it`, listed.includes(k));
  }
  for (const k of listed) {
    const why = bytesDiffer.includes(k) || layout(da.get(k)) !== layout(db.get(k));
    p.ok(`${k}: listed, and its bytes or description differ`, why);
  }
  if (bytesDiffer.length === 0 && listed.length === 0) {
    p.eq("device state line", lines, [
      `Device state: equal (${common.length} devices in both, field by field)`,
    ]);
  }
}

function equalBytes(x: Uint8Array, y: Uint8Array): boolean {
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Fields a description holds (nested structs and subsections included). */
// deno-lint-ignore no-explicit-any
export function fieldCount(d: any): number {
  let n = 0;
  // deno-lint-ignore no-explicit-any
  const walk = (fields: any[] = [], subs: any[] = []) => {
    for (const f of fields) {
      n++;
      if (f.struct) walk(f.struct.fields, f.struct.subsections);
      if (f.fields) walk(f.fields, f.subsections);
    }
    for (const s of subs) walk(s.fields, s.subsections);
  };
  walk(d.fields, d.subsections);
  return n;
}

/**
 * A description as JSON text without the `index` keys: QEMU 7.2 numbers every element of an
 * array of structs, QEMU 10 all but the last; the elements are the entries in order either way.
 */
// deno-lint-ignore no-explicit-any
const layout = (d: any) => JSON.stringify(d, (k, v) => (k === "index" ? undefined : v));

/**
 * vmdesc: devices added and removed by name, and the devices listed as differing (their
 * descriptions differ beyond the numbering of array elements).
 */
export function checkVmdesc(out: string, a: Uint8Array, b: Uint8Array, p: Problems): void {
  const da = described(a);
  const db = described(b);
  const common = [...da.keys()].filter((k) => db.has(k));
  const differ = common.filter((k) => layout(da.get(k)) !== layout(db.get(k)));
  const lines = aspect(out, "vmdesc");
  // deno-lint-ignore no-explicit-any
  const line = (sign: string, d: any) =>
    `  ${sign} ${d.name} #${d.instance_id}: vmsd ${d.vmsd_name}, version ${d.version}, ${
      fieldCount(d)
    } field${fieldCount(d) === 1 ? "" : "s"}`;
  const added = [...db.keys()].filter((k) => !da.has(k)).map((k) => line("+", db.get(k)));
  const removed = [...da.keys()].filter((k) => !db.has(k)).map((k) => line("-", da.get(k)));
  p.eq("vmdesc added", lines.filter((l) => l.startsWith("  + ")), added);
  p.eq("vmdesc removed", lines.filter((l) => l.startsWith("  - ")), removed);
  p.eq("vmdesc devices listed as differing", listedDevices(lines), differ);
  p.ok(
    `vmdesc verdict counts ${common.length} in both: ${lines[0]}`,
    lines[0]?.includes(`(${common.length} devices described in both)`) ?? false,
  );
}

/** RAM content: the table and verdict against the replays compared byte by byte. */
export function checkRamContent(out: string, truth: BlockTruth[], p: Problems): void {
  const lines = aspect(out, "RAM content");
  const pages = truth.reduce((n, t) => n + t.pages, 0);
  const differ = truth.filter((t) => !t.equal);
  if (differ.length === 0) {
    p.eq("RAM content line", lines, [
      `RAM content: equal (${truth.length} blocks, ${pages} pages of 4096 bytes)`,
    ]);
    return;
  }
  const different = differ.reduce((n, t) => n + t.different, 0);
  const word = differ.length === 1 ? "block" : "blocks";
  p.eq(
    "RAM content verdict",
    lines[0],
    `RAM content: ${differ.length} ${word} of ${truth.length} ${
      differ.length === 1 ? "differs" : "differ"
    } (${different} of ${pages} pages of 4096 bytes)`,
  );
  const end = lines.findIndex((l, i) => i > 0 && /^ {2}(equal:|only in|first differing)/.test(l));
  const rows = parseTable(lines.slice(1, end < 0 ? undefined : end).map((l) => l.slice(2)));
  const sorted = (names: string[]) => [...names].sort();
  p.eq("blocks in the table", sorted(rows.map((r) => r.BLOCK)), sorted(differ.map((t) => t.name)));
  for (const t of differ) {
    const r = rows.find((x) => x.BLOCK === t.name);
    p.eq(`${t.name} pages`, r?.PAGES, `${t.pages}`);
    p.eq(`${t.name} different pages`, r?.DIFFERENT, `${t.different}`);
    const runs = /\((\d+) ranges\)/.exec(r?.RANGES ?? "")?.[1];
    p.eq(`${t.name} runs`, runs ? Number(runs) : (r?.RANGES ?? "").split(", ").length, t.runs);
  }
  const same = truth.filter((t) => t.equal).map((t) => t.name).sort();
  const listed = lines.find((l) => l.startsWith("  equal: "))?.slice(9).split(", ").sort();
  p.eq(
    "equal blocks",
    listed ?? [],
    same,
  );
}

/** The last line: the aspects whose verdict is not `equal` (or `not compared`). */
export function checkResult(out: string, p: Problems): void {
  const titles = [
    "Configuration",
    "Sections",
    "RAM blocks",
    "Device state",
    "vmdesc",
    "RAM content",
  ];
  const differ = titles.filter((t) => {
    const v = aspect(out, t)[0] ?? "";
    return !v.startsWith(`${t}: equal`) && !v.startsWith(`${t}: not compared`);
  });
  const names = differ.map((t) =>
    (t === "Configuration" || t === "Sections" || t === "Device state") ? t.toLowerCase() : t
  );
  const last = out.trimEnd().split("\n").at(-1);
  p.eq(
    "result line",
    last,
    differ.length ? `Result: different: ${names.join(", ")}` : "Result: equal",
  );
}
