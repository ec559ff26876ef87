/**
 * `check` output: the verdict, what was compared (stream and destination), every finding in
 * the order QEMU's loader meets it, and what could not be checked — as text, and as the
 * `migscope-check` JSON document.
 * @module
 */
import type { CheckResult, DestinationFacts, Finding, StreamFacts } from "../check/types.ts";
import { printable } from "../protocol/errors.ts";
import { document } from "./documents.ts";
import { fitLine, formatBytes, plural, renderTable } from "./table.ts";

/** Everything a check report shows. */
export interface CheckReport {
  /** The input as opened (path), and the container it was found in. */
  input: string;
  container?: string;
  stream: StreamFacts;
  destination: DestinationFacts;
  result: CheckResult;
}

/** `will not load: MESSAGE (section X, offset N)`, or `loads`. */
export function verdictText(r: CheckResult): string {
  const f = r.firstError;
  if (!f) return "loads";
  const where = [
    f.section !== null ? `section ${printable(f.section)}` : "",
    f.offset !== null ? `offset ${f.offset}` : "",
  ].filter((x) => x).join(", ");
  return `will not load: ${f.message}${where ? ` (${where})` : ""}`;
}

function streamLine(s: StreamFacts): string {
  const devices = s.sections.filter((x) => x.type === "FULL").length;
  const blocks = s.sections.flatMap((x) => x.ramBlocks ?? []);
  const ram = blocks.reduce((a, b) => a + b.size, 0);
  const caps = s.capabilities.length ? `, capabilities ${s.capabilities.join(" ")}` : "";
  return `machine ${s.machine ?? "(no CONFIGURATION section)"}, ${
    plural(s.sections.length, "section")
  } (${devices} device), ${plural(blocks.length, "RAM block")} (${
    formatBytes(ram)
  }), target page ${s.pageSize} bytes${caps}`;
}

function destinationLines(d: DestinationFacts): string[] {
  if (d.origin === "dump") {
    return [`-dump-vmstate schema ${d.path}, machine ${d.machine}`];
  }
  const qemu = `QEMU ${d.qemuVersion ?? "(version unknown)"} (${d.path})`;
  const alias = d.requested !== d.machine ? ` (as ${d.requested})` : "";
  if (d.unknownMachine) return [`${qemu}: no machine type ${d.requested}`];
  const lines = [`${qemu}: machine ${d.machine}${alias}`];
  if (d.from) lines.push(`facts read from ${d.from}`);
  lines.push(`started as ${(d.commandLine ?? []).join(" ")}`);
  if (d.assumeDevices) {
    lines.push("devices the machine type does not create are taken to be on its command line");
  }
  return lines;
}

function findingRows(findings: Finding[]): string[][] {
  const rows: string[][] = [];
  for (const f of findings) {
    rows.push([
      f.offset === null ? "" : String(f.offset),
      f.level,
      f.section === null ? "" : printable(f.section),
      f.instance === null ? "" : String(f.instance),
      f.message,
    ]);
    if (f.hint) rows.push(["", "", "", "", `  ${f.hint}`]);
  }
  return rows;
}

function counts(findings: Finding[]): string {
  const n = (level: string) => findings.filter((f) => f.level === level).length;
  return [plural(n("error"), "error"), plural(n("warning"), "warning"), plural(n("note"), "note")]
    .join(", ");
}

/** The text report; `width` wraps long lines to a terminal's width. */
export function checkText(r: CheckReport, width?: number): string {
  const head = `migscope check ${r.input}${r.container ? ` (${r.container})` : ""}`;
  const dest = destinationLines(r.destination);
  const subs = r.stream.sections.reduce((a, s) => a + s.subsections.length, 0);
  const { sections, subsections } = r.result.checked;
  const top = [
    `  verdict      ${verdictText(r.result)}`,
    `  stream       ${streamLine(r.stream)}`,
    `  destination  ${dest[0]}`,
    ...dest.slice(1).map((l) => `               ${l}`),
    `  checked      ${sections} of ${
      plural(r.stream.sections.length, "section")
    }, ${subsections} ` +
    `of ${plural(subs, "subsection")}`,
  ].map((l) => fitLine(l, width, 15));
  let text = `${head}\n\n${top.join("\n")}\n`;
  const { findings, notChecked } = r.result;
  const first = r.result.firstError ? "; QEMU stops at the first error" : "";
  text += `\nFindings (${counts(findings)}${first})\n`;
  if (findings.length) {
    text += renderTable(
      [
        { header: "OFFSET", align: "right" },
        { header: "LEVEL" },
        { header: "SECTION" },
        { header: "INST", align: "right" },
        { header: "FINDING" },
      ],
      findingRows(findings),
      { width },
    );
  }
  if (notChecked.length) {
    text += `\nNot checked\n${notChecked.map((l) => fitLine(`  - ${l}`, width, 4)).join("\n")}\n`;
  }
  return text;
}

function findingJson(f: Finding) {
  return { ...f, hint: f.hint ?? null };
}

/** The `migscope-check` JSON document (with `error` when the check could not be made). */
export function checkJson(r: CheckReport | undefined, error?: unknown): Record<string, unknown> {
  if (!r) return document("migscope-check", {}, error);
  const { stream: s, destination: d, result } = r;
  return document("migscope-check", {
    input: { path: r.input, container: r.container ?? null },
    verdict: result.loads ? "loads" : "will not load",
    loads: result.loads,
    verdictText: verdictText(result),
    firstError: result.firstError ? findingJson(result.firstError) : null,
    stream: {
      machine: s.machine ?? null,
      configurationOffset: s.configurationOffset ?? null,
      capabilities: s.capabilities,
      targetPageBits: s.targetPageBits ?? null,
      pageSize: s.pageSize,
      sections: s.sections.length,
      deviceSections: s.sections.filter((x) => x.type === "FULL").length,
      ramBlocks: s.sections.flatMap((x) => x.ramBlocks ?? []),
    },
    destination: {
      origin: d.origin,
      path: d.path,
      from: d.from ?? null,
      qemuVersion: d.qemuVersion ?? null,
      machine: d.machine,
      requested: d.requested,
      machineKnown: d.unknownMachine === undefined,
      commandLine: d.commandLine ?? null,
      assumeDevices: d.origin === "qemu" ? d.assumeDevices : null,
      ramBlocks: d.ramBlocks ?? null,
      capabilities: d.capabilities ?? null,
      pageSize: d.pageSize ?? null,
      sections: d.registry?.length ?? null,
    },
    checked: result.checked,
    findings: result.findings.map(findingJson),
    notChecked: result.notChecked,
  });
}
