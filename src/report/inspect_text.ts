/**
 * inspect as text: the section timeline, the summary, and one row per record (`--records`).
 * @module
 */
import { ramFlagNames } from "../protocol/constants.ts";
import type { MigRecord } from "../protocol/records.ts";
import type { Summary, TimelineRow } from "./summary_types.ts";
import { formatBytes, hexOffset, renderTable } from "./table.ts";

function num(n: number | undefined): string {
  return n === undefined ? "" : String(n);
}

/**
 * The timeline as a table.
 *
 * @example
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { inspectStream } from "./inspect_stream.ts";
 * import { timelineTable } from "./inspect_text.ts";
 * const input = await openInput("samples/small-block.mig");
 * const { timeline } = await inspectStream(input, { vmdesc: input.vmdesc });
 * input.close();
 * const lines = timelineTable(timeline).trimEnd().split("\n");
 * if (!lines[0].includes("OFFSET") || lines.length !== timeline.length + 2) {
 *   throw new Error("a header line, a rule, then one line per row");
 * }
 * ```
 */
export function timelineTable(rows: TimelineRow[]): string {
  return renderTable(
    [
      { header: "OFFSET", align: "right" },
      { header: "HEX", align: "right" },
      { header: "KIND" },
      { header: "ID", align: "right" },
      { header: "NAME" },
      { header: "INST", align: "right" },
      { header: "VER", align: "right" },
      { header: "BYTES", align: "right" },
      { header: "PAGE", align: "right" },
      { header: "ZERO", align: "right" },
      { header: "XBZRLE", align: "right" },
      { header: "COMP", align: "right" },
      { header: "BLK", align: "right" },
      { header: "BLK0", align: "right" },
      { header: "NOTE" },
    ],
    rows.map((r) => {
      const blank = (n: number) => (n ? String(n) : "");
      return [
        String(r.offset),
        hexOffset(r.offset),
        (r.depth ? "  ".repeat(r.depth) + "└ " : "") + r.kind,
        num(r.sectionId),
        r.name ?? "",
        num(r.instance),
        num(r.version),
        String(r.bytes),
        blank(r.page),
        blank(r.zero),
        blank(r.xbzrle),
        blank(r.compressed),
        blank(r.blockData),
        blank(r.blockZero),
        r.note ?? "",
      ];
    }),
  );
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** The header lines of the summary: stream, machine, RAM records, XBZRLE. */
function summaryHead(s: Summary, out: string[]): void {
  const r = s.ram;
  out.push("Summary");
  out.push(
    `  stream       ${s.stream.bytes} bytes (${formatBytes(s.stream.bytes)}), QEVM v${
      s.stream.version ?? "?"
    }, ` +
      `footers ${s.stream.footers ? "on" : "off"}, target page ${s.stream.pageSize}`,
  );
  if (s.configuration.machine !== undefined) {
    out.push(
      `  machine      ${s.configuration.machine} (configuration at ${s.configuration.offset})` +
        (s.configuration.capabilities.length
          ? `, capabilities: ${s.configuration.capabilities.join(", ")}`
          : ""),
    );
  } else out.push("  machine      (no configuration section)");
  out.push(
    `  RAM records  ${r.page} normal, ${r.zero} zero, ${r.xbzrle} XBZRLE, ${r.compressed} compressed; ` +
      `${r.eos} EOS, ${r.memSize} MEM_SIZE` +
      (r.multifdFlush ? `, ${r.multifdFlush} MULTIFD_FLUSH` : "") +
      `; ${r.namedHeaders} named + ${r.continueHeaders} CONTINUE headers; ${
        formatBytes(r.totalBytes)
      } of page records`,
  );
  if (r.zeroNonZeroFill) {
    out.push(
      `  warning      ${r.zeroNonZeroFill} ZERO records have a non-zero fill byte (QEMU ≥ 8.2 rejects them)`,
    );
  }
  if (r.xbzrle) {
    out.push(
      `  XBZRLE       ${r.xbzrle} records, ${r.xbzrleBytes} encoded bytes (${r.xbzrleRecordBytes} with headers) ` +
        `instead of ${r.xbzrle * s.stream.pageSize} for full pages: saving ${pct(r.xbzrleSaving)}`,
    );
  }
  out.push("");
}

function ramBlocks(s: Summary, out: string[]): void {
  const r = s.ram;
  if (r.blocks.length) {
    out.push("RAM blocks");
    out.push(
      renderTable(
        [
          { header: "BLOCK" },
          { header: "SIZE", align: "right" },
          { header: "PAGES", align: "right" },
          { header: "NORMAL", align: "right" },
          { header: "ZERO", align: "right" },
          { header: "XBZRLE", align: "right" },
          { header: "COMP", align: "right" },
        ],
        r.blocks.map((b) => [
          b.name,
          `${b.size} (${formatBytes(b.size)})`,
          String(b.size / s.stream.pageSize),
          String(b.page),
          String(b.zero),
          String(b.xbzrle),
          String(b.compressed),
        ]),
      ),
    );
  }
}
function passes(s: Summary, out: string[]): void {
  if (s.passes.length) {
    out.push("Dirty passes (a pass ends where page addresses wrap back)");
    out.push(
      renderTable(
        [
          { header: "PASS", align: "right" },
          { header: "FROM", align: "right" },
          { header: "PAGES", align: "right" },
          { header: "NORMAL", align: "right" },
          { header: "ZERO", align: "right" },
          { header: "XBZRLE", align: "right" },
          { header: "COMP", align: "right" },
          { header: "BYTES", align: "right" },
        ],
        s.passes.map((p) => [
          String(p.index),
          String(p.offset),
          String(p.pages),
          String(p.page),
          String(p.zero),
          String(p.xbzrle),
          String(p.compressed),
          String(p.bytes),
        ]),
      ),
    );
  }
}
function mappedRam(s: Summary, out: string[]): void {
  const r = s.ram;
  const mapped = r.blocks.filter((b) => b.mappedRam);
  if (mapped.length) {
    out.push("mapped-ram (pages at fixed offsets; a clear bit means a zero page)");
    out.push(
      renderTable(
        [
          { header: "BLOCK" },
          { header: "HEADER", align: "right" },
          { header: "BITMAP", align: "right" },
          { header: "PAGES AT", align: "right" },
          { header: "PRESENT", align: "right" },
          { header: "ZERO", align: "right" },
        ],
        mapped.map((b) => {
          const m = b.mappedRam!;
          return [
            b.name,
            String(m.headerOffset),
            hexOffset(m.bitmapOffset),
            hexOffset(m.pagesOffset),
            num(m.present),
            num(m.zero),
          ];
        }),
      ),
    );
  }
}
function blockMigration(s: Summary, out: string[]): void {
  const b = s.block;
  if (b.data || b.zero || b.progress) {
    out.push(
      `Block migration: ${b.data} data chunks, ${b.zero} zero chunks, ${b.progress} PROGRESS (last ${
        b.lastPercent ?? "-"
      }%), ${b.eos} EOS`,
    );
    out.push(
      renderTable(
        [{ header: "DEVICE" }, { header: "DATA", align: "right" }, {
          header: "ZERO",
          align: "right",
        }, {
          header: "EXTENT",
          align: "right",
        }],
        b.devices.map((
          d,
        ) => [d.name, String(d.data), String(d.zero), `${d.extent} (${formatBytes(d.extent)})`]),
      ),
    );
  }
}
function commands(s: Summary, out: string[]): void {
  if (s.commands.length) {
    out.push("Commands");
    out.push(
      renderTable(
        [{ header: "OFFSET", align: "right" }, { header: "COMMAND" }, { header: "DETAIL" }],
        s.commands.map((
          c,
        ) => [String(c.offset), (c.depth ? "  ".repeat(c.depth) : "") + c.name, c.detail ?? ""]),
      ),
    );
  }
}
function devices(s: Summary, out: string[]): void {
  if (s.devices.length) {
    const total = s.devices.reduce((a, d) => a + d.size, 0);
    out.push(`Device sections: ${s.devices.length}, ${total} bytes of state`);
    out.push(
      renderTable(
        [
          { header: "OFFSET", align: "right" },
          { header: "DEVICE" },
          { header: "INST", align: "right" },
          { header: "VER", align: "right" },
          { header: "BYTES", align: "right" },
        ],
        s.devices.map((
          d,
        ) => [String(d.offset), d.name, String(d.instance), String(d.version), String(d.size)]),
      ),
    );
  }
}
function ending(s: Summary, out: string[]): void {
  if (s.eof) out.push(`EOF at ${s.eof.offset}`);
  if (s.trailer) {
    out.push(
      `VMDESCRIPTION at ${s.trailer.offset}: ${s.trailer.bytes} bytes (JSON ${s.trailer.jsonLength}), ` +
        `${s.trailer.devices} devices${s.trailer.hasConfiguration ? ", with configuration" : ""}`,
    );
  } else if (s.eof) out.push("no VMDESCRIPTION trailer");
  if (s.trailing) {
    out.push(
      `warning: ${s.trailing.bytes} bytes after EOF at ${s.trailing.offset} are not a VMDESCRIPTION trailer`,
    );
  }
}
/**
 * Renders the summary as text.
 *
 * @example
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { inspectStream } from "./inspect_stream.ts";
 * import { summaryText } from "./inspect_text.ts";
 * const input = await openInput("samples/small-block.mig");
 * const { summary } = await inspectStream(input, { vmdesc: input.vmdesc });
 * input.close();
 * const text = summaryText(summary);
 * if (!text.startsWith("Summary\n") || !text.includes("disk0")) {
 *   throw new Error("the summary names the block-migration device");
 * }
 * ```
 */
export function summaryText(s: Summary): string {
  const out: string[] = [];
  for (
    const part of [
      summaryHead,
      ramBlocks,
      passes,
      mappedRam,
      blockMigration,
      commands,
      devices,
      ending,
    ]
  ) {
    part(s, out);
  }
  return out.join("\n") + "\n";
}

/** One `--records` row, or undefined for records that have none. */
export function recordRow(rec: MigRecord): string | undefined {
  const off = `${String(rec.offset).padStart(12)} ${hexOffset(rec.offset).padStart(10)}`;
  if (rec.kind === "ram") {
    const flags = ramFlagNames(rec.flags);
    let extra = "";
    if (rec.type === "zero") extra = ` fill=${rec.fill}`;
    else if (rec.type === "xbzrle") extra = ` len=${rec.dataLength} covers=${rec.covered}`;
    else if (rec.type === "compressed") extra = ` len=${rec.dataLength}`;
    else if (rec.type === "mem_size") {
      return `${off}  RAM ${flags.padEnd(16)} total=${rec.total} blocks=${
        rec.blocks!.map((b) => `${b.name}:${b.size}`).join(",")
      }`;
    }
    if (rec.type === "eos" || rec.type === "multifd_flush") return `${off}  RAM ${flags}`;
    return `${off}  RAM ${flags.padEnd(16)} ${rec.block} +0x${
      rec.addr.toString(16)
    } pass=${rec.pass}${extra}`;
  }
  if (rec.kind === "block") {
    const names = [];
    if (rec.flags & 1) names.push("DEVICE_BLOCK");
    if (rec.flags & 2) names.push("EOS");
    if (rec.flags & 4) names.push("PROGRESS");
    if (rec.flags & 8) names.push("ZERO_BLOCK");
    const what = rec.type === "progress"
      ? `${rec.percent}%`
      : rec.type === "eos"
      ? ""
      : `${rec.device} sector ${rec.sector} (+0x${(rec.sector * 512).toString(16)})`;
    return `${off}  BLK ${names.join("|").padEnd(16)} ${what}`;
  }
  if (rec.kind === "section") return `${off}  ${rec.type} section ${rec.sectionId} '${rec.idstr}'`;
  if (rec.kind === "device") return `${off}  device body '${rec.idstr}' ${rec.length} bytes`;
  if (rec.kind === "command") return `${off}  COMMAND ${rec.name}`;
  if (rec.kind === "eof") return `${off}  EOF`;
  return undefined;
}
