/**
 * Malformed input: every rule the loader enforces gives a StreamError naming the offset (and,
 * where there is one, the section and record) — never another exception, never a hang.
 */
import assert from "node:assert/strict";
import { hex, parseError } from "../_helpers.ts";
import { miniStream, page, TINY_VMDESC, writeTinyDeviceBody } from "../_build.ts";
import { ByteWriter } from "../../src/wire/writer.ts";
import * as F from "../../src/emit/frame.ts";
import { StreamError } from "../../src/protocol/errors.ts";
import { ByteReader } from "../../src/wire/reader.ts";
import { bytesSource } from "../../src/wire/source.ts";
import { parseStream } from "../../src/parse/stream.ts";

/** A stream whose RAM PART body is `body` (after a MEM_SIZE of pc.ram = 8 pages). */
function ramBody(
  body: (w: ByteWriter) => void,
  o: { start?: (w: ByteWriter) => void } = {},
): Uint8Array {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  F.writeSectionFull(w, "START", 1, "ram", 0, 4);
  if (o.start) o.start(w);
  else F.writeRamMemSize(w, [{ name: "pc.ram", size: 8 * 4096 }]);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeSectionShort(w, "PART", 1);
  body(w);
  F.writeRamEos(w);
  F.writeFooter(w, 1);
  F.writeEof(w);
  return w.result();
}

function topLevel(body: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-7.2");
  body(w);
  F.writeEof(w);
  return w.result();
}

async function expectError(bytes: Uint8Array, pattern: RegExp, opts = {}): Promise<StreamError> {
  const e = await parseError(bytes, opts);
  assert.ok(e instanceof StreamError, `StreamError expected, got ${e}`);
  assert.match(e.message, pattern);
  assert.match(e.message, /^offset \d+ \(0x[0-9a-f]+\)/);
  assert.ok(!e.message.includes("\n"), "one line");
  return e;
}

const XB = (delta: number[]) => (w: ByteWriter) =>
  F.writeRamXbzrle(w, 0, Uint8Array.from(delta), "pc.ram");

