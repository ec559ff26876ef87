/**
 * Golden cases of `migscope check`: the shared capture a_precopy_idle (QEMU 7.2,
 * pc-i440fx-7.2) against QEMU's own -dump-vmstate schemas (tests/check/data) — as they are, and
 * edited so that each rule fires — run through the real CLI (src/cli/main.ts check, in a
 * subprocess, in a fresh temporary directory), normalised as every golden file
 * (tests/report/_golden.ts `normalise`), compared byte for byte with tests/golden/check_*.
 *
 * Each case's check ties the output to tests/check/_oracle.ts, which finds the sections and
 * subsections in the capture's raw bytes and applies QEMU's loader rules to the raw dump JSON
 * without src/: the error rows (offset, section, QEMU's word), the verdict (the first of them),
 * the counts of checked sections and subsections, the devices the dump does not describe.
 *
 * Regenerate: `deno run -A tests/report/_check_cases.ts` (writes a golden file only when its
 * check passes; `--check` compares only).
 */
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { captureFile, readmeExpectations } from "../_helpers.ts";
import { runCheckCli } from "../check/_run.ts";
import { expectCheck, type Expected } from "../check/_oracle.ts";
import { expectFacts, type Facts } from "../check/_oracle_facts.ts";
import { block, type GoldenCase, normalise, parseTable, Problems, regenerate } from "./_golden.ts";

const DATA = fileURLToPath(new URL("../check/data/", import.meta.url));
const DUMP72 = `${DATA}vmstate-7.2.22-pc-i440fx-7.2.json.gz`;
const DUMP10 = `${DATA}vmstate-10.0.2-pc-i440fx-7.2.json.gz`;
const FACTS72 = `${DATA}destination-7.2.22-pc-i440fx-7.2-64M.json.gz`;

type Dump = Record<string, { Description?: Desc; Name?: string }>;
type Desc = {
  name: string;
  version_id: number;
  minimum_version_id: number;
  Fields?: { Description?: Desc }[];
  Subsections?: Desc[];
};

function readDump(path: string): Dump {
  return JSON.parse(gunzipSync(Deno.readFileSync(path)).toString());
}

/** Edits that make each rule fire: machine, version above, minimum above, subsections. */
function edited(dump: Dump): Dump {
  const walk = (d: Desc) => {
    if (d.name === "mc146818rtc") d.version_id = 2;
    if (d.name === "PIIX3") d.minimum_version_id = 4;
    if (d.name === "fw_cfg") {
      d.Subsections = d.Subsections?.filter((s) => s.name !== "fw_cfg/acpi_mr");
    }
    if (d.name === "fdrive/media_rate") d.version_id = 0;
    for (const f of d.Fields ?? []) if (f.Description) walk(f.Description);
    for (const s of d.Subsections ?? []) walk(s);
  };
  for (const [k, v] of Object.entries(dump)) {
    if (k !== "vmschkmachine" && v.Description) walk(v.Description);
  }
  return { ...dump, vmschkmachine: { Name: "pc-i440fx-7.1" } };
}

/** Links the capture and writes the dump into `dir`; the arguments of the case. */
async function inputs(dir: string, dump: Dump, json: boolean): Promise<string[]> {
  await Deno.symlink(await captureFile("a_precopy_idle"), `${dir}/capture.bin`);
  await Deno.writeTextFile(`${dir}/dump.json`, JSON.stringify(dump));
  return [`${dir}/capture.bin`, "--against", `${dir}/dump.json`, ...(json ? ["--json"] : [])];
}

function readFacts(): Facts {
  return JSON.parse(gunzipSync(Deno.readFileSync(FACTS72)).toString());
}

/**
 * The QEMU 7.2 destination file edited so that each rule fires: its exact command line (no
 * device assumed), other RAM block sizes, a block gone and one added, fdc registered at
 * version 1, 16 KiB target pages, piix4_pm without its memhp subsection, cpu/fpop_ip_dp sent
 * at version 0, a virtio-rng the stream lacks.
 */
