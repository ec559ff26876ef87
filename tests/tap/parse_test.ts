/**
 * The main channel parsed as it passes: sections, commands, passes and the end as events, and a
 * summary equal to inspect's of the same bytes; a stream the parser cannot read is reported
 * once and still forwarded whole; the bounded push source between forwarder and parser.
 */
import assert from "node:assert/strict";
import {
  concat,
  connect,
  FakeDestination,
  noise,
  ofType,
  readAll,
  startTap,
  writeAll,
} from "./_fake.ts";
import { captureFile, summarize } from "../_helpers.ts";
import { PushSource } from "../../src/tap/push_source.ts";

async function through(bytes: Uint8Array, parseLimit?: number) {
  const dst = new FakeDestination(readAll);
  const t = await startTap(dst.address, { parseLimit });
  const c = await connect(t.port);
  await writeAll(c, bytes);
  c.close();
  const outcome = await t.outcome;
  const [got] = await dst.close() as Uint8Array[];
  return { outcome, events: t.events, got };
}

Deno.test("a capture through the tap: its sections, passes and end as events; the summary is inspect's", async () => {
  const path = await captureFile("b_xbzrle");
  const bytes = await Deno.readFile(path);
  const { outcome, events, got } = await through(bytes);
  assert.equal(got.length, bytes.length);
  assert.equal(outcome.end, "complete");
  const file = await summarize(path);
  assert.deepEqual(
    JSON.parse(JSON.stringify(outcome.parse!.summary)),
    JSON.parse(JSON.stringify(file.summary)),
  );
  const sections = ofType(events, "section");
  const rows = outcome.parse!.timeline.filter((r) =>
    ["START", "PART", "END", "FULL"].includes(r.kind)
  );
  assert.deepEqual(
    sections.map((
      s,
    ) => [
      s.offset,
      s.section,
      s.sectionId,
      s.idstr,
      s.bytes,
      s.pages.page,
      s.pages.zero,
      s.pages.xbzrle,
    ]),
    rows.map((r) => [r.offset, r.kind, r.sectionId, r.name, r.bytes, r.page, r.zero, r.xbzrle]),
  );
  const passes = ofType(events, "pass");
  assert.deepEqual(
    passes.map((p) => [p.index, p.pages, p.zero, p.xbzrle, p.bytes]),
    file.summary.passes.map((p) => [p.index, p.pages, p.zero, p.xbzrle, p.bytes]),
  );
  assert.ok(passes.length >= 2 && passes.every((p) => p.ms >= 0));
  const ramParts = sections.filter((s) => s.idstr === "ram" && s.pages.page + s.pages.xbzrle > 0);
  assert.ok(ramParts.every((s) => s.pass !== undefined && s.pass >= 1));
  assert.deepEqual(ofType(events, "parse-error"), []);
  const end = events.at(-1)!;
  assert.deepEqual([end.type, (end as { complete: boolean }).complete], ["end", true]);
  // Event times never go back, and every connection's events come after its connection event.
  assert.ok(events.every((e, i) => i === 0 || e.t >= events[i - 1].t));
  assert.equal(events.findIndex((e) => e.type === "connection"), 0);
});

Deno.test("commands on the main channel are events (a capture with commands)", async () => {
  const path = await captureFile("m2_modern_precopy");
  const { outcome, events } = await through(await Deno.readFile(path));
  const file = await summarize(path);
  assert.ok(file.summary.commands.length > 0, "the capture has commands");
  assert.deepEqual(
    ofType(events, "command").map((c) => [c.offset, c.name]),
    file.summary.commands.map((c) => [c.offset, c.name]),
  );
  assert.equal(outcome.complete, !file.error && file.summary.eof !== undefined);
});

Deno.test("a main stream the parser cannot read: one parse-error event, every byte still forwarded, exit outcome names where it stopped", async () => {
  const bytes = concat(
    new Uint8Array([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3, 0x42]),
    noise(3 << 20, 4),
  );
  const { outcome, events, got } = await through(bytes, 64 << 10);
  assert.equal(got.length, bytes.length);
  const errs = ofType(events, "parse-error");
  assert.equal(errs.length, 1);
  assert.equal(errs[0].offset, 8);
  assert.equal(outcome.end, "unfollowed"); // every byte passed, the source closed first
  assert.equal(outcome.stopped!.offset, 8);
  assert.equal(outcome.firstClose, "source");
});

Deno.test("a stream cut short: incomplete, stopped at the end of what came", async () => {
  const bytes = (await Deno.readFile(await captureFile("b_xbzrle"))).subarray(0, 1_000_000);
  const { outcome } = await through(bytes);
  assert.equal(outcome.end, "incomplete");
  assert.ok(outcome.stopped!.offset! >= 840_000 && outcome.stopped!.offset! <= 1_000_000);
  assert.match(outcome.stopped!.message, /section 2 'ram'/);
});

Deno.test("push source: a push past the limit waits for the reader; bytes come out in order; close releases the producer", async () => {
  const s = new PushSource(10);
  assert.equal(s.push(new Uint8Array([1, 2, 3])), undefined);
  let released = false;
  const wait = s.push(new Uint8Array(10).fill(7))!.then(() => released = true);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(released, false);
  const buf = new Uint8Array(4);
  assert.equal(await s.read(buf), 4);
  assert.deepEqual([...buf], [1, 2, 3, 7]);
  await wait;
  assert.equal(s.buffered, 9);
  const blocked = s.push(new Uint8Array(5))!;
  s.close();
  await blocked;
  assert.equal(await s.read(buf), null);
  assert.equal(s.push(new Uint8Array(100)), undefined);
  const e = new PushSource();
  const pending = e.read(buf);
  e.push(new Uint8Array([9]));
  assert.equal(await pending, 1);
  e.end();
  assert.equal(await e.read(buf), null);
});
