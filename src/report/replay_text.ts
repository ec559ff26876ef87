/**
 * replay and verify as text: per-target counters, findings, and the verdict per image with the
 * record that last wrote each differing page.
 * @module
 */
import type { ReplayResult } from "../replay/engine.ts";
import type { CompareResult } from "../replay/verify.ts";
import type { TargetStats } from "../replay/slot.ts";
import { formatBytes, hexOffset, plural, renderTable, type TableOptions } from "./table.ts";

/**
 * The replay (and verify) report; with `opts.width` (a terminal's), the last column of its
 * tables wraps to fit.
 */
export function replayText(
  r: ReplayResult,
  compares: CompareResult[],
  allEqual: boolean | undefined,
  opts: TableOptions = {},
): string {
  const out: string[] = [replayedLine(r)];
  targetsTable(r, out, opts);
  findingsText(r, out, opts);
  if (compares.length) verifyText(compares, allEqual, out, opts);
  return out.join("\n") + "\n";
}

/**
 * What was replayed: page records (PAGE, ZERO, XBZRLE, COMPRESS_PAGE, multifd pages) and block
 * chunks, then every record the main stream had (section headers, footers, markers, device
 * state); with channels, which page records came on the main stream and which on channels.
 */
export function replayedLine(r: ReplayResult): string {
  const sum = (list: TargetStats[], f: (s: TargetStats) => number) =>
    list.reduce((a, s) => a + f(s), 0);
  const pages = sum(r.ram, (s) => s.page + s.zero + s.xbzrle + s.compressed);
  const chunks = sum(r.disks, (s) => s.data + s.zeroBlocks);
  const what = r.disks.length
    ? `${plural(pages, "page record")} and ${plural(chunks, "block chunk")}`
    : plural(pages, "page record");
  if (!r.channelPages) return `Replayed ${what} (of ${plural(r.records, "record")} in the stream)`;
  return `Replayed ${what} (${pages - r.channelPages} on the main stream, of its ` +
    `${plural(r.records, "record")}; ${r.channelPages} on channels)`;
}

function targetsTable(r: ReplayResult, out: string[], opts: TableOptions) {
  out.push(renderTable(
    [
      { header: "TARGET" },
      { header: "SIZE", align: "right" },
      { header: "PAGE", align: "right" },
      { header: "ZERO", align: "right" },
      { header: "XBZRLE", align: "right", hideWhenEmpty: true },
      { header: "COMP", align: "right", hideWhenEmpty: true },
      { header: "DISCARD", align: "right", hideWhenEmpty: true },
      { header: "BLK", align: "right", hideWhenEmpty: true },
      { header: "BLK0", align: "right", hideWhenEmpty: true },
      { header: "FILE" },
    ],
    [...r.ram, ...r.disks].map((s) => [
      s.name,
      formatBytes(s.size),
      String(s.page),
      String(s.zero),
      String(s.xbzrle),
      String(s.compressed),
      String(s.discarded),
      String(s.data),
      String(s.zeroBlocks),
      s.path,
    ]),
    opts,
  ));
}

function findingsText(r: ReplayResult, out: string[], opts: TableOptions) {
  const kinds = Object.entries(r.findingCounts);
  if (kinds.length) {
    out.push("Findings");
    for (const [k, n] of kinds) out.push(`  ${k}: ${n}`);
    const more = kinds.flatMap(([k, n]) => {
      const shown = r.findings.filter((f) => f.kind === k).length;
      return n > shown
        ? [
          `  … ${n - shown} more ${k} ${n - shown === 1 ? "finding" : "findings"} ` +
          `(the first ${shown} of ${n} are shown)\n`,
        ]
        : [];
    });
    out.push(
      renderTable(
        [
          { header: "OFFSET", align: "right" },
          { header: "KIND" },
          { header: "TARGET" },
          { header: "ADDR", align: "right" },
          { header: "DETAIL" },
        ],
        r.findings.map((f) => [
          f.offset < 0 ? "-" : String(f.offset),
          f.kind,
          f.target,
          hexOffset(f.addr),
          f.detail,
        ]),
        opts,
      ) + more.join(""),
    );
  }
}

function verifyText(
  compares: CompareResult[],
  allEqual: boolean | undefined,
  out: string[],
  opts: TableOptions,
) {
  out.push(`Verify: ${allEqual ? "all images equal" : "DIFFERENCES FOUND"}`);
  out.push(renderTable(
    [
      { header: "TARGET" },
      { header: "PAGES", align: "right" },
      { header: "EQUAL", align: "right" },
      { header: "DIFFERENT", align: "right" },
      { header: "EXPECTED" },
    ],
    compares.map((
      c,
    ) => [c.name, String(c.pages), String(c.equal), String(c.different), c.expected]),
    opts,
  ));
  for (const c of compares) {
    if (c.actualSize !== c.expectedSize) {
      out.push(
        `  ${c.name}: replayed image is ${c.actualSize} bytes, expected ${c.expectedSize}`,
      );
    }
    for (const d of c.diffs) {
      out.push(
        `  ${c.name} page ${hexOffset(d.addr)}: ` +
          (d.writer
            ? `last written by ${d.writer.kind} at offset ${d.writer.offset}`
            : "no record wrote this page (the target kept its previous content)"),
      );
    }
    if (c.different > c.diffs.length) {
      out.push(`  ${c.name}: … ${c.different - c.diffs.length} more differing pages`);
    }
  }
}
