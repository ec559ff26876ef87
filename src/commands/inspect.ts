/**
 * `inspect`: a stream in, a timeline and summary out (text, JSON or NDJSON).
 * @module
 */
import { countSet, readBitmap } from "../parse/mapped_ram.ts";
import { parseStream } from "../parse/stream.ts";
import { ramFlagNames } from "../protocol/constants.ts";
import { oneLine, StreamError } from "../protocol/errors.ts";
import type { FieldValue, MigRecord } from "../protocol/records.ts";
import { recordToJson, stringifyJson } from "../report/json.ts";
import { Summarizer, type Summary, type TimelineRow } from "../report/summary.ts";
import { formatBytes, hexOffset, renderTable } from "../report/table.ts";
import type { TextOut } from "./io.ts";
import { openWithVmdesc } from "./open.ts";
import { inspectChannel, isMultifdChannel } from "./inspect_channel.ts";

/** Options of `inspect`. */
export interface InspectOptions {
  input: string | ReadableStream<Uint8Array>;
  format: "text" | "json" | "ndjson";
  /** Flag-level rows (one per RAM/block record). */
  records: boolean;
  /** Print decoded device state as JSON instead of the report. */
  deviceState: boolean;
  /** vmdesc JSON or another capture, for streams without a trailer. */
  vmdesc?: string;
  footers?: "auto" | "on" | "off";
  hugePageBlocks?: string[];
  onListen?: (port: number) => void;
}

/** Result of a command: exit code and, on failure, the one-line message for stderr. */
export interface CommandResult {
  code: number;
  error?: string;
}

function num(n: number | undefined): string {
  return n === undefined ? "" : String(n);
}

function timelineTable(rows: TimelineRow[]): string {
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

/** Renders the summary as text. */
export function summaryText(s: Summary): string {
  const out: string[] = [];
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
  return out.join("\n") + "\n";
}

function recordRow(rec: MigRecord): string | undefined {
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

/** Runs `inspect`, writing the report to `out`. Never throws for bad input. */
export async function runInspect(opts: InspectOptions, out: TextOut): Promise<CommandResult> {
  const o = await openWithVmdesc(opts.input, opts.vmdesc, { onListen: opts.onListen });
  if (!o.ok) return { code: 2, error: o.error };
  const opened = o.input;
  const vmdesc = o.vmdesc;
  if (await isMultifdChannel(opened)) {
    return await inspectChannel(opened, opts.format, opts.records, out);
  }
  const sum = new Summarizer();
  const devices: {
    name: string;
    instance: number;
    version: number;
    fields?: { [k: string]: FieldValue };
  }[] = [];
  let error: string | undefined;
  let errorOffset: number | undefined;
  const text = opts.format === "text" && !opts.deviceState;
  try {
    if (text) await out.write(`migscope inspect ${opened.name}${opened.gzip ? " (gzip)" : ""}\n\n`);
    for await (
      const rec of parseStream(opened.reader, {
        vmdesc,
        decodeDevices: opts.deviceState,
        footers: opts.footers,
        hugePageBlocks: opts.hugePageBlocks,
        payloads: false,
      })
    ) {
      sum.add(rec);
      if (opts.format === "ndjson" && !opts.deviceState) {
        await out.write(stringifyJson(recordToJson(rec)) + "\n");
      } else if (text && opts.records) {
        const row = recordRow(rec);
        if (row) await out.write(row + "\n");
      }
      if (rec.kind === "device" && opts.deviceState) {
        devices.push({
          name: rec.idstr,
          instance: rec.instanceId,
          version: rec.version,
          fields: rec.fields,
        });
      }
    }
  } catch (e) {
    if (e instanceof StreamError) {
      error = e.message;
      errorOffset = e.offset;
    } else {
      error = `${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
    }
  }
  const summary = sum.finish();
  // mapped-ram: count each block's bitmap with positional reads (the holes are never read).
  const readAt = opened.reader.source.readAt;
  for (const b of summary.ram.blocks) {
    const m = b.mappedRam;
    if (!m || (m.bitmapOffset === 0 && m.pagesOffset === 0)) continue;
    if (!readAt) {
      error ??=
        `'${b.name}' uses mapped-ram: its bitmap can only be read from a seekable, uncompressed file`;
      break;
    }
    try {
      const pages = b.size / summary.stream.pageSize;
      const bm = await readBitmap(readAt, {
        name: b.name,
        size: b.size,
        mappedRam: { ...m, version: 1, pageSize: summary.stream.pageSize },
      }, summary.stream.pageSize);
      const present = countSet(bm, pages);
      m.present = present;
      m.zero = pages - present;
    } catch (e) {
      error ??= (e as Error).message;
    }
  }
  opened.close();
  if (opts.deviceState) {
    await out.write(stringifyJson({ devices, ...(error ? { error } : {}) }, 2) + "\n");
  } else if (opts.format === "json") {
    await out.write(
      stringifyJson({
        summary,
        timeline: sum.timeline,
        ...(error ? { error: { message: error, offset: errorOffset } } : {}),
      }, 2) +
        "\n",
    );
  } else if (opts.format === "ndjson") {
    await out.write(
      stringifyJson({ kind: "summary", ...summary, ...(error ? { error } : {}) }) + "\n",
    );
  } else {
    if (opts.records) await out.write("\n");
    await out.write("Timeline\n" + timelineTable(sum.timeline) + "\n");
    await out.write(summaryText(summary));
    if (error) await out.write(`\nstopped: ${error}\n`);
  }
  await out.flush();
  return error ? { code: 2, error: oneLine(error) } : { code: 0 };
}
