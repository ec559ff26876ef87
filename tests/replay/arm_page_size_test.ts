/**
 * A real stream with 1 KiB target pages (QEMU 7.2, ARM `versatilepb`, tests/data/arm_versatilepb_1k):
 * no `configuration/target-page-bits` subsection, `"page_size": 1024` in the vmdesc trailer,
 * RAM flags in the low 10 bits of each header. The real CLI must find that page size, count the
 * records as the README (and expect.json, written with it by tools/arm_capture.ts) states, and
 * replay RAM equal to the destination QEMU's.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { ramFileName } from "../../src/replay/names.ts";
import type { ArmExpect } from "../../tools/arm_capture.ts";

const DATA = fileURLToPath(new URL("../data/arm_versatilepb_1k/", import.meta.url));
const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const expect: ArmExpect = JSON.parse(Deno.readTextFileSync(`${DATA}expect.json`));
const FLASH = "versatile.flash";

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function sha256File(path: string): Promise<string> {
  const h = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(h)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A temp dir with capture.bin and oracle.ram decompressed, removed after `fn`. */
async function withData(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-arm-test-" });
  try {
    for (const f of ["capture.bin", "oracle.ram"]) {
      await Deno.writeFile(`${dir}/${f}`, gunzipSync(await Deno.readFile(`${DATA}${f}.gz`)));
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("arm_versatilepb_1k: the files are the ones README.md describes", async () => {
  await withData(async (dir) => {
    assert.equal(await sha256File(`${dir}/capture.bin`), expect.sha256.capture);
    assert.equal(await sha256File(`${dir}/oracle.ram`), expect.sha256.oracle);
  });
  const readme = await Deno.readTextFile(`${DATA}README.md`);
  const { page, zero, eos, memSize } = expect.records;
  assert.ok(readme.includes(expect.sha256.capture) && readme.includes(expect.sha256.oracle));
  assert.match(
    readme.replace(/\s+/g, " "),
    new RegExp(`PAGE = ${page}, ZERO = ${zero}, EOS = ${eos}, MEM_SIZE = ${memSize}`),
  );
  const flat = readme.replace(/ +/g, " ");
  for (const b of expect.blocks) assert.ok(flat.includes(`| \`${b.name}\` | ${b.size} `), b.name);
  // Sanity of the oracle facts themselves: QEMU counted what the independent counter counted.
  assert.equal(expect.pageSize, 1024);
  assert.equal(expect.targetPageBitsPresent, false);
  assert.equal(expect.qemuStats.normal, page);
  assert.equal(expect.qemuStats.duplicate, zero);
});

Deno.test("inspect --json of a versatilepb stream: page size 1024, QEMU's record counts and blocks", async () => {
  await withData(async (dir) => {
    const r = await cli(["inspect", "--json", `${dir}/capture.bin`]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout).summary;
    assert.equal(s.stream.pageSize, 1024);
    assert.equal(s.configuration.machine, expect.machine);
    assert.equal(s.configuration.targetPageBits, undefined);
    assert.equal(s.ram.page, expect.records.page);
    assert.equal(s.ram.zero, expect.records.zero);
    assert.equal(s.ram.eos, expect.records.eos);
    assert.equal(s.ram.memSize, expect.records.memSize);
    assert.equal(s.ram.namedHeaders, expect.records.named);
    assert.equal(s.ram.continueHeaders, expect.records.continue);
    assert.equal(s.ram.xbzrle, 0);
    assert.deepEqual(
      s.ram.blocks.map((b: { name: string; size: number; page: number; zero: number }) => ({
        name: b.name,
        size: b.size,
        page: b.page,
        zero: b.zero,
      })),
      expect.blocks.map((b) => ({ ...b, ...expect.perBlock[b.name] })),
    );
    assert.equal(s.sections.START, expect.sections.START);
    assert.equal(s.sections.PART, expect.sections.PART);
    assert.equal(s.sections.END, expect.sections.END);
    assert.equal(s.sections.FULL, expect.sections.FULL);
    assert.equal(s.sections.EOF, 1);
    assert.equal(s.trailer?.devices, expect.vmdescDevices.length);
  });
});

Deno.test("replay of a versatilepb stream: ram0 and the flash equal the QEMU destination's (sha256)", async () => {
  await withData(async (dir) => {
    const r = await cli(["replay", `${dir}/capture.bin`, "--out", `${dir}/out`]);
    assert.equal(r.code, 0, r.stderr);
    const ram = `${dir}/out/${ramFileName(expect.ramBlock)}`;
    assert.equal((await Deno.stat(ram)).size, 16 << 20);
    assert.equal(await sha256File(ram), expect.sha256.oracle);
    assert.equal(await sha256File(`${dir}/out/${ramFileName(FLASH)}`), expect.sha256.dstFlash);
  });
});

Deno.test("verify of a versatilepb stream against the destination's RAM and flash: exit 0", async () => {
  await withData(async (dir) => {
    // The destination's flash (pmemsave) was all zero: its sha256 is that of a zeroed 64 MiB.
    const flash = `${dir}/flash.zero`;
    const f = await Deno.open(flash, { create: true, write: true });
    await f.truncate(expect.blocks.find((b) => b.name === FLASH)!.size);
    f.close();
    assert.equal(await sha256File(flash), expect.sha256.dstFlash);
    const r = await cli([
      "verify",
      `${dir}/capture.bin`,
      "--json",
      "--expect",
      `${expect.ramBlock}=${dir}/oracle.ram`,
      "--expect",
      `${FLASH}=${flash}`,
    ]);
    assert.equal(r.code, 0, r.stderr || r.stdout);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.verify.equal, true);
    for (const img of doc.verify.images) {
      assert.equal(img.different, 0, img.name);
      assert.equal(img.equal, img.pages, img.name);
    }
    assert.equal(
      doc.verify.images.find((i: { name: string }) => i.name === expect.ramBlock)?.pages,
      (16 << 20) / 1024,
    );
  });
});
