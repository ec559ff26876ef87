/**
 * The report's building blocks on hand-made input: the RAM map's cells (records by kind, last
 * kind, sends, unsent pages, pages past the block), the passes' re-send counts, the timeline
 * bands (merging and the bound on their number), and the verify comparison into map cells
 * against verify's own compareImages.
 */
import assert from "node:assert/strict";
import { newRamBatch, RAM_CODE } from "../../src/protocol/ram_batch.ts";
import { initialStreamInfo } from "../../src/protocol/stream_info.ts";
import { compareImages } from "../../src/replay/verify.ts";
import { MAX_BANDS, TimelineBands } from "../../src/report/html/bands.ts";
import { RamMap } from "../../src/report/html/ram_map.ts";
import { compareIntoGrid } from "../../src/report/html/verify_cells.ts";
import type { TimelineRow } from "../../src/report/summary_types.ts";

const PS = 4096;

/** A batch of records [code, page, pass] of block 0 (`pc.ram`, `pages` pages). */
function batch(pages: number, recs: [number, number, number][]) {
  const info = initialStreamInfo(PS);
  info.blocks.push({ name: "pc.ram", size: pages * PS });
  const b = newRamBatch(info);
  recs.forEach(([code, page, pass], i) => {
    b.code[i] = code;
    b.addr[i] = page * PS;
    b.block[i] = 0;
    b.pass[i] = pass;
    b.offset[i] = 100 + i * 10;
    b.length[i] = code === RAM_CODE.PAGE ? PS + 8 : 9;
  });
  b.count = recs.length;
  return b;
}

Deno.test("RAM map: cells of 3 pages for a 10000-page block; kinds, last kind, sends, unsent", () => {
  const { ZERO, PAGE, XBZRLE, EOS } = RAM_CODE;
  const map = new RamMap();
  map.addBatch(batch(10000, [
    [ZERO, 0, 1],
    [PAGE, 1, 1],
    [PAGE, 9999, 1],
    [EOS, 0, 1],
    [PAGE, 0, 2],
    [XBZRLE, 1, 2],
    [XBZRLE, 1, 3],
    [PAGE, 10000, 3], // past the block
  ]));
  const g = map.grids.get("pc.ram")!;
  assert.deepEqual([g.pages, g.cellPages, g.cells], [10000, 3, 3334]);
  const j = g.toJson(false);
  assert.deepEqual([j.records.zero[0], j.records.page[0], j.records.xbzrle[0]], [1, 2, 2]);
  assert.equal(j.records.page[3333], 1, "page 9999 is the last cell's only page");
  assert.deepEqual([j.last!.page[0], j.last!.xbzrle[0], j.last!.zero[0], j.unsent![0]], [
    1,
    1,
    0,
    1,
  ]);
  assert.equal(j.maxSends![0], 3, "page 1 was sent three times");
  assert.deepEqual([j.unsent![3333], j.maxSends![3333]], [0, 1], "the last cell holds one page");
  assert.equal(j.unsent![1], 3);
  assert.equal(map.unmapped, 1);
  const passes = map.passes();
  assert.deepEqual(passes.map((p) => [p.index, p.pages, p.resent]), [[1, 3, 0], [2, 2, 2], [
    3,
    2,
    1,
  ]]);
  assert.equal(passes[1].resendRatio, 2 / 3);
  assert.equal(passes[0].kinds.page.bytes, 2 * (PS + 8));
});

Deno.test("RAM map: a block too large to track per page keeps counts only", () => {
  const map = new RamMap(4);
  const pages = 4 * 65537; // cells of 65537 pages
  map.addBatch(batch(pages, [[RAM_CODE.PAGE, 5, 1], [RAM_CODE.PAGE, 5, 2]]));
  const j = map.grids.get("pc.ram")!.toJson(true);
  assert.equal(j.records.page[0], 2);
  assert.equal(j.last, undefined);
  assert.equal(j.maxSends, undefined);
  assert.deepEqual(map.passes().map((p) => p.resent), [0, 1], "a later pass counts as re-sent");
  assert.deepEqual(j.diff, [0, 0, 0, 0]);
});

function row(kind: string, name: string, offset: number, bytes: number, page = 0): TimelineRow {
  return {
    offset,
    kind,
    name,
    bytes,
    depth: 0,
    page,
    zero: 0,
    xbzrle: 0,
    compressed: 0,
    blockData: 0,
    blockZero: 0,
  };
}

Deno.test("timeline bands: adjacent rows of one section merge; lanes; markers", () => {
  const t = new TimelineBands();
  t.add(row("HEADER", "", 0, 8));
  t.add(row("START", "ram", 8, 100, 1));
  t.add(row("PART", "ram", 108, 50, 2));
  t.add(row("COMMAND", "SWITCHOVER_START", 158, 5));
  t.add(row("END", "ram", 163, 20, 3));
  t.add(row("FULL", "cpu", 183, 30));
  t.add(row("EOF", "", 213, 1));
  const j = t.toJson();
  assert.deepEqual(j.bands.map((b) => [b.lane, b.name, b.rows, b.offset, b.end, b.page]), [
    ["other", "", 1, 0, 8, 0],
    ["ram", "ram", 2, 8, 158, 3],
    ["ram", "ram", 1, 163, 183, 3],
    ["device", "cpu", 1, 183, 213, 0],
  ]);
  assert.deepEqual(j.markers.map((m) => m.name), ["SWITCHOVER_START", "EOF"]);
  assert.equal(j.rows, 7);
});

Deno.test("timeline bands: 20000 alternating RAM and block sections stay under the bound", () => {
  const t = new TimelineBands();
  let off = 0;
  for (let i = 0; i < 20000; i++) {
    t.add(row("PART", i % 2 ? "block" : "ram", off, 1000, 1));
    off += 1000;
  }
  const j = t.toJson();
  assert.ok(j.bands.length <= MAX_BANDS, `${j.bands.length} bands`);
  assert.ok(j.bucket > 0);
  assert.equal(j.bands.reduce((a, b) => a + b.rows, 0), 20000);
  assert.equal(j.bands.reduce((a, b) => a + b.bytes, 0), 20000 * 1000);
  assert.equal(j.bands.reduce((a, b) => a + b.page, 0), 20000);
  assert.ok(j.bands.every((b, i) => i === 0 || b.offset >= j.bands[i - 1].offset - j.bucket));
});

Deno.test("verify into cells: the same verdict as verify's compareImages, differing pages on the map", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = new Uint8Array(10 * PS);
    const e = new Uint8Array(12 * PS + 100); // two pages and a bit longer
    e[1 * PS + 5] = 1;
    e[7 * PS] = 2;
    await Deno.writeFile(`${dir}/a`, a);
    await Deno.writeFile(`${dir}/e`, e);
    const map = new RamMap(4); // cells of 4 pages (13 pages: 4 cells)
    const grid = map.grid("pc.ram", 13 * PS, PS);
    const mine = compareIntoGrid("pc.ram", `${dir}/a`, `${dir}/e`, PS, undefined, grid);
    const theirs = compareImages("pc.ram", `${dir}/a`, `${dir}/e`, PS);
    assert.deepEqual(mine, theirs);
    assert.equal(mine.different, 5);
    assert.deepEqual(Array.from(grid.diff), [1, 1, 2, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