const CASES: [string, Uint8Array, RegExp][] = [
  ["wrong magic", hex("5145564e 00000003 00"), /not a QEMU migration stream/],
  ["multifd channel given as main stream", hex("11223344 00000001"), /multifd channel/],
  ["obsolete version 2", hex("5145564d 00000002 00"), /version 2 is obsolete/],
  ["version 4", hex("5145564d 00000004 00"), /unsupported stream version 4/],
  ["top-level SUBSECTION byte", topLevel((w) => w.u8(0x05)), /unknown section type 0x05/],
  ["top-level 0x7e without a section", topLevel((w) => w.u8(0x7e)), /unknown section type 0x7e/],
  ["VMDESCRIPTION before EOF", topLevel((w) => w.u8(0x06)), /unknown section type 0x06/],
  [
    "PART for an unknown section id",
    topLevel((w) => F.writeSectionShort(w, "PART", 9)),
    /no START introduced/,
  ],
  [
    "ram section version 5",
    topLevel((w) => F.writeSectionFull(w, "START", 1, "ram", 0, 5)),
    /version 5 is not supported/,
  ],
  [
    "unsupported iterative section",
    topLevel((w) => F.writeSectionFull(w, "START", 1, "dirty-bitmap", 0, 1)),
    /iterative section 'dirty-bitmap'/,
  ],
  ["empty section idstr", topLevel((w) => w.u8(1).be32(1).u8(0).be32(0).be32(4)), /idstr is empty/],
  ["command 0", topLevel((w) => F.writeCommand(w, 0)), /unknown command 0/],
  ["command 12", topLevel((w) => F.writeCommand(w, 12)), /unknown command 12/],
  [
    "PING with 3 bytes",
    topLevel((w) => F.writeCommand(w, 2, Uint8Array.of(0, 0, 1))),
    /PING payload must be 4 bytes, not 3/,
  ],
  [
    "LISTEN with a payload",
    topLevel((w) => F.writeCommand(w, 4, Uint8Array.of(0))),
    /must be 0 bytes/,
  ],
  [
    "SWITCHOVER_START with a payload",
    topLevel((w) => F.writeCommand(w, 11, Uint8Array.of(0))),
    /must be 0 bytes/,
  ],
  [
    "PACKAGED with 2 length bytes",
    topLevel((w) => F.writeCommand(w, 7, Uint8Array.of(0, 1))),
    /must be 4 bytes/,
  ],
  [
    "ADVISE with 8 bytes",
    topLevel((w) => F.writeCommand(w, 3, new Uint8Array(8))),
    /0 or 16 bytes/,
  ],
  ["DISCARD too short", topLevel((w) => F.writeCommand(w, 6, hex("00 01 61 00"))), /too short/],
  [
    "DISCARD version 1",
    topLevel((w) => F.writeCommand(w, 6, hex("01 01 61 00" + "00".repeat(16)))),
    /version 1 is not 0/,
  ],
  [
    "DISCARD non-zero after name",
    topLevel((w) => F.writeCommand(w, 6, hex("00 01 61 01" + "00".repeat(16)))),
    /byte after the block name/,
  ],
  [
    "DISCARD ranges not a multiple of 16",
    topLevel((w) => F.writeCommand(w, 6, hex("00 01 61 00" + "00".repeat(17)))),
    /multiple of 16/,
  ],
  [
    "RECV_BITMAP length mismatch",
    topLevel((w) => F.writeCommand(w, 10, hex("05 61 62"))),
    /RECV_BITMAP length/,
  ],
  [
    "PACKAGED without POSTCOPY_RUN",
    topLevel((w) => {
      F.writeCommand(w, 7, Uint8Array.of(0, 0, 0, 5));
      F.writeCommand(w, 4);
    }),
    /ends without POSTCOPY_RUN/,
  ],
  [
    "PACKAGED with bytes after RUN",
    topLevel((w) => {
      F.writeCommand(w, 7, Uint8Array.of(0, 0, 0, 7));
      F.writeCommand(w, 5);
      w.u8(0).u8(0);
    }),
    /2 bytes after its last record/,
  ],
  [
    "PACKAGED record crossing the payload end",
    topLevel((w) => {
      F.writeCommand(w, 7, Uint8Array.of(0, 0, 0, 3));
      F.writeCommand(w, 5);
    }),
    /past the end of the PACKAGED payload/,
  ],
  ["ZERO|PAGE flags", ramBody((w) => w.be64(0x0a)), /unknown RAM flag combination 0xa/],
  ["obsolete FULL flag 0x001", ramBody((w) => w.be64(0x01)), /unknown RAM flag combination 0x1/],
  ["flag bit 0x400", ramBody((w) => w.be64(0x408)), /unknown RAM flag combination 0x408/],
  ["HOOK flag", ramBody((w) => w.be64(0x80)), /HOOK/],
  [
    "CONTINUE before any block",
    ramBody((w) => F.writeRamZero(w, 0)),
    /CONTINUE record before any RAM block/,
  ],
  ["unknown block", ramBody((w) => F.writeRamZero(w, 0, "nope")), /unknown RAM block 'nope'/],
  [
    "page offset past the block",
    ramBody((w) => F.writeRamPage(w, 8 * 4096, page(1), "pc.ram")),
    /illegal RAM offset 0x8000/,
  ],
  [
    "XBZRLE encoding byte 2",
    ramBody((w) => w.be64(0x40).counted("pc.ram").u8(2).be16(0)),
    /encoding byte 0x2 is not 0x01/,
  ],
  [
    "XBZRLE length 4097",
    ramBody((w) => w.be64(0x40).counted("pc.ram").u8(1).be16(4097)),
    /length 4097 exceeds the page size/,
  ],
  [
    "XBZRLE: 1 byte left before a zero run",
    ramBody(XB([5])),
    /fewer than 2 bytes left before a zero run/,
  ],
  [
    "XBZRLE: 1 byte left before a data run",
    ramBody(XB([0, 1, 9, 5, 1])),
    /fewer than 2 bytes left before a data run/,
  ],
  ["XBZRLE: invalid ULEB128", ramBody(XB([0x80, 0x80, 1, 1])), /invalid ULEB128 zero-run/],
  [
    "XBZRLE: zero run of 0 after the start",
    ramBody(XB([0, 1, 0xaa, 0, 1, 0xbb])),
    /zero-length zero run after the start/,
  ],
  ["XBZRLE: data run of 0", ramBody(XB([5, 0, 1])), /zero-length data run/],
  [
    "XBZRLE: zero run past the page",
    ramBody(XB([0xff, 0x7f, 1, 1])),
    /zero run passes the page end/,
  ],
  [
    "XBZRLE: data run past the page",
    ramBody(XB([0xff, 0x1f, 2, 1, 2])),
    /data run passes the page end/,
  ],
  [
    "XBZRLE: data run past the delta",
    ramBody(XB([0, 5, 1, 2])),
    /data run of 5 bytes passes the delta end/,
  ],
  [
    "COMPRESS_PAGE length over compressBound",
    ramBody((w) => w.be64(0x100).counted("pc.ram").be32(5000)),
    /exceeds compressBound 4110/,
  ],
  [
    "MEM_SIZE list overshooting its total",
    ramBody(() => {}, {
      start: (w) => w.be64(4096 | 4).counted("pc.ram").be64(8192),
    }),
    /overshoots the MEM_SIZE total/,
  ],
  [
    "MEM_SIZE block listed twice",
    ramBody(() => {}, {
      start: (w) => w.be64(8192 | 4).counted("a").be64(4096).counted("a").be64(4096),
    }),
    /listed twice/,
  ],
  [
    "RAM body ending without EOS",
    (() => {
      const w = new ByteWriter();
      F.writeHeader(w);
      F.writeSectionFull(w, "START", 1, "ram", 0, 4);
      F.writeRamMemSize(w, [{ name: "pc.ram", size: 4096 }]);
      F.writeFooter(w, 1);
      return w.result();
    })(),
    /unknown RAM flag combination|truncated/,
  ],
  [
    "block record with unknown flags",
    topLevel((w) => {
      F.writeSectionFull(w, "START", 1, "block", 0, 1);
      w.be64(0x10);
    }),
    /unknown block migration flags 0x10/,
  ],
  ["stream without EOF", hex("5145564d 00000003"), /ends before QEMU_VM_EOF/],
];

