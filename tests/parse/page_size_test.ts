/**
 * Streams with 16 KiB and 64 KiB target pages (announced by `configuration/target-page-bits`)
 * and 1 KiB pages (no target-page-bits, only the vmdesc trailer's page_size), built byte by
 * byte, through the real CLI: inspect counts, replay images (ZERO clears the whole page, PAGE
 * carries a whole page, XBZRLE deltas reach past 4096), verify naming pages in the stream's
 * page units, multifd packets sized by the page size, and the page-size errors.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { BLOCK, type Built, multifdStreams, PAGES, ramStream } from "../_page_size_build.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], stdin?: Uint8Array): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin).catch(() => {});
    await w.close().catch(() => {});
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A temp dir, removed after `fn`. */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-page-size-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts two images are equal; on failure names the first differing page and byte. */
function assertImage(actual: Uint8Array, expected: Uint8Array, ps: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: image size`);
  const i = actual.findIndex((b, k) => b !== expected[k]);
  if (i < 0) return;
  const page = Math.floor(i / ps);
  let n = 0;
  for (let k = page * ps; k < (page + 1) * ps; k++) if (actual[k] !== expected[k]) n++;
  assert.fail(
    `${what}: page ${page} (0x${(page * ps).toString(16)}) differs first at in-page offset ` +
      `${i - page * ps} (got 0x${actual[i].toString(16)}, expected 0x${
        expected[i].toString(16)
      }); ${n} of its ${ps} bytes differ`,
  );
}

const oneLine = (r: Run) => r.stderr.trim().split("\n");

interface Case {
  label: string;
  pageSize: number;
  targetPageBits: boolean;
}

const CASES: Case[] = [
  { label: "16 KiB target-page-bits 14", pageSize: 16384, targetPageBits: true },
  { label: "64 KiB target-page-bits 16", pageSize: 65536, targetPageBits: true },
  { label: "1 KiB vmdesc page_size only", pageSize: 1024, targetPageBits: false },
];

/** A byte inside the page past offset 4096 (1 KiB pages: past 512). */
function deepOffset(ps: number): number {
  return ps > 4096 ? ps / 2 + 4101 : ps / 2 + 5;
}

/** Writes `built`'s files and the expected images into `dir`; returns their paths. */
async function files(dir: string, b: Built) {
  const p = {
    stream: `${dir}/s.mig`,
    channel: `${dir}/ch0.bin`,
    expect: `${dir}/expect.ram`,
    out: `${dir}/out`,
  };
  await Deno.writeFile(p.stream, b.bytes);
  if (b.channel) await Deno.writeFile(p.channel, b.channel);
  await Deno.writeFile(p.expect, b.image);
  return p;
}

/** A copy of the expected image with one byte flipped; its path. */
async function altered(dir: string, b: Built, page: number, inPage: number): Promise<string> {
  const img = b.image.slice();
  img[page * b.pageSize + inPage] ^= 0x5a;
  const path = `${dir}/bad-${page}.ram`;
  await Deno.writeFile(path, img);
  return path;
}

/** Verify with one changed byte: exit 1, exactly that page named with its last writer. */
function assertOneDiff(r: Run, b: Built, page: number) {
  assert.equal(r.code, 1, `verify exit code; stderr: ${r.stderr} stdout: ${r.stdout}`);
  const w = b.writers.get(page)!;
  const line = `${BLOCK} page 0x${(page * b.pageSize).toString(16)}: last written by ${w.kind} ` +
    `at offset ${w.offset}`;
  assert.ok(r.stdout.includes(line), `expected '${line}' in:\n${r.stdout}`);
  const diffLines = r.stdout.split("\n").filter((l) => l.includes(`${BLOCK} page 0x`));
  assert.equal(diffLines.length, 1, `one differing page, got:\n${diffLines.join("\n")}`);
  assert.match(
    r.stdout,
    new RegExp(`${BLOCK.replace(".", "\\.")}\\s+${PAGES}\\s+${PAGES - 1}\\s+1`),
  );
}

for (const c of CASES) {
  const ps = c.pageSize;

  Deno.test(`${c.label}: inspect --json, replay and verify of PAGE / ZERO / XBZRLE records`, async () => {
    const b = ramStream({ pageSize: ps, targetPageBits: c.targetPageBits, trailer: true });
    // The builder's own sanity: the stream has what the test is about.
    assert.deepEqual(b.counts, { page: 10, zero: 6, xbzrle: 4 });
    await withDir(async (dir) => {
      const p = await files(dir, b);
      const bad1 = await altered(dir, b, 1, deepOffset(ps)); // last written by XBZRLE
      const bad5 = await altered(dir, b, 5, ps - 1); // last written by ZERO over data
      const [ins, nd, rep, ok, v1, v5] = await Promise.all([
        cli(["inspect", "--json", p.stream]),
        cli(["inspect", "--ndjson", p.stream]),
        cli(["replay", p.stream, "--out", p.out]),
        cli(["verify", p.stream, "--expect", `${BLOCK}=${p.expect}`]),
        cli(["verify", p.stream, "--expect", `${BLOCK}=${bad1}`]),
        cli(["verify", p.stream, "--expect", `${BLOCK}=${bad5}`]),
      ]);

      assert.equal(ins.code, 0, ins.stderr);
      const s = JSON.parse(ins.stdout).summary;
      assert.equal(s.stream.pageSize, ps, "summary.stream.pageSize");
      assert.equal(s.configuration.targetPageBits, c.targetPageBits ? Math.log2(ps) : undefined);
      assert.deepEqual(
        { page: s.ram.page, zero: s.ram.zero, xbzrle: s.ram.xbzrle, eos: s.ram.eos },
        { ...b.counts, eos: 4 },
      );
      assert.equal(s.ram.memSize, 1);
      assert.equal(s.ram.blocks.length, 1);
      const blk = s.ram.blocks[0];
      assert.deepEqual(
        { name: blk.name, size: blk.size, page: blk.page, zero: blk.zero, xbzrle: blk.xbzrle },
        { name: BLOCK, size: PAGES * ps, ...b.counts },
      );
      assert.equal(s.trailer?.offset, b.trailerAt);
      assert.equal(s.sections.FOOTER, 4);

      assert.equal(nd.code, 0, nd.stderr);
      const recs = nd.stdout.trim().split("\n").map((l) => JSON.parse(l))
        .filter((r) => r.kind === "ram" && ["page", "xbzrle", "zero"].includes(r.type));
      assert.equal(recs.length, 20);
      for (const r of recs) {
        assert.equal(r.addr % ps, 0, `record at ${r.offset}: addr 0x${r.addr.toString(16)}`);
        if (r.type === "page") assert.equal(r.dataLength, ps, `PAGE at ${r.offset}`);
      }

      assert.equal(rep.code, 0, rep.stderr);
      assertImage(await Deno.readFile(`${p.out}/${BLOCK}.ram`), b.image, ps, "replayed image");

      assert.equal(ok.code, 0, ok.stderr || ok.stdout);
      assert.match(ok.stdout, /Verify: all images equal/);
      assertOneDiff(v1, b, 1);
      assertOneDiff(v5, b, 5);
    });
  });

  Deno.test(`${c.label}: multifd channel packets (normal and zero pages) with replay and verify`, async () => {
    const b = multifdStreams({ pageSize: ps, targetPageBits: c.targetPageBits, trailer: true });
    await withDir(async (dir) => {
      const p = await files(dir, b);
      const bad = await altered(dir, b, 1, deepOffset(ps)); // a multifd zero page over data
      const bad6 = await altered(dir, b, 6, deepOffset(ps)); // multifd data after a ZERO record
      const kib = `${ps / 1024}K`;
      const [ins, chIns, rep, ok, v1, v6] = await Promise.all([
        cli(["inspect", "--json", p.stream]),
        cli(["inspect", "--json", "--page-size", kib, p.channel]),
        cli(["replay", p.stream, "--channel", p.channel, "--out", p.out]),
        cli(["verify", p.stream, "--channel", p.channel, "--expect", `${BLOCK}=${p.expect}`]),
        cli(["verify", p.stream, "--channel", p.channel, "--expect", `${BLOCK}=${bad}`]),
        cli(["verify", p.stream, "--channel", p.channel, "--expect", `${BLOCK}=${bad6}`]),
      ]);

      assert.equal(ins.code, 0, ins.stderr);
      const s = JSON.parse(ins.stdout).summary;
      assert.equal(s.stream.pageSize, ps);
      assert.equal(s.ram.multifdFlush, 3);
      assert.equal(s.ram.zero, 1);
      assert.equal(s.ram.blocks[0].size, PAGES * ps);

      assert.equal(chIns.code, 0, chIns.stderr);
      const ch = JSON.parse(chIns.stdout).channel;
      assert.deepEqual(
        [ch.packets, ch.syncs, ch.normalPages, ch.zeroPages, ch.bytes],
        [5, 3, 5, 2, b.channel!.length],
      );

      assert.equal(rep.code, 0, rep.stderr);
      assertImage(await Deno.readFile(`${p.out}/${BLOCK}.ram`), b.image, ps, "replayed image");
      assert.equal(ok.code, 0, ok.stderr || ok.stdout);
      assertOneDiff(v1, b, 1);
      assertOneDiff(v6, b, 6);
    });
  });
}

Deno.test("1 KiB stream without its trailer on stdin: exit 2 with one line naming --page-size; --page-size 1K reads it", async () => {
  const b = ramStream({ pageSize: 1024, targetPageBits: false, trailer: true });
  const bare = b.bytes.subarray(0, b.trailerAt);
  const [noHint, given, givenRecords] = await Promise.all([
    cli(["inspect", "-"], bare),
    cli(["inspect", "--json", "--page-size", "1K", "-"], bare),
    cli(["inspect", "--json", "--page-size", "1024", "-"], bare),
  ]);
  assert.equal(noHint.code, 2, noHint.stdout);
  const lines = oneLine(noHint);
  assert.equal(lines.length, 1, noHint.stderr);
  assert.match(lines[0], /^migscope: .*--page-size/);

  for (const r of [given, givenRecords]) {
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout).summary;
    assert.equal(s.stream.pageSize, 1024);
    assert.deepEqual({ page: s.ram.page, zero: s.ram.zero, xbzrle: s.ram.xbzrle }, b.counts);
    assert.equal(s.ram.blocks[0].size, PAGES * 1024);
    assert.equal(s.trailer, undefined);
  }
});

Deno.test("--page-size contradicting target-page-bits: exit 2 with one line (inspect, replay, verify)", async () => {
  const b = ramStream({ pageSize: 16384, targetPageBits: true, trailer: true });
  const bare = b.bytes.subarray(0, b.trailerAt);
  await withDir(async (dir) => {
    const p = await files(dir, b);
    const runs = await Promise.all([
      cli(["inspect", "--page-size", "4K", p.stream]),
      cli(["inspect", "--json", "--page-size", "64K", "-"], bare),
      cli(["replay", "--page-size", "4096", p.stream, "--out", p.out]),
      cli(["verify", "--page-size", "1K", p.stream, "--expect", `${BLOCK}=${p.expect}`]),
    ]);
    for (const r of runs) {
      assert.equal(r.code, 2, `${r.stderr}\n${r.stdout}`);
      const lines = oneLine(r);
      assert.equal(lines.length, 1, r.stderr);
      // From a file the trailer is read first (vmdesc page_size vs --page-size); from a pipe
      // the configuration section comes first (target-page-bits vs --page-size).
      assert.match(
        lines[0],
        /^migscope: .*(target-page-bits 14 .*contradicts --page-size|page_size 16384, --page-size says)/,
      );
    }
  });
});

Deno.test("1 KiB stream of mostly-zero pages without its trailer on stdin: the error still names --page-size", async () => {
  // Page 0 is read as 4096 bytes, so the parser lands inside page 3's data; with sparse pages
  // (QEMU sends any non-zero page as PAGE) the bytes there are zero: flags 0, below 0x400.
  const b = ramStream({ pageSize: 1024, targetPageBits: false, trailer: true, sparse: true });
  const bare = b.bytes.subarray(0, b.trailerAt);
  const [noHint, given] = await Promise.all([
    cli(["inspect", "-"], bare),
    cli(["inspect", "--json", "--page-size", "1K", "-"], bare),
  ]);
  assert.equal(given.code, 0, given.stderr);
  assert.equal(JSON.parse(given.stdout).summary.ram.page, b.counts.page);
  assert.equal(noHint.code, 2, noHint.stdout);
  const lines = oneLine(noHint);
  assert.equal(lines.length, 1, noHint.stderr);
  assert.match(lines[0], /^migscope: .*--page-size/);
});

Deno.test("--page-size contradicting the vmdesc trailer's page_size: the trailer wins, or exit 2 naming both", async () => {
  // Precedence: target-page-bits, else the vmdesc's page_size, else --page-size, else 4096.
  const b = ramStream({ pageSize: 1024, targetPageBits: false, trailer: true });
  await withDir(async (dir) => {
    const p = await files(dir, b);
    const r = await cli(["inspect", "--json", "--page-size", "4K", p.stream]);
    if (r.code === 0) {
      const s = JSON.parse(r.stdout).summary;
      assert.equal(s.stream.pageSize, 1024);
      assert.deepEqual({ page: s.ram.page, zero: s.ram.zero, xbzrle: s.ram.xbzrle }, b.counts);
    } else {
      assert.equal(r.code, 2, r.stderr);
      const lines = oneLine(r);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /--page-size.*(vmdesc|page_size).*1024|1024.*--page-size/);
    }
  });
});

Deno.test("inspect of a 16 KiB multifd channel without --page-size: one line naming --page-size", async () => {
  // QEMU always sends pages_alloc = 512 KiB / page size (32 here): with the assumed 4096
  // (128 per packet) the offsets table is misread; the error should say why.
  const b = multifdStreams({ pageSize: 16384, targetPageBits: true, trailer: true });
  await withDir(async (dir) => {
    const p = await files(dir, b);
    const r = await cli(["inspect", p.channel]);
    assert.equal(r.code, 2, r.stdout);
    const lines = oneLine(r);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /--page-size/);
  });
});
