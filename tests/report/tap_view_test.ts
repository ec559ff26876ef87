/**
 * src/report/tap_view.ts (the live view of `migscope tap` and its NDJSON events), fed a fixed
 * event sequence of a postcopy migration with multifd: what `write` receives (frames, the
 * ANSI in-place redraw, the redraw limit, the width) and finish()'s text, written out here
 * from the events.
 */
import assert from "node:assert/strict";
import type { ConnectionKind, TapEvent } from "../../src/tap/events.ts";
import { TapState } from "../../src/report/tap_state.ts";
import { tapEventJson, TapView } from "../../src/report/tap_view.ts";

const MiB = 1 << 20;

// Event makers (optional fields left out, not undefined: the events must round-trip as JSON).
const conn = (t: number, n: number, kind: ConnectionKind, channelId?: number): TapEvent => ({
  type: "connection",
  t,
  n,
  kind,
  ...(channelId !== undefined && { channelId }),
  files: { s2d: `cap.${n}.s2d`, d2s: `cap.${n}.d2s` },
});
const bytes = (t: number, n: number, s2d: number, d2s = 0): TapEvent => ({
  type: "bytes",
  t,
  n,
  s2d,
  d2s,
});
/** A section; `pages` = [normal, zero, XBZRLE]. */
const sec = (
  t: number,
  offset: number,
  section: string,
  [sectionId, idstr]: [number, string],
  size: number,
  [page, zero, xbzrle] = [0, 0, 0],
  pass?: number,
): TapEvent => ({
  type: "section",
  t,
  offset,
  section,
  sectionId,
  idstr,
  bytes: size,
  pages: { zero, page, xbzrle, compressed: 0 },
  ...(pass !== undefined && { pass }),
});
const cmd = (t: number, offset: number, name: string, detail?: string): TapEvent => ({
  type: "command",
  t,
  offset,
  name,
  ...(detail !== undefined && { detail }),
});
const pass = (t: number, index: number, pages: number[], size: number, ms: number): TapEvent => ({
  type: "pass",
  t,
  index,
  pages: pages[0],
  zero: pages[1],
  xbzrle: pages[2],
  bytes: size,
  ms,
});
const close = (t: number, n: number, first: "source" | "destination", s2d: number, d2s = 0) => ({
  type: "close" as const,
  t,
  n,
  first,
  s2d,
  d2s,
});
const RAM: [number, string] = [2, "ram"];

/**
 * A 1 GiB guest (262144 pages of 4 KiB) migrated with multifd (2 channels) and postcopy: passes
 * 1 and 2 of precopy, pass 3 begun, the switchover.
 */
const PRECOPY: TapEvent[] = [
  conn(0, 0, "main"),
  sec(1, 8, "FULL", [0, "configuration"], 39),
  cmd(1, 47, "OPEN_RETURN_PATH"),
  cmd(1, 52, "POSTCOPY_ADVISE", "max page 4096, target page 4096"),
  sec(2, 73, "START", RAM, 58),
  conn(4, 1, "multifd", 0),
  conn(5, 2, "multifd", 1),
  bytes(100, 0, 1 * MiB),
  bytes(100, 1, 10 * MiB),
  bytes(100, 2, 10 * MiB),
  sec(500, 131, "PART", RAM, 1_000_000, [0, 150_000, 0], 1),
  pass(1000, 1, [262_144, 196_608, 0], 270_729_216, 995),
  bytes(1100, 0, 11 * MiB, 512),
  bytes(1100, 1, 140 * MiB),
  bytes(1100, 2, 140 * MiB),
  sec(1300, 11_534_467, "PART", RAM, 2_000_000, [1000, 1000, 2000], 2),
  pass(1400, 2, [5000, 1000, 3000], 5_013_000, 400),
  sec(1600, 13_534_467, "PART", RAM, 711_300, [100, 100, 1000], 3),
  cmd(1610, 14_245_767, "SWITCHOVER_START"),
  bytes(1700, 0, 14 * MiB, 1536),
  bytes(1700, 1, 150 * MiB),
  bytes(1700, 2, 146 * MiB),
];

