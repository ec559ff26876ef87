/**
 * `inspect` of inputs read as they arrive — `tcp:PORT` and `-` — prints the timeline row by
 * row as each row is final, in fixed-width columns, while a file keeps its table sized to the
 * rows (tests/golden). Also inspectStream's `onRow`: every row once, in order, final when it is
 * handed over, and handed over before the stream goes on.
 *
 * The expected rows are computed from the independent walker (tests/report/_walk.ts, no src/)
 * with the fixed widths written down here: OFFSET 12, HEX 12, KIND 15, ID 4, NAME 24 (cut with
 * `…`), INST 4, VER 3, BYTES 12, PAGE/ZERO/XBZRLE/COMP 7, BLK/BLK0 5, then NOTE; the part after
 * the timeline must equal the file's report (tests/golden, checked against its own sources).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { openInput } from "../../src/parse/input.ts";
import { inspectStream } from "../../src/report/inspect_stream.ts";
import { liveTimelineRow } from "../../src/report/inspect_text.ts";
import type { TimelineRow } from "../../src/report/summary_types.ts";
import { runCli } from "../_helpers.ts";
import { TINY_BODIES, tinyStream } from "../report/_inputs.ts";
import { type Walk, walk, type WalkItem } from "../report/_walk.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = `${REPO}src/cli/main.ts`;
const XBZRLE = `${REPO}samples/small-xbzrle.mig`;
const BLOCK = `${REPO}samples/small-block.mig`;

// ---- the expected live text, from the walker ----

/** Header line and rule of the live timeline. */
const LIVE_HEAD = "      OFFSET           HEX  KIND               ID  NAME                      " +
  "INST  VER         BYTES     PAGE     ZERO   XBZRLE     COMP    BLK   BLK0  NOTE\n" +
  "------------  ------------  ---------------  ----  ------------------------  ----  ---  " +
  "------------  -------  -------  -------  -------  -----  -----  ----\n";

/**
 * The live timeline of samples/small-block.mig (its golden text: every row was checked against
 * the walker, by the test that uses it, and by eye against tests/golden/inspect_small_block.txt).
 */
const LIVE_SMALL_BLOCK = "Timeline\n" + LIVE_HEAD +
  `           0           0x0  HEADER                                                                 8                                                    QEVM v3
           8           0x8  CONFIGURATION          pc-i440fx-7.2                                  18
          26          0x1a  START               1  block                        0    1            32
          58          0x3a  START               2  ram                          0    4            53
         111          0x6f  PART                1  block                        0    1       4194498                                          4      4
     4194609      0x400131  PART                2  ram                          0    4       1250026      303      721
     5444635      0x53141b  END                 2  ram                          0    4            18
     5444653      0x53142d  END                 1  block                        0    1            26
     5444679      0x531447  EOF                                                                    1
     5444680      0x531448  VMDESCRIPTION                                                         36                                                    JSON 31 bytes, 0 devices
`;

const blank = (n: number) => (n ? String(n) : "");
const right = (s: string, w: number) => s.padStart(w);
const left = (s: string, w: number) => (s.length > w ? s.slice(0, w - 1) + "…" : s.padEnd(w));

/** The live row of a walker item: fixed widths, NOTE last, no trailing spaces. */
function liveRow(it: WalkItem, w: Walk): string {
  const note = it.kind === "HEADER"
    ? "QEVM v3"
    : it.kind === "VMDESCRIPTION"
    ? `JSON ${w.trailer!.jsonLength} bytes, ${w.trailer!.devices} device` +
      (w.trailer!.devices === 1 ? "" : "s")
    : "";
  const cells = [
    right(String(it.offset), 12),
    right(`0x${it.offset.toString(16)}`, 12),
    left(it.kind, 15),
    right(it.sectionId?.toString() ?? "", 4),
    left(it.kind === "CONFIGURATION" ? w.machine : it.name ?? "", 24),
    right(it.instance?.toString() ?? "", 4),
    right(it.version?.toString() ?? "", 3),
    right(String(it.length), 12),
    right(blank(it.page), 7),
    right(blank(it.zero), 7),
    right(blank(it.xbzrle), 7),
    right("", 7),
    right(blank(it.blk), 5),
    right(blank(it.blk0), 5),
    note,
  ];
  return cells.join("  ").trimEnd() + "\n";
}

