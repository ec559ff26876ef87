/**
 * Bytes after the last zstd frame of a libvirt zstd save image that start no frame: `zstd -dc`
 * (what libvirt restores with) fails on them, so inspect and replay do too, one line naming
 * how many and where they start; a cut frame stays what it was (the stream's own end).
 */
import assert from "node:assert/strict";
import {
  compress,
  domainXml,
  FORMAT_CODES,
  haveTool,
  libvirtData,
  libvirtHeader,
} from "../../tools/containers.ts";
import { runCli } from "../_helpers.ts";

const SAMPLE = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;
const ignore = !haveTool("zstd");

/** A libvirt zstd save image around `body`, and the offset where `body` starts. */
function zstdImage(body: Uint8Array): [Uint8Array, number] {
  const { data, cookieOffset } = libvirtData(domainXml("trailing"), undefined, 4096);
  const header = libvirtHeader({ dataLen: data.length, format: FORMAT_CODES.zstd, cookieOffset });
  const all = new Uint8Array(92 + data.length + body.length);
  all.set(header);
  all.set(data, 92);
  all.set(body, 92 + data.length);
  return [all, 92 + data.length];
}

Deno.test({
  name: "zstd libvirt image + 5000 random bytes: one line naming them, exit 2; zstd -dc fails too",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const frame = await compress("zstd", SAMPLE);
      const junk = crypto.getRandomValues(new Uint8Array(5000));
      junk.set([0x01, 0x02, 0x03, 0x04]); // never a zstd or skippable frame magic
      const body = new Uint8Array(frame.length + junk.length);
      body.set(frame);
      body.set(junk, frame.length);
      const [img, start] = zstdImage(body);
      const path = `${dir}/trailing.save`;
      await Deno.writeFile(path, img);
      const at = start + frame.length;
      const want = `5000 bytes after the last zstd frame at offset ${at} are not zstd`;
      for (const args of [["inspect", path], ["replay", path, "--out", `${dir}/out`]]) {
        const r = await runCli(args);
        assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
        const err = r.stderr.trim();
        assert.equal(err.split("\n").length, 1, err);
        assert.ok(err.includes(want), err);
        assert.match(err, new RegExp(`^migscope: offset ${at} \\(0x${at.toString(16)}\\)`));
      }
      const json = await runCli(["inspect", "--json", path]);
      assert.equal(json.code, 2);
      assert.equal(JSON.parse(json.stdout).error.offset, at);
      // The reference: zstd -dc itself rejects the same bytes.
      await Deno.writeFile(`${dir}/body.zst`, body);
      const z = await new Deno.Command("zstd", {
        args: ["-dc", `${dir}/body.zst`],
        stdout: "null",
        stderr: "null",
      })
        .output();
      assert.notEqual(z.code, 0);
      // Without the junk the same image is read whole.
      await Deno.writeFile(path, zstdImage(frame)[0]);
      const ok = await runCli(["inspect", path]);
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "zstd libvirt image whose frame is cut: not the trailing-bytes error",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const frame = await compress("zstd", SAMPLE);
      const path = `${dir}/cut.save`;
      await Deno.writeFile(path, zstdImage(frame.subarray(0, frame.length >> 1))[0]);
      const r = await runCli(["inspect", path]);
      assert.equal(r.code, 2, r.stderr);
      assert.doesNotMatch(r.stderr, /after the last zstd frame/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