for (const [name, bytes, pattern] of CASES) {
  Deno.test(`malformed: ${name}`, async () => {
    await expectError(bytes, pattern);
  });
}

Deno.test("malformed: an unknown capability in the configuration is rejected with its name", async () => {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeConfiguration(w, "pc-i440fx-9.2", { capabilities: ["x-teleport"] });
  F.writeEof(w);
  const e = await expectError(w.result(), /unknown validated capability 'x-teleport'/);
  assert.equal(e.offset, 8 + 18 + 1 + 1 + 26 + 4 + 4);
});

Deno.test("malformed: footer with the wrong id, and a missing footer marker", async () => {
  const good = miniStream();
  const at = good.indexOf(0x7e, 26);
  const wrongId = good.slice();
  wrongId[at + 4] = 9;
  const e = await expectError(wrongId, /footer names section 9, expected 2/);
  assert.equal(e.offset, at);
  assert.match(e.message, /section 2 'ram' START/);
  const noMarker = good.slice();
  noMarker[at] = 0x7d;
  await expectError(noMarker, /unknown section type 0x7d|missing section footer/);
  // With footers established, a later missing marker is named as such.
  const later = good.slice();
  const second = good.indexOf(0x7e, at + 5 + 4096);
  later[second] = 0x7d;
  await expectError(later, /missing section footer/);
});

Deno.test("malformed: vmdesc problems — oversize length, bad JSON, bytes after it, device missing from it", async () => {
  const base = miniStream({ trailer: false });
  const w = new ByteWriter();
  w.bytes(base);
  w.u8(6).be32(0xffffffff);
  await expectError(w.result(), /vmdesc length 4294967295 exceeds/);
  const bad = new ByteWriter();
  bad.bytes(base);
  F.writeVmdesc(bad, "{not json");
  await expectError(bad.result(), /not valid JSON/);
  const after = new ByteWriter();
  after.bytes(base);
  F.writeVmdesc(after, JSON.stringify(TINY_VMDESC));
  after.u8(0);
  await expectError(after.result(), /bytes follow the VMDESCRIPTION trailer/);
  const other = miniStream({ device: true });
  await expectError(other, /device 'dev0' instance 0 is not described/, {
    vmdesc: { page_size: 4096, devices: [] },
  });
});

