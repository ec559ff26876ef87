/**
 * cpr-transfer channels (magic QCPR): the real QEMU 10.0.2 capture of tests/data/cpr holds the
 * fds QEMU's own trace says it registered (expect.json), newest first, at offsets computed here
 * from those names alone; inspect's text, JSON and NDJSON are compared exactly (the text also
 * with tests/golden/inspect_cpr_channel.txt); hand-built channels pin escaping, signed ids and
 * repeated names; hostile inputs are one-line StreamErrors naming offset, section and element.
 * The main stream of the same migration holds RAM block headers and no page.
 */
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import {
  type CprItem,
  isCprChannel,
  MAX_CPR_FDS,
  parseCprChannel,
  readCprChannel,
} from "../../src/parse/cpr.ts";
import { openInput } from "../../src/parse/input.ts";
import { inspectCpr } from "../../src/commands/inspect_cpr.ts";
import { memoryOut } from "../../src/commands/io.ts";
import { StreamError } from "../../src/protocol/errors.ts";
import { ByteReader } from "../../src/wire/reader.ts";
import { summarize } from "../_helpers.ts";

const DATA = fromFileUrl(new URL("../data/cpr/", import.meta.url));
const GOLDEN = fromFileUrl(new URL("../golden/", import.meta.url));
const HEADER = "cpr-transfer state, QCPR version 1 (the fds travel as SCM_RIGHTS)";

interface Expect {
  qemu: string;
  saved: { name: string; id: number; fd: number }[];
  sent: number[];
  cprBytes: number;
}

const expect: Expect = JSON.parse(await Deno.readTextFile(`${DATA}expect.json`));

/** A channel: header, the fds (name without its NUL, id), the end byte, then `tail`. */
function channel(fds: [string, number][], tail: number[] = []): Uint8Array {
  const enc = new TextEncoder();
  const parts: number[] = [0x51, 0x43, 0x50, 0x52, 0, 0, 0, 1];
  const be32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  for (const [name, id] of fds) {
    const n = enc.encode(name);
    parts.push(1, ...be32(n.length + 1), ...n, 0, ...be32(id), 0x20);
  }
  parts.push(0, ...tail);
  return new Uint8Array(parts);
}

async function items(bytes: Uint8Array): Promise<CprItem[]> {
  const out: CprItem[] = [];
  for await (const it of readCprChannel(ByteReader.ofBytes(bytes), "ch")) out.push(it);
  return out;
}

async function failure(bytes: Uint8Array, name = "ch"): Promise<StreamError> {
  try {
    await parseCprChannel(ByteReader.ofBytes(bytes), name);
  } catch (e) {
    if (e instanceof StreamError) {
      assert.ok(!e.message.includes("\n"), e.message);
      assert.equal(e.section, `cpr channel ${name}`);
      return e;
    }
    throw e;
  }
  throw new Error("no error");
}

/** Runs inspectCpr on a file (or bytes written to a temporary file). */
async function inspect(path: string, format: "text" | "json" | "ndjson") {
  const out = memoryOut();
  const r = await inspectCpr(await openInput(path), { format }, out);
  return { ...r, text: out.text() };
}

/** The real capture's elements as the trace implies them: newest first, offsets by size. */
function expectedFds() {
  let offset = 8;
  return expect.saved.toReversed().map((s, index) => {
    const nameLen = new TextEncoder().encode(s.name).length + 1;
    const fd = { index, name: s.name, id: s.id, offset, fdOffset: offset + 1 + 4 + nameLen + 4 };
    offset = fd.fdOffset + 1;
    return fd;
  });
}

Deno.test("cpr: the real QEMU 10.0 capture holds the fds QEMU registered, newest first", async () => {
  const bytes = await Deno.readFile(`${DATA}cpr.bin`);
  assert.equal(expect.qemu, "10.0.2");
  assert.ok(isCprChannel(bytes));
  const ch = await parseCprChannel(ByteReader.ofBytes(bytes), "cpr.bin");
  assert.equal(ch.magic, 0x51435052);
  assert.equal(ch.version, 1);
  const want = expectedFds();
  assert.deepEqual(ch.fds.map(({ kind: _, ...f }) => f), want);
  // The pc.ram memfd backend, the firmware, the VGA RAM and the ACPI blobs (aux-ram-share=on).
  assert.ok(ch.fds.some((f) => f.name === "pc.ram"));
  assert.equal(ch.length, expect.cprBytes);
  assert.equal(ch.endOffset, expect.cprBytes - 1);
  // Each element's byte carried the descriptor QEMU registered under its name.
  const fdOf = new Map(expect.saved.map((s) => [s.name, s.fd]));
  assert.deepEqual(ch.fds.map((f) => fdOf.get(f.name)), expect.sent);
  for (const f of ch.fds) assert.equal(bytes[f.fdOffset], 0x20);
  // Read one byte at a time from a pipe: the same items.
  const pipe = ReadableStream.from([...bytes].map((b) => new Uint8Array([b])));
  const input = await openInput(pipe);
  const again = await parseCprChannel(input.reader, "pipe");
  input.close();
  assert.deepEqual(again, ch);
});

