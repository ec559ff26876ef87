/**
 * inspect as text: the section timeline and the summary (`--records` rows: records_text.ts).
 * @module
 */
import type { Summary } from "./summary_types.ts";
import {
  fitLine,
  formatBytes,
  hexOffset,
  plural,
  renderTable,
  type TableOptions,
} from "./table.ts";

export { liveTimelineHeader, liveTimelineRow, timelineTable } from "./timeline_text.ts";

function num(n: number | undefined): string {
  return n === undefined ? "" : String(n);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** A summary line `  key          value`, wrapped under the value at `width`. */
function kv(key: string, value: string, width?: number): string {
  return fitLine(`  ${key.padEnd(13)}${value}`, width, 15);
}

/** The header lines of the summary: stream, machine, RAM records, XBZRLE. */
function summaryHead(s: Summary, out: string[], width?: number): void {
  const r = s.ram;
  const c = s.configuration;
  out.push("Summary");
  out.push(kv(
    "stream",
    `${s.stream.bytes} bytes (${formatBytes(s.stream.bytes)}), QEVM v${s.stream.version ?? "?"}, ` +
      `footers ${s.stream.footers ? "on" : "off"}, target page ${s.stream.pageSize}`,
    width,
  ));
  const caps = c.capabilities.length ? `, capabilities: ${c.capabilities.join(", ")}` : "";
  out.push(kv(
    "machine",
    c.machine !== undefined
      ? `${c.machine} (configuration at ${c.offset})${caps}`
      : "(no configuration section)",
    width,
  ));
  out.push(kv(
    "RAM records",
    `${r.page} normal, ${r.zero} zero, ${r.xbzrle} XBZRLE, ${r.compressed} compressed; ` +
      `${r.eos} EOS, ${r.memSize} MEM_SIZE` +
      (r.multifdFlush ? `, ${r.multifdFlush} MULTIFD_FLUSH` : "") +
      `; ${r.namedHeaders} named + ${r.continueHeaders} CONTINUE headers; ` +
      `${formatBytes(r.totalBytes)} of page records`,
    width,
  ));
  if (r.zeroNonZeroFill) {
    const n = r.zeroNonZeroFill;
    out.push(kv(
      "warning",
      `${plural(n, "ZERO record has", "ZERO records have")} a non-zero fill byte ` +
        `(QEMU ≥ 8.2 rejects ${n === 1 ? "it" : "them"})`,
      width,
    ));
  }
  if (r.xbzrle) {
    out.push(kv(
      "XBZRLE",
      `${plural(r.xbzrle, "record")}, ${r.xbzrleBytes} encoded bytes (${r.xbzrleRecordBytes} ` +
        `with headers) instead of ${r.xbzrle * s.stream.pageSize} for full pages: saving ` +
        pct(r.xbzrleSaving),
      width,
    ));
  }
  out.push("");
}

function ramBlocks(s: Summary, out: string[], width?: number): void {
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
          { header: "XBZRLE", align: "right", hideWhenEmpty: true },
          { header: "COMP", align: "right", hideWhenEmpty: true },
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
        { width },
      ),
    );
  }
}
function passes(s: Summary, out: string[], width?: number): void {
  if (s.passes.length) {
    const postcopy = s.passes.some((p) => p.postcopy)
      ? "; every page after POSTCOPY_RUN is one postcopy pass"
      : "";
    out.push(`Dirty passes (a pass ends where page addresses wrap back${postcopy})`);
    out.push(
      renderTable(
        [
          { header: "PASS", align: "right" },
          { header: "FROM", align: "right" },
          { header: "PAGES", align: "right" },
          { header: "NORMAL", align: "right" },
          { header: "ZERO", align: "right" },
          { header: "XBZRLE", align: "right", hideWhenEmpty: true },
          { header: "COMP", align: "right", hideWhenEmpty: true },
          { header: "BYTES", align: "right" },
          { header: "PHASE", hideWhenEmpty: true },
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
          p.postcopy ? "postcopy" : "",
        ]),
        { width },
      ),
    );
  }
}
function mappedRam(s: Summary, out: string[], width?: number): void {
  const r = s.ram;
  const mapped = r.blocks.filter((b) => b.mappedRam);
  if (mapped.length) {
    out.push("mapped-ram (pages at fixed offsets; a clear bit means a zero page)");
    const table = renderTable(
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
          m.skipped ? "skipped" : num(m.present),
          m.skipped ? "-" : num(m.zero),
        ];
      }),
      { width },
    );
    if (!mapped.some((b) => b.mappedRam!.skipped)) out.push(table);
    else {
      out.push(
        table + fitLine(
          "skipped: a shared block under x-ignore-shared (offsets 0/0); the file holds none of " +
            "its pages, the destination keeps its own memory",
          width,
          2,
        ) + "\n",
      );
    }
  }
}
function blockMigration(s: Summary, out: string[], width?: number): void {
  const b = s.block;
  if (b.data || b.zero || b.progress) {
    out.push(fitLine(
      `Block migration: ${plural(b.data, "data chunk")}, ${plural(b.zero, "zero chunk")}, ` +
        `${b.progress} PROGRESS (last ${b.lastPercent ?? "-"}%), ${b.eos} EOS`,
      width,
      2,
    ));
    out.push(
      renderTable(
        [
          { header: "DEVICE" },
          { header: "DATA", align: "right" },
          { header: "ZERO", align: "right" },
          { header: "EXTENT", align: "right" },
        ],
        b.devices.map((d) => [
          d.name,
          String(d.data),
          String(d.zero),
          `${d.extent} (${formatBytes(d.extent)})`,
        ]),
        { width },
      ),
    );
  }
}
function commands(s: Summary, out: string[], width?: number): void {
  if (s.commands.length) {
    out.push("Commands");
    out.push(
      renderTable(
        [{ header: "OFFSET", align: "right" }, { header: "COMMAND" }, { header: "DETAIL" }],
        s.commands.map((
          c,
        ) => [String(c.offset), (c.depth ? "  ".repeat(c.depth) : "") + c.name, c.detail ?? ""]),
        { width },
      ),
    );
  }
}
function devices(s: Summary, out: string[], width?: number): void {
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
        { width },
      ),
    );
  }
}
function ending(s: Summary, out: string[], width?: number): void {
  if (s.eof) out.push(`EOF at ${s.eof.offset}`);
  const t = s.trailer;
  if (t) {
    out.push(fitLine(
      `VMDESCRIPTION at ${t.offset}: ${t.bytes} bytes (JSON ${t.jsonLength}), ` +
        `${plural(t.devices, "device")}${t.hasConfiguration ? ", with configuration" : ""}`,
      width,
      2,
    ));
  } else if (s.eof) out.push("no VMDESCRIPTION trailer");
  if (s.trailing) {
    out.push(fitLine(
      `warning: ${s.trailing.bytes} bytes after EOF at ${s.trailing.offset} are not a ` +
        "VMDESCRIPTION trailer",
      width,
      2,
    ));
  }
}
/**
 * Renders the summary as text; with `width` (a terminal's), long lines are wrapped to it.
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
 * if (summaryText(summary, { width: 60 }).split("\n").some((l) => l.length > 60)) {
 *   throw new Error("fits 60 columns");
 * }
 * ```
 */
export function summaryText(s: Summary, opts: TableOptions = {}): string {
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
    part(s, out, opts.width);
  }
  return out.join("\n") + "\n";
}
