/**
 * Writing mapped-ram files (QEMU 9.0+ `mapped-ram` capability, `file:` migration): each RAM
 * block's MEM_SIZE entry carries a 28-byte header; its bitmap follows the header and its page
 * slots start at the next 1 MiB boundary; the stream resumes after the slots. Non-zero pages are
 * written to their slots with positional writes and their bits set; zero pages leave holes.
 * @module
 */
import { DEFAULT_PAGE_SIZE, RAM_FLAG } from "../protocol/constants.ts";
import { mappedRamLayout } from "../parse/mapped_ram.ts";
import { ByteWriter } from "../wire/writer.ts";
import { type Pace, pacer } from "../wire/pace.ts";
import { fileAccess, type RandomAccess, readPadded } from "../wire/random_access.ts";
import { equalBytes } from "../wire/compare.ts";
import { isAllZero } from "../wire/zero.ts";
import type { ImageSource } from "./types.ts";
import * as F from "./frame.ts";
import type { Template } from "./template.ts";

/** Counters of a mapped-ram emission. */
export interface MappedRamStats {
  /** Pages written to their slots (bit set). */
  present: number;
  /** Zero pages (bit clear, hole). */
  zero: number;
  fileBytes: number;
}

type MappedBlock = { name: string; image: ImageSource; rounds?: (ImageSource | undefined)[] };

function checkImages(ram: MappedBlock[], tpl: Template | undefined, ps: number) {
  for (const b of ram) {
    if (b.image.size % ps) {
      throw new Error(`RAM image '${b.name}' is not a multiple of the page size`);
    }
    const t = tpl?.blocks.find((x) => x.name === b.name);
    if (tpl && !t) throw new Error(`RAM block '${b.name}' is not in the template`);
    if (t && t.size !== b.image.size) {
      throw new Error(
        `RAM image '${b.name}' is ${b.image.size} bytes; the template's block is ${t.size}`,
      );
    }
  }
}

/**
 * Writes a block's pages to their slots: each image in turn (initial, then rounds), non-zero
 * pages that changed since the previous image; the bitmap marks the last image's non-zero pages.
 */
async function writeSlots(
  out: RandomAccess,
  b: MappedBlock,
  pagesOffset: number,
  bitmap: Uint8Array,
  ps: number,
  stats: MappedRamStats,
  pace: Pace,
) {
  const images = [b.image, ...(b.rounds ?? []).filter((r): r is ImageSource => r !== undefined)];
  const chunk = new Uint8Array(256 * ps);
  const prev = new Uint8Array(chunk.length);
  for (const [k, img] of images.entries()) {
    const last = k === images.length - 1;
    for (let off = 0; off < img.size; off += chunk.length) {
      await pace();
      const len = Math.min(chunk.length, img.size - off);
      readPadded(img, chunk.subarray(0, len), off);
      if (k > 0) readPadded(images[k - 1], prev.subarray(0, len), off);
      for (let p = 0; p < len; p += ps) {
        const page = chunk.subarray(p, p + ps);
        const i = (off + p) / ps;
        const zero = isAllZero(page);
        if (last && zero) stats.zero++;
        else if (last) {
          bitmap[i >>> 3] |= 1 << (i & 7);
          stats.present++;
        }
        if (zero || (k > 0 && equalBytes(prev.subarray(p, p + ps), page))) continue;
        out.write!(page, pagesOffset + i * ps);
      }
    }
  }
}

/** The RAM section's last two parts, device sections, EOF and trailer. */
function writeEnd(w: ByteWriter, tpl: Template | undefined, ps: number) {
  const ramId = tpl?.ramSectionId ?? 1;
  const footers = tpl ? tpl.footers : true;
  F.writeRamEos(w);
  if (footers) F.writeFooter(w, ramId);
  F.writeSectionShort(w, "PART", ramId);
  F.writeRamEos(w);
  if (footers) F.writeFooter(w, ramId);
  if (tpl?.switchoverStart) F.writeCommand(w, 11);
  F.writeSectionShort(w, "END", ramId);
  F.writeRamEos(w);
  if (footers) F.writeFooter(w, ramId);
  for (const d of tpl?.devices ?? []) w.bytes(d);
  F.writeEof(w);
  if (tpl?.trailer) w.bytes(tpl.trailer);
  else if (!tpl) F.writeVmdesc(w, JSON.stringify({ page_size: ps, devices: [] }));
}

/**
 * Writes a mapped-ram file at `path` from one image per RAM block. With `rounds`, each round's
 * non-zero changed pages overwrite their slots as QEMU's re-dirtied pages do; the bitmap marks
 * the final non-zero pages, so pages that became zero later leave stale slots behind.
 *
 * @example Write a mapped-ram file, then inspect it
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { inspectStream } from "../report/inspect_stream.ts";
 * import { bytesAccess } from "../wire/random_access.ts";
 * import { emitMappedRam } from "./mapped_ram.ts";
 * const path = await Deno.makeTempFile({ suffix: ".mig" });
 * const ram = new Uint8Array(3 * 4096).fill(1, 4096, 2 * 4096); // only page 1 is non-zero
 * const stats = await emitMappedRam([{ name: "pc.ram", image: bytesAccess(ram) }], path);
 * const input = await openInput(path);
 * const { summary, error } = await inspectStream(input, { vmdesc: input.vmdesc });
 * input.close();
 * await Deno.remove(path);
 * if (error || stats.present !== 1 || summary.ram.blocks[0].mappedRam?.present !== 1) {
 *   throw new Error("one page in its slot, two zero pages as holes");
 * }
 * ```
 */
export async function emitMappedRam(
  ram: MappedBlock[],
  path: string,
  opts: { template?: Template; machine?: string; pageSize?: number; signal?: AbortSignal } = {},
): Promise<MappedRamStats> {
  const tpl = opts.template;
  const ps = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const out = fileAccess(path, { create: true });
  let cursor = 0;
  const w = new ByteWriter((b) => {
    out.write!(b, cursor);
    cursor += b.length;
    return Promise.resolve();
  });
  const stats: MappedRamStats = { present: 0, zero: 0, fileBytes: 0 };
  const pace = pacer(opts.signal);
  try {
    checkImages(ram, tpl, ps);
    const order = tpl
      ? tpl.blocks.map((t) => ram.find((b) => b.name === t.name)).filter((b) => b !== undefined)
      : ram;
    F.writeHeader(w);
    if (tpl?.configuration) w.bytes(tpl.configuration);
    else F.writeConfiguration(w, opts.machine ?? "pc-i440fx-9.2", { capabilities: ["mapped-ram"] });
    for (const e of tpl?.earlyDevices ?? []) w.bytes(e);
    F.writeSectionFull(w, "START", tpl?.ramSectionId ?? 1, "ram", 0, 4);
    const total = order.reduce((a, b) => a + b.image.size, 0);
    w.be64(BigInt(total) | BigInt(RAM_FLAG.MEM_SIZE));
    for (const b of order) {
      w.counted(b.name).be64(b.image.size);
      await w.flush();
      const layout = mappedRamLayout(cursor, b.image.size, ps);
      w.be32(1).be64(ps).be64(layout.bitmapOffset).be64(layout.pagesOffset);
      await w.flush();
      const bitmap = new Uint8Array(layout.bitmapBytes);
      await writeSlots(out, b, layout.pagesOffset, bitmap, ps, stats, pace);
      out.write!(bitmap, layout.bitmapOffset);
      cursor = layout.end;
    }
    writeEnd(w, tpl, ps);
    await w.flush();
    out.truncate!(cursor);
    stats.fileBytes = cursor;
    return stats;
  } finally {
    out.close();
  }
}