Deno.test("malformed: a device body the vmdesc does not match is caught at the footer", async () => {
  const w = new ByteWriter();
  F.writeHeader(w);
  F.writeSectionFull(w, "FULL", 3, "dev0", 0, 1);
  writeTinyDeviceBody(w);
  w.u8(0); // one byte more than the vmdesc describes
  F.writeFooter(w, 3);
  F.writeEof(w);
  await expectError(
    w.result(),
    /missing section footer: .* after the device body the vmdesc JSON describes/,
    {
      vmdesc: TINY_VMDESC,
      footers: "on",
    },
  );
});

Deno.test("malformed: a device section without any vmdesc is reported as undelimitable after earlier records", async () => {
  const bytes = miniStream({ device: true, trailer: false });
  const seen: string[] = [];
  let err: unknown;
  try {
    for await (const rec of parseStream(new ByteReader(bytesSource(bytes)))) seen.push(rec.kind);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof StreamError);
  assert.match(err.message, /cannot be delimited: the stream has no VMDESCRIPTION trailer/);
  assert.ok(
    seen.includes("ram") && seen.at(-1) === "section",
    "records before the device were yielded",
  );
});

Deno.test("truncation at every byte boundary gives a clean StreamError (and only the EOF boundary parses)", async () => {
  const full = miniStream({ device: true });
  const eofAt = full.lastIndexOf(0x00, full.length - JSON.stringify(TINY_VMDESC).length - 5);
  let ok = 0;
  for (let n = 0; n < full.length; n++) {
    const prefix = full.subarray(0, n);
    try {
      for await (
        const _ of parseStream(new ByteReader(bytesSource(prefix), { chunk: 8192 }), {
          vmdesc: TINY_VMDESC,
        })
      ) {
        // drain
      }
      ok++;
      assert.equal(n, eofAt + 1, `prefix of ${n} bytes parsed although it is truncated`);
    } catch (e) {
      assert.ok(e instanceof StreamError, `prefix ${n}: ${e}`);
      assert.ok(e.offset <= n, `prefix ${n}: error offset ${e.offset} beyond the data`);
    }
  }
  assert.equal(ok, 1);
});

Deno.test("a huge declared length cannot make the reader allocate without bound", async () => {
  const bytes = topLevel((w) => {
    F.writeCommand(w, 7, Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  });
  await expectError(bytes, /truncated|after its last record/);
});

Deno.test("limits: PACKAGED nesting deeper than 8 and more than 4096 RAM blocks are refused by name", async () => {
  let inner = new ByteWriter();
  F.writeCommand(inner, 5);
  let payload = inner.result();
  for (let d = 0; d < 9; d++) {
    const w = new ByteWriter();
    F.writeCommand(w, 7, Uint8Array.of(0, 0, (payload.length >> 8) & 0xff, payload.length & 0xff));
    w.bytes(payload);
    F.writeCommand(w, 5);
    payload = w.result();
    inner = w;
  }
  const deep = new ByteWriter();
  F.writeHeader(deep);
  deep.bytes(payload.subarray(0, payload.length - 5)); // outermost PACKAGED, no outer RUN
  F.writeEof(deep);
  await expectError(deep.result(), /PACKAGED nesting deeper than 8/);

  const many = new ByteWriter();
  F.writeHeader(many);
  F.writeSectionFull(many, "START", 1, "ram", 0, 4);
  F.writeRamMemSize(many, Array.from({ length: 4097 }, (_, i) => ({ name: `b${i}`, size: 4096 })));
  F.writeRamEos(many);
  F.writeEof(many);
  await expectError(many.result(), /more than 4096 RAM blocks in MEM_SIZE/);
});
