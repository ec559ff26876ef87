/**
 * A multifd channel capture as text: its initial packet and page packets.
 * @module
 */
import { renderTable } from "./table.ts";

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
export function channelText(name: string, s: ChannelSummary, rows: string[][]): string {
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
    ) +
    `\n${s.packets} packets (${s.syncs} SYNC), ${s.normalPages} normal pages, ${s.zeroPages} zero pages, ${s.bytes} bytes; ` +
    `pages per block: ${
      Object.entries(s.blocks).map(([b, n]) => `${b} ${n}`).join(", ") || "none"
    }\n`
  );
}
