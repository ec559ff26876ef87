/**
 * zstd libvirt save images decoded in process (src/container/decompress.ts, the zlib handle's
 * synchronous write over the image's chunks in one reused buffer): a stream compressed as two
 * concatenated zstd frames (as `zstd -dc` takes them) decodes to the whole stream, and corrupt
 * or foreign bytes where the zstd data should be are the one-line "does not decompress" error,
 * exit 2, never an uncaught exception.
 */
import assert from "node:assert/strict";
import {
  compress,
  domainXml,
  haveTool,
  libvirtData,
  libvirtHeader,
} from "../../tools/containers.ts";
import { FORMAT_CODES } from "../../tools/containers.ts";
import { runCli } from "../_helpers.ts";

const SAMPLE = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;
const ignore = !haveTool("zstd");

/** A libvirt zstd save image (92-byte header, XML, 4 KiB padding) around `body`. */
function zstdImage(body: Uint8Array): Uint8Array {
  const { data, cookieOffset } = libvirtData(domainXml("frames"), undefined, 4096);
  const header = libvirtHeader({ dataLen: data.length, format: FORMAT_CODES.zstd, cookieOffset });
  const all = new Uint8Array(92 + data.length + body.length);
  all.set(header);
  all.set(data, 92);
  all.set(body, 92 + data.length);
  return all;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/** `inspect --json`'s summary of `path`, without the input's own description. */
async function summary(path: string): Promise<Record<string, unknown>> {
  const r = await runCli(["inspect", "--json", path]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).summary;
}

Deno.test({
  name: "zstd libvirt image of two concatenated frames: inspect counts equal the plain stream's",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const stream = await Deno.readFile(SAMPLE);
    // Split inside the stream, not at a record boundary: each part its own `zstd -c` frame.
    const cut = 1_000_003;
    await Deno.writeFile(`${dir}/a`, stream.subarray(0, cut));
    await Deno.writeFile(`${dir}/b`, stream.subarray(cut));
    const frames = [await compress("zstd", `${dir}/a`), await compress("zstd", `${dir}/b`)];
    for (const f of frames) assert.deepEqual([...f.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    const img = `${dir}/two-frames.save`;
    await Deno.writeFile(img, zstdImage(concat(...frames)));
    const plain = await summary(SAMPLE);
    const got = await summary(img);
    assert.deepEqual(got.ram, plain.ram);
    assert.deepEqual(got.sections, plain.sections);
    assert.deepEqual(got.passes, plain.passes);
    assert.deepEqual(got.eof, plain.eof);
    assert.deepEqual((got.stream as { bytes: number }).bytes, stream.length);
    // The same against one frame of the whole stream.
    const one = `${dir}/one-frame.save`;
    await Deno.writeFile(one, zstdImage(await compress("zstd", SAMPLE)));
    assert.deepEqual(await summary(one), got);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "corrupt zstd libvirt image: one-line 'does not decompress', exit 2",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const good = await compress("zstd", SAMPLE);
    const cases: [string, Uint8Array][] = [];
    // Block headers and data overwritten just past the frame header.
    const early = good.slice();
    early.fill(0xff, 6, 80);
    cases.push(["early", early]);
    // Bytes changed in the middle: a block that no longer decodes, or the checksum at the end.
    const middle = good.slice();
    for (let i = good.length >> 1; i < (good.length >> 1) + 64; i++) middle[i] ^= 0x5a;
    cases.push(["middle", middle]);
    // Not zstd at all (no frame magic).
    cases.push(["foreign", new TextEncoder().encode("this is not zstd data ".repeat(100))]);
    for (const [name, body] of cases) {
      const img = `${dir}/${name}.save`;
      await Deno.writeFile(img, zstdImage(body));
      for (
        const args of [["inspect", img], ["inspect", "--json", img], [
          "replay",
          img,
          "--out",
          `${dir}/out-${name}`,
        ]]
      ) {
        const r = await runCli(args);
        assert.equal(r.code, 2, `${name} ${args[0]}: ${r.stderr}`);
        const err = r.stderr.trim();
        const line = err.split("\n").filter((l) => l.trim()).pop() ?? "";
        assert.match(
          args.includes("--json") ? r.stdout : line,
          /zstd data from this offset does not decompress/,
          `${name}: ${r.stderr}${r.stdout.slice(-500)}`,
        );
        assert.doesNotMatch(err, /Uncaught|^\s+at /m, `${name}: ${err}`);
        if (!args.includes("--json")) {
          assert.equal(err.split("\n").length, 1, `${name}: one line: ${err}`);
          assert.match(line, /libvirt save image \(zstd\)/);
        }
      }
    }
    await Deno.remove(dir, { recursive: true });
  },
});