/** The switch to postcopy (the package: LISTEN, device state, RUN), the rest of pass 3, EOF. */
const POSTCOPY: TapEvent[] = [
  cmd(1720, 14_245_772, "POSTCOPY_RAM_DISCARD", "pc.ram: 3 ranges"),
  cmd(1725, 14_245_850, "PACKAGED", "181204 bytes"),
  cmd(1725, 14_245_859, "POSTCOPY_LISTEN"),
  sec(1726, 14_245_864, "FULL", [3, "timer"], 23),
  cmd(1727, 14_427_049, "POSTCOPY_RUN"),
  bytes(1800, 0, 14_837_000, 8192),
  sec(2000, 14_427_054, "PART", RAM, 410_400, [100, 0, 0], 3),
  pass(2390, 3, [1200, 100, 1000], 711_300, 990),
  sec(2390, 14_837_454, "END", RAM, 9, [0, 0, 0], 3),
  close(2395, 1, "source", 151 * MiB),
  close(2395, 2, "source", 147 * MiB),
  close(2400, 0, "source", 14_837_464, 8192),
  {
    type: "end",
    t: 2400,
    complete: true,
    firstClose: "source",
    replay: "migscope replay cap.0.s2d --channel cap.1.s2d --channel cap.2.s2d --out replayed",
  },
];

/** The same start, then a device section the parser cannot read; the destination gives up. */
const FAILED: TapEvent[] = [
  {
    type: "parse-error",
    t: 1650,
    offset: 14_245_790,
    section: "section 3 'timer' FULL at 14245772",
    record: null,
    message: "offset 14245790 (0xd95f9e), section 3 'timer' FULL at 14245772: " +
      "4 bytes past the section's end",
  },
  {
    ...close(1800, 0, "destination", 14 * MiB, 1536),
    error: "Connection reset by peer (os error 104)",
  },
  close(1801, 1, "destination", 150 * MiB),
  close(1801, 2, "destination", 146 * MiB),
  { type: "end", t: 1801, complete: false, firstClose: "destination" },
];

/** Feeds `events` with the clock at each event's `t`; returns what was written, by event. */
function run(events: TapEvent[], width?: number) {
  let now = 0;
  const writes: { now: number; text: string }[] = [];
  const view = new TapView((text) => writes.push({ now, text }), { width, now: () => now });
  for (const e of events) {
    now = e.t;
    view.event(e);
  }
  return { view, writes, setNow: (t: number) => (now = t) };
}

