/**
 * The multifd channels in the final report of `migscope tap`: each channel's packets, SYNCs,
 * normal and zero pages, payload bytes and compression as its live parse counted them, and
 * where that parse stopped if it did.
 * @module
 */
import type { TapState } from "./tap_state.ts";
import { renderTable } from "./table.ts";
import { stopText } from "./tap_stop.ts";

/**
 * The "Multifd channels" table (with a blank line after it), or nothing when no multifd channel
 * was counted.
 */
export function finalChannels(s: TapState, width?: number): string[] {
  const chans = s.connections.filter((c) => c.multifd || c.channelError);
  if (!chans.length) return [];
  const right = (header: string) => ({ header, align: "right" as const });
  return [
    "Multifd channels (pages counted from the packet headers)\n" + renderTable(
      [
        right("#"),
        right("ID"),
        right("PACKETS"),
        right("SYNCS"),
        right("NORMAL"),
        right("ZERO"),
        right("PAYLOAD BYTES"),
        { header: "COMPRESSION" },
        { header: "DEVICE STATE", align: "right", hideWhenEmpty: true },
        { header: "PARSE STOPPED", hideWhenEmpty: true },
      ],
      chans.map((c) => {
        const m = c.multifd;
        const e = c.channelError;
        return [
          String(c.n),
          c.channelId === undefined ? "" : String(c.channelId),
          String(m?.packets ?? 0),
          String(m?.syncs ?? 0),
          String(m?.normalPages ?? 0),
          String(m?.zeroPages ?? 0),
          String(m?.payloadBytes ?? 0),
          m?.compression ?? "",
          String(m?.deviceState ?? 0),
          e ? stopText(e) : "",
        ];
      }),
      { width },
    ),
  ];
}
