/**
 * The RAM blocks aspect of `diff`: the blocks each stream's MEM_SIZE record announces, matched
 * by name — added, removed, resized.
 * @module
 */
import type { Summary } from "../report/summary.ts";
import type { BlockRef, RamBlocksDiff } from "./types.ts";

/**
 * Compares the RAM block tables of two summaries.
 *
 * @example
 * ```ts
 * import { emptySummary } from "../report/summary.ts";
 * import { compareRamBlocks } from "./ram_blocks.ts";
 * const block = (name: string, size: number) =>
 *   ({ name, size, page: 0, zero: 0, xbzrle: 0, compressed: 0 });
 * const a = emptySummary();
 * const b = emptySummary();
 * a.ram.blocks.push(block("pc.ram", 64 << 20), block("pc.bios", 256 << 10));
 * b.ram.blocks.push(block("pc.ram", 128 << 20), block("vga.vram", 16 << 20));
 * const d = compareRamBlocks(a, b);
 * if (d.added[0].name !== "vga.vram" || d.removed[0].name !== "pc.bios") throw new Error("names");
 * if (d.resized[0].b !== 128 << 20) throw new Error("pc.ram grew");
 * ```
 */
export function compareRamBlocks(a: Summary, b: Summary): RamBlocksDiff {
  const refs = (s: Summary): BlockRef[] => s.ram.blocks.map(({ name, size }) => ({ name, size }));
  const inA = new Map(refs(a).map((r) => [r.name, r]));
  const inB = new Map(refs(b).map((r) => [r.name, r]));
  const added = [...inB.values()].filter((r) => !inA.has(r.name));
  const removed = [...inA.values()].filter((r) => !inB.has(r.name));
  const resized = [...inA.values()].flatMap((r) => {
    const other = inB.get(r.name);
    return other && other.size !== r.size ? [{ name: r.name, a: r.size, b: other.size }] : [];
  });
  return {
    equal: added.length + removed.length + resized.length === 0,
    countA: inA.size,
    countB: inB.size,
    added,
    removed,
    resized,
  };
}
