/**
 * Templates: the framing of a real capture (configuration, RAM block layout, section ids,
 * device sections and VMDESCRIPTION trailer) reused so that a real QEMU of that machine type
 * accepts an emitted stream whose RAM and disk contents are replaced.
 * @module
 */
import { openInput } from "../parse/input.ts";
import { parseStream } from "../parse/stream.ts";
import type { RamBlockInfo, VmDesc } from "../protocol/records.ts";
import { ByteReader } from "../wire/reader.ts";
import { bytesSource } from "../wire/source.ts";
import { readFully } from "../wire/random_access.ts";

/** What an emitted stream borrows from a capture. */
export interface Template {
  machine?: string;
  /** Raw CONFIGURATION record bytes. */
  configuration?: Uint8Array;
  /** Raw FULL sections (header, body, footer) that come before the RAM section. */
  earlyDevices: Uint8Array[];
  /** Raw FULL sections after the iterative sections, in stream order. */
  devices: Uint8Array[];
  /** Raw VMDESCRIPTION trailer. */
  trailer?: Uint8Array;
  blocks: RamBlockInfo[];
  ramSectionId: number;
  blockSectionId?: number;
  footers: boolean;
  /** The capture sent SWITCHOVER_START before its END sections (QEMU 10.0+ machine types). */
  switchoverStart: boolean;
  /** The capture is a mapped-ram file. */
  mappedRam: boolean;
}

async function readAll(r: ByteReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  while (!(await r.atEnd())) {
    const n = r.buffered;
    parts.push(r.bytes(n).slice());
    total += n;
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

type Range = { kind: "config" | "early" | "device" | "trailer"; offset: number; end: number };

/** Walks a template capture: its facts, and the byte ranges to copy (configuration, devices…). */
async function scanTemplate(
  reader: ByteReader,
  vmdesc: VmDesc | undefined,
  path: string,
): Promise<{ t: Template; ranges: Range[] }> {
  const ranges: Range[] = [];
  const t: Template = {
    earlyDevices: [],
    devices: [],
    blocks: [],
    ramSectionId: 0,
    footers: false,
    switchoverStart: false,
    mappedRam: false,
  };
  let seenRam = false;
  let open: { offset: number; early: boolean } | undefined;
  for await (const rec of parseStream(reader, { vmdesc, payloads: false })) {
    switch (rec.kind) {
      case "configuration":
        t.machine = rec.machine;
        ranges.push({ kind: "config", offset: rec.offset, end: rec.offset + rec.length });
        break;
      case "section":
        if (rec.type === "START" && rec.idstr === "ram") {
          t.ramSectionId = rec.sectionId;
          seenRam = true;
        }
        if (rec.type === "START" && rec.idstr === "block") t.blockSectionId = rec.sectionId;
        if (rec.type === "FULL") open = { offset: rec.offset, early: !seenRam };
        break;
      case "ram":
        if (rec.type === "mem_size") t.blocks.push(...rec.blocks!);
        break;
      case "device":
        if (open) {
          ranges.push({
            kind: open.early ? "early" : "device",
            offset: open.offset,
            end: rec.offset + rec.length,
          });
        }
        break;
      case "footer":
        t.footers = true;
        if (open) {
          ranges[ranges.length - 1].end = rec.offset + rec.length;
          open = undefined;
        }
        break;
      case "command":
        if (rec.name === "SWITCHOVER_START") t.switchoverStart = true;
        break;
      case "vmdesc":
        ranges.push({ kind: "trailer", offset: rec.offset, end: rec.offset + rec.length });
        break;
    }
  }
  if (!seenRam) throw new Error(`template ${path} has no RAM section`);
  return { t, ranges };
}

/**
 * Reads a template from a capture (plain or gzip). Throws a one-line Error when it cannot.
 *
 * @example Borrow a capture's framing for new RAM contents
 * ```ts
 * import { bytesAccess } from "../wire/random_access.ts";
 * import { emitStream } from "./emitter.ts";
 * import { loadTemplate } from "./template.ts";
 * const template = await loadTemplate("samples/small-xbzrle.mig");
 * const [block] = template.blocks; // pc.ram, 8 MiB
 * const ram = bytesAccess(new Uint8Array(block.size));
 * let bytes = 0;
 * const stats = await emitStream([{ name: block.name, image: ram }], [], (b) => {
 *   bytes += b.length;
 *   return Promise.resolve();
 * }, { template });
 * if (template.machine !== "pc-i440fx-7.2" || stats.duplicate !== block.size / 4096) {
 *   throw new Error("every page of an all-zero image is a ZERO record");
 * }
 * if (bytes !== stats.streamBytes) throw new Error("the sink received the whole stream");
 * ```
 */
export async function loadTemplate(path: string): Promise<Template> {
  const opened = await openInput(path);
  try {
    let reader = opened.reader;
    let ra = reader.source.random;
    let vmdesc = opened.vmdesc;
    if (!ra) {
      // Compressed: hold the decompressed capture in memory (templates are small captures).
      const src = bytesSource(await readAll(reader));
      reader = new ByteReader(src);
      ra = src.random!;
      vmdesc = undefined;
    }
    const { t, ranges } = await scanTemplate(reader, vmdesc, path);
    t.mappedRam = t.blocks.some((b) => b.mappedRam);
    for (const r of ranges) {
      const b = new Uint8Array(r.end - r.offset);
      readFully(ra, b, r.offset);
      if (r.kind === "config") t.configuration = b;
      else if (r.kind === "early") t.earlyDevices.push(b);
      else if (r.kind === "device") t.devices.push(b);
      else t.trailer = b;
    }
    return t;
  } finally {
    opened.close();
  }
}
