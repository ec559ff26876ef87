/**
 * src/report/table.ts: columns hidden when empty, the last column wrapped to a terminal's
 * width, prose lines wrapped under their value, and singular/plural counts.
 */
import assert from "node:assert/strict";
import { fitLine, plural, renderTable, wrapWords } from "../../src/report/table.ts";

const COLS = [
  { header: "OFFSET", align: "right" as const },
  { header: "BLK", align: "right" as const, hideWhenEmpty: true },
  { header: "ZERO", align: "right" as const, hideWhenEmpty: true },
  { header: "NOTE" },
];

Deno.test("renderTable: a column marked hideWhenEmpty goes when all its cells are '' or '0'", () => {
  assert.equal(
    renderTable(COLS, [["0", "", "3", "QEVM v3"], ["8", "0", "", ""]]),
    "OFFSET  ZERO  NOTE\n------  ----  -------\n     0     3  QEVM v3\n     8\n",
  );
  assert.equal(
    renderTable(COLS, [["0", "1", "", "x"]]),
    "OFFSET  BLK  NOTE\n------  ---  ----\n     0    1  x\n",
  );
});

Deno.test("renderTable: with a width, the last column wraps at clause ends under itself", () => {
  const rows = [["8438", "", "", "JSON 196 bytes, 1 device"], ["0", "", "", "QEVM v3"]];
  assert.equal(
    renderTable(COLS, rows, { width: 24 }),
    [
      "OFFSET  NOTE",
      "------  ----------------",
      "  8438  JSON 196 bytes,",
      "        1 device",
      "     0  QEVM v3",
      "",
    ].join("\n"),
  );
  // Without a width (a pipe): full lines.
  assert.equal(renderTable(COLS, rows).split("\n")[2], "  8438  JSON 196 bytes, 1 device");
  // Never narrower than 16 characters: the line overflows instead of becoming unreadable.
  assert.equal(renderTable(COLS, rows, { width: 10 }).split("\n")[1], "------  ----------------");
});

Deno.test("fitLine: wraps a summary line under its value; short lines and no width unchanged", () => {
  const line = "  RAM records  2 normal, 3 zero; 3 EOS, 1 MEM_SIZE; 8.1 KiB of page records";
  assert.equal(
    fitLine(line, 52, 15),
    "  RAM records  2 normal, 3 zero; 3 EOS, 1 MEM_SIZE;\n" +
      "               8.1 KiB of page records",
  );
  assert.equal(fitLine(line, undefined, 15), line);
  assert.equal(fitLine(line, 200, 15), line);
});

Deno.test("wrapWords: a word longer than the width is cut", () => {
  assert.deepEqual(wrapWords("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
});

Deno.test("plural: 1 record, 2 records, 0 devices, irregular forms", () => {
  assert.equal(plural(1, "record"), "1 record");
  assert.equal(plural(2, "record"), "2 records");
  assert.equal(plural(0, "device"), "0 devices");
  assert.equal(plural(1, "record has", "records have"), "1 record has");
});
