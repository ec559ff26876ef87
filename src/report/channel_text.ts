/**
 * A multifd channel capture as text: its initial packet and page packets.
 * @module
 */
import type { PreemptSummary } from "./channel_summary.ts";
import { fitLine, plural, renderTable, type TableOptions } from "./table.ts";

/** Device state a channel carried for one device instance. */
export interface ChannelDeviceState {
  idstr: string;
  instanceId: number;
  packets: number;
  bytes: number;
}

/** Summary of a multifd channel. */
export interface ChannelSummary {
  id?: number;
  uuid?: string;
  /** The compression method of its page packets ("none"), unset when it has none. */
  compression?: string;
  packets: number;
  syncs: number;
  normalPages: number;
  zeroPages: number;
  /** Payload bytes of the page packets on the wire (compressed or not). */
  payloadBytes: number;
  /** Bytes of the normal pages once decoded. */
  pageBytes: number;
  bytes: number;
  blocks: Record<string, number>;
  deviceState: ChannelDeviceState[];
}

/** A page packet's fields the table shows. */
export interface PacketFields {
  offset: number;
  packetNum: number;
  sync: boolean;
  /** "none" or the method's name. */
  compression: string;
  block: string;
  normalPages: number;
  zeroPages: number;
  payloadBytes: number;
  /** Page offsets within the block: the normal pages', then the zero pages'. */
  offsets: number[];
}

/** A device-state packet's fields the table shows. */
export interface DeviceStateFields {
  offset: number;
  idstr: string;
  instanceId: number;
  size: number;
  sha256: string;
}

/**
 * One row of the packet table; OFFSETS is the range (lowest…highest) of the page offsets,
 * normal and zero pages alike.
 *
 * @example
 * ```ts
 * import { packetRow } from "./channel_text.ts";
 * const row = packetRow({
 *   offset: 1408, packetNum: 1, sync: false, compression: "zlib", block: "pc.ram",
 *   normalPages: 3, zeroPages: 2, payloadBytes: 900, offsets: [0x0, 0x1000, 0x5000, 0x2000, 0x3000],
 * });
 * if (row[2] !== "ZLIB" || row[6] !== "900") throw new Error(row.join());
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
    [p.sync ? "SYNC" : "", p.compression === "none" ? "" : p.compression.toUpperCase()]
      .filter((x) => x).join(" "),
    p.block,
    String(p.normalPages),
    String(p.zeroPages),
    String(p.payloadBytes),
    p.offsets.length ? `0x${lo.toString(16)}…0x${hi.toString(16)}` : "",
  ];
}

/** One row of the packet table for a device-state packet (its payload is opaque). */
export function deviceStateRow(p: DeviceStateFields): string[] {
  return [
    String(p.offset),
    "",
    "DEVICE",
    `${p.idstr} #${p.instanceId}`,
    "",
    "",
    String(p.size),
    `sha256 ${p.sha256.slice(0, 16)}…`,
  ];
}

/** The totals under the table. */
function totalsLine(s: ChannelSummary): string {
  const blocks = Object.entries(s.blocks).map(([b, n]) => `${b} ${n}`).join(", ") || "none";
  let line = `${plural(s.packets, "packet")} (${s.syncs} SYNC), ` +
    `${plural(s.normalPages, "normal page")}, ${plural(s.zeroPages, "zero page")}, ` +
    `${plural(s.bytes, "byte")}; pages per block: ${blocks}`;
  if (s.compression && s.compression !== "none") {
    const ratio = s.payloadBytes ? (s.pageBytes / s.payloadBytes).toFixed(2) : "-";
    line += `; ${s.compression}: ${plural(s.payloadBytes, "byte")} of payload for ` +
      `${s.pageBytes} bytes of pages (ratio ${ratio})`;
  }
  for (const d of s.deviceState) {
    line += `; device state ${d.idstr} #${d.instanceId}: ${plural(d.packets, "packet")}, ` +
      plural(d.bytes, "byte");
  }
  return line;
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
  const method = s.compression ? `, compression ${s.compression}` : "";
  return (
    `multifd channel ${name}: id ${s.id ?? "?"}, source UUID ${s.uuid ?? "?"}${method}\n\n` +
    renderTable(
      [
        { header: "OFFSET", align: "right" },
        { header: "PACKET", align: "right" },
        { header: "FLAGS" },
        { header: "BLOCK" },
        { header: "NORMAL", align: "right" },
        { header: "ZERO", align: "right" },
        { header: "PAYLOAD", align: "right" },
        { header: "OFFSETS" },
      ],
      rows,
      opts,
    ) +
    (hidden
      ? `… ${plural(hidden, "more packet")} not shown (every SYNC packet is; --records shows all)\n`
      : "") +
    `\n${fitLine(totalsLine(s), opts.width, 2)}\n`
  );
}

/** One extra connection of a migration, as `inspect MAIN --channel FILE` read it. */
export interface ChannelReport {
  file: string;
  kind: "multifd" | "preempt";
  multifd?: ChannelSummary;
  preempt?: PreemptSummary;
}

function channelRow(c: ChannelReport, n: number): string[] {
  const m = c.multifd;
  if (m) {
    const ratio = m.payloadBytes && m.compression && m.compression !== "none"
      ? (m.pageBytes / m.payloadBytes).toFixed(2)
      : "";
    return [
      String(n),
      m.compression && m.compression !== "none" ? `multifd ${m.compression}` : "multifd",
      String(m.id ?? "?"),
      String(m.packets),
      String(m.syncs),
      String(m.normalPages),
      String(m.zeroPages),
      String(m.bytes),
      ratio,
      c.file,
    ];
  }
  const p = c.preempt!;
  return [
    String(n),
    "preempt",
    "",
    "",
    String(p.eos),
    String(p.page),
    String(p.zero),
    String(
      p.bytes,
    ),
    "",
    c.file,
  ];
}

/**
 * The connections table under the main stream's report (`main`: its normal and zero pages),
 * with the pages of all connections added up, as query-migrate counts them.
 *
 * @example
 * ```ts
 * import { channelsText } from "./channel_text.ts";
 * const text = channelsText([{ file: "c1", kind: "preempt", preempt: {
 *   page: 2, zero: 1, eos: 1, bytes: 8300, blocks: { "pc.ram": 3 } } }], { page: 10, zero: 5 });
 * if (!text.includes("all connections: 12 normal pages, 6 zero pages")) throw new Error(text);
 * ```
 */
export function channelsText(
  reports: ChannelReport[],
  main: { page: number; zero: number },
  opts: TableOptions = {},
): string {
  let page = 0, zero = 0;
  for (const c of reports) {
    page += c.multifd?.normalPages ?? c.preempt?.page ?? 0;
    zero += c.multifd?.zeroPages ?? c.preempt?.zero ?? 0;
  }
  const totals = `all connections: ${plural(main.page + page, "normal page")}, ` +
    `${plural(main.zero + zero, "zero page")} (main stream ${main.page} + ${main.zero}, ` +
    `channels ${page} + ${zero})`;
  return "Channels\n" + renderTable(
    [
      { header: "#", align: "right" },
      { header: "KIND" },
      { header: "ID", align: "right" },
      { header: "PACKETS", align: "right" },
      { header: "SYNC/EOS", align: "right" },
      { header: "NORMAL", align: "right" },
      { header: "ZERO", align: "right" },
      { header: "BYTES", align: "right" },
      { header: "RATIO", align: "right" },
      { header: "FILE" },
    ],
    reports.map(channelRow),
    opts,
  ) + `\n${fitLine(totals, opts.width, 2)}\n`;
}
