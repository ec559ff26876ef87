/**
 * Where a device section's subsections sit: the vmdesc JSON gives every field's size, so the
 * offset of each `0x05` subsection marker follows from the body's start without reading it.
 * @module
 */
import type { VmdescDevice, VmdescField, VmdescVmsd } from "../protocol/records.ts";
import type { StreamSubsection } from "./types.ts";

const utf8 = new TextEncoder();

interface Walk {
  at: number;
  out: StreamSubsection[];
  /** Guards against a vmdesc that describes absurd amounts (the parser bounds the real ones). */
  steps: number;
}

const MAX_STEPS = 1 << 20;

function fieldBytes(w: Walk, f: VmdescField): void {
  const count = f.array_len ?? 1;
  for (let i = 0; i < count && w.steps < MAX_STEPS; i++) {
    w.steps++;
    const nested = (f.type === "struct" || f.type === "vstruct") ? f.struct : undefined;
    if (nested && (nested.fields || nested.subsections)) {
      vmsd(w, nested.vmsd_name, nested.fields, nested.subsections);
    } else if (f.fields) {
      vmsd(w, f.vmsd_name ?? f.name, f.fields, f.subsections);
    } else {
      w.at += typeof f.size === "number" ? f.size : 0;
    }
  }
}

function vmsd(
  w: Walk,
  name: string,
  fields: VmdescField[] | undefined,
  subsections: VmdescVmsd[] | undefined,
): void {
  for (const f of fields ?? []) fieldBytes(w, f);
  for (const s of subsections ?? []) {
    const sub = String(s.vmsd_name);
    w.out.push({ parent: String(name), name: sub, version: s.version, offset: w.at });
    w.at += 2 + utf8.encode(sub).length + 4;
    vmsd(w, sub, s.fields, s.subsections);
  }
}

/**
 * The subsections of a device body starting at `bodyOffset`, in stream order, with their
 * offsets; `end` is where the body ends by the same sizes (the caller compares it with the
 * parser's).
 *
 * @example
 * ```ts
 * import { subsectionLayout } from "./layout.ts";
 * const dev = {
 *   name: "fw_cfg", instance_id: 0, vmsd_name: "fw_cfg", version: 2,
 *   fields: [{ name: "cur_entry", type: "uint16", size: 2 }],
 *   subsections: [{ vmsd_name: "fw_cfg/dma", version: 1, fields: [] }],
 * };
 * const { subsections, end } = subsectionLayout(dev, 100);
 * // 2 bytes of fields, then 05 0a "fw_cfg/dma" be32 1
 * if (subsections[0].offset !== 102 || end !== 102 + 2 + 10 + 4) throw new Error("layout");
 * ```
 */
export function subsectionLayout(
  dev: VmdescDevice,
  bodyOffset: number,
): { subsections: StreamSubsection[]; end: number } {
  const w: Walk = { at: bodyOffset, out: [], steps: 0 };
  if (dev.fields === undefined && typeof dev.size === "number") {
    return { subsections: [], end: bodyOffset + dev.size };
  }
  vmsd(w, dev.vmsd_name ?? dev.name, dev.fields, dev.subsections);
  return { subsections: w.out, end: w.at };
}
