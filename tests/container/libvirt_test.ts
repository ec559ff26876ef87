/**
 * libvirt save images built around a small real stream (samples/small-xbzrle.mig) with a header
 * written by tools/containers.ts and the stream compressed by the real tools: every format
 * opens to the very same stream; incomplete and hostile images give one-line errors.
 */
import assert from "node:assert/strict";
import { openContainer } from "../../src/container/open.ts";
import { drain, hashingSource, sha256Hasher } from "../../src/container/digest.ts";
import { parseStream } from "../../src/parse/stream.ts";
import { StreamError } from "../../src/protocol/errors.ts";
import { ByteReader } from "../../src/wire/reader.ts";
import {
  compress,
  domainXml,
  haveTool,
  libvirtData,
  libvirtHeader,
  writeLibvirtImage,
} from "../../tools/containers.ts";
import { sha256File } from "../_helpers.ts";

const SAMPLE = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;
const FORMATS = ["raw", "gzip", "bzip2", "xz", "lzop", "zstd"];
const TOOL = { gzip: "gzip", bzip2: "bzip2", xz: "xz", lzop: "lzop", zstd: "zstd" } as Record<
  string,
  string
>;

async function streamDigest(path: string, snapshot?: string) {
  const c = await openContainer(path, { snapshot });
  const h = await sha256Hasher();
  const src = hashingSource(c.source, h);
  try {
    await drain(src);
  } finally {
    c.close();
  }
  return { c, sha: h.hex(), bytes: src.bytes() };
}

for (const format of FORMATS) {
  Deno.test({
    name: `libvirt ${format} image (${
      TOOL[format] ? `real ${TOOL[format]} -c` : "uncompressed"
    }): the stream inside is the sample`,
    ignore: format !== "raw" && !haveTool(TOOL[format]),
    async fn() {
      const dir = await Deno.makeTempDir();
      const img = `${dir}/save.img`;
      await writeLibvirtImage(img, SAMPLE, {
        xml: domainXml(`vm-${format}`),
        format,
        cookie: "<qemuDomainSaveCookie/>",
      });
      const { c, sha, bytes } = await streamDigest(img);
      assert.equal(sha, await sha256File(SAMPLE));
      assert.equal(bytes, (await Deno.stat(SAMPLE)).size);
      assert.equal(c.kind, "libvirt-save");
      assert.equal(c.libvirt?.format, format);
      assert.equal(c.libvirt?.domain.name, `vm-${format}`);
      assert.equal(c.libvirt?.domain.memoryBytes, 8 << 20);
      assert.equal(c.libvirt?.cookie, "<qemuDomainSaveCookie/>");
      assert.equal(c.incomplete, false);
      assert.equal(!!c.source.random, format === "raw");
      await Deno.remove(dir, { recursive: true });
    },
  });
}

Deno.test("libvirt image written big-endian and one wrapped in gzip open to the same stream", async () => {
  const dir = await Deno.makeTempDir();
  await writeLibvirtImage(`${dir}/be.img`, SAMPLE, {
    xml: domainXml("be"),
    format: "raw",
    bigEndian: true,
  });
  const be = await streamDigest(`${dir}/be.img`);
  assert.equal(be.c.libvirt?.byteOrder, "big");
  assert.equal(be.sha, await sha256File(SAMPLE));
  await writeLibvirtImage(`${dir}/gz.img`, SAMPLE, { xml: domainXml("gz"), format: "zstd" });
  await Deno.writeFile(`${dir}/gz.img.gz`, await compress("gzip", `${dir}/gz.img`));
  const gz = await streamDigest(`${dir}/gz.img.gz`);
  assert.equal(gz.c.gzipWrapped, true);
  assert.equal(gz.c.libvirt?.domain.name, "gz");
  assert.equal(gz.sha, await sha256File(SAMPLE));
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name:
    "a LibvirtQemudPart xz image cut mid-stream: incomplete, decompresses what is there, the parser says where it stops",
  ignore: !haveTool("xz"),
  async fn() {
    const dir = await Deno.makeTempDir();
    const img = `${dir}/part.img`;
    await writeLibvirtImage(img, SAMPLE, {
      xml: domainXml("part"),
      format: "xz",
      complete: false,
      streamBytes: 20000,
    });
    const c = await openContainer(img);
    assert.equal(c.incomplete, true);
    assert.equal(c.libvirt?.complete, false);
    let error: unknown;
    let records = 0;
    try {
      for await (const _ of parseStream(new ByteReader(c.source), { payloads: false })) records++;
    } catch (e) {
      error = e;
    }
    c.close();
    assert.ok(records > 10, `${records} records before the cut`);
    assert.ok(error instanceof StreamError && /truncated/.test(error.message), String(error));
    await Deno.remove(dir, { recursive: true });
  },
});

async function hostile(bytes: Uint8Array): Promise<string> {
  const path = await Deno.makeTempFile();
  await Deno.writeFile(path, bytes);
  try {
    const c = await openContainer(path);
    c.close();
    return "opened";
  } catch (e) {
    assert.ok(e instanceof StreamError, `${e}`);
    assert.ok(!e.message.includes("\n"));
    return e.message;
  } finally {
    await Deno.remove(path);
  }
}

function image(h: Uint8Array, data: Uint8Array, tail = new Uint8Array(16)): Uint8Array {
  const all = new Uint8Array(h.length + data.length + tail.length);
  all.set(h);
  all.set(data, h.length);
  all.set(tail, h.length + data.length);
  return all;
}

Deno.test("hostile libvirt headers: each is one line naming the offset", async () => {
  const { data } = libvirtData(domainXml("x"), undefined, 64);
  const ok = (o = {}) => libvirtHeader({ dataLen: data.length, format: 0, ...o });
  assert.equal(await hostile(image(ok(), data)), "opened");
  assert.match(
    await hostile(image(ok({ dataLen: 1 << 30 }), data)),
    /^offset 20 .*data_len 1073741824 runs past the end of the file/,
  );
  const noNul = data.slice().fill(0x41);
  assert.match(await hostile(image(ok(), noNul)), /^offset 92 .*domain XML .*not NUL-terminated/);
  assert.match(await hostile(image(ok({ format: 9 }), data)), /^offset 28 .*unknown format code 9/);
  assert.match(
    await hostile(image(ok({ swapVersionOnly: true }), data)),
    /data_len \d+ runs past the end of the file .*big-endian: its version was byte-swapped/,
  );
  assert.match(await hostile(image(ok({ version: 7 }), data)), /^offset 16 .*unknown version 7/);
  assert.match(
    await hostile(image(ok({ cookieOffset: data.length + 5 }), data)),
    /^offset 32 .*cookieOffset/,
  );
  assert.match(await hostile(ok().subarray(0, 50)), /ends inside the 92-byte header/);
});

Deno.test("a missing decompressor is one line naming the Debian package", async () => {
  const dir = await Deno.makeTempDir();
  const { data } = libvirtData(domainXml("x"));
  await Deno.writeFile(
    `${dir}/lzop.img`,
    image(libvirtHeader({ dataLen: data.length, format: 4 }), data),
  );
  const path = Deno.env.get("PATH")!;
  Deno.env.set("PATH", dir);
  try {
    await assert.rejects(
      () => openContainer(`${dir}/lzop.img`),
      /^Error: lzop is not installed: install the Debian package lzop/,
    );
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(dir, { recursive: true });
  }
});