/** The first `n` rows of the live timeline (all without `n`), heading and header first. */
function liveTimeline(w: Walk, n = w.items.length): string {
  return "Timeline\n" + LIVE_HEAD + w.items.slice(0, n).map((it) => liveRow(it, w)).join("");
}

/** The report after the timeline: from the golden file of the same stream read as a file. */
async function afterTimeline(golden: string): Promise<string> {
  const text = await Deno.readTextFile(`${REPO}tests/golden/${golden}`);
  return text.slice(text.indexOf("\nSummary\n"));
}

// ---- a CLI child whose output is read as it comes ----

/** Text arriving on a child's stdout or stderr, kept as it comes. */
class Incoming {
  text = "";
  readonly done: Promise<void>;
  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      for await (const t of stream.pipeThrough(new TextDecoderStream())) this.text += t;
    })();
  }
  /** Resolves once `pred` holds of the text so far; fails after `ms` saying what is there. */
  async waitFor(pred: (text: string) => boolean, what: string, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this.text)) {
      if (Date.now() > end) throw new Error(`no ${what} after ${ms} ms; so far:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** `migscope inspect ARGS…` in a child, its stdout and stderr read as they come. */
function spawnInspect(args: string[], stdin: "piped" | "null") {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-net", "--allow-env", MAIN, "inspect", ...args],
    stdin,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, stdout: new Incoming(child.stdout), stderr: new Incoming(child.stderr) };
}

/**
 * Feeds `bytes` in two parts through `send`: the part up to `cut`, then — only once stdout
 * holds exactly `early` (and still does a moment later: no row of the section in progress) —
 * the rest; `close` ends the input.
 */
async function feedInTwo(
  stdout: Incoming,
  bytes: Uint8Array,
  cut: number,
  early: string,
  send: (b: Uint8Array) => Promise<void>,
  close: () => Promise<void>,
): Promise<void> {
  await send(bytes.subarray(0, cut));
  await stdout.waitFor((t) => t.length >= early.length, "rows of the first sections");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(stdout.text, early, "stdout while the rest of the stream is held back");
  await send(bytes.subarray(cut));
  await close();
}

/** small-xbzrle cut 100 bytes into its third RAM section: rows 0..3 are final, row 4 is not. */
async function xbzrleCut(): Promise<{ bytes: Uint8Array; w: Walk; cut: number }> {
  const bytes = await Deno.readFile(XBZRLE);
  const w = walk(bytes);
  assert.deepEqual(w.items.slice(0, 5).map((i) => i.kind), [
    "HEADER",
    "CONFIGURATION",
    "START",
    "PART",
    "PART",
  ]);
  return { bytes, w, cut: w.items[4].offset + 100 };
}

Deno.test("inspect - (a pipe): rows of the first sections are on stdout before the rest is written", async () => {
  const { bytes, w, cut } = await xbzrleCut();
  const { child, stdout, stderr } = spawnInspect(["-"], "piped");
  const writer = child.stdin.getWriter();
  const title = "migscope inspect stdin\n\n";
  await feedInTwo(
    stdout,
    bytes,
    cut,
    title + liveTimeline(w, 4),
    (b) => writer.write(b),
    () => writer.close(),
  );
  const status = await child.status;
  await Promise.all([stdout.done, stderr.done]);
  assert.equal(stderr.text, "");
  assert.equal(status.code, 0);
  const rest = await afterTimeline("inspect_small_xbzrle.txt");
  assert.equal(stdout.text, title + liveTimeline(w) + rest);
});

Deno.test("inspect tcp:0 (a socket): rows of the first sections are on stdout before the rest is sent", async () => {
  const { bytes, w, cut } = await xbzrleCut();
  const { child, stdout, stderr } = spawnInspect(["tcp:127.0.0.1:0"], "null");
  const listening = /^migscope: listening on port (\d+)\n/;
  await stderr.waitFor((t) => listening.test(t), "'listening on port' line");
  const port = Number(listening.exec(stderr.text)![1]);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const send = async (b: Uint8Array) => {
    for (let at = 0; at < b.length;) at += await conn.write(b.subarray(at));
  };
  const title = "migscope inspect tcp:127.0.0.1:0\n\n";
  await feedInTwo(stdout, bytes, cut, title + liveTimeline(w, 4), send, () => {
    conn.close();
    return Promise.resolve();
  });
  const status = await child.status;
  await Promise.all([stdout.done, stderr.done]);
  assert.equal(stderr.text, `migscope: listening on port ${port}\n`);
  assert.equal(status.code, 0);
  const rest = await afterTimeline("inspect_small_xbzrle.txt");
  assert.equal(stdout.text, title + liveTimeline(w) + rest);
});

Deno.test("inspect - : the live text of samples/small-block.mig, exactly", async () => {
  const bytes = await Deno.readFile(BLOCK);
  assert.equal(LIVE_SMALL_BLOCK, liveTimeline(walk(bytes)), "the golden rows are the walker's");
  const r = await runCli(["inspect", "-"], { stdin: bytes });
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  const rest = await afterTimeline("inspect_small_block.txt");
  assert.equal(r.stdout, "migscope inspect stdin\n\n" + LIVE_SMALL_BLOCK + rest);
});

Deno.test("inspect - : a command, a device section and a trailer with one device, live", async () => {
  const t = tinyStream();
  const w = walk(t.bytes, { bodies: TINY_BODIES });
  assert.ok(w.items.some((i) => i.kind === "COMMAND") && w.items.some((i) => i.kind === "FULL"));
  const r = await runCli(["inspect", "-"], { stdin: t.bytes });
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  const rest = await afterTimeline("inspect_tiny.txt");
  assert.equal(r.stdout, "migscope inspect stdin\n\n" + liveTimeline(w) + rest);
});

Deno.test("inspect --records - : the rows stream, the timeline after them stays a sized table", async () => {
  const file = await runCli(["inspect", "--records", BLOCK]);
  assert.equal(file.code, 0, file.stderr);
  // Fed while its output is read: the rows (over 64 KiB) would fill a pipe nobody reads.
  const { child, stdout, stderr } = spawnInspect(["--records", "-"], "piped");
  const writer = child.stdin.getWriter();
  await writer.write(await Deno.readFile(BLOCK));
  await writer.close();
  const status = await child.status;
  await Promise.all([stdout.done, stderr.done]);
  assert.equal(status.code, 0, stderr.text);
  const body = (s: string) => s.slice(s.indexOf("\n"));
  assert.equal(body(stdout.text), body(file.stdout));
  assert.match(stdout.text, /\nTimeline\n OFFSET {7}HEX {2}KIND/);
});

// ---- onRow ----

/** Runs inspectStream over `input`, noting each row handed over as it was then. */
async function rowsOf(input: string | ReadableStream<Uint8Array>) {
  const opened = await openInput(input);
  const seen: { row: TimelineRow; then: string }[] = [];
  const res = await inspectStream(opened, {
    vmdesc: opened.vmdesc,
    onRow: (row) => void seen.push({ row, then: JSON.stringify(row) }),
  });
  opened.close();
  return { res, seen };
}

Deno.test("inspectStream onRow: every timeline row once, in stream order, final when handed over", async () => {
  const tiny = await Deno.makeTempFile({ suffix: ".mig" });
  await Deno.writeFile(tiny, tinyStream().bytes);
  for (const path of [XBZRLE, BLOCK, tiny]) {
    for (const input of [path, (await Deno.open(path)).readable]) {
      const { res, seen } = await rowsOf(input);
      const what = `${path} as ${typeof input === "string" ? "a file" : "a stream"}`;
      assert.equal(res.error, undefined, what);
      assert.equal(seen.length, res.timeline.length, what);
      seen.forEach((s, i) => {
        assert.equal(s.row, res.timeline[i], `${what}: row ${i} is the timeline's row ${i}`);
        assert.equal(s.then, JSON.stringify(res.timeline[i]), `${what}: row ${i} unchanged after`);
      });
    }
  }
  await Deno.remove(tiny);
});

