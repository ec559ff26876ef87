/**
 * The golden cases: for each, the inputs, the command line, and the check that ties the output
 * to a source migscope did not compute:
 *
 * - the shared captures: the numbers of ../shared/captures/README.md (parsed by
 *   `readmeExpectations()`), and for the mapped-ram capture its `mapped-ram-layout.json`;
 * - the ARM capture: tests/data/arm_versatilepb_1k/expect.json (the same numbers as its README,
 *   counted by tools/arm_capture.ts's own counter and by QEMU's query-migrate);
 * - the samples: the images tools/samples.ts made them from (pages that changed per round,
 *   zero pages, disk chunks), and `_walk.ts`, which re-reads the stream without src/ and
 *   replays it onto the same images;
 * - the hand-built inputs of `_inputs.ts`: the offsets and contents they were built with.
 */
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { captureFile, CAPTURES_DIR, readmeExpectations } from "../_helpers.ts";
import { dirtyRound, diskImage, ramImage } from "../../tools/samples.ts";
import {
  assertGolden,
  block,
  type GoldenCase,
  headTail,
  parseTable,
  Problems,
  TMP,
} from "./_golden.ts";
import {
  CHANNEL_PACKETS,
  CHANNEL_UUID,
  channelFile,
  findingsBase,
  findingsExpect,
  findingsStream,
  LONG_CHANNEL_PACKETS,
  TINY_BODIES,
  tinyStream,
} from "./_inputs.ts";
import { ZLIB_CHANNEL_PACKETS, zlibChannelFile } from "./_channel_inputs.ts";
import {
  blkFlagText,
  ramFlagText,
  type Walk,
  walk,
  type WalkRecord,
  type Writer,
} from "./_walk.ts";

const PAGE = 4096;
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const ARM_DIR = `${REPO}tests/data/arm_versatilepb_1k`;
const ZLIB_CAPTURE = `${REPO}../shared/channels/n1_multifd_zlib/`;

// ---- sources ----

let samplesMemo: Promise<SampleSources> | undefined;

/** The images the samples were emitted from (tools/samples.ts writeInputs), and their walks. */
interface SampleSources {
  /** pc.ram.0 … pc.ram.3 of small-xbzrle.mig. */
  rounds: Uint8Array[];
  /** small.ram and disk0.raw of small-block.mig. */
  smallRam: Uint8Array;
  disk0: Uint8Array;
  xbzrle: Walk;
  block: Walk;
}

