/**
 * The tap's postcopy pass (every page after POSTCOPY_RUN, one pass): its NDJSON event says so,
 * the final table names it, and it has no dirty-page rate (it sends every page not sent yet).
 */
import assert from "node:assert/strict";
import type { PassEvent } from "../../src/tap/events.ts";
import { dirtyRate, TapState } from "../../src/report/tap_state.ts";
import { finalText } from "../../src/report/tap_text.ts";
import { tapEventJson } from "../../src/report/tap_view.ts";

// The pass events of a real postcopy capture with page faults, relayed by `migscope tap`.
const pre: PassEvent = {
  type: "pass",
  t: 555,
  index: 1,
  pages: 4907,
  zero: 3278,
  xbzrle: 0,
  bytes: 6714925,
  ms: 400,
};
const post: PassEvent = {
  ...pre,
  t: 4339,
  index: 2,
  pages: 15719,
  zero: 11849,
  bytes: 15989255,
  ms: 3784,
  postcopy: true,
};

Deno.test("tap: the postcopy pass is marked in its event and the final table, with no dirty rate", () => {
  assert.match(tapEventJson(post), /"ms":3784,"postcopy":true\}$/);
  assert.doesNotMatch(tapEventJson(pre), /postcopy/);
  const s = new TapState();
  s.apply(pre);
  s.apply(post);
  assert.equal(dirtyRate(s.passes, post), undefined);
  const text = finalText(s, 120);
  assert.match(text, /PASS .* PHASE\n/);
  assert.match(text, /^ +1 +4907 +1629 +3278 +0 +6714925 +400 +-\n/m);
  assert.match(text, /^ +2 +15719 +3870 +11849 +0 +15989255 +3784 +- +postcopy\n/m);
  // Without a postcopy pass the table has no PHASE column.
  const only = new TapState();
  only.apply(pre);
  assert.doesNotMatch(finalText(only, 120), /PHASE/);
});