/** A stream the test writes into; inspectStream runs over it until it is closed. */
function heldStream() {
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
  return { stream, send: (b: Uint8Array) => ctl.enqueue(b.slice()), close: () => ctl.close() };
}

/** Waits until `rows` holds `n` rows (or fails after 10 s), then a moment more. */
async function settle(rows: TimelineRow[], n: number): Promise<void> {
  const end = Date.now() + 10_000;
  while (rows.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 100));
}

Deno.test("inspectStream onRow: a section row when the next record starts, a command row when read", async () => {
  const t = tinyStream();
  const w = walk(t.bytes, { bodies: TINY_BODIES });
  const kinds = w.items.map((i) => i.kind);
  assert.deepEqual(kinds, [
    "HEADER",
    "CONFIGURATION",
    "START",
    "PART",
    "COMMAND",
    "END",
    "FULL",
    "EOF",
    "VMDESCRIPTION",
  ]);
  const { stream, send, close } = heldStream();
  const rows: TimelineRow[] = [];
  const part = w.items[3].offset;
  const command = w.items[4];
  // Into the PART section: the START before it is complete, the PART is not.
  send(t.bytes.subarray(0, part + 20));
  const opened = await openInput(stream);
  // The vmdesc given up front, as --vmdesc does: without it, a pipe is read ahead to its
  // trailer to delimit the FULL section, and no row after it could be handed over before.
  const json = t.bytes.subarray(w.trailer!.offset + 5);
  const vmdesc = JSON.parse(new TextDecoder().decode(json));
  const done = inspectStream(opened, { vmdesc, onRow: (r) => void rows.push(r) });
  await settle(rows, 3);
  assert.deepEqual(
    rows.map((r) => [r.kind, r.offset]),
    w.items.slice(0, 3).map((i) => [
      i.kind,
      i.offset,
    ]),
  );
  // Up to the end of the command: the PART ended where it began, the command is complete.
  send(t.bytes.subarray(part + 20, command.offset + command.length));
  await settle(rows, 5);
  assert.deepEqual(rows.map((r) => [r.kind, r.offset, r.bytes]), [
    ...w.items.slice(0, 5).map((i) => [i.kind, i.offset, i.length]),
  ]);
  // Through EOF: END and FULL are complete, EOF is handed over when read.
  const eof = w.items[7];
  send(t.bytes.subarray(command.offset + command.length, eof.offset + 1));
  await settle(rows, 8);
  assert.deepEqual(rows.map((r) => r.kind), kinds.slice(0, 8));
  send(t.bytes.subarray(eof.offset + 1));
  close();
  const res = await done;
  opened.close();
  assert.equal(res.error, undefined);
  assert.deepEqual(rows, res.timeline);
  assert.equal(rows.length, 9);
});

