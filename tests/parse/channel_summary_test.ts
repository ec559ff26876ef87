/**
 * src/report/channel_summary.ts on hand-built multifd items: block names that are
 * Object.prototype's own keys count like any other, a channel of only its initial packet
 * spans its 64 bytes, and `compression` is set by the first packet with pages only.
 */
import assert from "node:assert/strict";
import type { MultifdItem, MultifdPacket } from "../../src/parse/multifd.ts";
import { addChannelItem, newChannelSummary } from "../../src/report/channel_summary.ts";

const init: MultifdItem = { kind: "init", offset: 0, version: 1, uuid: "u", id: 2 } as MultifdItem;

function packet(offset: number, block: string, normal: number, zero = 0): MultifdPacket {
  return {
    kind: "packet",
    offset,
    length: 1344,
    flags: 0,
    sync: normal + zero === 0,
    compression: "none",
    pagesAlloc: 128,
    normalPages: normal,
    zeroPages: zero,
    packetNum: 0,
    block,
    offsets: [],
    payloadBytes: 0,
    data: new Uint8Array(0),
  };
}

Deno.test("channel summary: blocks named constructor and __proto__ are counted", () => {
  const s = newChannelSummary();
  addChannelItem(s, init);
  let at = 64;
  for (const [b, n] of [["constructor", 2], ["__proto__", 3], ["toString", 1], ["__proto__", 1]]) {
    addChannelItem(s, packet(at, b as string, n as number));
    at += 1344;
  }
  assert.equal(s.blocks["constructor"], 2);
  assert.equal(s.blocks["__proto__"], 4);
  assert.equal(s.blocks["toString"], 1);
  assert.deepEqual(Object.keys(s.blocks), ["constructor", "__proto__", "toString"]);
  assert.equal(
    JSON.stringify(s.blocks),
    '{"constructor":2,"__proto__":4,"toString":1}',
  );
  assert.equal(s.bytes, at);
});

Deno.test("channel summary: only the initial packet spans 64 bytes; compression from pages", () => {
  const s = newChannelSummary();
  addChannelItem(s, init);
  assert.equal(s.bytes, 64);
  assert.equal(s.id, 2);
  assert.ok(!("compression" in s), "no page packet, no compression key");
  assert.ok(!JSON.stringify(s).includes("compression"));
  addChannelItem(s, packet(64, "", 0)); // a SYNC without pages names no method
  assert.ok(!("compression" in s));
  assert.equal(s.bytes, 64 + 1344);
  addChannelItem(s, packet(64 + 1344, "pc.ram", 0, 5));
  assert.equal(s.compression, "none");
  assert.equal(s.zeroPages, 5);
});
