/**
 * A multifd channel capture as text: its initial packet and page packets.
 * @module
 */
import { fitLine, plural, renderTable, type TableOptions } from "./table.ts";

/** Summary of a multifd channel. */
export interface ChannelSummary {
  id?: number;
  uuid?: string;
  packets: number;
  syncs: number;
  normalPages: number;
  zeroPages: number;
  bytes: number;
  blocks: Record<string, number>;
}

/** The channel report: header line, packet table, totals. */
export function channelText(
  name: string,
  s: ChannelSummary,
  rows: string[][],
  opts: TableOptions = {},
): string {
  const blocks = Object.entries(s.blocks).map(([b, n]) => `${b} ${n}`).join(", ") || "none";
  const totals = `${plural(s.packets, "packet")} (${s.syncs} SYNC), ` +
    `${plural(s.normalPages, "normal page")}, ${plural(s.zeroPages, "zero page")}, ` +
    `${plural(s.bytes, "byte")}; pages per block: ${blocks}`;
  return (
    `multifd channel ${name}: id ${s.id ?? "?"}, source UUID ${s.uuid ?? "?"}\n\n` +
    renderTable(
      [
        { header: "OFFSET", align: "right" },
        { header: "PACKET", align: "right" },
        { header: "FLAGS" },
        { header: "BLOCK" },
        { header: "NORMAL", align: "right" },
        { header: "ZERO", align: "right" },
        { header: "OFFSETS" },
      ],
      rows,
      opts,
    ) +
    `\n${fitLine(totals, opts.width, 2)}\n`
  );
}
