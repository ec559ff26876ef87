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

/** A page packet's fields the table shows. */
export interface PacketFields {
  offset: number;
  packetNum: number;
  sync: boolean;
  block: string;
  normalPages: number;
  zeroPages: number;
  /** Page offsets within the block: the normal pages', then the zero pages'. */
  offsets: number[];
}

/**
 * One row of the packet table; OFFSETS is the range (lowest…highest) of the page offsets,
 * normal and zero pages alike.
 *
 * @example
 * ```ts
 * import { packetRow } from "./channel_text.ts";
 * const row = packetRow({
 *   offset: 1408, packetNum: 1, sync: false, block: "pc.ram", normalPages: 3, zeroPages: 2,
 *   offsets: [0x0, 0x1000, 0x5000, 0x2000, 0x3000],
 * });
 * if (row.at(-1) !== "0x0…0x5000") throw new Error(row.join());
 * ```
 */
export function packetRow(p: PacketFields): string[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const o of p.offsets) {
    if (o < lo) lo = o;
    if (o > hi) hi = o;
  }
  return [
    String(p.offset),
    String(p.packetNum),
    p.sync ? "SYNC" : "",
    p.block,
    String(p.normalPages),
    String(p.zeroPages),
    p.offsets.length ? `0x${lo.toString(16)}…0x${hi.toString(16)}` : "",
  ];
}

/**
 * The channel report: header line, packet table (`hidden`: packets left out of it, said in
 * a line under it), totals.
 */
export function channelText(
  name: string,
  s: ChannelSummary,
  rows: string[][],
  opts: TableOptions = {},
  hidden = 0,
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
    (hidden
      ? `… ${plural(hidden, "more packet")} not shown (every SYNC packet is; --records shows all)\n`
      : "") +
    `\n${fitLine(totals, opts.width, 2)}\n`
  );
}
