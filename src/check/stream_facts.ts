/**
 * The facts `check` needs from a stream, read in one pass: the CONFIGURATION section (machine
 * type, capabilities, target page bits), every START/FULL section with its offset and version,
 * the `ram` section's MEM_SIZE list with each entry's offset, and the subsections of each
 * device section (from the vmdesc JSON, placed by field sizes).
 * @module
 */
import type { OpenedInput } from "../parse/input.ts";
import { type ParseOptions, parseStreamItems } from "../parse/stream.ts";
import type {
  DeviceRecord,
  RamBlockInfo,
  RamRecord,
  VmDesc,
  VmdescDevice,
} from "../protocol/records.ts";
import { subsectionLayout } from "./layout.ts";
import type { StreamFacts, StreamRamBlock, StreamSection } from "./types.ts";

const utf8 = new TextEncoder();

/** Offsets of the MEM_SIZE entries: name, length, then the optional per-block fields. */
function entryOffsets(rec: RamRecord): StreamRamBlock[] {
  let at = rec.offset + 8;
  return (rec.blocks ?? []).map((b: RamBlockInfo) => {
    const offset = at;
    const head = 1 + utf8.encode(b.name).length + 8 + (b.pageSize !== undefined ? 8 : 0) +
      (b.mrAddr !== undefined ? 8 : 0);
    const m = b.mappedRam;
    if (!m) at += head;
    else if (m.bitmapOffset === 0 && m.pagesOffset === 0) at = m.headerOffset + 28;
    else at = m.pagesOffset + b.size;
    return { name: b.name, size: b.size, offset: m ? m.headerOffset - head : offset };
  });
}

/** Fills in each device section's subsections once the vmdesc is known. */
function placeSubsections(
  sections: StreamSection[],
  bodies: Map<StreamSection, DeviceRecord>,
  vmdesc: VmDesc,
): void {
  const index = new Map<string, VmdescDevice>();
  for (const d of vmdesc.devices ?? []) index.set(`${d.name}\u0000${d.instance_id}`, d);
  for (const s of sections) {
    const body = bodies.get(s);
    const dev = index.get(`${s.idstr}\u0000${s.instance}`);
    if (!body || !dev) continue;
    if (typeof dev.vmsd_name === "string") s.vmsd = dev.vmsd_name;
    const { subsections, end } = subsectionLayout(dev, body.offset);
    const placed = end === body.offset + body.length;
    s.subsections = subsections.map((x) => placed ? x : { ...x, offset: s.offset });
  }
}

/**
 * Reads `input` to its end and returns what it asks of a destination. Throws the parser's
 * StreamError (one line, with offset) for a malformed stream.
 *
 * @example
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { readStreamFacts } from "./stream_facts.ts";
 * const input = await openInput("samples/small-block.mig");
 * const facts = await readStreamFacts(input, { vmdesc: input.vmdesc });
 * input.close();
 * const [block, ram] = facts.sections;
 * if (block.idstr !== "block" || ram.idstr !== "ram" || ram.ramBlocks?.[0].offset !== 83) {
 *   throw new Error("block and ram START; MEM_SIZE at 75, its first entry at 83");
 * }
 * ```
 */
export async function readStreamFacts(
  input: OpenedInput,
  opts: ParseOptions = {},
): Promise<StreamFacts> {
  const facts: StreamFacts = {
    capabilities: [],
    pageSize: 4096,
    sections: [],
    undelimited: [],
    vmdesc: false,
  };
  const bodies = new Map<StreamSection, DeviceRecord>();
  const byId = new Map<number, StreamSection>();
  let vmdesc = opts.vmdesc;
  for await (const item of parseStreamItems(input.reader, { ...opts, payloads: false })) {
    if (item.kind === "configuration") {
      facts.machine = item.machine;
      facts.configurationOffset = item.offset;
      facts.capabilities = [...item.capabilities];
      facts.targetPageBits = item.targetPageBits;
    } else if (item.kind === "section" && (item.type === "START" || item.type === "FULL")) {
      const { offset, sectionId, type, idstr, instanceId: instance, version } = item;
      const s: StreamSection = {
        offset,
        sectionId,
        type,
        idstr,
        instance,
        version,
        subsections: [],
      };
      facts.sections.push(s);
      byId.set(sectionId, s);
    } else if (item.kind === "ram" && item.type === "mem_size") {
      const s = byId.get(item.sectionId);
      if (s) s.ramBlocks = entryOffsets(item);
      facts.pageSize = item.pageSize ?? facts.pageSize;
    } else if (item.kind === "device") {
      const s = byId.get(item.sectionId);
      if (s) bodies.set(s, { ...item, fields: undefined });
    } else if (item.kind === "undelimited") {
      facts.undelimited.push({ offset: item.offset, idstr: item.idstr });
    } else if (item.kind === "eof" && item.depth === 0) {
      facts.eofOffset = item.offset;
    } else if (item.kind === "vmdesc") {
      vmdesc ??= item.json;
    }
  }
  if (vmdesc) {
    facts.vmdesc = true;
    const pageSet = facts.sections.some((s) => s.ramBlocks);
    if (!pageSet && typeof vmdesc.page_size === "number") facts.pageSize = vmdesc.page_size;
    placeSubsections(facts.sections, bodies, vmdesc);
  }
  return facts;
}