Deno.test("cpr: inspect text of the real capture, exactly (and its golden file)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "migscope-cpr-test-" });
  try {
    await Deno.copyFile(`${DATA}cpr.bin`, `${dir}/cpr.bin`);
    const r = await inspect(`${dir}/cpr.bin`, "text");
    assert.equal(r.code, 0);
    const fds = expectedFds();
    const w = Math.max(4, ...fds.map((f) => f.name.length));
    const rows = fds.map((f) =>
      `${f.name.padEnd(w)}  ${String(f.id).padStart(2)}  ${String(f.offset).padStart(6)}`
    );
    const want = `cpr channel <TMP>/cpr.bin: ${HEADER}\n\n` +
      `${"NAME".padEnd(w)}  ID  OFFSET\n${"-".repeat(w)}  --  ------\n${rows.join("\n")}\n\n` +
      `${fds.length} fds, ${expect.cprBytes} bytes; end of the fd list at ${expect.cprBytes - 1}\n`;
    const text = r.text.replaceAll(dir, "<TMP>");
    assert.equal(text, want);
    assert.equal(text, await Deno.readTextFile(`${GOLDEN}inspect_cpr_channel.txt`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cpr: inspect --json and --ndjson of the real capture", async () => {
  const path = `${DATA}cpr.bin`;
  const j = await inspect(path, "json");
  assert.equal(j.code, 0);
  const doc = JSON.parse(j.text);
  assert.deepEqual(Object.keys(doc), ["format", "version", "summary", "fds"]);
  assert.equal(doc.format, "migscope-cpr");
  assert.deepEqual(doc.summary, {
    magic: 0x51435052,
    version: 1,
    fds: expect.saved.length,
    names: expect.saved.length,
    endOffset: expect.cprBytes - 1,
    bytes: expect.cprBytes,
  });
  assert.deepEqual(doc.fds, expectedFds());
  const n = await inspect(path, "ndjson");
  const lines = n.text.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines[0], { kind: "format", format: "migscope-cpr-ndjson", version: 1 });
  assert.deepEqual(lines.map((l) => l.kind), [
    "format",
    "header",
    ...expect.saved.map(() => "fd"),
    "end",
    "summary",
  ]);
  assert.deepEqual(lines.at(-2), {
    kind: "end",
    offset: expect.cprBytes - 1,
    length: expect.cprBytes,
  });
});

Deno.test("cpr: escaped names, signed ids, repeated names: the exact text", async () => {
  const bytes = channel([["pc.ram", 7], ["x\ty", -1], ["pc.ram", 8]]);
  const it = await items(bytes);
  assert.deepEqual(it.map((x) => x.kind === "fd" ? [x.offset, x.name, x.id, x.fdOffset] : x.kind), [
    "header",
    [8, "pc.ram", 7, 24],
    [25, "x\ty", -1, 38],
    [39, "pc.ram", 8, 55],
    "end",
  ]);
  const dir = await Deno.makeTempDir({ prefix: "migscope-cpr-test-" });
  try {
    await Deno.writeFile(`${dir}/built.bin`, bytes);
    const r = await inspect(`${dir}/built.bin`, "text");
    assert.equal(r.code, 0);
    assert.equal(
      r.text.replaceAll(dir, "<TMP>"),
      `cpr channel <TMP>/built.bin: ${HEADER}

NAME    ID  OFFSET
------  --  ------
pc.ram   7       8
x\\x09y  -1      25
pc.ram   8      39

3 fds (2 distinct names), 57 bytes; end of the fd list at 56
`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cpr: hostile headers and truncations are one-line errors", async () => {
  const real = await Deno.readFile(`${DATA}cpr.bin`);
  const qevm = new Uint8Array([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3, 0]);
  assert.equal(
    (await failure(qevm, "bad.bin")).message,
    "offset 0 (0x0), cpr channel bad.bin, header at 0: cpr magic 0x5145564d is not 0x51435052 (QCPR)",
  );
  const v2 = channel([]);
  v2[7] = 2;
  assert.equal((await failure(v2)).detail, "cpr version 2 is not 1");
  assert.equal((await failure(v2)).offset, 4);
  const short = await failure(real.subarray(0, 5));
  assert.equal(
    short.message,
    "offset 5 (0x5), cpr channel ch, header at 0: truncated: the channel ends in its header",
  );
  const inName = await failure(real.subarray(0, 30));
  assert.equal(inName.offset, 30);
  assert.equal(inName.record, "fd 0 at 8");
  assert.equal(inName.detail, "truncated: the channel ends in an fd element");
  const noEnd = await failure(real.subarray(0, real.length - 1));
  assert.equal(
    noEnd.message,
    `offset 215 (0xd7), cpr channel ch, list byte at 215: truncated: the channel ends in the fd ` +
      "list, before its end byte (0)",
  );
});

Deno.test("cpr: hostile lengths, bytes and counts stay bounded", async () => {
  const huge = channel([["a", 0]]);
  huge.set([0xff, 0xff, 0xff, 0xff], 9);
  const e = await failure(huge);
  assert.equal(e.offset, 9);
  assert.equal(e.detail, "name length 4294967295 exceeds 4096");
  const zero = channel([["a", 0]]);
  zero.set([0, 0, 0, 0], 9);
  assert.equal((await failure(zero)).detail, "name length 0 (QEMU counts the name's NUL)");
  const noNul = channel([["abc", 0]]);
  noNul[16] = 0x64;
  assert.equal((await failure(noNul)).detail, "the name does not end with a NUL");
  assert.equal((await failure(noNul)).offset, 16);
  assert.equal(
    (await failure(channel([["ab\0c", 0]]))).detail,
    "the name has a NUL at byte 2 of its 5",
  );
  const marker = channel([["a", 0]]);
  marker[8] = 2;
  assert.equal(
    (await failure(marker)).detail,
    "list byte 0x2 is neither 1 (an fd follows) nor 0 (end)",
  );
  const many = channel(Array.from({ length: MAX_CPR_FDS + 1 }, () => ["", 0] as [string, number]));
  const m = await failure(many);
  assert.equal(m.offset, 8 + MAX_CPR_FDS * 11);
  assert.equal(m.detail, `more than ${MAX_CPR_FDS} fds`);
  const long = "n".repeat(4095);
  const total = await failure(
    channel(Array.from({ length: 1025 }, () => [long, 0] as [string, number])),
  );
  assert.equal(total.offset, 8 + 1024 * 4106 + 1);
  assert.equal(total.detail, "the names exceed 4194304 bytes in total");
});

Deno.test("cpr: data after the end of the list, a QEMU 10.1 subsection named", async () => {
  const extra = await failure(channel([["pc.ram", 0]], [0xff]));
  assert.equal(extra.offset, 26);
  assert.equal(extra.detail, "data after the end of the fd list (QEMU shuts the channel there)");
  // The end is reported before the error about what follows it.
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const it of readCprChannel(ByteReader.ofBytes(channel([], [0xff])), "ch")) {
      seen.push(it.kind);
    }
  }, StreamError);
  assert.deepEqual(seen, ["header", "end"]);
  const name = [...new TextEncoder().encode("CprState/vfio devices")];
  const sub = await failure(channel([], [5, name.length, ...name, 0, 0, 0, 1, 0]));
  assert.equal(
    sub.message,
    "offset 9 (0x9), cpr channel ch, end of the fd list at 8: subsection 'CprState/vfio devices' " +
      "after the fd list: QEMU 10.1 and later send it, this reader knows QEMU 10.0's channel",
  );
});

