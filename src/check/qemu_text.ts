/**
 * Reading what QEMU prints: `--version`, `-M help` (machine types and aliases) and HMP
 * `info ramblock` (block names with used and maximum sizes).
 * @module
 */
import type { DestRamBlock } from "./types.ts";

/** The `x.y.z` of `qemu --version`'s first line, or undefined. */
export function parseQemuVersion(text: string): string | undefined {
  return /version (\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1];
}

/** Machine types `-M help` lists, and the aliases (`pc` → `pc-i440fx-7.2`). */
export interface MachineList {
  names: string[];
  aliases: Map<string, string>;
}

/**
 * Parses `-M help`.
 *
 * @example
 * ```ts
 * import { parseMachineHelp } from "./qemu_text.ts";
 * const m = parseMachineHelp(`Supported machines are:
 * pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)
 * pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)
 * none                 empty machine`);
 * if (m.names.length !== 3 || m.aliases.get("pc") !== "pc-i440fx-7.2") throw new Error("list");
 * ```
 */
export function parseMachineHelp(text: string): MachineList {
  const names: string[] = [];
  const aliases = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m || line.startsWith("Supported machines")) continue;
    names.push(m[1]);
    const alias = /\(alias of (\S+?)\)/.exec(m[2]);
    if (alias) aliases.set(m[1], alias[1]);
  }
  return { names, aliases };
}

/**
 * Parses HMP `info ramblock`: one row per block, `Used` and `Total` in hex.
 *
 * @example
 * ```ts
 * import { parseRamblocks } from "./qemu_text.ts";
 * const b = parseRamblocks(`              Block Name    PSize              Offset               Used              Total
 *                   pc.ram    4 KiB  0x0000000000000000 0x0000000004000000 0x0000000004000000
 *     /rom@etc/acpi/tables    4 KiB  0x0000000004080000 0x0000000000020000 0x0000000000200000`);
 * if (b[1].name !== "/rom@etc/acpi/tables" || b[1].used !== 0x20000 || b[1].max !== 0x200000) {
 *   throw new Error("blocks");
 * }
 * ```
 */
export function parseRamblocks(text: string): DestRamBlock[] {
  const out: DestRamBlock[] = [];
  const row = /^\s*(\S+)\s+\d+\s*\S*B\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/i;
  for (const line of text.split(/\r?\n/)) {
    const m = row.exec(line);
    if (m) out.push({ name: m[1], used: parseInt(m[2], 16), max: parseInt(m[3], 16) });
  }
  return out;
}
