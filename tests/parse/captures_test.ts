/**
 * The parser against every real capture in ../shared/captures: counts, offsets and block lists
 * must equal what the captures' README (and manifests) state — from the file and from a pipe.
 */
import assert from "node:assert/strict";
import {
  captureFile,
  captureNames,
  CAPTURES_DIR,
  pipeOf,
  readmeExpectations,
  summarize,
} from "../_helpers.ts";
import type { Summary } from "../../src/report/summary.ts";
import type { RamBlockInfo, RamRecord } from "../../src/protocol/records.ts";

const expectations = readmeExpectations();

function checkAgainstReadme(name: string, s: Summary) {
  const e = expectations.get(name);
  assert.ok(e, `README describes ${name}`);
  const rec = e.records;
  if (rec.PAGE !== undefined) {
    assert.equal(s.ram.page, rec.PAGE, "PAGE records");
    assert.equal(s.ram.zero, rec.ZERO, "ZERO records");
    assert.equal(s.ram.xbzrle, rec.XBZRLE, "XBZRLE records");
    assert.equal(s.ram.xbzrleBytes, rec.XBZRLE_BYTES, "XBZRLE encoded bytes");
    assert.equal(s.ram.eos, rec.EOS, "RAM EOS records");
    assert.equal(s.ram.memSize, rec.MEM_SIZE, "MEM_SIZE records");
    assert.equal(s.ram.continueHeaders, rec["CONTINUE headers"], "CONTINUE headers");
    assert.equal(s.ram.namedHeaders, rec["headers with block name"], "headers with block name");
  }
  for (const [block, counts] of Object.entries(e.perBlock)) {
    const b = s.ram.blocks.find((x) => x.name === block);
    assert.ok(b, `block ${block} present`);
    assert.equal(b.page, counts.page ?? 0, `${block} page`);
    assert.equal(b.zero, counts.zero ?? 0, `${block} zero`);
    assert.equal(b.xbzrle, counts.xbzrle ?? 0, `${block} xbzrle`);
  }
  if (e.blocks.length) {
    assert.deepEqual(
      s.ram.blocks.map((b) => ({ name: b.name, size: b.size })),
      e.blocks,
      "MEM_SIZE block list",
    );
  }
  const br = e.blockRecords;
  if (br.data_block !== undefined) {
    assert.equal(s.block.data, br.data_block, "block data chunks");
    assert.equal(s.block.zero, br.zero_block, "block zero chunks");
    assert.equal(s.block.progress, br.progress, "block progress");
    assert.equal(s.block.eos, br.eos, "block eos");
  } else {
    assert.equal(
      s.block.data + s.block.zero + s.block.progress + s.block.eos,
      0,
      "no block records",
    );
  }
  const sec = e.sections;
  if (sec.SECTION_START !== undefined) {
    assert.equal(s.sections.CONFIGURATION, sec.CONFIGURATION);
    assert.equal(s.sections.START, sec.SECTION_START);
    assert.equal(s.sections.PART, sec.SECTION_PART);
    assert.equal(s.sections.END, sec.SECTION_END);
    assert.equal(s.sections.FULL, sec.SECTION_FULL);
    assert.equal(s.sections.EOF, sec.EOF);
    assert.equal(s.sections.FOOTER, sec.SECTION_FOOTER);
    assert.equal(s.sections.FOOTER, sec.footers);
    assert.equal(s.devices.length, sec.SECTION_FULL);
  }
  if (e.configurationOffset !== undefined) {
    assert.equal(s.configuration.offset, e.configurationOffset);
  }
  if (e.eofOffset !== undefined) assert.equal(s.eof?.offset, e.eofOffset);
  if (e.vmdescOffset !== undefined) {
    assert.equal(s.trailer?.offset, e.vmdescOffset);
    assert.equal(s.trailer?.jsonLength, e.vmdescJsonLength);
    assert.equal(s.trailer!.offset + s.trailer!.bytes, s.stream.bytes, "trailer ends the stream");
  }
}

function checkAgainstManifest(name: string, s: Summary) {
  const m = JSON.parse(Deno.readTextFileSync(`${CAPTURES_DIR}/${name}/manifest.json`));
  const qm = m.source_final_query_migrate?.ram ?? JSON.parse(
    Deno.readTextFileSync(`${CAPTURES_DIR}/${name}/query-migrate-final.json`),
  ).ram;
  // Without mapped-ram every page is a record: QEMU's counters equal the record counts.
  if (!s.configuration.capabilities.includes("mapped-ram")) {
    assert.equal(s.ram.page, qm.normal, "PAGE records = query-migrate normal");
    assert.equal(s.ram.zero, qm.duplicate, "zero pages = query-migrate duplicate");
  }
  assert.equal(s.stream.bytes, m.files?.["capture.bin.gz"]?.size_uncompressed ?? s.stream.bytes);
  assert.deepEqual(
    s.ram.blocks.map((b) => ({ name: b.name, size: b.size })),
    m.ramblocks.map((b: { name: string; used_bytes: number }) => ({
      name: b.name,
      size: b.used_bytes,
    })),
  );
  assert.equal(s.configuration.machine?.startsWith("pc-i440fx-"), true);
}

