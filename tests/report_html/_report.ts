/**
 * Helpers of the report tests: a report made in process into a temporary directory, its
 * embedded data read back from the HTML as a browser's JSON.parse would, and `inspect --json`
 * of the same input from the real CLI (the numbers the report must equal).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { memoryOut } from "../../src/commands/io.ts";
import { type ReportOptions, runReport } from "../../src/commands/report.ts";
import type { ReportData } from "../../src/report/html/data.ts";
import { runCli } from "../_helpers.ts";

/** The CLI, src/cli/main.ts. */
export const MIGSCOPE = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** The data a report page embeds, parsed from its `<script type="application/json">`. */
export function embedded(html: string): ReportData {
  const m = /<script type="application\/json" id="migscope-data">([^<]*)<\/script>/.exec(html);
  assert.ok(m, "the page embeds its data");
  return JSON.parse(m[1]);
}

/** Runs `report` in process into a fresh temporary file; resolves the page and its data. */
export async function makeReport(
  opts: Omit<ReportOptions, "output">,
): Promise<{ html: string; data: ReportData; path: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-report-test-" });
  const path = `${dir}/report.html`;
  const out = memoryOut();
  const res = await runReport({ ...opts, output: path }, out);
  assert.equal(res.error, undefined);
  assert.equal(res.code, 0);
  const html = await Deno.readTextFile(path);
  return { html, data: embedded(html), path, dir };
}

/** `migscope inspect ARGS --json` from the CLI, parsed. */
// deno-lint-ignore no-explicit-any
export async function inspectJson(args: string[]): Promise<any> {
  const r = await runCli(["inspect", ...args, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Runs the report CLI in a subprocess. */
export async function runReportCli(
  args: string[],
  opts: { stdin?: Uint8Array; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MIGSCOPE, "report", ...args],
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    cwd: opts.cwd,
  });
  const child = cmd.spawn();
  if (opts.stdin) {
    const w = child.stdin.getWriter();
    await w.write(opts.stdin).catch(() => {});
    await w.close().catch(() => {});
  }
  const o = await child.output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

/**
 * The report's own numbers checked against inspect's summary `s` (the same JSON) and its
 * timeline: RAM map totals per block and kind, passes, bands and markers.
 */
export function checkAgainstInspect(
  data: ReportData,
  // deno-lint-ignore no-explicit-any
  doc: any,
  channelPages = { page: 0, zero: 0 },
) {
  const s = doc.summary;
  assert.deepEqual(data.summary, s, "the embedded summary is inspect --json's");
  let mapped = { page: 0, zero: 0, xbzrle: 0, compressed: 0 };
  for (const b of data.ram.blocks) {
    const sb = s.ram.blocks.find((x: { name: string }) => x.name === b.name);
    assert.ok(sb, `block ${b.name} is in inspect's summary`);
    assert.equal(b.size, sb.size);
    const tot = {
      page: sum(b.records.page),
      zero: sum(b.records.zero),
      xbzrle: sum(b.records.xbzrle),
      compressed: sum(b.records.compressed),
    };
    if (b.source === "mapped-ram") {
      assert.deepEqual([tot.page, tot.zero], [sb.mappedRam.present, sb.mappedRam.zero], b.name);
    } else {
      mapped = {
        page: mapped.page + tot.page,
        zero: mapped.zero + tot.zero,
        xbzrle: mapped.xbzrle + tot.xbzrle,
        compressed: mapped.compressed + tot.compressed,
      };
    }
    if (b.last) {
      const last = sum(b.last.page) + sum(b.last.zero) + sum(b.last.xbzrle) +
        sum(b.last.compressed);
      assert.equal(last + sum(b.unsent!), b.pages, `${b.name}: every page once, sent or not`);
    }
  }
  if (!data.ram.blocks.some((b) => b.source === "mapped-ram")) {
    assert.deepEqual(mapped, {
      page: s.ram.page + channelPages.page,
      zero: s.ram.zero + channelPages.zero,
      xbzrle: s.ram.xbzrle,
      compressed: s.ram.compressed,
    }, "the map holds every page record of the stream (and channels)");
  }
  assert.equal(data.passes.length, s.passes.length);
  for (const [i, p] of data.passes.entries()) {
    const q = s.passes[i];
    assert.deepEqual(
      [
        p.index,
        p.offset,
        p.pages,
        p.bytes,
        p.kinds.page.pages,
        p.kinds.zero.pages,
        p.kinds.xbzrle.pages,
      ],
      [q.index, q.offset, q.pages, q.bytes, q.page, q.zero, q.xbzrle],
      `pass ${q.index}`,
    );
    assert.equal(sum(Object.values(p.kinds).map((k) => k.bytes)), q.bytes);
    assert.ok(p.resent <= p.pages && (i > 0 || p.resent === 0), `pass ${q.index} re-sent`);
  }
  const t = data.timeline;
  const rows = doc.timeline;
  assert.equal(t.rows, rows.length);
  const markerRows = rows.filter((r: { kind: string }) => r.kind === "COMMAND" || r.kind === "EOF");
  assert.equal(t.markers.length, markerRows.length);
  assert.equal(sum(t.bands.map((b) => b.rows)), rows.length - markerRows.length);
  const bandRows = rows.filter((r: { kind: string }) => r.kind !== "COMMAND" && r.kind !== "EOF");
  assert.equal(
    sum(t.bands.map((b) => b.bytes)),
    sum(bandRows.map((r: { bytes: number }) => r.bytes)),
  );
  assert.equal(sum(t.bands.map((b) => b.page)), s.ram.page);
  assert.equal(sum(t.bands.map((b) => b.zero)), s.ram.zero);
}
