/**
 * The golden tests' only normalisation (tests/report/_golden.ts `normalise`), pinned: the
 * temporary directory becomes `<TMP>`, and a rule under a path column is re-drawn only when
 * the program had drawn it to the content's width.
 */
import assert from "node:assert/strict";
import { headTail, normalise } from "./_golden.ts";

const DIR = "/var/tmp/migscope-golden-a1b2c3";

Deno.test("normalise: the directory becomes <TMP>; text without it is untouched", () => {
  assert.equal(normalise(`migscope inspect ${DIR}/x.mig\n`, DIR), "migscope inspect <TMP>/x.mig\n");
  assert.equal(normalise("Replayed 3 records\n", DIR), "Replayed 3 records\n");
  assert.equal(
    normalise(`{"path": "${DIR}/out/pc.ram.ram"}\n`, DIR),
    `{"path": "<TMP>/out/pc.ram.ram"}\n`,
  );
});

Deno.test("normalise: the rule under a path column is re-drawn to the normalised width", () => {
  const path = `${DIR}/out/pc.ram.ram`;
  const text = [
    "TARGET  PAGE  FILE",
    `------  ----  ${"-".repeat(path.length)}`,
    `pc.ram     2  ${path}`,
    "",
    "next  table",
    "----  -----",
    "a     b",
    "",
  ].join("\n");
  assert.equal(
    normalise(text, DIR),
    [
      "TARGET  PAGE  FILE",
      "------  ----  --------------------",
      "pc.ram     2  <TMP>/out/pc.ram.ram",
      "",
      "next  table",
      "----  -----",
      "a     b",
      "",
    ].join("\n"),
  );
});

Deno.test("normalise: a rule the program drew to the wrong width is left as printed", () => {
  const text = `TARGET  FILE\n------  ---\npc.ram  ${DIR}/a\n`;
  assert.equal(normalise(text, DIR), "TARGET  FILE\n------  ---\npc.ram  <TMP>/a\n");
});

Deno.test("headTail: keeps the ends and says how many lines it left out", () => {
  const text = Array.from({ length: 10 }, (_, i) => `line ${i}`).join("\n") + "\n";
  assert.equal(
    headTail(text, 2, 3),
    "line 0\nline 1\n[golden excerpt: 5 lines left out here; the test checks every one of them]\n" +
      "line 7\nline 8\nline 9\n",
  );
  assert.equal(headTail(text, 5, 5), text);
});