function editedFacts(): Facts {
  const f = readFacts();
  f.assumeDevices = false;
  f.pageSize = 16384;
  f.targetPageBits = 14;
  const sizes: Record<string, number> = {
    "pc.ram": 128 << 20,
    "/rom@etc/acpi/tables": 0x10000,
    "pc.bios": 0x20000,
  };
  f.ramBlocks = f.ramBlocks.filter((b) => b.name !== "pc.rom").map((b) =>
    sizes[b.name] ? { name: b.name, used: sizes[b.name], max: sizes[b.name] } : b
  );
  f.ramBlocks.push({ name: "extra.ram", used: 4096, max: 4096 });
  f.registry = f.registry.map((r) => r.idstr === "fdc" ? { ...r, version: 1 } : r);
  f.registry.push({ idstr: "0000:00:05.0/virtio-rng", instance: 0, version: 1 });
  for (const s of f.schema.piix4_pm) {
    s.subsections = s.subsections.filter((x) => x.name !== "piix4_pm/memhp");
  }
  f.sentSubsections.cpu["cpu/fpop_ip_dp"] = 0;
  return f;
}

async function factsInputs(dir: string, facts: Facts, json: boolean): Promise<string[]> {
  await Deno.symlink(await captureFile("a_precopy_idle"), `${dir}/capture.bin`);
  await Deno.writeTextFile(`${dir}/destination.json`, JSON.stringify(facts));
  const args = [`${dir}/capture.bin`, "--destination", `${dir}/destination.json`];
  return json ? [...args, "--json"] : args;
}

/** Every finding row of the text report, in order, against the facts oracle. */
async function checkFactsText(out: string, facts: Facts): Promise<string[]> {
  const p = new Problems();
  const bytes = await Deno.readFile(await captureFile("a_precopy_idle"));
  const want = expectFacts(bytes, readmeExpectations().get("a_precopy_idle")!, facts);
  const rows = parseTable(block(out, "Findings", true)).filter((r) => r.LEVEL !== "");
  p.eq("rows", rows.length, want.length);
  for (const [i, w] of want.entries()) {
    const r = rows[i];
    p.eq(`row ${i} (offset, level, section)`, [r?.OFFSET, r?.LEVEL, r?.SECTION], [
      String(w.offset),
      w.level,
      w.section,
    ]);
    p.ok(`row ${i} says '${w.word}': ${r?.FINDING}`, r?.FINDING.includes(w.word) === true);
  }
  const first = want.find((w) => w.level === "error");
  const verdict = /^ {2}verdict {6}(.*)$/m.exec(out)?.[1] ?? "";
  p.ok(
    `verdict: ${verdict}`,
    first
      ? verdict.endsWith(`(section ${first.section}, offset ${first.offset})`)
      : verdict === "loads",
  );
  return p.list;
}

async function oracle(dump: Dump): Promise<Expected> {
  const bytes = await Deno.readFile(await captureFile("a_precopy_idle"));
  return expectCheck(bytes, readmeExpectations().get("a_precopy_idle")!, dump);
}

/** The text report against the oracle. */
function checkTextReport(out: string, e: Expected): string[] {
  const p = new Problems();
  const rows = parseTable(block(out, "Findings", true)).filter((r) => r.LEVEL === "error");
  p.eq("error rows", rows.length, e.errors.length);
  for (const x of e.errors) {
    const r = rows.find((r) => r.OFFSET === String(x.offset) && r.SECTION === x.section);
    p.ok(
      `an error row at ${x.offset} for ${x.section} saying '${x.word}'`,
      r?.FINDING.includes(x.word) === true,
    );
  }
  const first = [...e.errors].sort((a, b) => a.offset - b.offset)[0];
  const verdict = /^ {2}verdict {6}(.*)$/m.exec(out)?.[1];
  if (!first) p.eq("verdict", verdict, "loads");
  else {
    p.ok(
      `verdict names ${first.section} at ${first.offset}: ${verdict}`,
      verdict?.startsWith("will not load: ") === true &&
        verdict.endsWith(`(section ${first.section}, offset ${first.offset})`),
    );
  }
  const checked = /^ {2}checked {6}(\d+) of (\d+) sections, (\d+) of (\d+) subsections$/m.exec(out);
  p.eq("checked", checked?.slice(1).map(Number), [
    e.checkedSections,
    e.sections,
    e.checkedSubsections,
    e.subsections,
  ]);
  p.ok(
    "undescribed devices listed",
    out.includes(`  - sections the dump does not describe: ${e.undescribed.join(", ")}\n`),
  );
  return p.list;
}

