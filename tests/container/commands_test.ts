/**
 * `info` and `extract` as commands: text and JSON reports, `--xml`, snapshot choice, errors in
 * one line (and in the JSON document), atomic output that leaves nothing behind on error.
 */
import assert from "node:assert/strict";
import { runExtract } from "../../src/commands/extract.ts";
import { runInfo } from "../../src/commands/info.ts";
import { memoryOut } from "../../src/commands/io.ts";
import { scanDomainXml } from "../../src/container/domain_xml.ts";
import {
  domainXml,
  haveTool,
  libvirtData,
  libvirtHeader,
  writeLibvirtImage,
} from "../../tools/containers.ts";
import { sha256File } from "../_helpers.ts";

const SAMPLE = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;

Deno.test("info: a gzip libvirt image as text, its XML with --xml, a bare stream as itself", async () => {
  const dir = await Deno.makeTempDir();
  const xml = domainXml("web01", 8, "pc-q35-7.2");
  await writeLibvirtImage(`${dir}/s.img`, SAMPLE, { xml, format: "gzip" });
  let out = memoryOut();
  assert.equal((await runInfo(`${dir}/s.img`, {}, out)).code, 0);
  const text = out.text();
  assert.match(text, /container {3}libvirt save image \(gzip\)/);
  assert.match(
    text,
    /domain {4}web01 \(qemu, x86_64, machine pc-q35-7\.2, memory 8\.0 MiB, 1 vCPU\)/,
  );
  assert.match(text, /gzip-compressed, 4317266 bytes/);
  assert.match(text, /machine pc-i440fx-7\.2, page size 4096/);
  assert.match(text, new RegExp(`sha256 {4}${await sha256File(SAMPLE)}`));
  out = memoryOut();
  assert.equal((await runInfo(`${dir}/s.img`, { xml: true }, out)).code, 0);
  assert.equal(out.text(), xml);
  out = memoryOut();
  assert.equal((await runInfo(SAMPLE, { json: true }, out)).code, 0);
  const doc = JSON.parse(out.text());
  assert.equal(doc.container.kind, "qemu-stream");
  assert.equal(doc.streams[0].sha256, doc.file.sha256);
  const bad = await runInfo(SAMPLE, { xml: true }, memoryOut());
  assert.equal(bad.code, 2);
  assert.match(bad.error!, /no domain XML: the file is a QEMU migration stream$/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("info --json of a hostile image: exit 2, one line, and the error object in the document", async () => {
  const path = await Deno.makeTempFile();
  const { data } = libvirtData("<domain/>");
  const h = libvirtHeader({ dataLen: data.length, format: 12 });
  await Deno.writeFile(path, new Uint8Array([...h, ...data]));
  const out = memoryOut();
  const res = await runInfo(path, { json: true }, out);
  assert.equal(res.code, 2);
  assert.match(
    res.error!,
    /: offset 28 \(0x1c\), libvirt save image, format: unknown format code 12$/,
  );
  const doc = JSON.parse(out.text());
  assert.equal(doc.format, "migscope-info");
  assert.equal(doc.error.offset, 28);
  assert.equal(doc.error.section, "libvirt save image");
  await Deno.remove(path);
});

Deno.test("extract: the bare stream, atomically; a broken compressed stream leaves nothing behind", async () => {
  const dir = await Deno.makeTempDir();
  await writeLibvirtImage(`${dir}/ok.img`, SAMPLE, { xml: domainXml("a"), format: "zstd" });
  const out = memoryOut();
  const res = await runExtract(`${dir}/ok.img`, { output: `${dir}/x.bin` }, out);
  assert.equal(res.code, 0, res.error);
  assert.equal(await sha256File(`${dir}/x.bin`), await sha256File(SAMPLE));
  assert.match(out.text(), /4317266 bytes, the QEMU stream of the libvirt save image \(zstd\)/);
  // A complete image whose gzip data stops halfway: an error, and no output at all.
  await writeLibvirtImage(`${dir}/cut.img`, SAMPLE, {
    xml: domainXml("b"),
    format: "gzip",
    streamBytes: 100000,
  });
  const cut = await runExtract(`${dir}/cut.img`, { output: `${dir}/y.bin` }, memoryOut());
  assert.equal(cut.code, 2);
  assert.match(
    cut.error!,
    /libvirt save image \(gzip\): gzip data from this offset does not decompress/,
  );
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "cut.img",
    "ok.img",
    "x.bin",
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "extract of an incomplete (LibvirtQemudPart) bzip2 image writes what is there and says so",
  ignore: !haveTool("bzip2"),
  async fn() {
    const dir = await Deno.makeTempDir();
    await writeLibvirtImage(`${dir}/p.img`, SAMPLE, {
      xml: domainXml("p"),
      format: "bzip2",
      complete: false,
      streamBytes: 1500000,
    });
    const out = memoryOut();
    const res = await runExtract(`${dir}/p.img`, { output: `${dir}/p.bin` }, out);
    assert.equal(res.code, 0, res.error);
    assert.match(out.text(), /the container says the stream is incomplete/);
    const got = await Deno.readFile(`${dir}/p.bin`);
    const want = (await Deno.readFile(SAMPLE)).subarray(0, got.length);
    assert.ok(got.length > 100000 && got.every((b, i) => b === want[i]), `${got.length} bytes`);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("domain XML scanning ignores comments, CDATA and nested names; bad markup yields less, never throws", () => {
  const d = scanDomainXml(
    `<?xml version="1.0"?><!-- <name>fake</name> --><domain type="kvm" id='3'>` +
      `<metadata><app:name xmlns:app="x">other</app:name><name>nested</name></metadata>` +
      `<name><![CDATA[db&1]]></name><memory unit="GiB">2</memory>` +
      `<currentMemory>1048576</currentMemory><os><type machine="pc-q35-9.0" arch="x86_64">hvm</type></os>`,
  );
  assert.deepEqual(d, {
    type: "kvm",
    name: "db&1",
    memoryBytes: 2 ** 31,
    currentMemoryBytes: 2 ** 30,
    arch: "x86_64",
    machine: "pc-q35-9.0",
    osType: "hvm",
  });
  assert.deepEqual(
    scanDomainXml("<domain><name>x</name><memory unit='bogus'>5</memory><os><type"),
    {
      name: "x",
    },
  );
  assert.deepEqual(scanDomainXml("\u0000<<<>>>&&&"), {});
  const deep = "<a>".repeat(10000) + "<name>deep</name>";
  assert.deepEqual(scanDomainXml(`<domain>${deep}</domain>`), {});
});