Deno.test("cpr: inspect of a broken channel prints what it read and exits 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "migscope-cpr-test-" });
  try {
    await Deno.writeFile(
      `${dir}/cut.bin`,
      channel([["pc.ram", 0], ["pc.bios", 0]]).subarray(0, 30),
    );
    const r = await inspect(`${dir}/cut.bin`, "text");
    assert.equal(r.code, 2);
    assert.equal(
      r.error,
      `offset 30 (0x1e), cpr channel ${dir}/cut.bin, fd 1 at 25: truncated: the channel ends in ` +
        "an fd element",
    );
    assert.ok(r.text.includes("\npc.ram   0       8\n"), r.text);
    assert.ok(r.text.endsWith("\n1 fd, 25 bytes; no end of the fd list\n"), r.text);
    const j = JSON.parse((await inspect(`${dir}/cut.bin`, "json")).text);
    assert.equal(j.error.offset, 30);
    assert.equal(j.error.record, "fd 1 at 25");
    const n = (await inspect(`${dir}/cut.bin`, "ndjson")).text.trimEnd().split("\n");
    assert.equal(JSON.parse(n.at(-1)!).kind, "error");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cpr: the main stream of the same migration carries RAM block headers, no page", async () => {
  const { summary, error } = await summarize(`${DATA}main.bin.gz`);
  assert.equal(error, undefined);
  assert.equal(summary.ram.page + summary.ram.zero + summary.ram.xbzrle, 0);
  // Every RAM block QEMU handed over as an fd is named (with its size) and none other.
  assert.deepEqual(
    summary.ram.blocks.map((b) => b.name).toSorted(),
    expect.saved.map((s) => s.name).toSorted(),
  );
  assert.ok(summary.ram.blocks.every((b) => b.size > 0 && b.page === 0));
});