Deno.test("inspectStream onRow: a stream cut inside a section still hands over that row, then stops", async () => {
  const bytes = await Deno.readFile(XBZRLE);
  const w = walk(bytes);
  const rows: TimelineRow[] = [];
  const opened = await openInput(ReadableStream.from([bytes.slice(0, w.items[4].offset + 100)]));
  const res = await inspectStream(opened, { onRow: (r) => void rows.push(r) });
  opened.close();
  assert.match(String(res.error), /truncated/);
  assert.deepEqual(rows, res.timeline);
  assert.deepEqual(rows.map((r) => r.offset), w.items.slice(0, 5).map((i) => i.offset));
});

// ---- the live row format ----

Deno.test("live row: an idstr over 24 characters is cut with …, NOTE wraps at a width, numbers are never cut", () => {
  const row: TimelineRow = {
    offset: 1234567890123,
    kind: "FULL",
    sectionId: 17,
    name: "0000:00:1c.0:00.0/virtio-net-pci",
    instance: 2147483648,
    version: 1,
    bytes: 977,
    depth: 1,
    page: 0,
    zero: 0,
    xbzrle: 0,
    compressed: 0,
    blockData: 0,
    blockZero: 0,
    note: "device sections in a PACKAGED payload, not delimited",
  };
  const at = 152; // where NOTE starts: 14 columns, 124 characters, 2 spaces after each
  const middle = left("  └ FULL", 15) + "    17  0000:00:1c.0:00.0/virti…  ";
  const gap = " ".repeat(52); // PAGE … BLK0 empty: 7, 7, 7, 7, 5, 5 and the spaces between
  assert.equal(
    liveTimelineRow(row),
    "1234567890123  0x11f71fb04cb  " + middle + "2147483648    1           977" + gap +
      "device sections in a PACKAGED payload, not delimited\n",
  );
  assert.equal(
    liveTimelineRow({ ...row, offset: 8, instance: 0 }, { width: at + 30 }),
    "           8           0x8  " + middle + "   0    1           977" + gap +
      "device sections in a PACKAGED\n" + " ".repeat(at) + "payload,\n" + " ".repeat(at) +
      "not delimited\n",
  );
});