/** The JSON document against the oracle. */
function checkJsonReport(out: string, e: Expected): string[] {
  const p = new Problems();
  const doc = JSON.parse(out);
  p.eq("format", [doc.format, doc.version], ["migscope-check", 1]);
  const errors = doc.findings.filter((f: { level: string }) => f.level === "error");
  p.eq(
    "errors",
    errors.map((f: { offset: number; section: string }) => [f.offset, f.section]),
    e.errors.map((x) => [x.offset, x.section]),
  );
  for (const [i, x] of e.errors.entries()) {
    p.ok(`${x.word} in ${errors[i]?.message}`, errors[i]?.message.includes(x.word));
  }
  p.eq("loads", doc.loads, e.errors.length === 0);
  p.eq("checked", doc.checked, { sections: e.checkedSections, subsections: e.checkedSubsections });
  p.eq("stream sections", doc.stream.sections, e.sections);
  return p.list;
}

function textCase(name: string, title: string, dump: () => Dump, code: number): GoldenCase {
  return {
    name,
    title,
    code,
    setup: (dir) => inputs(dir, dump(), false),
    check: async (out) => checkTextReport(out, await oracle(dump())),
  };
}

/** The cases, in tests/golden/. */
export const CHECK_CASES: GoldenCase[] = [
  textCase(
    "check_a_precopy_idle_72.txt",
    "check --against QEMU 7.2's schema: a_precopy_idle loads",
    () => readDump(DUMP72),
    0,
  ),
  textCase(
    "check_a_precopy_idle_10.txt",
    "check --against QEMU 10.0's pc-i440fx-7.2 schema: a_precopy_idle loads",
    () => readDump(DUMP10),
    0,
  ),
  textCase(
    "check_a_precopy_idle_edited.txt",
    "check --against an edited schema: machine, versions and subsections each an error, in stream order",
    () => edited(readDump(DUMP72)),
    1,
  ),
  {
    name: "check_a_precopy_idle_destination72.txt",
    title: "check --destination (QEMU 7.2's facts, -nodefaults): loads, default devices assumed",
    code: 0,
    setup: (dir) => factsInputs(dir, readFacts(), false),
    check: (out) => checkFactsText(out, readFacts()),
  },
  {
    name: "check_a_precopy_idle_destination_edited.txt",
    title: "check --destination, edited facts: page size, RAM blocks, sections, subsections",
    code: 1,
    setup: (dir) => factsInputs(dir, editedFacts(), false),
    check: (out) => checkFactsText(out, editedFacts()),
  },
  {
    name: "check_a_precopy_idle_edited.json",
    title: "check --json --against the edited schema",
    code: 1,
    setup: (dir) => inputs(dir, edited(readDump(DUMP72)), true),
    check: async (out) => checkJsonReport(out, await oracle(edited(readDump(DUMP72)))),
  },
];

/** Runs a case: its command through the CLI (src/cli/main.ts check) in a fresh temporary directory. */
export async function runCheckCase(c: GoldenCase) {
  const dir = await Deno.makeTempDir({ prefix: "migscope-golden-" });
  try {
    const r = await runCheckCli(await c.setup(dir), { cwd: dir });
    const stdout = normalise(r.stdout, dir);
    return { code: r.code, stdout, stderr: normalise(r.stderr, dir), golden: stdout };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  if (await regenerate(CHECK_CASES, runCheckCase, Deno.args)) Deno.exit(1);
}
