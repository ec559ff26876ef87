/**
 * The `ram` section's MEM_SIZE list against the destination's RAM blocks, in list order as
 * QEMU's loader takes it: a name it lacks ("Unknown ramblock"), a size it cannot take ("Size
 * mismatch", or "Size too large" for a resizeable block). Each finding says where the size
 * comes from — the command line (-m, a device's options) or the QEMU installation — so a
 * mismatch that a destination's command line would fix is told from a version difference.
 * @module
 */
import { printable } from "../protocol/errors.ts";
import { formatBytes } from "../report/table.ts";
import {
  type DestinationFacts,
  type DestRamBlock,
  type Finding,
  finding,
  type StreamRamBlock,
} from "./types.ts";

/** The block whose size `-m` sets: `pc.ram` on x86, else the largest block. */
export function mainBlock(blocks: { name: string; size: number }[]): string | undefined {
  if (blocks.some((b) => b.name === "pc.ram")) return "pc.ram";
  let best: { name: string; size: number } | undefined;
  for (const b of blocks) if (!best || b.size > best.size) best = b;
  return best?.name;
}

/** `-m` for `bytes` of RAM, in the largest unit that divides it. */
export function memoryOption(bytes: number): string {
  for (const [unit, shift] of [["G", 30], ["M", 20], ["K", 10]] as const) {
    if (bytes % 2 ** shift === 0) return `${bytes / 2 ** shift}${unit}`;
  }
  return `${bytes}`;
}

/** The device path of a device's block (`0000:00:02.0/vga.vram` → `0000:00:02.0`). */
export function devicePath(name: string): string | undefined {
  const slash = name.lastIndexOf("/");
  return slash > 0 && !name.startsWith("/") ? name.slice(0, slash) : undefined;
}

/** Where a block's size comes from, as a hint. */
export function sizeSource(name: string, size: number, main: string | undefined): string {
  if (name === main) {
    return `its size is the destination's -m (command line): start it with -m ${
      memoryOption(size)
    }`;
  }
  const dev = devicePath(name);
  if (dev) {
    const what = name.endsWith("vga.vram")
      ? "vgamem_mb"
      : name.endsWith(".rom")
      ? "its ROM file"
      : "its properties";
    return `belongs to device ${
      printable(dev)
    }: the command line sets it (${what}), not only the QEMU version`;
  }
  if (name.startsWith("/rom@")) return "a firmware table the destination builds itself";
  if (name === "pc.bios" || name === "isa-bios" || name === "pc.rom") {
    return "comes from the destination's firmware files (-bios, -L: its installation or version)";
  }
  return "may come from the command line (a memory backend or a device) rather than the version";
}

function resizeable(b: DestRamBlock): boolean {
  return b.name.startsWith("/rom@") || b.max > b.used;
}

const hex = (n: number) => `0x${n.toString(16)}`;

function blockFinding(
  b: StreamRamBlock,
  d: DestinationFacts,
  main: string | undefined,
): Finding | undefined {
  const at = { section: "ram", instance: 0, offset: b.offset };
  const name = printable(b.name);
  const have = d.ramBlocks!.find((x) => x.name === b.name);
  const hint = sizeSource(b.name, b.size, main);
  if (!have) {
    const dev = devicePath(b.name);
    const fromCommandLine = dev !== undefined && d.assumeDevices &&
      !d.registry?.some((r) => r.idstr.startsWith(dev + "/"));
    if (fromCommandLine) {
      return finding(
        "ramblock-assumed",
        at,
        `'${name}' (${formatBytes(b.size)}): its device is not created by -M ${
          printable(d.machine)
        } -nodefaults, so its size is not checked`,
        hint,
      );
    }
    return finding(
      "ramblock-unknown",
      at,
      `Unknown ramblock "${name}", cannot accept migration`,
      hint,
    );
  }
  if (have.used === b.size) return undefined;
  if (resizeable(have)) {
    return b.size <= have.max
      ? finding(
        "ramblock-resized",
        at,
        `'${name}' is resized from ${hex(have.used)} to ${hex(b.size)} (max ${hex(have.max)})`,
      )
      : finding(
        "ramblock-too-large",
        at,
        `Size too large: ${name}: ${hex(b.size)} > ${hex(have.max)}`,
        hint,
      );
  }
  return finding(
    "ramblock-size",
    at,
    `Size mismatch: ${name}: ${hex(b.size)} != ${hex(have.used)}`,
    hint,
  );
}

/** The findings of one MEM_SIZE list, in its order (none without the destination's blocks). */
export function ramBlockFindings(blocks: StreamRamBlock[], d: DestinationFacts): Finding[] {
  if (!d.ramBlocks) return [];
  const main = mainBlock(blocks);
  return blocks.map((b) => blockFinding(b, d, main)).filter((f) => f !== undefined);
}
