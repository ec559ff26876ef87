/**
 * The multifd channels' counts in `migscope tap`'s live view, NDJSON events and final text: a
 * fixed event sequence of a 2-channel multifd migration (zlib), one channel whose parse stopped.
 */
import assert from "node:assert/strict";
import type { ChannelEvent, TapEvent } from "../../src/tap/events.ts";
import { tapEventJson, TapView } from "../../src/report/tap_view.ts";

const MiB = 1 << 20;

const channel = (
  t: number,
  n: number,
  channelId: number,
  [packets, syncs, normalPages, zeroPages, payloadBytes]: number[],
  end = false,
): ChannelEvent => ({
  type: "channel",
  t,
  n,
  channelId,
  packets,
  syncs,
  normalPages,
  zeroPages,
  payloadBytes,
  compression: "zlib",
  deviceState: 0,
  ...(end && { end: true as const }),
});

const EVENTS: TapEvent[] = [
  { type: "connection", t: 0, n: 0, kind: "main" },
  { type: "connection", t: 1, n: 1, kind: "multifd", channelId: 0 },
  { type: "connection", t: 1, n: 2, kind: "multifd", channelId: 1 },
  {
    type: "section",
    t: 2,
    offset: 73,
    section: "START",
    sectionId: 2,
    idstr: "ram",
    bytes: 58,
    pages: { zero: 0, page: 0, xbzrle: 0, compressed: 0 },
  },
  { type: "bytes", t: 100, n: 0, s2d: 4096, d2s: 0 },
  { type: "bytes", t: 100, n: 1, s2d: 1 * MiB, d2s: 0 },
  { type: "bytes", t: 100, n: 2, s2d: 1 * MiB, d2s: 0 },
  channel(900, 1, 0, [100, 1, 9000, 3800, 900_000]),
  channel(950, 2, 1, [90, 1, 8000, 3520, 850_000]),
  { type: "bytes", t: 1100, n: 1, s2d: 3 * MiB, d2s: 0 },
  { type: "bytes", t: 1100, n: 2, s2d: 2 * MiB, d2s: 0 },
  {
    type: "channel-error",
    t: 1200,
    n: 2,
    channelId: 1,
    offset: 2_000_000,
    section: "multifd channel connection 2",
    record: "packet at 2000000",
    message: "packet magic 0x0 is not 0x11223344",
  },
  channel(1200, 2, 1, [95, 1, 8200, 3600, 870_000], true),
  channel(1400, 1, 0, [130, 2, 12000, 4384, 1_100_000], true),
  { type: "close", t: 1500, n: 1, first: "source", s2d: 3 * MiB, d2s: 0 },
  { type: "close", t: 1500, n: 2, first: "source", s2d: 2 * MiB, d2s: 0 },
];

function run(events: TapEvent[]) {
  let now = 0;
  const writes: string[] = [];
  const view = new TapView((s) => writes.push(s), { width: 80, now: () => now });
  for (const e of events) {
    now = e.t;
    view.event(e);
  }
  return { view, writes, setNow: (t: number) => now = t };
}

// deno-lint-ignore no-control-regex -- the escape sequences are what is matched
const visible = (text: string) => text.replace(/\r|\x1b\[\d*[AKJ]/g, "").split("\n").slice(0, -1);

Deno.test("TapView: the channels' normal and zero pages on their rows, every connection's pages in the header", () => {
  const { view, writes, setNow } = run(EVENTS.slice(0, 11));
  setNow(1200); // the clock only: rates are at the latest event's time
  view.tick();
  assert.deepEqual(visible(writes.at(-1)!), [
    "tap 0:01  precopy  3 connections (3 open)  24320 pages, 7320 zero",
    "section 2 'ram' START at 73",
    "#  KIND            S2D  D2S  NORMAL  ZERO       RATE",
    "0  main        4.0 KiB  0 B                    0 B/s",
    "1  multifd #0  3.0 MiB  0 B    9000  3800  2.0 MiB/s",
    "2  multifd #1  2.0 MiB  0 B    8000  3520  1.0 MiB/s",
  ]);
  // 9000 + 3800 + 8000 + 3520 = 24320 pages, 3800 + 3520 = 7320 zero (the main stream has
  // none); rates over the second since t = 100: 2 MiB and 1 MiB more, nothing on main.
});

Deno.test("TapView.finish: the multifd channels table with the final counts and where a parse stopped", () => {
  const { view } = run([...EVENTS, { type: "end", t: 1600, complete: false }]);
  const text = view.finish();
  const table = text.slice(text.indexOf("Multifd channels"), text.indexOf("Dirty passes"));
  assert.equal(
    table,
    `Multifd channels (pages counted from the packet headers)
#  ID  PACKETS  SYNCS  NORMAL  ZERO  PAYLOAD BYTES  COMPRESSION  PARSE STOPPED
-  --  -------  -----  ------  ----  -------------  -----------  ----------------
1   0      130      2   12000  4384        1100000  zlib
2   1       95      1    8200  3600         870000  zlib         offset 2000000
                                                                 (0x1e8480),
                                                                 multifd channel
                                                                 connection 2,
                                                                 packet at
                                                                 2000000: packet
                                                                 magic 0x0 is not
                                                                 0x11223344

`,
  );
});

Deno.test("tapEventJson: channel and channel-error events, fixed key order, round-trip", () => {
  const ch = EVENTS.filter((e) => e.type === "channel" || e.type === "channel-error");
  for (const e of ch) assert.deepEqual(JSON.parse(tapEventJson(e)), e);
  assert.equal(
    tapEventJson(ch.at(-1)!),
    '{"type":"channel","t":1400,"n":1,"channelId":0,"packets":130,"syncs":2,' +
      '"normalPages":12000,"zeroPages":4384,"payloadBytes":1100000,"compression":"zlib",' +
      '"deviceState":0,"end":true}',
  );
  assert.equal(
    tapEventJson(ch[2]),
    '{"type":"channel-error","t":1200,"n":2,"channelId":1,"offset":2000000,' +
      '"section":"multifd channel connection 2","record":"packet at 2000000",' +
      '"message":"packet magic 0x0 is not 0x11223344"}',
  );
});