/** Builds the sample sources once per process. */
export function sampleSources(): Promise<SampleSources> {
  samplesMemo ??= (async () => {
    const rounds = [ramImage(2048, 1)];
    for (const seed of [2, 3, 4]) rounds.push(dirtyRound(rounds.at(-1)!, seed, 300));
    return {
      rounds,
      smallRam: ramImage(1024, 7),
      disk0: diskImage(8 << 20, 9),
      xbzrle: walk(await Deno.readFile(`${REPO}samples/small-xbzrle.mig`)),
      block: walk(await Deno.readFile(`${REPO}samples/small-block.mig`)),
    };
  })();
  return samplesMemo;
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
const pageOf = (img: Uint8Array, p: number) => img.subarray(p * PAGE, (p + 1) * PAGE);

/**
 * The samples against the images they were made from: the walker's replay must reproduce the
 * last image; pass 1 sends every page (data for non-zero pages, ZERO for zero pages); pass k
 * sends exactly the pages that changed in round k (ZERO for those now all-zero). A disk chunk
 * is sent as data iff it is non-zero.
 */
function checkSampleSources(p: Problems): Promise<void> {
  sourceProblems ??= runProblems(sampleSourceProblems);
  return sourceProblems.then((list) => void p.list.push(...list));
}
let sourceProblems: Promise<string[]> | undefined;

async function sampleSourceProblems(p: Problems): Promise<void> {
  const s = await sampleSources();
  const x = s.xbzrle;
  p.ok(
    "walker: small-xbzrle.mig replays to pc.ram.3",
    equalBytes(x.images.get("pc.ram")!, s.rounds[3]),
  );
  for (let k = 0; k < 4; k++) {
    let changed = 0;
    let zero = 0;
    for (let pg = 0; pg < 2048; pg++) {
      const now = pageOf(s.rounds[k], pg);
      if (k > 0 && equalBytes(now, pageOf(s.rounds[k - 1], pg))) continue;
      changed++;
      if (isZero(now)) zero++;
    }
    p.eq(
      `small-xbzrle pass ${k + 1} pages (changed pages of round ${k})`,
      x.passes[k]?.pages,
      changed,
    );
    p.eq(`small-xbzrle pass ${k + 1} ZERO (changed pages now zero)`, x.passes[k]?.zero, zero);
  }
  const b = s.block;
  p.ok(
    "walker: small-block.mig replays to small.ram",
    equalBytes(b.images.get("pc.ram")!, s.smallRam),
  );
  p.ok("walker: small-block.mig replays to disk0.raw", equalBytes(b.images.get("disk0")!, s.disk0));
  let nonZero = 0;
  for (let pg = 0; pg < 1024; pg++) if (!isZero(pageOf(s.smallRam, pg))) nonZero++;
  p.eq("small-block PAGE records (non-zero pages of small.ram)", b.ram.page, nonZero);
  let chunks = 0;
  for (let c = 0; c < 8; c++) if (!isZero(s.disk0.subarray(c << 20, (c + 1) << 20))) chunks++;
  p.eq("small-block data chunks (non-zero MiB of disk0.raw)", b.disk.data, chunks);
  p.eq("small-block zero chunks", b.disk.zero, 8 - chunks);
}

/** `formatBytes` of src/report/table.ts, restated: one decimal and a binary unit. */
function human(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

const hex = (n: number) => `0x${n.toString(16)}`;
const blank = (n: number) => (n ? String(n) : "");
/** `n` and the word, singular or plural (`1 device`, `2 devices`). */
const many = (n: number, word: string) => `${n} ${n === 1 ? word : word + "s"}`;

/**
 * Expected table rows as the program must show them: a column it hides when empty (`hideable`)
 * is dropped exactly when every expected cell in it is empty (`""` or `"0"`).
 */
function shown(rows: Record<string, string>[], hideable: string[]): Record<string, string>[] {
  const hidden = hideable.filter((h) => rows.every((r) => r[h] === "" || r[h] === "0"));
  return rows.map((r) =>
    Object.fromEntries(Object.entries(r).filter(([k]) => !hidden.includes(k)))
  );
}

/** Columns of the timeline, and those hidden when empty for the whole stream. */
const TIMELINE_HIDEABLE = ["PAGE", "ZERO", "XBZRLE", "COMP", "BLK", "BLK0"];
/** Columns of the RAM blocks and dirty passes tables hidden when all zero. */
const RAM_HIDEABLE = ["XBZRLE", "COMP"];

/** Uncompressed size of a capture file, from the README's Files table. */
function readmeSize(capture: string): number {
  const text = Deno.readTextFileSync(`${CAPTURES_DIR}/README.md`);
  const m = new RegExp("\\| `" + capture + "/capture\\.bin\\.gz` \\| (\\d+)").exec(text);
  if (!m) throw new Error(`README: no size for ${capture}`);
  return Number(m[1]);
}

// ---- checks of the inspect text ----

const STREAM_RE =
  /^ {2}stream {7}(\d+) bytes \(([^)]*)\), QEVM v3, footers on, target page (\d+)$/m;
const RAM_RE =
  /^ {2}RAM records {2}(\d+) normal, (\d+) zero, (\d+) XBZRLE, (\d+) compressed; (\d+) EOS, (\d+) MEM_SIZE; (\d+) named \+ (\d+) CONTINUE headers; (.+) of page records$/m;
const XBZRLE_RE =
  /^ {2}XBZRLE {7}(\d+) records?, (\d+) encoded bytes \((\d+) with headers\) instead of (\d+) for full pages: saving ([\d.]+)%$/m;

function nums(m: RegExpExecArray | null): number[] | undefined {
  return m ? m.slice(1).map(Number) : undefined;
}

/** Every number of an inspect text report against the walker's reading of the same stream. */
function checkInspectWalk(
  text: string,
  w: Walk,
  p: Problems,
  deviceBodyOffset = new Map<number, number>(),
) {
  const stream = STREAM_RE.exec(text);
  p.eq("stream bytes", stream && [Number(stream[1]), stream[2], Number(stream[3])], [
    w.bytes,
    human(w.bytes),
    w.pageSize,
  ]);
  p.ok("machine line", text.includes(`\n  machine      ${w.machine} (configuration at 8)\n`));
  const ram = RAM_RE.exec(text);
  const r = w.ram;
  p.eq("RAM records line", ram && [...nums(ram)!.slice(0, 8), ram[9]], [
    r.page,
    r.zero,
    r.xbzrle,
    0,
    r.eos,
    r.memSize,
    r.named,
    r.cont,
    human(r.pageRecordBytes),
  ]);
  const xrec = w.records.filter((x) => x.kind === "XBZRLE");
  if (xrec.length) {
    const withHeaders = xrec.reduce((a, x) => a + x.length, 0);
    const full = xrec.length * w.pageSize;
    const m = XBZRLE_RE.exec(text);
    p.eq("XBZRLE line", m && [...nums(m)!.slice(0, 4), m[5]], [
      xrec.length,
      r.xbzrleBytes,
      withHeaders,
      full,
      ((1 - withHeaders / full) * 100).toFixed(1),
    ]);
  } else p.ok("no XBZRLE line", !XBZRLE_RE.test(text));
  const timeline = parseTable(block(text, "Timeline").slice(1));
  p.eq("timeline rows", timeline.length, w.items.length);
  const expected = shown(
    w.items.map((it) => ({
      OFFSET: String(it.offset),
      HEX: hex(it.offset),
      KIND: it.kind,
      ID: it.sectionId?.toString() ?? "",
      NAME: it.name ?? "",
      INST: it.instance?.toString() ?? "",
      VER: it.version?.toString() ?? "",
      BYTES: String(it.length),
      PAGE: blank(it.page),
      ZERO: blank(it.zero),
      XBZRLE: blank(it.xbzrle),
      COMP: "",
      BLK: blank(it.blk),
      BLK0: blank(it.blk0),
      NOTE: it.kind === "HEADER"
        ? "QEVM v3"
        : it.kind === "VMDESCRIPTION"
        ? `JSON ${w.trailer!.jsonLength} bytes, ${many(w.trailer!.devices, "device")}`
        : "",
    })),
    TIMELINE_HIDEABLE,
  );
  w.items.forEach((it, i) => {
    p.eq(`timeline row ${i} (${it.kind} at ${it.offset})`, timeline[i], expected[i]);
  });
  const blocks = parseTable(block(text, "RAM blocks").slice(1));
  p.eq(
    "RAM blocks",
    blocks,
    shown(
      w.blocks.map((b) => ({
        BLOCK: b.name,
        SIZE: `${b.size} (${human(b.size)})`,
        PAGES: String(b.size / w.pageSize),
        NORMAL: String(b.page),
        ZERO: String(b.zero),
        XBZRLE: String(b.xbzrle),
        COMP: "0",
      })),
      RAM_HIDEABLE,
    ),
  );
  const passes = parseTable(block(text, "Dirty passes", true).slice(1));
  p.eq(
    "dirty passes",
    passes,
    shown(
      w.passes.map((x) => ({
        PASS: String(x.index),
        FROM: String(x.offset),
        PAGES: String(x.pages),
        NORMAL: String(x.page),
        ZERO: String(x.zero),
        XBZRLE: String(x.xbzrle),
        COMP: "0",
        BYTES: String(x.bytes),
      })),
      RAM_HIDEABLE,
    ),
  );
  if (w.disks.length) {
    const d = w.disk;
    const bm = block(text, "Block migration:", true);
    p.eq(
      "block migration line",
      bm[0],
      `Block migration: ${many(d.data, "data chunk")}, ${
        many(d.zero, "zero chunk")
      }, ${d.progress} PROGRESS (last ${d.lastPercent}%), ${d.eos} EOS`,
    );
    p.eq(
      "block devices",
      parseTable(bm.slice(1)),
      w.disks.map((x) => ({
        DEVICE: x.name,
        DATA: String(x.data),
        ZERO: String(x.zero),
        EXTENT: `${x.extent} (${human(x.extent)})`,
      })),
    );
  } else p.eq("no block migration", block(text, "Block migration:", true), []);
  const commands = w.items.filter((x) => x.kind === "COMMAND");
  p.eq(
    "commands",
    parseTable(block(text, "Commands").slice(1)),
    commands.map((c) => ({
      OFFSET: String(c.offset),
      COMMAND: c.name,
      DETAIL: "",
    })),
  );
  const full = w.items.filter((x) => x.kind === "FULL");
  const dev = block(text, "Device sections:", true);
  if (full.length) {
    const bodies = full.map((f) => f.length - 5 - (1 + 4 + 1 + f.name!.length + 4 + 4));
    p.eq(
      "device sections line",
      dev[0],
      `Device sections: ${full.length}, ${bodies.reduce((a, b) => a + b, 0)} bytes of state`,
    );
    p.eq(
      "device sections",
      parseTable(dev.slice(1)),
      full.map((f, i) => ({
        OFFSET: String(deviceBodyOffset.get(f.offset) ?? f.offset + 1 + 4 + 1 + f.name!.length + 8),
        DEVICE: f.name,
        INST: String(f.instance),
        VER: String(f.version),
        BYTES: String(bodies[i]),
      })),
    );
  } else p.eq("no device sections", dev, []);
  p.ok(`EOF at ${w.eof}`, text.includes(`\nEOF at ${w.eof}\n`));
  const t = w.trailer!;
  p.ok(
    "VMDESCRIPTION line",
    text.endsWith(
      `\nVMDESCRIPTION at ${t.offset}: ${t.bytes} bytes (JSON ${t.jsonLength}), ${
        many(t.devices, "device")
      }\n`,
    ),
  );
}

/** An inspect text report of a shared capture against its README. */
function checkInspectReadme(text: string, capture: string, p: Problems): void {
  const e = readmeExpectations().get(capture)!;
  const stream = STREAM_RE.exec(text);
  p.eq("stream bytes (README Files table)", stream && Number(stream[1]), readmeSize(capture));
  p.eq("target page", stream && Number(stream[3]), 4096);
  p.ok(
    "machine pc-i440fx-7.2, configuration at offset 8",
    text.includes(`\n  machine      pc-i440fx-7.2 (configuration at ${e.configurationOffset})\n`),
  );
  const ram = nums(RAM_RE.exec(text));
  const rr = e.records;
  p.eq("RAM records line (README stream records)", ram?.slice(0, 8), [
    rr.PAGE,
    rr.ZERO,
    rr.XBZRLE,
    0,
    rr.EOS,
    rr.MEM_SIZE,
    rr["headers with block name"],
    rr["CONTINUE headers"],
  ]);
  p.eq(
    "RAM blocks (README blocks and records per RAM block)",
    parseTable(block(text, "RAM blocks").slice(1)),
    shown(
      e.blocks.map((b) => ({
        BLOCK: b.name,
        SIZE: `${b.size} (${human(b.size)})`,
        PAGES: String(b.size / PAGE),
        NORMAL: String(e.perBlock[b.name].page ?? 0),
        ZERO: String(e.perBlock[b.name].zero ?? 0),
        XBZRLE: String(e.perBlock[b.name].xbzrle ?? 0),
        COMP: "0",
      })),
      RAM_HIDEABLE,
    ),
  );
  const timeline = parseTable(block(text, "Timeline").slice(1));
  const count = (k: string) => timeline.filter((r) => r.KIND === k).length;
  const s = e.sections;
  p.eq(
    "timeline START/PART/END/FULL rows (README sections)",
    ["START", "PART", "END", "FULL"].map(count),
    [
      s.SECTION_START,
      s.SECTION_PART,
      s.SECTION_END,
      s.SECTION_FULL,
    ],
  );
  const sum = (col: string) => timeline.reduce((a, r) => a + Number(r[col] || 0), 0);
  p.eq("timeline PAGE/ZERO/BLK/BLK0 column sums", ["PAGE", "ZERO", "BLK", "BLK0"].map(sum), [
    rr.PAGE,
    rr.ZERO,
    e.blockRecords.data_block ?? 0,
    e.blockRecords.zero_block ?? 0,
  ]);
  const totals: Record<string, number> = {
    PAGE: rr.PAGE,
    ZERO: rr.ZERO,
    XBZRLE: rr.XBZRLE,
    COMP: 0,
    BLK: e.blockRecords.data_block ?? 0,
    BLK0: e.blockRecords.zero_block ?? 0,
  };
  p.eq(
    "timeline columns: hidden exactly when the README's total for them is 0",
    Object.keys(timeline[0] ?? {}).filter((c) => TIMELINE_HIDEABLE.includes(c)),
    TIMELINE_HIDEABLE.filter((c) => totals[c] > 0),
  );
  const passes = parseTable(block(text, "Dirty passes", true).slice(1));
  const psum = (col: string) => passes.reduce((a, r) => a + Number(r[col]), 0);
  p.eq("dirty passes NORMAL/ZERO sums", [psum("NORMAL"), psum("ZERO")], [rr.PAGE, rr.ZERO]);
  const cfg = timeline.find((r) => r.KIND === "CONFIGURATION");
  p.eq("configuration row offset", cfg?.OFFSET, String(e.configurationOffset));
  p.eq("EOF row offset", timeline.find((r) => r.KIND === "EOF")?.OFFSET, String(e.eofOffset));
  const vm = timeline.find((r) => r.KIND === "VMDESCRIPTION");
  p.eq("VMDESCRIPTION row offset", vm?.OFFSET, String(e.vmdescOffset));
  p.ok(
    "VMDESCRIPTION note names the JSON length",
    vm?.NOTE.startsWith(`JSON ${e.vmdescJsonLength} bytes, `) ?? false,
  );
  p.ok(`EOF at ${e.eofOffset}`, text.includes(`\nEOF at ${e.eofOffset}\n`));
  p.ok(
    "VMDESCRIPTION line",
    new RegExp(
      `\\nVMDESCRIPTION at ${e.vmdescOffset}: \\d+ bytes \\(JSON ${e.vmdescJsonLength}\\), ${s.SECTION_FULL} devices\\n$`,
    ).test(text),
  );
  p.ok("Device sections count", text.includes(`\nDevice sections: ${s.SECTION_FULL}, `));
  const b = e.blockRecords;
  if (b.data_block !== undefined) {
    p.eq(
      "block migration line (README block records)",
      block(text, "Block migration:", true)[0],
      `Block migration: ${many(b.data_block, "data chunk")}, ${
        many(b.zero_block, "zero chunk")
      }, ${b.progress} PROGRESS (last 100%), ${b.eos} EOS`,
    );
  } else p.eq("no block migration", block(text, "Block migration:", true), []);
}

/** The ARM capture's inspect text against its expect.json (= its README's numbers). */
function checkInspectArm(text: string, p: Problems): void {
  const e = JSON.parse(Deno.readTextFileSync(`${ARM_DIR}/expect.json`));
  const stream = STREAM_RE.exec(text);
  p.eq("stream bytes and target page", stream && [Number(stream[1]), Number(stream[3])], [
    e.bytes.capture,
    e.pageSize,
  ]);
  p.ok(
    "machine versatilepb",
    text.includes(`\n  machine      ${e.machine} (configuration at 8)\n`),
  );
  p.eq("RAM records line", nums(RAM_RE.exec(text))?.slice(0, 8), [
    e.records.page,
    e.records.zero,
    0,
    0,
    e.records.eos,
    e.records.memSize,
    e.records.named,
    e.records.continue,
  ]);
  p.eq(
    "RAM blocks",
    parseTable(block(text, "RAM blocks").slice(1)),
    shown(
      e.blocks.map((b: { name: string; size: number }) => ({
        BLOCK: b.name,
        SIZE: `${b.size} (${human(b.size)})`,
        PAGES: String(b.size / e.pageSize),
        NORMAL: String(e.perBlock[b.name].page),
        ZERO: String(e.perBlock[b.name].zero),
        XBZRLE: "0",
        COMP: "0",
      })),
      RAM_HIDEABLE,
    ),
  );
  const timeline = parseTable(block(text, "Timeline").slice(1));
  const count = (k: string) => timeline.filter((r) => r.KIND === k).length;
  p.eq("sections", ["START", "PART", "END", "FULL"].map(count), [
    e.sections.START,
    e.sections.PART,
    e.sections.END,
    e.sections.FULL,
  ]);
  const devices = parseTable(block(text, "Device sections:", true).slice(1));
  p.eq(
    "device order (vmdesc devices)",
    devices.map((d) => `${d.DEVICE}/${d.INST}`),
    e.vmdescDevices,
  );
  p.eq(
    "timeline FULL rows (vmdesc devices)",
    timeline.filter((r) => r.KIND === "FULL").map((r) => `${r.NAME}/${r.INST}`),
    e.vmdescDevices,
  );
  p.ok(
    "VMDESCRIPTION device count",
    text.includes(`, ${many(e.vmdescDevices.length, "device")}\n`),
  );
}

/** One block of m1b_mapped_ram_single/mapped-ram-layout.json. */
interface LayoutBlock {
  idstr: string;
  used_length: number;
  mapped_ram_header_offset: number;
  bitmap_offset_hex: string;
  pages_offset_hex: string;
  pages: number;
  bitmap_set_bits: number;
}

/** The mapped-ram capture's inspect text against mapped-ram-layout.json and the README. */
function checkInspectMappedRam(text: string, p: Problems): void {
  const dir = `${CAPTURES_DIR}/m1b_mapped_ram_single`;
  const l: {
    file_size: number;
    ram_start_section_offset: number;
    after_block_list_offset: number;
    blocks: LayoutBlock[];
  } = JSON.parse(Deno.readTextFileSync(`${dir}/mapped-ram-layout.json`));
  const stream = STREAM_RE.exec(text);
  p.eq("stream bytes (layout file_size)", stream && Number(stream[1]), l.file_size);
  p.ok(
    "machine pc-i440fx-10.2 with capability mapped-ram (README)",
    text.includes(
      "\n  machine      pc-i440fx-10.2 (configuration at 8), capabilities: mapped-ram\n",
    ),
  );
  p.eq(
    "mapped-ram table (layout blocks)",
    parseTable(block(text, "mapped-ram", true).slice(1)),
    l.blocks.map((b: LayoutBlock) => ({
      BLOCK: b.idstr,
      HEADER: String(b.mapped_ram_header_offset),
      BITMAP: b.bitmap_offset_hex,
      "PAGES AT": b.pages_offset_hex,
      PRESENT: String(b.bitmap_set_bits),
      ZERO: String(b.pages - b.bitmap_set_bits),
    })),
  );
  p.eq(
    "RAM block sizes (layout used_length)",
    parseTable(block(text, "RAM blocks").slice(1)).map((r) => [r.BLOCK, r.SIZE.split(" ")[0]]),
    l.blocks.map((b: LayoutBlock) => [b.idstr, String(b.used_length)]),
  );
  const timeline = parseTable(block(text, "Timeline").slice(1));
  const startRow = timeline.find((r) => r.KIND === "START");
  p.eq(
    "RAM START offset (layout ram_start_section_offset)",
    startRow?.OFFSET,
    String(l.ram_start_section_offset),
  );
  // The sequential stream resumes after the last block's pages: an EOS (8 bytes) and the
  // START's footer (5 bytes) end the START section there.
  p.eq(
    "START ends at the stream resume offset + EOS + footer",
    Number(startRow?.OFFSET) + Number(startRow?.BYTES),
    l.after_block_list_offset + 13,
  );
  const kinds = timeline.map((r) => r.KIND);
  p.eq(
    "SWITCHOVER_START just before the RAM END (README)",
    kinds[kinds.indexOf("END") - 1],
    "COMMAND",
  );
  p.eq(
    "COMMAND row names SWITCHOVER_START",
    timeline.find((r) => r.KIND === "COMMAND")?.NAME,
    "SWITCHOVER_START",
  );
}

// ---- --records ----

/** One expected `--records` row: offset, hex, RECORD (7), FLAGS (23), DETAIL; no trailing spaces. */
function recRow(o: number, record: string, flags: string, detail: string): string {
  return `${String(o).padStart(12)}  ${hex(o).padStart(10)}  ${record.padEnd(7)}  ${
    flags.padEnd(23)
  }  ${detail}`.trimEnd();
}

/** The header line and rule of `--records`. */
const RECORDS_HEAD = [
  "      OFFSET         HEX  RECORD   FLAGS                    DETAIL",
  "------------  ----------  -------  -----------------------  ------",
];

/** A walker record with the `--kind` it has (the names of src/report/records_text.ts). */
function walkKind(r: WalkRecord): string {
  if (r.family === "RAM") return r.kind === "MEM_SIZE" ? "mem-size" : r.kind.toLowerCase();
  return ({ DATA: "chunk", ZERO: "zero-chunk", PROGRESS: "progress", EOS: "eos" } as Record<
    string,
    string
  >)[r.kind];
}

/** The walker's RAM or block record as its `--records` row. */
function walkRecordRow(w: Walk, r: WalkRecord): string {
  if (r.family === "BLK") {
    const detail = r.kind === "PROGRESS"
      ? `${r.sector}%`
      : r.kind === "EOS"
      ? ""
      : `${r.block} sector ${r.sector} (+${hex(r.sector! * 512)})`;
    return recRow(r.offset, "BLK", blkFlagText(r.flags), detail);
  }
  const flags = ramFlagText(r.flags);
  if (r.kind === "EOS") return recRow(r.offset, "RAM", flags, "");
  if (r.kind === "MEM_SIZE") {
    const total = w.blocks.reduce((a, b) => a + b.size, 0);
    const list = w.blocks.map((b) => `${b.name}:${b.size}`).join(",");
    return recRow(r.offset, "RAM", flags, `total=${total} blocks=${list}`);
  }
  let detail = `${r.block} +${hex(r.addr!)} pass=${r.pass}`;
  if (r.kind === "ZERO") detail += ` fill=${r.fill}`;
  if (r.kind === "XBZRLE") detail += ` len=${r.xbzrleLen} covers=${r.covers}`;
  return recRow(r.offset, "RAM", flags, detail);
}

/**
 * The `--records` rows the walker expects, in stream order, with the `--kind` of each (and its
 * block, pass and section for the filter cases).
 */
function expectedRecords(
  w: Walk,
  bodies: Record<string, number> = {},
): { row: string; kind: string; block?: string; pass?: number }[] {
  const rows: { offset: number; row: string; kind: string; block?: string; pass?: number }[] = [];
  for (const it of w.items) {
    if (["START", "PART", "END", "FULL"].includes(it.kind)) {
      const row = recRow(it.offset, it.kind, "", `section ${it.sectionId} '${it.name}'`);
      rows.push({ offset: it.offset, row, kind: "section" });
    }
    if (it.kind === "FULL") {
      const body = it.offset + 1 + 4 + 1 + it.name!.length + 8;
      const row = recRow(body, "DEVICE", "", `'${it.name}' body, ${bodies[it.name!]} bytes`);
      rows.push({ offset: body, row, kind: "device" });
    }
    if (it.kind === "COMMAND") {
      rows.push({
        offset: it.offset,
        row: recRow(it.offset, "COMMAND", "", it.name!),
        kind: "command",
      });
    }
    if (it.kind === "EOF") {
      rows.push({ offset: it.offset, row: recRow(it.offset, "EOF", "", ""), kind: "eof" });
    }
  }
  for (const r of w.records) {
    const page = ["PAGE", "ZERO", "XBZRLE"].includes(r.kind) && r.family === "RAM";
    const chunk = r.family === "BLK" && (r.kind === "DATA" || r.kind === "ZERO");
    rows.push({
      offset: r.offset,
      row: walkRecordRow(w, r),
      kind: walkKind(r),
      block: page || chunk ? r.block : undefined,
      pass: page ? r.pass : undefined,
    });
  }
  return rows.sort((a, b) => a.offset - b.offset);
}

/** The `--records` rows the walker expects, in stream order. */
function expectedRecordRows(w: Walk, bodies: Record<string, number> = {}): string[] {
  return expectedRecords(w, bodies).map((r) => r.row);
}

/** The record rows of an `inspect --records` report: after the header and rule, to the blank line. */
function recordRows(text: string, p: Problems): string[] {
  const lines = text.split("\n");
  p.eq("records header and rule", lines.slice(2, 4), RECORDS_HEAD);
  return lines.slice(4, lines.indexOf("Timeline") - 1);
}

/** Every row of `--records` (RAM and block records) against the walker, and the rest of the report. */
function checkRecordRows(out: string, w: Walk, p: Problems): void {
  const rows = recordRows(out, p);
  const expect = expectedRecordRows(w);
  p.eq("record row count", rows.length, expect.length);
  const bad = rows.findIndex((r, i) => r !== expect[i]);
  if (bad >= 0) p.eq(`record row ${bad}`, rows[bad], expect[bad]);
  p.eq("rows with trailing spaces", rows.filter((r) => r !== r.trimEnd()), []);
  checkInspectWalk(out, w, p);
}

// ---- replay / verify ----

/** Expected findings: zero-after-data and zero-fill in stream order, then unwritten-nonzero. */
function expectedFindings(w: Walk, base?: Map<string, Uint8Array>) {
  const list: { kind: string; offset: number; target: string; addr: number }[] = [];
  for (const r of w.records) {
    const z = w.zeroAfterData.find((x) => x.offset === r.offset);
    if (z) list.push({ kind: "zero-after-data", offset: z.offset, target: z.block, addr: z.addr });
    const f = w.zeroFill.find((x) => x.offset === r.offset);
    if (f) list.push({ kind: "zero-fill", offset: f.offset, target: f.block, addr: f.addr });
  }
  for (const [name, img] of base ?? []) {
    w.writers.get(name)!.forEach((wr, pg) => {
      if (!wr && !isZero(pageOf(img, pg))) {
        list.push({ kind: "unwritten-nonzero", offset: -1, target: name, addr: pg * PAGE });
      }
    });
  }
  return list;
}

/** Findings shown: at most this many of each kind (src/replay/findings.ts `maxPerKind`). */
const SHOWN_PER_KIND = 20;

function checkFindingsText(text: string, w: Walk, p: Problems, base?: Map<string, Uint8Array>) {
  const all = expectedFindings(w, base);
  const kinds = [...new Set(all.map((f) => f.kind))];
  const lines = block(text, "Findings");
  if (!all.length) return p.eq("no findings", lines, []);
  p.eq(
    "finding counts",
    lines.slice(1, 1 + kinds.length),
    kinds.map((k) => `  ${k}: ${all.filter((f) => f.kind === k).length}`),
  );
  const shown = kinds.flatMap((k) => all.filter((f) => f.kind === k).slice(0, SHOWN_PER_KIND));
  shown.sort((a, b) => (a.offset < 0 ? Infinity : a.offset) - (b.offset < 0 ? Infinity : b.offset));
  const more = kinds.flatMap((k) => {
    const n = all.filter((f) => f.kind === k).length;
    return n > SHOWN_PER_KIND
      ? [
        `  … ${n - SHOWN_PER_KIND} more ${k} finding${
          n - SHOWN_PER_KIND === 1 ? "" : "s"
        } (the first ${SHOWN_PER_KIND} of ${n} are shown)`,
      ]
      : [];
  });
  const table = lines.slice(1 + kinds.length, lines.length - more.length);
  p.eq(
    "findings table",
    parseTable(table).map((r) => [r.OFFSET, r.KIND, r.TARGET, r.ADDR]),
    shown.map((f) => [f.offset < 0 ? "-" : String(f.offset), f.kind, f.target, hex(f.addr)]),
  );
  p.eq("… N more lines under the table", lines.slice(lines.length - more.length), more);
}

/** The targets table of replay/verify: counts from the walker. */
function checkTargets(text: string, w: Walk, p: Problems, files: Record<string, string>) {
  const rows = parseTable(block(text, "Replayed", true).slice(1));
  const expect = shown([
    ...w.blocks.map((b) => ({
      TARGET: b.name,
      SIZE: human(b.size),
      PAGE: String(b.page),
      ZERO: String(b.zero),
      XBZRLE: String(b.xbzrle),
      COMP: "0",
      DISCARD: "0",
      BLK: "0",
      BLK0: "0",
      FILE: files[b.name],
    })),
    ...w.disks.map((d) => ({
      TARGET: d.name,
      SIZE: human(d.extent),
      PAGE: "0",
      ZERO: "0",
      XBZRLE: "0",
      COMP: "0",
      DISCARD: "0",
      BLK: String(d.data),
      BLK0: String(d.zero),
      FILE: files[d.name],
    })),
  ], ["XBZRLE", "COMP", "DISCARD", "BLK", "BLK0"]);
  p.eq("targets table", rows, expect);
  // Every stream item counts: header, configuration, section headers and footers, records,
  // commands, device bodies, EOF and the trailer.
  const sections = w.items.filter((x) => ["START", "PART", "END", "FULL"].includes(x.kind));
  const devices = w.items.filter((x) => x.kind === "FULL").length;
  const n = w.items.length + sections.length + devices + w.records.length;
  const pages = w.ram.page + w.ram.zero + w.ram.xbzrle;
  const what = w.disks.length
    ? `${many(pages, "page record")} and ${many(w.disk.data + w.disk.zero, "block chunk")}`
    : many(pages, "page record");
  p.eq(
    "Replayed line: page records and chunks (walker), of every record of the stream",
    text.split("\n")[0],
    `Replayed ${what} (of ${many(n, "record")} in the stream)`,
  );
}

/** The verify part: the walker's replay compared page by page with each expected image. */
function checkVerify(
  text: string,
  w: Walk,
  p: Problems,
  expected: { name: string; image: Uint8Array; path: string }[],
) {
  const diffs: { name: string; addr: number; writer?: Writer }[] = [];
  const rows = expected.map((e) => {
    const img = w.images.get(e.name)!;
    let different = 0;
    for (let pg = 0; pg < img.length / PAGE; pg++) {
      if (!equalBytes(pageOf(img, pg), pageOf(e.image, pg))) {
        different++;
        diffs.push({ name: e.name, addr: pg * PAGE, writer: w.writers.get(e.name)![pg] });
      }
    }
    const pages = img.length / PAGE;
    return {
      TARGET: e.name,
      PAGES: String(pages),
      EQUAL: String(pages - different),
      DIFFERENT: String(different),
      EXPECTED: e.path,
    };
  });
  const v = block(text, "Verify:", true);
  p.eq("verdict", v[0], diffs.length ? "Verify: DIFFERENCES FOUND" : "Verify: all images equal");
  p.eq("verify table", parseTable(v.slice(1)), rows);
  const lines = text.split("\n");
  const after = lines.slice(lines.indexOf(v.at(-1)!) + 2).filter((l) => l !== "");
  p.eq(
    "difference lines",
    after,
    diffs.map((d) =>
      `  ${d.name} page ${hex(d.addr)}: ` +
      (d.writer
        ? `last written by ${d.writer.kind} at offset ${d.writer.offset}`
        : "no record wrote this page (the target kept its previous content)")
    ),
  );
}

/**
 * Terminal output with its wrapped lines joined back: a line that starts with 15 or more
 * spaces (a wrapped NOTE cell or summary value) continues the line above it.
 */
function unwrap(text: string): string {
  const out: string[] = [];
  for (const l of text.split("\n")) {
    if (/^ {15,}\S/.test(l) && out.length) out[out.length - 1] += " " + l.trimStart();
    else out.push(l);
  }
  return out.join("\n");
}

// ---- the cases ----

async function link(dir: string, name: string, target: string): Promise<string> {
  await Deno.symlink(target, `${dir}/${name}`);
  return `${dir}/${name}`;
}

/** Writes small-xbzrle's last image with bytes changed in four pages (see the verify case). */
const DIFF_PAGES = [0x0, 0x265000, 0x7ca000, 0x7d1000];

function runProblems(fn: (p: Problems) => void | Promise<void>): Promise<string[]> {
  const p = new Problems();
  return Promise.resolve(fn(p)).then(() => p.list);
}

function inspectSample(name: string, which: "xbzrle" | "block"): GoldenCase {
  return {
    name: `inspect_${name.replace(/[-.]/g, "_").replace(/_mig$/, "")}.txt`,
    title: `inspect text: samples/${name}`,
    setup: async (dir) => ["inspect", await link(dir, name, `${REPO}samples/${name}`)],
    code: 0,
    check: (out) =>
      runProblems(async (p) => {
        await checkSampleSources(p);
        p.eq("title line", out.split("\n")[0], `migscope inspect ${TMP}/${name}`);
        checkInspectWalk(out, (await sampleSources())[which], p);
      }),
  };
}

function inspectCapture(capture: string): GoldenCase {
  return {
    name: `inspect_${capture}.txt`,
    title: `inspect text: shared capture ${capture}`,
    setup: async (dir) => ["inspect", await link(dir, "capture.bin", await captureFile(capture))],
    code: 0,
    check: (out) =>
      runProblems((p) => {
        p.eq("title line", out.split("\n")[0], `migscope inspect ${TMP}/capture.bin`);
        if (capture === "m1b_mapped_ram_single") checkInspectMappedRam(out, p);
        else checkInspectReadme(out, capture, p);
      }),
  };
}

/** Every golden case. */
export const CASES: GoldenCase[] = [
  inspectSample("small-xbzrle.mig", "xbzrle"),
  inspectSample("small-block.mig", "block"),
  inspectCapture("a_precopy_idle"),
  inspectCapture("c_block_zero_blocks"),
  {
    name: "inspect_arm_versatilepb_1k.txt",
    title: "inspect text: the real ARM capture with 1 KiB target pages",
    setup: async (dir) => {
      const { gunzipSync } = await import("node:zlib");
      const gz = await Deno.readFile(`${ARM_DIR}/capture.bin.gz`);
      await Deno.writeFile(`${dir}/capture.bin`, gunzipSync(gz));
      return ["inspect", `${dir}/capture.bin`];
    },
    code: 0,
    check: (out) =>
      runProblems((p) => {
        p.eq("title line", out.split("\n")[0], `migscope inspect ${TMP}/capture.bin`);
        checkInspectArm(out, p);
      }),
  },
  inspectCapture("m1b_mapped_ram_single"),
  {
    name: "inspect_tiny.txt",
    title: "inspect text: a hand-built stream with a command and a device section",
    setup: async (dir) => {
      await Deno.writeFile(`${dir}/tiny.mig`, tinyStream().bytes);
      return ["inspect", `${dir}/tiny.mig`];
    },
    code: 0,
    check: (out) =>
      runProblems((p) => {
        const t = tinyStream();
        p.eq("title line", out.split("\n")[0], `migscope inspect ${TMP}/tiny.mig`);
        checkInspectWalk(
          out,
          walk(t.bytes, { bodies: TINY_BODIES }),
          p,
          new Map([[t.at.full, t.at.body]]),
        );
      }),
  },
  {
    name: "inspect_tiny_terminal.txt",
    title: "inspect text on a 110-column terminal: long NOTE cells and summary lines wrapped",
    columns: 110,
    setup: async (dir) => {
      await Deno.writeFile(`${dir}/tiny.mig`, tinyStream().bytes);
      return ["inspect", `${dir}/tiny.mig`];
    },
    code: 0,
    check: (out) =>
      runProblems((p) => {
        const t = tinyStream();
        const long = out.split("\n").filter((l) => l.length > 110);
        p.eq("lines longer than the terminal", long, []);
        const joined = unwrap(out);
        p.ok("some lines were wrapped", joined !== out);
        checkInspectWalk(
          joined,
          walk(t.bytes, { bodies: TINY_BODIES }),
          p,
          new Map([[t.at.full, t.at.body]]),
        );
      }),
  },
  channelCase("inspect_multifd_channel.txt", CHANNEL_PACKETS),
  channelCase("inspect_multifd_channel_long.txt", LONG_CHANNEL_PACKETS),
  zlibChannelCase(),
  channelsCase(),
  cprCase(),
  {
    name: "inspect_records_small_xbzrle.txt",
    title: "inspect --records: samples/small-xbzrle.mig (first 40 and last 60 lines kept)",
    setup: async (
      dir,
    ) => [
      "inspect",
      "--records",
      await link(dir, "small-xbzrle.mig", `${REPO}samples/small-xbzrle.mig`),
    ],
    code: 0,
    excerpt: (out) => headTail(out, 40, 60),
    check: (out) =>
      runProblems(async (p) => {
        await checkSampleSources(p);
        const w = (await sampleSources()).xbzrle;
        checkRecordRows(out, w, p);
      }),
  },
  {
    name: "inspect_records_small_block.txt",
    title:
      "inspect --records: samples/small-block.mig, block-migration rows aligned (first 40 and last 60 lines kept)",
    setup: async (
      dir,
    ) => [
      "inspect",
      "--records",
      await link(dir, "small-block.mig", `${REPO}samples/small-block.mig`),
    ],
    code: 0,
    excerpt: (out) => headTail(out, 40, 60),
    check: (out) =>
      runProblems(async (p) => {
        await checkSampleSources(p);
        checkRecordRows(out, (await sampleSources()).block, p);
      }),
  },
  recordsFilterCase("xbzrle", ["--block", "pc.ram", "--pass", "4", "--kind", "zero"]),
  recordsFilterCase("block", ["--block", "disk0", "--kind", "chunk", "--kind", "zero-chunk"]),
  {
    name: "inspect_records_tiny.txt",
    title: "inspect --records: the hand-built stream (commands and device bodies)",
    setup: async (dir) => {
      await Deno.writeFile(`${dir}/tiny.mig`, tinyStream().bytes);
      return ["inspect", "--records", `${dir}/tiny.mig`];
    },
    code: 0,
    check: (out) =>
      runProblems((p) => {
        const t = tinyStream();
        const w = walk(t.bytes, { bodies: TINY_BODIES });
        p.eq("record rows", recordRows(out, p), expectedRecordRows(w, TINY_BODIES));
        checkInspectWalk(out, w, p, new Map([[t.at.full, t.at.body]]));
      }),
  },
  {
    name: "inspect_json_tiny.json",
    title: "inspect --json: the hand-built stream",
    setup: async (dir) => {
      await Deno.writeFile(`${dir}/tiny.mig`, tinyStream().bytes);
      return ["inspect", "--json", `${dir}/tiny.mig`];
    },
    code: 0,
    check: (out) =>
      runProblems((p) => {
        const t = tinyStream();
        const w = walk(t.bytes, { bodies: TINY_BODIES });
        const doc = JSON.parse(out);
        p.eq("format and version first", Object.keys(doc), [
          "format",
          "version",
          "summary",
          "timeline",
        ]);
        p.eq("format", [doc.format, doc.version], ["migscope-inspect", 1]);
        checkSummaryJson(doc.summary, w, t.at, p);
        p.eq(
          "timeline",
          doc.timeline.map((
            r: Record<string, unknown>,
          ) => [r.offset, r.kind, r.bytes, r.page, r.zero, r.xbzrle]),
          w.items.map((i) => [i.offset, i.kind, i.length, i.page, i.zero, i.xbzrle]),
        );
      }),
  },
  {
    name: "inspect_ndjson_tiny.ndjson",
    title: "inspect --ndjson: the hand-built stream",
    setup: async (dir) => {
      await Deno.writeFile(`${dir}/tiny.mig`, tinyStream().bytes);
      return ["inspect", "--ndjson", `${dir}/tiny.mig`];
    },
    code: 0,
    check: (out) =>
      runProblems((p) => {
        const t = tinyStream();
        const w = walk(t.bytes, { bodies: TINY_BODIES });
        const lines = out.trimEnd().split("\n").map((l) => JSON.parse(l));
        p.eq("first line: format and version", lines[0], {
          kind: "format",
          format: "migscope-inspect-ndjson",
          version: 1,
        });
        checkSummaryJson(lines.at(-1), w, t.at, p);
        p.eq("last line is the summary", lines.at(-1).kind, "summary");
        const rec = lines.slice(1, -1).map((l) => [l.offset, l.kind, l.length]);
        const expect: [number, string, number][] = [];
        for (const i of w.items) {
          const kind = ({
            HEADER: "header",
            CONFIGURATION: "configuration",
            COMMAND: "command",
            EOF: "eof",
            VMDESCRIPTION: "vmdesc",
          } as Record<string, string>)[i.kind];
          if (kind) expect.push([i.offset, kind, i.length]);
          else {
            const hdr = 1 + 4 +
              (i.kind === "START" || i.kind === "FULL" ? 1 + i.name!.length + 8 : 0);
            expect.push([i.offset, "section", hdr]);
            expect.push([i.offset + i.length - 5, "footer", 5]);
            if (i.kind === "FULL") expect.push([i.offset + hdr, "device", TINY_BODIES.dev0]);
          }
        }
        for (const r of w.records) {
          expect.push([r.offset, r.family === "RAM" ? "ram" : "block", r.length]);
        }
        expect.sort((a, b) => a[0] - b[0]);
        p.eq("records (offset, kind, length)", rec, expect);
        const ram = lines.filter((l) =>
          l.kind === "ram" && l.type !== "mem_size" && l.type !== "eos"
        );
        p.eq(
          "RAM records (flags, block, addr, pass)",
          ram.map((l) => [l.offset, l.flagNames, l.block, l.addr, l.pass]),
          w.records.filter((r) => r.block).map((
            r,
          ) => [r.offset, ramFlagText(r.flags), r.block, r.addr, r.pass]),
        );
      }),
  },
  {
    name: "replay_small_block.txt",
    title: "replay text: samples/small-block.mig (RAM and disk targets)",
    setup: async (
      dir,
    ) => [
      "replay",
      await link(dir, "small-block.mig", `${REPO}samples/small-block.mig`),
      "--out",
      `${dir}/out`,
    ],
    code: 0,
    check: (out) =>
      runProblems(async (p) => {
        await checkSampleSources(p);
        const w = (await sampleSources()).block;
        checkTargets(out, w, p, {
          "pc.ram": `${TMP}/out/pc.ram.ram`,
          disk0: `${TMP}/out/disk0.disk`,
        });
        checkFindingsText(out, w, p);
        p.eq("no verify part", block(out, "Verify:", true), []);
      }),
  },
  {
    name: "replay_small_block.json",
    title: "replay --json: samples/small-block.mig",
    setup: async (
      dir,
    ) => [
      "replay",
      "--json",
      await link(dir, "small-block.mig", `${REPO}samples/small-block.mig`),
      "--out",
      `${dir}/out`,
    ],
    code: 0,
    check: (out) =>
      runProblems(async (p) => {
        await checkSampleSources(p);
        const w = (await sampleSources()).block;
        const doc = JSON.parse(out);
        p.eq(
          "ram",
          doc.ram.map((
            r: Record<string, unknown>,
          ) => [r.name, r.path, r.size, r.page, r.zero, r.xbzrle]),
          w.blocks.map((
            b,
          ) => [b.name, `${TMP}/out/${b.name}.ram`, b.size, b.page, b.zero, b.xbzrle]),
        );
        p.eq(
          "disks",
          doc.disks.map((
            r: Record<string, unknown>,
          ) => [r.name, r.path, r.size, r.data, r.zeroBlocks]),
          w.disks.map((d) => [d.name, `${TMP}/out/${d.name}.disk`, d.extent, d.data, d.zero]),
        );
        p.eq("findings", [doc.findings, doc.findingCounts], [[], {}]);
      }),
  },
  {
    name: "verify_small_xbzrle_equal.txt",
    title: "verify text, equal (exit 0): samples/small-xbzrle.mig against its last input image",
    setup: async (dir) => {
      await Deno.writeFile(`${dir}/pc.ram.3`, (await sampleSources()).rounds[3]);
      const mig = await link(dir, "small-xbzrle.mig", `${REPO}samples/small-xbzrle.mig`);
      return ["verify", mig, "--expect", `pc.ram=${dir}/pc.ram.3`];
    },
    code: 0,
    check: (out) =>
      runProblems(async (p) => {
        await checkSampleSources(p);
        const s = await sampleSources();
        checkTargets(out, s.xbzrle, p, { "pc.ram": "(temporary)" });
        checkFindingsText(out, s.xbzrle, p);
        checkVerify(out, s.xbzrle, p, [{
          name: "pc.ram",
          image: s.rounds[3],
          path: `${TMP}/pc.ram.3`,
        }]);
      }),
  },
  {
    name: "verify_small_xbzrle_diff.txt",
    title:
      "verify text, differences (exit 1): four changed pages and the records that last wrote them",
    setup: async (dir) => {
      await Deno.writeFile(`${dir}/changed.ram`, diffImage((await sampleSources()).rounds[3]));
      const mig = await link(dir, "small-xbzrle.mig", `${REPO}samples/small-xbzrle.mig`);
      return ["verify", mig, "--expect", `pc.ram=${dir}/changed.ram`];
    },
    code: 1,
    check: (out) =>
      runProblems(async (p) => {
        await checkSampleSources(p);
        const s = await sampleSources();
        checkTargets(out, s.xbzrle, p, { "pc.ram": "(temporary)" });
        checkFindingsText(out, s.xbzrle, p);
        checkVerify(out, s.xbzrle, p, [{
          name: "pc.ram",
          image: diffImage(s.rounds[3]),
          path: `${TMP}/changed.ram`,
        }]);
        const kinds = DIFF_PAGES.map((a) => s.xbzrle.writers.get("pc.ram")![a / PAGE]?.kind);
        p.eq("the changed pages were last written by XBZRLE, PAGE, ZERO, XBZRLE", kinds, [
          "XBZRLE",
          "PAGE",
          "ZERO",
          "XBZRLE",
        ]);
      }),
  },
  findingsCase("replay_findings.txt", []),
  findingsCase("replay_findings.json", ["--json"]),
];

/**
 * `inspect --records` with filters on a sample: exactly the walker's rows that match (a row
 * matches every filter given, any of its values), the count line, and the rest of the report.
 */
function recordsFilterCase(which: "xbzrle" | "block", filter: string[]): GoldenCase {
  const sample = `small-${which}.mig`;
  const values = (flag: string) => filter.filter((_, i) => filter[i - 1] === flag);
  return {
    name: `inspect_records_filter_small_${which}.txt`,
    title: `inspect --records ${filter.join(" ")}: samples/${sample}`,
    setup: async (
      dir,
    ) => ["inspect", "--records", ...filter, await link(dir, sample, `${REPO}samples/${sample}`)],
    code: 0,
    check: (out) =>
      runProblems(async (p) => {
        await checkSampleSources(p);
        const w = (await sampleSources())[which];
        const all = expectedRecords(w);
        const [blocks, passes, kinds] = ["--block", "--pass", "--kind"].map(values);
        const match = all.filter((r) =>
          (!blocks.length || blocks.includes(r.block ?? "")) &&
          (!passes.length || passes.includes(String(r.pass))) &&
          (!kinds.length || kinds.includes(r.kind))
        );
        p.ok(
          "the filter selects some rows, not all",
          match.length > 0 && match.length < all.length,
        );
        const lines = out.split("\n");
        const end = lines.indexOf("Timeline") - 2;
        p.eq("records header and rule", lines.slice(2, 4), RECORDS_HEAD);
        p.eq("rows", lines.slice(4, end), match.map((r) => r.row));
        p.eq(
          "count line",
          lines[end],
          `${match.length} of ${all.length} records match ${filter.join(" ")}`,
        );
        checkInspectWalk(out, w, p);
      }),
  };
}

/**
 * A hand-built multifd channel against the packets it was built from: per row its offset,
 * number, SYNC flag, block, page counts and the lowest…highest page offset; the first 200
 * packets and every SYNC packet after them, then a line counting the packets left out.
 */
function channelCase(name: string, packets: typeof CHANNEL_PACKETS): GoldenCase {
  const long = packets.length > 200;
  return {
    name,
    title: `inspect text: a hand-built multifd channel of ${packets.length} packets`,
    setup: async (dir) => {
      await Deno.writeFile(`${dir}/channel1.bin`, channelFile(packets).bytes);
      return ["inspect", `${dir}/channel1.bin`];
    },
    code: 0,
    excerpt: long ? (out) => headTail(out, 30, 12) : undefined,
    check: (out) =>
      runProblems((p) => {
        const ch = channelFile(packets);
        const lines = out.split("\n");
        p.eq(
          "title line",
          lines[0],
          `multifd channel ${TMP}/channel1.bin: id 1, source UUID ${CHANNEL_UUID}, ` +
            `compression none`,
        );
        const table = block(out, lines[2]);
        const shown = packets.map((k, n) => ({ k, n })).filter(({ k, n }) => n < 200 || k.sync);
        const hidden = packets.length - shown.length;
        const more = hidden
          ? [`… ${hidden} more packets not shown (every SYNC packet is; --records shows all)`]
          : [];
        p.eq("line under the table", table.slice(table.length - more.length), more);
        p.eq(
          "packets",
          parseTable(table.slice(0, table.length - more.length)),
          shown.map(({ k, n }) => {
            const offs = [...k.normal, ...k.zero];
            return {
              OFFSET: String(ch.at[n]),
              PACKET: String(n),
              FLAGS: k.sync ? "SYNC" : "",
              BLOCK: k.block,
              NORMAL: String(k.normal.length),
              ZERO: String(k.zero.length),
              PAYLOAD: String(k.normal.length * 4096),
              OFFSETS: offs.length ? `${hex(Math.min(...offs))}…${hex(Math.max(...offs))}` : "",
            };
          }),
        );
        const perBlock = new Map<string, number>();
        for (const k of packets) {
          const n = k.normal.length + k.zero.length;
          if (n) perBlock.set(k.block, (perBlock.get(k.block) ?? 0) + n);
        }
        const sum = (f: (k: (typeof CHANNEL_PACKETS)[number]) => number) =>
          packets.reduce((a, k) => a + f(k), 0);
        p.eq(
          "totals line",
          lines.at(-2),
          `${many(packets.length, "packet")} (${sum((k) => Number(k.sync))} SYNC), ${
            many(sum((k) => k.normal.length), "normal page")
          }, ${many(sum((k) => k.zero.length), "zero page")}, ${
            many(ch.bytes.length, "byte")
          }; pages per block: ${[...perBlock].map(([b, n]) => `${b} ${n}`).join(", ")}`,
        );
      }),
  };
}

/**
 * A hand-built zlib channel with a device-state packet against what it was built from: the
 * method in the title, ZLIB flags, the compressed payload sizes, the device row (idstr,
 * instance, size, sha256), and the totals with the ratio of page bytes to payload bytes.
 */
function zlibChannelCase(): GoldenCase {
  let built: Awaited<ReturnType<typeof zlibChannelFile>> | undefined;
  return {
    name: "inspect_multifd_zlib_channel.txt",
    title: "inspect text: a hand-built zlib multifd channel with a device-state packet",
    setup: async (dir) => {
      built = await zlibChannelFile();
      await Deno.writeFile(`${dir}/zlib1.bin`, built.bytes);
      return ["inspect", `${dir}/zlib1.bin`];
    },
    code: 0,
    check: async (out) => {
      const ch = built ?? await zlibChannelFile();
      const sha = async (b: Uint8Array) =>
        [...new Uint8Array(await crypto.subtle.digest("SHA-256", b.slice()))]
          .map((x) => x.toString(16).padStart(2, "0")).join("");
      const rows: Record<string, string>[] = [];
      let normal = 0, zero = 0, pay = 0, syncs = 0;
      for (const [n, k] of ZLIB_CHANNEL_PACKETS.entries()) {
        if ("device" in k) {
          rows.push({
            OFFSET: String(ch.at[n]),
            PACKET: "",
            FLAGS: "DEVICE",
            BLOCK: `${k.device} #${k.instance}`,
            NORMAL: "",
            ZERO: "",
            PAYLOAD: String(k.payload.length),
            OFFSETS: `sha256 ${(await sha(k.payload)).slice(0, 16)}…`,
          });
          continue;
        }
        const offs = [...k.normal, ...k.zero];
        normal += k.normal.length;
        zero += k.zero.length;
        pay += ch.payload[n];
        syncs += Number(k.sync);
        rows.push({
          OFFSET: String(ch.at[n]),
          PACKET: String(n),
          FLAGS: [k.sync ? "SYNC" : "", offs.length ? "ZLIB" : ""].filter((x) => x).join(" "),
          BLOCK: k.block,
          NORMAL: String(k.normal.length),
          ZERO: String(k.zero.length),
          PAYLOAD: String(ch.payload[n]),
          OFFSETS: offs.length ? `${hex(Math.min(...offs))}…${hex(Math.max(...offs))}` : "",
        });
      }
      const dev = ZLIB_CHANNEL_PACKETS.find((k) => "device" in k)!;
      return runProblems((p) => {
        const lines = out.split("\n");
        p.eq(
          "title line",
          lines[0],
          `multifd channel ${TMP}/zlib1.bin: id 1, source UUID ${CHANNEL_UUID}, compression zlib`,
        );
        p.eq("packets", parseTable(block(out, lines[2])), rows);
        p.eq(
          "totals line",
          lines.at(-2),
          `${many(ZLIB_CHANNEL_PACKETS.length, "packet")} (${syncs} SYNC), ` +
            `${many(normal, "normal page")}, ${many(zero, "zero page")}, ` +
            `${many(ch.bytes.length, "byte")}; pages per block: pc.ram ${normal + zero}; ` +
            `zlib: ${many(pay, "byte")} of payload for ${normal * 4096} bytes of pages ` +
            `(ratio ${(normal * 4096 / pay).toFixed(2)}); device state ` +
            `${"device" in dev ? `${dev.device} #${dev.instance}: 1 packet, 100 bytes` : ""}`,
        );
      });
    },
  };
}

/**
 * A multifd channel walked by its packet headers alone (no decompression): packets, SYNCs,
 * normal and zero pages, payload bytes of packets with normal pages, total bytes.
 */
function walkChannel(b: Uint8Array) {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const w = { id: b[24], packets: 0, syncs: 0, normal: 0, zero: 0, payload: 0, bytes: b.length };
  for (let p = 64; p < b.length;) {
    const flags = dv.getUint32(p + 8);
    const normal = dv.getUint32(p + 16);
    const payload = normal ? dv.getUint32(p + 20) : 0;
    w.packets++;
    w.syncs += flags & 1;
    w.normal += normal;
    w.zero += dv.getUint32(p + 32);
    w.payload += payload;
    p += 320 + 8 * 128 + payload;
  }
  return w;
}

/**
 * The real QEMU 10.0 zlib capture with its two channels: the Channels table against the
 * channels' packet headers walked here, and the all-connections line against the source's
 * query-migrate in the capture's manifest.
 */
function channelsCase(): GoldenCase {
  const files = ["conn0", "conn1", "conn2"].map((c) => `${ZLIB_CAPTURE}capture.${c}.s2d.bin.gz`);
  return {
    name: "inspect_zlib_channels.txt",
    title: "inspect text: a real zlib multifd migration, main stream and two channels",
    setup: async (dir) => {
      for (const [i, f] of files.entries()) await Deno.copyFile(f, `${dir}/c${i}.bin.gz`);
      return [
        "inspect",
        `${dir}/c0.bin.gz`,
        "--channel",
        `${dir}/c1.bin.gz`,
        "--channel",
        `${dir}/c2.bin.gz`,
      ];
    },
    code: 0,
    excerpt: (out) => out.slice(out.indexOf("Channels\n")),
    check: async (out) => {
      const q = JSON.parse(await Deno.readTextFile(`${ZLIB_CAPTURE}manifest.json`))
        .source_final_query_migrate.ram;
      const walks: ReturnType<typeof walkChannel>[] = [];
      for (const f of files.slice(1)) walks.push(walkChannel(gunzipSync(await Deno.readFile(f))));
      return runProblems((p) => {
        const lines = out.split("\n");
        p.eq(
          "channels",
          parseTable(block(out, "Channels").slice(1)),
          walks.map((w, i) => ({
            "#": String(i),
            KIND: "multifd zlib",
            ID: String(w.id),
            PACKETS: String(w.packets),
            "SYNC/EOS": String(w.syncs),
            NORMAL: String(w.normal),
            ZERO: String(w.zero),
            BYTES: String(w.bytes),
            RATIO: (w.normal * 4096 / w.payload).toFixed(2),
            FILE: `${TMP}/c${i + 1}.bin.gz`,
          })),
        );
        p.eq(
          "all connections",
          lines.at(-2),
          `all connections: ${q.normal} normal pages, ${q.duplicate} zero pages (main stream 0 + 0, ` +
            `channels ${q.normal} + ${q.duplicate})`,
        );
      });
    },
  };
}

/**
 * The real QEMU 10.0 cpr-transfer channel of tests/data/cpr: one row per fd QEMU's trace says
 * it saved, newest first, each at the offset its entry starts at (1 + 4 + name + NUL + 4 + 1
 * bytes after the previous one, from 8), and the totals.
 */
function cprCase(): GoldenCase {
  const dir = `${REPO}tests/data/cpr`;
  return {
    name: "inspect_cpr_channel.txt",
    title: "inspect text: a real cpr-transfer channel (QEMU 10.0)",
    setup: async (tmp) => {
      await Deno.copyFile(`${dir}/cpr.bin`, `${tmp}/cpr.bin`);
      return ["inspect", `${tmp}/cpr.bin`];
    },
    code: 0,
    check: async (out) => {
      const saved: { name: string; id: number }[] =
        JSON.parse(await Deno.readTextFile(`${dir}/expect.json`)).saved;
      const rows: Record<string, string>[] = [];
      let at = 8;
      for (const fd of [...saved].reverse()) {
        rows.push({ NAME: fd.name, ID: String(fd.id), OFFSET: String(at) });
        at += 1 + 4 + new TextEncoder().encode(fd.name).length + 1 + 4 + 1;
      }
      return runProblems((p) => {
        const lines = out.split("\n");
        p.eq("table", parseTable(block(out, lines[2])), rows);
        p.eq(
          "totals",
          lines.at(-2),
          `${saved.length} fds, ${at + 1} bytes; end of the fd list at ${at}`,
        );
      });
    },
  };
}

/** small-xbzrle's last image with one byte changed in each of {@link DIFF_PAGES}. */
function diffImage(last: Uint8Array): Uint8Array {
  const img = last.slice();
  for (const [i, a] of DIFF_PAGES.entries()) img[a + 5 + 100 * i] ^= 0xff;
  return img;
}

function findingsCase(name: string, extra: string[]): GoldenCase {
  return {
    name,
    title: `replay ${extra.join(" ")}${
      extra.length ? " " : ""
    }--ram --expect: findings table and both kinds of difference line (exit 1)`,
    setup: async (dir) => {
      await Deno.writeFile(`${dir}/findings.mig`, findingsStream().bytes);
      await Deno.writeFile(`${dir}/base.ram`, findingsBase());
      await Deno.writeFile(`${dir}/expect.ram`, findingsExpect());
      return [
        "replay",
        ...extra,
        `${dir}/findings.mig`,
        "--out",
        `${dir}/out`,
        "--ram",
        `pc.ram=${dir}/base.ram`,
        "--expect",
        `pc.ram=${dir}/expect.ram`,
      ];
    },
    code: 1,
    check: (out) =>
      runProblems((p) => {
        const s = findingsStream();
        const base = new Map([["pc.ram", findingsBase()]]);
        const w = walk(s.bytes, { base });
        const file = `${TMP}/out/pc.ram.ram`;
        const expected = [{ name: "pc.ram", image: findingsExpect(), path: `${TMP}/expect.ram` }];
        p.eq(
          "the built stream's findings",
          expectedFindings(w, base).map((f) => [f.kind, f.offset, f.addr]),
          [
            ["zero-after-data", s.at.zero1, PAGE],
            ["zero-fill", s.at.zero2, 2 * PAGE],
            ["unwritten-nonzero", -1, 5 * PAGE],
            ["unwritten-nonzero", -1, 6 * PAGE],
          ],
        );
        if (!extra.includes("--json")) {
          checkTargets(out, w, p, { "pc.ram": file });
          checkFindingsText(out, w, p, base);
          checkVerify(out, w, p, expected);
          return;
        }
        const doc = JSON.parse(out);
        const b = w.blocks[0];
        p.eq(
          "ram",
          doc.ram.map((
            r: Record<string, unknown>,
          ) => [r.name, r.path, r.size, r.page, r.zero, r.xbzrle]),
          [[b.name, file, b.size, b.page, b.zero, b.xbzrle]],
        );
        p.eq(
          "findings",
          doc.findings.map((f: Record<string, unknown>) => [f.kind, f.offset, f.target, f.addr]),
          expectedFindings(w, base).map((f) => [f.kind, f.offset, f.target, f.addr]),
        );
        p.eq("verify", [
          doc.verify.equal,
          doc.verify.images.map((
            i: Record<string, unknown>,
          ) => [i.name, i.actual, i.expected, i.pages, i.equal, i.different]),
        ], [false, [["pc.ram", file, `${TMP}/expect.ram`, 8, 6, 2]]]);
        p.eq("diffs", doc.verify.images[0].diffs, [
          { addr: 3 * PAGE, writer: { offset: s.at.xbzrle3, kind: "XBZRLE" } },
          { addr: 6 * PAGE },
        ]);
      }),
  };
}

/** The summary object of `--json` / `--ndjson` against the walker and the builder's offsets. */
function checkSummaryJson(
  // deno-lint-ignore no-explicit-any
  s: any,
  w: Walk,
  at: Record<string, number>,
  p: Problems,
) {
  p.eq("stream", s.stream, { bytes: w.bytes, footers: true, pageSize: 4096, version: 3 });
  p.eq("configuration", [s.configuration.machine, s.configuration.offset], [
    w.machine,
    at.configuration,
  ]);
  const x = w.records.filter((r) => r.kind === "XBZRLE");
  p.eq("ram counters", [
    s.ram.page,
    s.ram.zero,
    s.ram.xbzrle,
    s.ram.compressed,
    s.ram.eos,
    s.ram.memSize,
    s.ram.namedHeaders,
    s.ram.continueHeaders,
    s.ram.xbzrleBytes,
    s.ram.xbzrleRecordBytes,
    s.ram.totalBytes,
  ], [
    w.ram.page,
    w.ram.zero,
    w.ram.xbzrle,
    0,
    w.ram.eos,
    w.ram.memSize,
    w.ram.named,
    w.ram.cont,
    w.ram.xbzrleBytes,
    x.reduce((a, r) => a + r.length, 0),
    w.ram.pageRecordBytes,
  ]);
  p.eq("ram blocks", s.ram.blocks, w.blocks.map((b) => ({ ...b, compressed: 0 })));
  const count = (k: string) => w.items.filter((i) => i.kind === k).length;
  p.eq("sections", s.sections, {
    START: count("START"),
    PART: count("PART"),
    END: count("END"),
    FULL: count("FULL"),
    COMMAND: count("COMMAND"),
    FOOTER: count("START") + count("PART") + count("END") + count("FULL"),
    CONFIGURATION: 1,
    EOF: 1,
  });
  p.eq("commands", s.commands.map((c: Record<string, unknown>) => [c.offset, c.name]), [[
    at.command,
    "SWITCHOVER_START",
  ]]);
  p.eq("devices", s.devices, [{
    name: "dev0",
    instance: 0,
    version: 1,
    size: TINY_BODIES.dev0,
    offset: at.body,
  }]);
  p.eq(
    "passes",
    s.passes,
    w.passes.map((x) => ({
      index: x.index,
      pages: x.pages,
      bytes: x.bytes,
      page: x.page,
      zero: x.zero,
      xbzrle: x.xbzrle,
      compressed: 0,
      offset: x.offset,
    })),
  );
  p.eq("eof", s.eof, { offset: at.eof });
  p.eq("trailer", [s.trailer.offset, s.trailer.bytes, s.trailer.jsonLength, s.trailer.devices], [
    at.vmdesc,
    w.trailer!.bytes,
    w.trailer!.jsonLength,
    1,
  ]);
}

/** Asserts the golden case named `name` (see {@link assertGolden}). */
export function golden(name: string): Promise<void> {
  const c = CASES.find((x) => x.name === name);
  if (!c) throw new Error(`no golden case ${name}`);
  return assertGolden(c);
}
