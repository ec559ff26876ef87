/**
 * emit --libvirt-save: a libvirt save image around the emitted stream, raw or compressed (gzip,
 * zstd, xz). Each image's header is read back field by field, its stream part decompressed by
 * an independent tool (node:zlib's gunzip, the system's zstd and xz) equals the plain emitted
 * stream, and the CLI's info, extract and replay read it back. The header layout is compared with
 * real libvirt 9.0 images (../shared/saved-vms); QEMU 7.2 loads the stream from the image through
 * the pipeline libvirt's restore uses (skip the header, decompress, feed the rest). Bad usage is
 * exit 2 with one line, and an interrupted emission leaves nothing.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.ts";
import { SAVE_PADDING } from "../../src/emit/libvirt_save.ts";
import { libvirtSaveHead } from "../../src/emit/libvirt_save.ts";
import { haveQemu, loadIntoQemu } from "../../tools/qemu.ts";
import { dirtyRound, ramImage } from "../../tools/samples.ts";
import { captureFile, CAPTURES_DIR, runCli, sha256, sha256File } from "../_helpers.ts";
import { assertInterrupted, entries, sizeOf, until } from "../replay/_signal.ts";

/** libvirt's format codes (qemu_saveimage's enum), written out here on purpose. */
const CODES = { raw: 0, gzip: 1, xz: 3, zstd: 5 } as const;
type Format = keyof typeof CODES;
const FORMATS: Format[] = ["raw", "gzip", "zstd", "xz"];

const XML = `<?xml version="1.0"?>
<!-- made by a test -->
<domain type='kvm'>
  <name>migscope-test &amp; co</name>
  <uuid>5eed1ab0-7a1e-4c0d-9e3a-0000000000aa</uuid>
  <memory unit='KiB'>4096</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
</domain>
`;

/** Two rounds of RAM, the domain XML and the plain stream emitted from them, made once. */
const fixture = (async () => {
  const dir = await Deno.makeTempDir({ prefix: "migscope-lvsave-" });
  const r0 = ramImage(1024, 31);
  const r1 = dirtyRound(r0, 32, 300);
  await Deno.writeFile(`${dir}/r0`, r0);
  await Deno.writeFile(`${dir}/r1`, r1);
  await Deno.writeTextFile(`${dir}/domain.xml`, XML);
  const args = ["emit", "--ram", `pc.ram=${dir}/r0`, "--round", `pc.ram=${dir}/r1`, "--xbzrle"];
  assert.equal(await main([...args, "-o", `${dir}/plain.mig`]), 0);
  const plain = await Deno.readFile(`${dir}/plain.mig`);
  return { dir, args, plain, last: await sha256(r1) };
})();

/** Field by field, little-endian; returns where the stream starts. */
function checkHeader(img: Uint8Array, format: Format, running: boolean): number {
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const u32 = (at: number) => v.getUint32(at, true);
  const xml = new TextEncoder().encode(XML);
  assert.equal(new TextDecoder().decode(img.subarray(0, 16)), "LibvirtQemudSave");
  assert.equal(u32(16), 2, "version");
  const dataLen = u32(20);
  assert.equal(u32(24), running ? 1 : 0, "was_running");
  assert.equal(u32(28), CODES[format], "format");
  assert.equal(u32(32), 0, "cookieOffset: no cookie");
  assert.ok(img.subarray(36, 92).every((b) => b === 0), "14 unused u32 are zero");
  assert.deepEqual(img.subarray(92, 92 + xml.length), xml, "the XML at 92");
  const pad = img.subarray(92 + xml.length, 92 + dataLen);
  assert.ok(pad.every((b) => b === 0), "NUL and zero padding up to the stream");
  assert.ok(pad.length >= 1 + SAVE_PADDING && pad.length < 1 + SAVE_PADDING + 4096, "padding");
  assert.equal((92 + dataLen) % 4096, 0, "the stream starts at a 4 KiB boundary");
  return 92 + dataLen;
}

/** The stream part decompressed by a tool that is not migscope's reader. */
async function independentlyDecompressed(part: Uint8Array, format: Format): Promise<Uint8Array> {
  if (format === "raw") return part;
  if (format === "gzip") return gunzipSync(part);
  const child = new Deno.Command(format, { args: ["-dc"], stdin: "piped", stdout: "piped" })
    .spawn();
  const w = child.stdin.getWriter();
  const [out] = await Promise.all([child.output(), w.write(part).then(() => w.close())]);
  assert.ok(out.success, `${format} -dc`);
  return out.stdout;
}

