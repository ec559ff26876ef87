/**
 * `inspect` of a file that is not a migration stream: exit 2, nothing on stdout, and one line
 * saying what the file looks like instead (before: a 13-line empty report, then the parser's
 * bad-magic error). Libvirt save images and qcow2 images are not in this list: they are opened
 * as the stream inside them (tests/container/); only a qcow2 kept gzip-compressed, which needs
 * positional reads, is still told what it is.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { runCli } from "../_helpers.ts";
import { elfHeader, enc } from "../parse/_sniff_build.ts";

const SAVED = new URL("../../../shared/saved-vms/", import.meta.url);

function gzip(b: Uint8Array): Uint8Array {
  return gzipSync(b);
}

async function oneLine(path: string): Promise<string> {
  const r = await runCli(["inspect", path]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  const lines = r.stderr.split("\n");
  assert.equal(lines.length, 2, r.stderr);
  return lines[0];
}

Deno.test("inspect: a non-stream file gets one line saying what it is (crafted bytes)", async () => {
  const dir = await Deno.makeTempDir();
  const random = new Uint8Array(4096);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  random.set([0x58, 0x9b, 0xd8, 0x61, 0xef, 0x2f, 0x69, 0x0c]);
  const cases: [string, Uint8Array, string][] = [
    ["empty.bin", new Uint8Array(0), "the input is empty"],
    [
      "random.bin",
      random,
      "unknown data with no known magic (first bytes 58 9b d8 61 ef 2f 69 0c …)",
    ],
    [
      "core",
      elfHeader(4),
      "an ELF core file (a memory dump, e.g. from virsh dump or dump-guest-memory)",
    ],
    ["notes.txt", enc.encode("migration notes\n"), 'text ("migration notes")'],
  ];
  try {
    for (const [name, bytes, what] of cases) {
      await Deno.writeFile(`${dir}/${name}`, bytes);
      assert.equal(
        await oneLine(`${dir}/${name}`),
        `migscope: offset 0 (0x0), file header: not a QEMU migration stream: ${what}`,
      );
    }
    await Deno.writeFile(`${dir}/core.gz`, gzip(elfHeader(4)));
    assert.equal(
      await oneLine(`${dir}/core.gz`),
      "migscope: offset 0 (0x0), file header: not a QEMU migration stream (after gzip " +
        "decompression): " +
        "an ELF core file (a memory dump, e.g. from virsh dump or dump-guest-memory)",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "inspect: the gzip-compressed qcow2 image of ../shared/saved-vms is told what it is",
  ignore: (() => {
    try {
      return !Deno.statSync(SAVED).isDirectory;
    } catch {
      return true;
    }
  })(),
  fn: async () => {
    const m = JSON.parse(await Deno.readTextFile(new URL("q1_qcow2_savevm/manifest.json", SAVED)));
    const path = new URL(`q1_qcow2_savevm/${m.container.file}`, SAVED).pathname;
    const h = m.container.header;
    assert.equal(
      await oneLine(path),
      "migscope: offset 0 (0x0), file header: not a QEMU migration stream (after gzip " +
        "decompression): a qcow2 disk " +
        `image (version ${h.version}, ${h.nb_snap} internal snapshots, whose VM state is stored ` +
        "inside it)",
    );
  },
});
