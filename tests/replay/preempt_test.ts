/**
 * A postcopy-preempt channel given with --channel: recognised by having no magic, its pages
 * applied after the main stream (they are postcopy pages, which replace what precopy sent), and
 * its bad records one-line errors naming the channel, offset and record.
 */
import assert from "node:assert/strict";
import { prng } from "../../tools/samples.ts";
import { runCli, sha256, sha256File } from "../_helpers.ts";

const PAGE = 4096;
const FLAG = { ZERO: 0x2, PAGE: 0x8, EOS: 0x10, CONTINUE: 0x20, XBZRLE: 0x40 };

/** Bare RAM records: [flags, addr, block name or "" for CONTINUE, payload]. */
function records(recs: [number, number, string, Uint8Array?][]): Uint8Array {
  const parts: number[] = [];
  for (const [flags, addr, name, payload] of recs) {
    const v = BigInt(addr) | BigInt(flags);
    for (let i = 7; i >= 0; i--) parts.push(Number((v >> BigInt(8 * i)) & 0xffn));
    if (name) {
      const b = new TextEncoder().encode(name);
      parts.push(b.length, ...b);
    }
    if (payload) parts.push(...payload);
  }
  return new Uint8Array(parts);
}

async function setup() {
  const dir = await Deno.makeTempDir();
  const r = prng(3);
  const ram = new Uint8Array(1 << 20);
  for (let i = 0; i < ram.length; i += 3) ram[i] = r() & 0xff;
  await Deno.writeFile(`${dir}/r0`, ram);
  const e = await runCli(["emit", "--ram", `pc.ram=${dir}/r0`, "-o", `${dir}/main.mig`]);
  assert.equal(e.code, 0, e.stderr);
  return { dir, ram };
}

Deno.test("postcopy-preempt channel: its pages replace the main stream's, applied after it", async () => {
  const { dir, ram } = await setup();
  const a = new Uint8Array(PAGE).fill(0x5a);
  const b = new Uint8Array(PAGE).fill(0x6b);
  await Deno.writeFile(
    `${dir}/preempt.bin`,
    records([
      [FLAG.PAGE, 0x3000, "pc.ram", a],
      [FLAG.PAGE | FLAG.CONTINUE, 0x4000, "", b],
      [FLAG.EOS, 0, ""],
      [FLAG.ZERO, 0x0, "pc.ram", Uint8Array.of(0)],
      [FLAG.EOS, 0, ""],
    ]),
  );
  const out = `${dir}/out`;
  const r = await runCli([
    "replay",
    `${dir}/main.mig`,
    "--channel",
    `${dir}/preempt.bin`,
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const want = ram.slice();
  want.set(a, 0x3000);
  want.set(b, 0x4000);
  want.fill(0, 0, PAGE);
  assert.equal(await sha256File(`${out}/pc.ram.ram`), await sha256(want));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("postcopy-preempt channel: bad records are one-line errors", async () => {
  const { dir } = await setup();
  const page = new Uint8Array(PAGE);
  const cases: [Uint8Array, RegExp][] = [
    [
      records([[FLAG.XBZRLE, 0x1000, "pc.ram", Uint8Array.of(1, 0, 0)]]),
      /only ZERO, PAGE and EOS records travel on the postcopy-preempt channel/,
    ],
    [records([[FLAG.PAGE, 0x1000, "nope", page]]), /nope/],
    [records([[FLAG.PAGE, 0x100000, "pc.ram", page]]), /0x100000/],
    [records([[FLAG.PAGE, 0x1000, "pc.ram", page.subarray(0, 100)]]), /truncated/],
  ];
  for (const [i, [bytes, re]] of cases.entries()) {
    await Deno.writeFile(`${dir}/p${i}.bin`, bytes);
    const r = await runCli([
      "replay",
      `${dir}/main.mig`,
      "--channel",
      `${dir}/p${i}.bin`,
      "--out",
      `${dir}/o${i}`,
    ]);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    assert.match(r.stderr, re);
    assert.match(r.stderr, /postcopy-preempt channel/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  // A main stream given as a channel.
  const m = await runCli([
    "replay",
    `${dir}/main.mig`,
    "--channel",
    `${dir}/main.mig`,
    "--out",
    `${dir}/om`,
  ]);
  assert.equal(m.code, 2);
  assert.match(
    m.stderr,
    /file header: .*main\.mig is a main stream \(QEVM\), not a multifd or postcopy-preempt channel/,
  );
  await Deno.remove(dir, { recursive: true });
});
