/**
 * gzip input: multi-member files are read as gzip(1) reads them, and a corrupt or truncated
 * file is one error line naming the file and the decompressed offset reached.
 */
import assert from "node:assert/strict";
import { captureFile, runCli, sha256 } from "../_helpers.ts";
import { openInput } from "../../src/parse/input.ts";

const SPLIT = 7_000_000;

/** `gzip -c` of `bytes` (the system's gzip, as a user would make the file). */
async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("gzip", { args: ["-c"], stdin: "piped", stdout: "piped" }).spawn();
  const output = child.output();
  const w = child.stdin.getWriter();
  await w.write(bytes);
  await w.close();
  const out = await output;
  assert.ok(out.success);
  return out.stdout;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function setup() {
  const plain = await Deno.readFile(await captureFile("a_precopy_idle"));
  const first = await gzip(plain.subarray(0, SPLIT));
  const second = await gzip(plain.subarray(SPLIT));
  const dir = await Deno.makeTempDir();
  return { plain, first, second, dir };
}

async function readAll(path: string): Promise<Uint8Array> {
  const input = await openInput(path);
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(1 << 20);
  for (;;) {
    const n = await input.reader.source.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  input.close();
  return concat(...parts);
}

Deno.test("gzip: a capture gzipped as two members (cat a.gz b.gz) reads as the whole capture", async () => {
  const { plain, first, second, dir } = await setup();
  await Deno.writeFile(`${dir}/two.gz`, concat(first, second));
  await Deno.writeFile(`${dir}/plain.bin`, plain);
  assert.equal(await sha256(await readAll(`${dir}/two.gz`)), await sha256(plain));
  const a = await runCli(["inspect", "--json", `${dir}/two.gz`]);
  assert.equal(a.code, 0, a.stderr);
  const b = await runCli(["inspect", "--json", `${dir}/plain.bin`]);
  assert.deepEqual(JSON.parse(a.stdout).summary, JSON.parse(b.stdout).summary);
  const c = await runCli(["inspect", "--json", "-"], { stdin: concat(first, second) });
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(JSON.parse(c.stdout).summary, JSON.parse(b.stdout).summary);
  await Deno.remove(dir, { recursive: true });
});

/**
 * The offset an error names is where decompression stopped: up to one output chunk (128 KiB)
 * before the broken member's end, and every byte before it is the capture's.
 */
async function assertReached(path: string, reached: number, plain: Uint8Array, end = SPLIT) {
  assert.ok(reached > end - (256 << 10) && reached <= end, `offset ${reached}`);
  const got = await openInput(path);
  const buf = new Uint8Array(reached);
  let n = 0;
  try {
    while (n < reached) {
      const k = await got.reader.source.read(buf.subarray(n));
      if (k === null) break;
      n += k;
    }
  } finally {
    got.close();
  }
  assert.equal(n, reached);
  assert.equal(await sha256(buf), await sha256(plain.subarray(0, reached)));
}

function oneLine(r: { code: number; stderr: string }): string {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(!/at .*\.ts:\d+/.test(r.stderr), "no stack trace");
  return lines[0];
}

Deno.test("gzip: a truncated .gz names the file and the decompressed offset reached", async () => {
  const { plain, first, dir } = await setup();
  const cut = first.subarray(0, first.length >> 1);
  await Deno.writeFile(`${dir}/cut.gz`, cut);
  const line = oneLine(await runCli(["inspect", `${dir}/cut.gz`]));
  const m = /^migscope: offset (\d+) \(0x[0-9a-f]+\), .*gzip input (\S+) is truncated/.exec(line);
  assert.ok(m, line);
  assert.equal(m[2], `${dir}/cut.gz`);
  const reached = Number(m[1]);
  assert.ok(reached > 0 && reached < plain.length, line);
  await assertReached(`${dir}/cut.gz`, reached, plain, reached);
  const p = oneLine(await runCli(["replay", "-", "--out", `${dir}/o`], { stdin: cut }));
  assert.match(p, new RegExp(`^migscope: offset ${reached} .*gzip input stdin is truncated`));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("gzip: corrupt deflate data and a bad member checksum name the file and the offset", async () => {
  const { plain, first, dir } = await setup();
  // A second member whose only block has the reserved type 3: "invalid block type".
  const badBlock = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x07, 0, 0, 0, 0, 0, 0, 0, 0);
  await Deno.writeFile(`${dir}/deflate.gz`, concat(first, badBlock));
  const a = oneLine(await runCli(["inspect", `${dir}/deflate.gz`]));
  const m = new RegExp(
    `^migscope: offset (\\d+) .*gzip input ${dir}/deflate\\.gz is corrupt: .*invalid block type`,
  )
    .exec(a);
  assert.ok(m, a);
  await assertReached(`${dir}/deflate.gz`, Number(m[1]), plain);
  // The first member's CRC-32 (its last 8 bytes: CRC, then length) changed.
  const crc = first.slice();
  crc[crc.length - 8] ^= 0xff;
  await Deno.writeFile(`${dir}/crc.gz`, crc);
  const b = oneLine(await runCli(["inspect", `${dir}/crc.gz`]));
  const k = new RegExp(
    `^migscope: offset (\\d+) .*gzip input ${dir}/crc\\.gz is corrupt: a member's checksum does not match`,
  ).exec(b);
  assert.ok(k, b);
  await assertReached(`${dir}/crc.gz`, Number(k[1]), plain);
  await Deno.remove(dir, { recursive: true });
});