async function replayedRam(input: string, out: string): Promise<string> {
  const r = await runCli(["replay", input, "--out", out, "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  return await sha256File(`${out}/pc.ram.ram`);
}

for (const [i, format] of FORMATS.entries()) {
  const running = i % 2 === 0;
  Deno.test(`emit --libvirt-save ${format}${running ? " --running" : ""}: header, stream, info, extract and replay`, async () => {
    const { dir, args, plain, last } = await fixture;
    const img = `${dir}/${format}.save`;
    const extra = [...(format === "raw" ? [] : ["--compress", format])];
    if (running) extra.push("--running");
    const lv = ["--libvirt-save", "--xml", `${dir}/domain.xml`, ...extra];
    assert.equal(await main([...args, ...lv, "-o", img]), 0);
    const bytes = await Deno.readFile(img);
    const at = checkHeader(bytes, format, running);
    const inner = await independentlyDecompressed(bytes.subarray(at), format);
    assert.equal(await sha256(inner), await sha256(plain), "the stream part is the plain stream");

    const info = await runCli(["info", "--json", img]);
    assert.equal(info.code, 0, info.stderr);
    const doc = JSON.parse(info.stdout);
    assert.equal(doc.container.kind, "libvirt-save");
    const lvInfo = doc.container.libvirt;
    assert.equal(lvInfo.complete, true);
    assert.equal(lvInfo.format, format);
    assert.equal(lvInfo.wasRunning, running ? 1 : 0);
    assert.equal(lvInfo.streamOffset, at);
    assert.equal(lvInfo.domain.name, "migscope-test & co");
    assert.equal(lvInfo.domain.memoryBytes, 4 << 20);
    assert.equal(doc.streams.length, 1);
    assert.equal(doc.streams[0].error, null);

    const ex = await runCli(["extract", img, "-o", `${dir}/${format}.mig`, "--quiet"]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(await sha256File(`${dir}/${format}.mig`), await sha256(plain));

    const fromImage = await replayedRam(img, `${dir}/out-${format}`);
    assert.equal(fromImage, await replayedRam(`${dir}/plain.mig`, `${dir}/out-plain-${format}`));
    assert.equal(fromImage, last, "the last round's RAM");
  });
}

Deno.test("the header has the layout of real libvirt 9.0 save images (raw and gzip)", async () => {
  for (const [name, format] of [["l1_libvirt_save_raw", "raw"], ["l2_libvirt_save_gzip", "gzip"]]) {
    const gz = await Deno.readFile(
      new URL(`../../../shared/saved-vms/${name}/container.save.gz`, import.meta.url),
    );
    const real = new Uint8Array(gunzipSync(gz).subarray(0, 1 << 20));
    const rv = new DataView(real.buffer, real.byteOffset, real.byteLength);
    const dataLen = rv.getUint32(20, true);
    const cookieOffset = rv.getUint32(32, true);
    const xml = real.subarray(92, 92 + real.subarray(92).indexOf(0));
    assert.equal(cookieOffset, xml.length + 1, `${name}: the cookie follows the XML's NUL`);
    const cookieEnd = cookieOffset + real.subarray(92 + cookieOffset).indexOf(0) + 1;
    assert.equal(dataLen - cookieEnd, SAVE_PADDING, `${name}: libvirt pads with 64 KiB`);
    const ours = libvirtSaveHead(xml, {
      running: rv.getUint32(24, true) === 1,
      compress: format === "gzip" ? "gzip" : undefined,
    });
    const ov = new DataView(ours.buffer);
    // magic and version, was_running and format, the unused words: the same bytes.
    assert.deepEqual(ours.subarray(0, 20), real.subarray(0, 20), `${name}: magic, version`);
    assert.deepEqual(ours.subarray(24, 32), real.subarray(24, 32), `${name}: was_running, format`);
    assert.deepEqual(ours.subarray(36, 92), real.subarray(36, 92), `${name}: unused`);
    assert.deepEqual(
      ours.subarray(92, 92 + xml.length + 1),
      real.subarray(92, 92 + xml.length + 1),
    );
    // data_len: libvirt's is XML + cookie + 64 KiB; ours is XML + at least 64 KiB, 4 KiB aligned.
    const ourLen = ov.getUint32(20, true);
    assert.ok(ourLen - (xml.length + 1) >= SAVE_PADDING);
    assert.equal((92 + ourLen) % 4096, 0);
    assert.notEqual((92 + dataLen) % 4096, 0, `${name}: libvirt's stream offset is unaligned`);
  }
});

Deno.test({
  name:
    "QEMU 7.2 loads the stream of an xz image fed as libvirt's restore does (skip the header, xz -dc)",
  ignore: !haveQemu(),
  async fn() {
    const dir = await Deno.makeTempDir();
    const ram = await captureFile("a_precopy_idle", "oracle.pc.ram");
    const img = `${dir}/guest.save`;
    await Deno.writeTextFile(`${dir}/domain.xml`, XML.replace("4096", "65536"));
    const code = await main([
      "emit",
      "--template",
      `${CAPTURES_DIR}/a_precopy_idle/capture.bin.gz`,
      "--ram",
      `pc.ram=${ram}`,
      "--libvirt-save",
      "--xml",
      `${dir}/domain.xml`,
      "--compress",
      "xz",
      "-o",
      img,
    ]);
    assert.equal(code, 0);
    const head = await Deno.readFile(img).then((b) => b.subarray(0, 92));
    const at = 92 + new DataView(head.buffer).getUint32(20, true);
    const res = await loadIntoQemu({ stream: img, uri: `exec:tail -c +${at + 1} ${img} | xz -dc` });
    assert.equal(res.status, "completed", `${res.error} ${res.stderr}`);
    assert.equal(await sha256File(res.ramPath), await sha256File(ram));
    await Deno.remove(res.dir, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("emit --libvirt-save usage errors: exit 2, one line, nothing written", async () => {
  const { dir } = await fixture;
  const bad = await Deno.makeTempDir();
  const write = (name: string, text: string) => Deno.writeTextFileSync(`${bad}/${name}`, text);
  write("empty.xml", "");
  write("nul.xml", "<domain type='kvm'><name>a\0</name></domain>");
  write("network.xml", "<network><name>default</name></network>");
  write("cut.xml", "<domain type='kvm'><name>a</name>");
  write("noname.xml", "<domain type='kvm'><memory>1</memory></domain>");
  const xml = `${dir}/domain.xml`;
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [["--compress", "gzip"], /--compress .*needs --libvirt-save/],
    [["--xml", xml], /--xml .*needs --libvirt-save/],
    [["--running"], /--running .*needs --libvirt-save/],
    [["--libvirt-save"], /--libvirt-save needs --xml/],
    [["--libvirt-save", "--xml", xml, "--mapped-ram"], /--libvirt-save cannot wrap --mapped-ram/],
    [["--libvirt-save", "--xml", xml, "--compress", "bzip2"], /--compress bzip2: one of gzip/],
    [["--libvirt-save", "--xml", `${bad}/missing.xml`], /--xml .*missing\.xml: No such file/],
    [["--libvirt-save", "--xml", bad], /--xml .*: Is a directory/],
    [["--libvirt-save", "--xml", `${bad}/empty.xml`], /the file is empty/],
    [["--libvirt-save", "--xml", `${bad}/nul.xml`], /a NUL byte at offset 26/],
    [["--libvirt-save", "--xml", `${bad}/network.xml`], /root element is <network>/],
    [["--libvirt-save", "--xml", `${bad}/cut.xml`], /does not end with <\/domain>/],
    [["--libvirt-save", "--xml", `${bad}/noname.xml`], /has no <name>/],
    [["--libvirt-save", "--xml", xml, "--compress", "xz"], /install the Debian package xz-utils/, {
      PATH: "/nonexistent",
    }],
  ];
  const before = entries(bad);
  for (const [extra, re, env] of cases) {
    const args = ["emit", "--ram", `pc.ram=${dir}/r0`, ...extra, "-o", `${bad}/out.save`];
    const r = await runCli(args, { env });
    assert.equal(r.code, 2, `${extra.join(" ")}: exit ${r.code} ${r.stderr}`);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^migscope: /);
    assert.match(lines[0], re);
    assert.deepEqual(entries(bad), before, `${extra.join(" ")}: nothing written`);
  }
  await Deno.remove(bad, { recursive: true });
});

/** Process ids of `pid`'s children (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/children`).trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

Deno.test("SIGINT during emit --libvirt-save --compress xz: exit 130, no output, xz ended", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/ram.img`, new Uint8Array(1 << 20).fill(3));
  await Deno.writeTextFile(`${dir}/domain.xml`, XML);
  const disk = await Deno.open(`${dir}/disk.img`, { write: true, create: true });
  await disk.truncate(3 * 2 ** 30); // sparse: data chunks of zeros, slow enough to interrupt
  disk.close();
  const mainTs = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  const out = `${dir}/out.save`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      mainTs,
      "emit",
      "--ram",
      `pc.ram=${dir}/ram.img`,
      "--disk",
      `d=${dir}/disk.img`,
      "--libvirt-save",
      "--xml",
      `${dir}/domain.xml`,
      "--compress",
      "xz",
      "-o",
      out,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await until(() => sizeOf(`${out}.partial`) > 69632, "xz output after the header");
  const xz = childrenOf(child.pid);
  assert.equal(xz.length, 1, "one xz running");
  child.kill("SIGINT");
  await assertInterrupted(child, 130);
  assert.deepEqual(entries(dir), ["disk.img", "domain.xml", "ram.img"]);
  const gone = () => {
    try {
      return !/^State:\s+[RSD]/m.test(Deno.readTextFileSync(`/proc/${xz[0]}/status`));
    } catch {
      return true;
    }
  };
  await until(gone, "xz to end");
  await Deno.remove(dir, { recursive: true });
});