for (const name of captureNames()) {
  Deno.test(`capture ${name}: parsed from the file, counts match the README and manifest`, async () => {
    const path = await captureFile(name);
    const { summary, error } = await summarize(path);
    assert.equal(error, undefined, error?.message);
    if (expectations.get(name)?.records.PAGE !== undefined) checkAgainstReadme(name, summary);
    checkAgainstManifest(name, summary);
  });

  Deno.test(`capture ${name}: the pipe path (no seeking, gzip) gives the same summary as the file`, async () => {
    const path = await captureFile(name);
    const fromFile = await summarize(path);
    const fromPipe = await summarize(await pipeOf(path));
    assert.equal(fromPipe.error, undefined, fromPipe.error?.message);
    assert.deepEqual(fromPipe.summary, fromFile.summary);
    const fromGzip = await summarize(`${CAPTURES_DIR}/${name}/capture.bin.gz`);
    assert.deepEqual(fromGzip.summary, fromFile.summary);
  });
}

Deno.test("capture m2_modern_precopy: SWITCHOVER_START just before the RAM END section, vmdesc has configuration", async () => {
  const { summary } = await summarize(await captureFile("m2_modern_precopy"));
  assert.deepEqual(summary.commands.map((c) => c.name), ["SWITCHOVER_START"]);
  const { Summarizer } = await import("../../src/report/summary.ts");
  const { openInput } = await import("../../src/parse/input.ts");
  const { parseStream } = await import("../../src/parse/stream.ts");
  const inp = await openInput(await captureFile("m2_modern_precopy"));
  const sum = new Summarizer();
  for await (const rec of parseStream(inp.reader, { vmdesc: inp.vmdesc })) sum.add(rec);
  inp.close();
  const i = sum.timeline.findIndex((r) => r.kind === "COMMAND");
  assert.equal(sum.timeline[i + 1].kind, "END");
  assert.equal(sum.timeline[i + 1].name, "ram");
  assert.equal(summary.trailer?.hasConfiguration, true);
  const m = JSON.parse(Deno.readTextFileSync(`${CAPTURES_DIR}/m2_modern_precopy/manifest.json`));
  assert.equal(summary.ram.page, m.source_final_query_migrate.ram.normal);
  assert.equal(summary.ram.zero, m.source_final_query_migrate.ram.duplicate);
});

Deno.test("capture m1b_mapped_ram_single: MEM_SIZE mapped-ram headers match the layout file", async () => {
  const layout = JSON.parse(
    Deno.readTextFileSync(`${CAPTURES_DIR}/m1b_mapped_ram_single/mapped-ram-layout.json`),
  );
  const { openInput } = await import("../../src/parse/input.ts");
  const { parseStream } = await import("../../src/parse/stream.ts");
  const inp = await openInput(await captureFile("m1b_mapped_ram_single"));
  let memSize: RamRecord | undefined;
  for await (const rec of parseStream(inp.reader, { vmdesc: inp.vmdesc })) {
    if (rec.kind === "configuration") assert.deepEqual(rec.capabilities, ["mapped-ram"]);
    if (rec.kind === "ram" && rec.type === "mem_size") memSize = rec;
    if (rec.kind === "ram") {
      assert.ok(["mem_size", "eos"].includes(rec.type), `no ${rec.type} records with mapped-ram`);
    }
  }
  inp.close();
  assert.ok(memSize);
  assert.equal(memSize.offset, layout.mem_size_word_offset);
  assert.equal(memSize.total, layout.ram_bytes_total);
  for (const [i, b] of layout.blocks.entries()) {
    const got: RamBlockInfo = (memSize as RamRecord).blocks![i];
    assert.equal(got.name, b.idstr);
    assert.equal(got.size, b.used_length);
    assert.equal(got.mappedRam?.headerOffset, b.mapped_ram_header_offset);
    assert.equal(got.mappedRam?.version, b.header_version);
    assert.equal(got.mappedRam?.bitmapOffset, b.bitmap_offset);
    assert.equal(got.mappedRam?.pagesOffset, b.pages_offset);
  }
});