// deno-lint-ignore no-control-regex -- the escape sequences are what is matched
const ANSI = /\r|\x1b\[\d*[AKJ]/g;
/** The lines a write draws, without the cursor and erase sequences. */
const visible = (text: string) => text.replace(ANSI, "").split("\n").slice(0, -1);

Deno.test("TapView: the frame at 1.8 s, after POSTCOPY_RUN, exactly as written (cursor up over the 12 lines before)", () => {
  const { writes } = run([...PRECOPY, ...POSTCOPY]);
  const at1800 = writes.find((w) => w.now === 1800)!;
  assert.equal(
    at1800.text,
    "\r\x1b[12A" +
      "tap 0:01  postcopy  3 connections (3 open)  155200 pages, 151100 zero\x1b[K\n" +
      "section 3 'timer' FULL at 14245864, pass 3\x1b[K\n" +
      "PASS  NORMAL    ZERO  XBZRLE      BYTES   TIME  DIRTY PAGES/S\x1b[K\n" +
      "   1   65536  196608       0  258.2 MiB  1.0 s              -\x1b[K\n" +
      "   2    1000    1000    3000    4.8 MiB  0.4 s           5025\x1b[K\n" +
      "#  KIND              S2D      D2S        RATE\x1b[K\n" +
      "0  main         14.1 MiB  8.0 KiB   7.7 MiB/s\x1b[K\n" +
      "1  multifd #0  150.0 MiB      0 B  82.4 MiB/s\x1b[K\n" +
      "2  multifd #1  146.0 MiB      0 B  80.0 MiB/s\x1b[K\n" +
      "command  1.7 s  PACKAGED         at 14245850\x1b[K\n" +
      "command  1.7 s  POSTCOPY_LISTEN  at 14245859\x1b[K\n" +
      "command  1.7 s  POSTCOPY_RUN     at 14427049\x1b[K\n" +
      "\x1b[J",
  );
  // Derivation. Pass 1: 262144 − 196608 zero − 0 XBZRLE = 65536 normal, 270729216 B = 258.2
  // MiB, 995 ms; pass 2: 5000 − 1000 − 3000 = 1000 normal, 5013000 B = 4.8 MiB, and 5000 pages
  // re-sent / 0.995 s of pass 1 = 5025 pages/s. Rates at t = 1800 over the samples from the
  // newest one at or before t = 800 (t = 100 for all three): main (14837000 + 8192 − 1 MiB) /
  // 1.7 s = 7.7 MiB/s; channel 0 (150 − 10) MiB / 1.7 s = 82.4 MiB/s; channel 1 136 / 1.7 =
  // 80.0 MiB/s. Phase postcopy from POSTCOPY_RUN; pass 3 from the last RAM section. Pages: the
  // sections' so far, 1100 normal + 151100 zero + 3000 XBZRLE = 155200.
});

Deno.test("TapView: after the end, tick() draws the closed connections and phase done", () => {
  const { view, writes, setNow } = run([...PRECOPY, ...POSTCOPY]);
  assert.equal(writes.at(-1)!.now, 2390, "the closes and the end came < 100 ms after a redraw");
  setNow(2500);
  view.tick();
  assert.deepEqual(visible(writes.at(-1)!.text), [
    "tap 0:02  done  3 connections (0 open)  155300 pages, 151100 zero",
    "section 2 'ram' END at 14837454, pass 3",
    "PASS  NORMAL    ZERO  XBZRLE      BYTES   TIME  DIRTY PAGES/S",
    "   1   65536  196608       0  258.2 MiB  1.0 s              -",
    "   2    1000    1000    3000    4.8 MiB  0.4 s           5025",
    "   3     100     100    1000  694.6 KiB  1.0 s           3000",
    "#  KIND              S2D      D2S                   RATE",
    "0  main         14.2 MiB  8.0 KiB  closed (source first)",
    "1  multifd #0  151.0 MiB      0 B  closed (source first)",
    "2  multifd #1  147.0 MiB      0 B  closed (source first)",
    "command  1.7 s  PACKAGED         at 14245850",
    "command  1.7 s  POSTCOPY_LISTEN  at 14245859",
    "command  1.7 s  POSTCOPY_RUN     at 14427049",
  ]);
  assert.ok(writes.at(-1)!.text.startsWith("\r\x1b[13A"), "up over the 13 lines of t = 2390");
});

Deno.test("TapView.finish: the live view is erased and the final text of a complete migration returned", () => {
  const { view, writes, setNow } = run([...PRECOPY, ...POSTCOPY], 80);
  setNow(2500);
  const text = view.finish();
  assert.equal(writes.at(-1)!.text, "\r\x1b[13A\x1b[J", "up over the last frame, erase to the end");
  assert.equal(
    text,
    `Connections
#  KIND     ID  S2D BYTES  D2S BYTES  CLOSED FIRST
-  -------  --  ---------  ---------  ------------
0  main          14837464       8192  source
1  multifd   0  158334976          0  source
2  multifd   1  154140672          0  source

Dirty passes (dirty pages/s: pages of the pass / time of the pass before)
PASS   PAGES  NORMAL    ZERO  XBZRLE      BYTES   MS  DIRTY PAGES/S
----  ------  ------  ------  ------  ---------  ---  -------------
   1  262144   65536  196608       0  270729216  995              -
   2    5000    1000    1000    3000    5013000  400           5025
   3    1200     100     100    1000     711300  990           3000

Commands
     AT    OFFSET  COMMAND               DETAIL
-------  --------  --------------------  -------------------------------
0.001 s        47  OPEN_RETURN_PATH
0.001 s        52  POSTCOPY_ADVISE       max page 4096, target page 4096
1.610 s  14245767  SWITCHOVER_START
1.720 s  14245772  POSTCOPY_RAM_DISCARD  pc.ram: 3 ranges
1.725 s  14245850  PACKAGED              181204 bytes
1.725 s  14245859  POSTCOPY_LISTEN
1.727 s  14427049  POSTCOPY_RUN

End: complete, EOF reached; the source closed the main connection first
replay the recording with:
  migscope replay cap.0.s2d --channel cap.1.s2d --channel cap.2.s2d --out replayed
`,
  );
  // Bytes are the close events' (151 MiB = 158334976, 147 MiB = 154140672); pass 3 re-sent
  // 1200 pages after pass 2's 400 ms: 3000 pages/s. The replay command is never wrapped.
  const before = writes.length;
  setNow(3000);
  view.event({ type: "bytes", t: 3000, n: 0, s2d: 1, d2s: 1 });
  view.tick();
  assert.equal(writes.length, before, "nothing is drawn after finish()");
});

Deno.test("TapView: a parse error — the frame names where parsing stopped; finish() says where the main stream stopped", () => {
  const { view, writes } = run([...PRECOPY, ...FAILED], 80);
  assert.deepEqual(visible(writes.at(-1)!.text), [
    "tap 0:01  switchover  3 connections (2 open)  155200 pages, 151100 zero",
    "parse stopped: offset 14245790 (0xd95f9e),",
    "  section 3 'timer' FULL at 14245772: 4 bytes past the section's end",
    "PASS  NORMAL    ZERO  XBZRLE      BYTES   TIME  DIRTY PAGES/S",
    "   1   65536  196608       0  258.2 MiB  1.0 s              -",
    "   2    1000    1000    3000    4.8 MiB  0.4 s           5025",
    "#  KIND              S2D      D2S                        RATE",
    "0  main         14.0 MiB  1.5 KiB  closed (destination first)",
    "1  multifd #0  150.0 MiB      0 B                  82.4 MiB/s",
    "2  multifd #1  146.0 MiB      0 B                  80.0 MiB/s",
    "command  0.0 s  OPEN_RETURN_PATH  at 47",
    "command  0.0 s  POSTCOPY_ADVISE   at 52",
    "command  1.6 s  SWITCHOVER_START  at 14245767",
  ]);
  assert.equal(
    view.finish(),
    `Connections
#  KIND     ID  S2D BYTES  D2S BYTES  CLOSED FIRST  ERROR
-  -------  --  ---------  ---------  ------------  ----------------------------
0  main          14680064       1536  destination   Connection reset by peer (os
                                                    error 104)
1  multifd   0  157286400          0  destination
2  multifd   1  153092096          0  destination

Dirty passes (dirty pages/s: pages of the pass / time of the pass before)
PASS   PAGES  NORMAL    ZERO  XBZRLE      BYTES   MS  DIRTY PAGES/S
----  ------  ------  ------  ------  ---------  ---  -------------
   1  262144   65536  196608       0  270729216  995              -
   2    5000    1000    1000    3000    5013000  400           5025

Commands
     AT    OFFSET  COMMAND           DETAIL
-------  --------  ----------------  -------------------------------
0.001 s        47  OPEN_RETURN_PATH
0.001 s        52  POSTCOPY_ADVISE   max page 4096, target page 4096
1.610 s  14245767  SWITCHOVER_START

End: incomplete: the main stream stopped at offset 14245790 (0xd95f9e),
  section 3 'timer' FULL at 14245772: 4 bytes past the section's end;
  the destination closed the main connection first
`,
  );
});

Deno.test("TapView.finish: the end not seen, an end before EOF without a parse error, the summary after", () => {
  const open = run(PRECOPY);
  const text = open.view.finish("Summary\n  stream       14680064 bytes\n");
  assert.ok(
    text.endsWith(
      "\nEnd: not seen (connections still open when the tap stopped)\n\n" +
        "Summary\n  stream       14680064 bytes\n",
    ),
    text,
  );
  const cut = run([...PRECOPY, { type: "end", t: 1750, complete: false }]);
  assert.ok(
    cut.view.finish().endsWith(
      "\nEnd: incomplete: the main stream stopped at offset 14680064 (0xe00000), before EOF, " +
        "after section 2 'ram' PART at 13534467\n",
    ),
  );
  const bare = run([
    { type: "connection", t: 0, n: 0, kind: "main" },
    {
      type: "parse-error",
      t: 5,
      offset: 5,
      section: null,
      record: null,
      message: "connection reset",
    },
    { type: "close", t: 6, n: 0, first: "source", s2d: 5, d2s: 0 },
    { type: "end", t: 6, complete: false },
  ]);
  const bareText = bare.view.finish();
  assert.ok(
    bareText.endsWith(
      "Dirty passes: none\n\nCommands: none\n\n" +
        "End: incomplete: the main stream stopped at offset 5 (0x5): connection reset; " +
        "the source closed the main connection first\n",
    ),
    bareText,
  );
});

Deno.test("TapView: the phase follows the commands: SWITCHOVER_START, POSTCOPY_LISTEN, POSTCOPY_RUN, the end", () => {
  const state = new TapState();
  const phases = [state.phase];
  const cmd = (name: string): TapEvent => ({ type: "command", t: 1, offset: 9, name });
  for (
    const e of [
      cmd("POSTCOPY_ADVISE"),
      cmd("SWITCHOVER_START"),
      cmd("POSTCOPY_LISTEN"),
      cmd("POSTCOPY_RUN"),
      cmd("SWITCHOVER_START"),
      { type: "end", t: 2, complete: true } as TapEvent,
    ]
  ) {
    state.apply(e);
    phases.push(state.phase);
  }
  assert.deepEqual(phases, [
    "precopy",
    "precopy",
    "switchover",
    "switchover",
    "postcopy",
    "postcopy",
    "done",
  ]);
  const listen = new TapState();
  listen.apply(cmd("POSTCOPY_LISTEN"));
  assert.equal(listen.phase, "switchover", "LISTEN alone: the source stopped, device state next");
});

Deno.test("TapView: at most one redraw per 100 ms; a due redraw at the next event or tick(), only if the frame changed", () => {
  const complete = run([...PRECOPY, ...POSTCOPY]);
  assert.deepEqual(
    complete.writes.map((w) => w.now),
    [0, 100, 500, 1000, 1100, 1300, 1400, 1600, 1700, 1800, 2000, 2390],
  );
  let now = 0;
  const writes: number[] = [];
  const view = new TapView(() => writes.push(now), { now: () => now });
  view.event({ type: "connection", t: 0, n: 0, kind: "main" });
  for (let i = 1; i <= 100; i++) {
    now = i * 10;
    view.event({ type: "bytes", t: now, n: 0, s2d: i * 4096, d2s: 0 });
  }
  assert.deepEqual(writes, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  now = 1050;
  view.event({ type: "bytes", t: 1050, n: 0, s2d: 999_999, d2s: 0 });
  view.tick();
  assert.equal(writes.length, 11, "50 ms after the last redraw: due, not drawn");
  now = 1100;
  view.tick();
  assert.deepEqual(writes.slice(11), [1100], "drawn by tick() 100 ms after");
  now = 1500;
  view.tick();
  assert.deepEqual(writes.slice(11), [1100], "nothing changed (still 0:01): nothing drawn");
  now = 2000;
  view.tick();
  assert.deepEqual(writes.slice(11), [1100, 2000], "the clock turned 0:02");
});

Deno.test("TapView: each redraw moves up by the lines of the frame before; each line erased to its end", () => {
  for (const events of [[...PRECOPY, ...POSTCOPY], [...PRECOPY, ...FAILED]]) {
    const { writes } = run(events, 80);
    assert.ok(!writes[0].text.startsWith("\r\x1b["), "the first frame moves nowhere");
    for (let i = 0; i < writes.length; i++) {
      const text = writes[i].text;
      if (i > 0) {
        const above = writes[i - 1].text.split("\n").length - 1;
        assert.ok(text.startsWith(`\r\x1b[${above}A`), `write ${i} moves up ${above} lines`);
      }
      // deno-lint-ignore no-control-regex -- the escape sequence is what is matched
      const body = text.replace(/^\r\x1b\[\d+A/, "");
      assert.ok(body.endsWith("\x1b[K\n\x1b[J"), "the rest of a longer frame is erased");
      assert.ok(body.slice(0, -3).split("\n").slice(0, -1).every((l) => l.endsWith("\x1b[K")));
    }
  }
  const lineCounts = run([...PRECOPY, ...POSTCOPY]).writes.map((w) =>
    w.text.split("\n").length - 1
  );
  assert.deepEqual(lineCounts, [4, 8, 8, 10, 10, 10, 11, 11, 12, 12, 12, 13]);
});

Deno.test("TapView: every frame line fits the width (cut to width − 1), at most 15 lines", () => {
  for (const width of [30, 40, 60, 80]) {
    for (const events of [[...PRECOPY, ...POSTCOPY], [...PRECOPY, ...FAILED]]) {
      const { writes } = run(events, width);
      for (const w of writes) {
        const lines = visible(w.text);
        assert.ok(lines.length <= 15, `${lines.length} lines`);
        for (const l of lines) assert.ok(l.length < width, `${width}: ${JSON.stringify(l)}`);
      }
    }
  }
  const narrow = run([...PRECOPY, ...FAILED], 40).writes.at(-1)!;
  assert.deepEqual(visible(narrow.text).slice(0, 4), [
    "tap 0:01  switchover  3 connections (2 ",
    "parse stopped: offset 14245790",
    "  (0xd95f9e), section 3 'timer' FULL a…",
    "PASS  NORMAL    ZERO  XBZRLE      BYTES",
  ]);
});

Deno.test("TapView: more than 3 connections — two rows, then one row summing the rest", () => {
  const events: TapEvent[] = [{ type: "connection", t: 0, n: 0, kind: "main" }];
  for (let n = 1; n <= 4; n++) {
    events.push({ type: "connection", t: 0, n, kind: "multifd", channelId: n - 1 });
  }
  events.push({ type: "connection", t: 0, n: 5, kind: "preempt" });
  for (let n = 0; n <= 5; n++) {
    events.push({ type: "bytes", t: 500, n, s2d: (n + 1) * MiB, d2s: 0 });
  }
  events.push({ type: "close", t: 500, n: 5, first: "destination", s2d: 6 * MiB, d2s: 4096 });
  const { view, writes, setNow } = run(events);
  setNow(600);
  view.tick();
  assert.deepEqual(visible(writes.at(-1)!.text), [
    "tap 0:00  precopy  6 connections (5 open)",
    "no section yet",
    " #  KIND             S2D      D2S        RATE",
    " 0  main         1.0 MiB      0 B   2.0 MiB/s",
    " 1  multifd #0   2.0 MiB      0 B   4.0 MiB/s",
    "+4  more        18.0 MiB  4.0 KiB  24.0 MiB/s",
  ]);
  // Each connection (n + 1) MiB in the 0.5 s since t = 0; the rest: 3 + 4 + 5 + 6 MiB, 4 KiB
  // back on the closed preempt connection, and 6 + 8 + 10 MiB/s of the three still open.
});

Deno.test("tapEventJson: every event type, fixed key order, round-trips through JSON.parse", () => {
  const all = [...PRECOPY, ...POSTCOPY, ...FAILED];
  assert.deepEqual(
    [...new Set(all.map((e) => e.type))].sort(),
    ["bytes", "close", "command", "connection", "end", "parse-error", "pass", "section"],
  );
  for (const e of all) {
    const line = tapEventJson(e);
    assert.ok(!line.includes("\n"));
    assert.deepEqual(JSON.parse(line), e);
  }
  const byType = (type: string) => tapEventJson(all.find((e) => e.type === type)!);
  assert.equal(
    byType("connection"),
    '{"type":"connection","t":0,"n":0,"kind":"main","files":{"s2d":"cap.0.s2d","d2s":"cap.0.d2s"}}',
  );
  assert.equal(
    byType("section"),
    '{"type":"section","t":1,"offset":8,"section":"FULL","sectionId":0,"idstr":"configuration",' +
      '"bytes":39,"pages":{"zero":0,"page":0,"xbzrle":0,"compressed":0}}',
  );
  assert.equal(
    byType("command"),
    '{"type":"command","t":1,"offset":47,"name":"OPEN_RETURN_PATH"}',
  );
  assert.equal(
    byType("pass"),
    '{"type":"pass","t":1000,"index":1,"pages":262144,"zero":196608,"xbzrle":0,' +
      '"bytes":270729216,"ms":995}',
  );
  assert.equal(byType("bytes"), '{"type":"bytes","t":100,"n":0,"s2d":1048576,"d2s":0}');
  assert.equal(
    byType("close"),
    '{"type":"close","t":2395,"n":1,"first":"source","s2d":158334976,"d2s":0}',
  );
  assert.equal(
    byType("parse-error"),
    '{"type":"parse-error","t":1650,"offset":14245790,"section":"section 3 \'timer\' FULL at ' +
      '14245772","record":null,"message":"offset 14245790 (0xd95f9e), section 3 \'timer\' FULL ' +
      "at 14245772: 4 bytes past the section's end\"}",
  );
  assert.equal(
    byType("end"),
    '{"type":"end","t":2400,"complete":true,"firstClose":"source","replay":"migscope replay ' +
      'cap.0.s2d --channel cap.1.s2d --channel cap.2.s2d --out replayed"}',
  );
  // Key order does not depend on the producer's; absent optional fields are left out.
  const shuffled = {
    pass: 2,
    pages: { compressed: 0, xbzrle: 1, page: 2, zero: 3 },
    idstr: undefined,
    bytes: 10,
    sectionId: 2,
    section: "PART",
    offset: 99,
    t: 7,
    type: "section",
  } as TapEvent;
  assert.equal(
    tapEventJson(shuffled),
    '{"type":"section","t":7,"offset":99,"section":"PART","sectionId":2,"bytes":10,' +
      '"pages":{"zero":3,"page":2,"xbzrle":1,"compressed":0},"pass":2}',
  );
});
