/**
 * replay and verify as text: per-target counters, findings, and the verdict per image with the
 * record that last wrote each differing page.
 * @module
 */
import type { ReplayResult } from "../replay/engine.ts";
import type { CompareResult } from "../replay/verify.ts";
import { formatBytes, hexOffset, renderTable } from "./table.ts";

/** The replay (and verify) report. */
export function replayText(
  r: ReplayResult,
  compares: CompareResult[],
  allEqual: boolean | undefined,
): string {
  const out: string[] = [`Replayed ${r.records} records`];
  targetsTable(r, out);
  findingsText(r, out);
  if (compares.length) verifyText(compares, allEqual, out);
  return out.join("\n") + "\n";
}

function targetsTable(r: ReplayResult, out: string[]) {
  out.push(renderTable(
    [
      { header: "TARGET" },
      { header: "SIZE", align: "right" },
      { header: "PAGE", align: "right" },
      { header: "ZERO", align: "right" },
      { header: "XBZRLE", align: "right" },
      { header: "COMP", align: "right" },
      { header: "DISCARD", align: "right" },
      { header: "BLK", align: "right" },
      { header: "BLK0", align: "right" },
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
  ));
}

function findingsText(r: ReplayResult, out: string[]) {
  const kinds = Object.entries(r.findingCounts);
  if (kinds.length) {
    out.push("Findings");
    for (const [k, n] of kinds) out.push(`  ${k}: ${n}`);
    out.push(renderTable(
      [{ header: "OFFSET", align: "right" }, { header: "KIND" }, { header: "TARGET" }, {
        header: "ADDR",
        align: "right",
      }, { header: "DETAIL" }],
      r.findings.map((
        f,
      ) => [f.offset < 0 ? "-" : String(f.offset), f.kind, f.target, hexOffset(f.addr), f.detail]),
    ));
  }
}

function verifyText(compares: CompareResult[], allEqual: boolean | undefined, out: string[]) {
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
