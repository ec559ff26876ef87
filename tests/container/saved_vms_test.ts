/**
 * The shared real containers (libvirt 9.0 raw and gzip save images, a QEMU 7.2 qcow2 with two
 * savevm snapshots): info's header fields equal the manifest's decoded fields, the extracted
 * stream has the manifest's sha256 and inspect's counts equal the independent parser's, and
 * replay (of the extracted file, and of the container's source directly) gives the oracle RAM.
 */
import assert from "node:assert/strict";
import { runExtract } from "../../src/commands/extract.ts";
import { runInfo } from "../../src/commands/info.ts";
import { memoryOut } from "../../src/commands/io.ts";
import { replayStream } from "../../src/replay/replay_stream.ts";
import { runCli, sha256File } from "../_helpers.ts";
import { containerInput, manifest, SAVED_VMS, savedVmFile, savedVmNames } from "./_saved_vms.ts";

const names = savedVmNames();
const isQcow2 = (name: string) => name.startsWith("q");
const containerFile = (name: string) => isQcow2(name) ? "container.qcow2" : "container.save";

/** The streams of a folder: [snapshot or undefined, capture file key, summary, oracle]. */
function streamsOf(name: string): [string | undefined, string, string, string][] {
  if (!isQcow2(name)) {
    return [[undefined, "capture.bin.gz", "mstream-summary.json", "oracle.pc.ram.gz"]];
  }
  return ["snapA", "snapB"].map((s) => [
    s,
    `capture.${s}.bin.gz`,
    `mstream-summary.${s}.json`,
    `oracle.${s}.pc.ram.gz`,
  ]);
}

async function infoJson(path: string, snapshot?: string) {
  const out = memoryOut();
  const res = await runInfo(path, { json: true, snapshot }, out);
  assert.equal(res.code, 0, res.error);
  return JSON.parse(out.text());
}

// deno-lint-ignore no-explicit-any
type Json = any;

function checkLibvirt(doc: Json, m: Json) {
  const h = m.container.header;
  const v = doc.container.libvirt;
  const pairs: [string, string][] = [
    ["magic", "magic"],
    ["complete", "complete"],
    ["byte_order", "byteOrder"],
    ["version", "version"],
    ["data_len", "dataLen"],
    ["was_running", "wasRunning"],
    ["format_code", "formatCode"],
    ["format", "format"],
    ["cookie_offset", "cookieOffset"],
    ["unused_all_zero", "unusedAllZero"],
    ["header_size", "headerSize"],
    ["xml_len_with_nul", "xmlLength"],
    ["cookie_len_with_nul", "cookieLength"],
    ["padding_len", "paddingLength"],
    ["padding_all_zero", "paddingAllZero"],
    ["stream_offset", "streamOffset"],
    ["stream_region_len", "streamRegionLength"],
  ];
  for (const [mk, ik] of pairs) assert.deepEqual(v[ik], h[mk], `${mk} vs ${ik}`);
  assert.equal(doc.file.size, h.file_size);
  assert.equal(doc.streams[0].size, h.inner_size);
  assert.equal(v.domain.name, /<name>([^<]+)<\/name>/.exec(m.domain_xml)![1]);
  assert.equal(v.domain.memoryBytes, m.guest.ram_mb << 20);
  assert.equal(v.domain.machine, "pc-i440fx-7.2");
}

function checkQcow2(doc: Json, m: Json) {
  const h = m.container.header;
  const q = doc.container.qcow2;
  const pairs: [string, string][] = [
    ["version", "version"],
    ["backing_off", "backingFileOffset"],
    ["cluster_bits", "clusterBits"],
    ["cluster_size", "clusterSize"],
    ["size", "virtualSize"],
    ["crypt", "cryptMethod"],
    ["l1_size", "l1Size"],
    ["l1_off", "l1TableOffset"],
    ["rc_off", "refcountTableOffset"],
    ["rc_clusters", "refcountTableClusters"],
    ["nb_snap", "nbSnapshots"],
    ["snap_off", "snapshotsOffset"],
    ["refcount_order", "refcountOrder"],
    ["header_length", "headerLength"],
    ["compression_type", "compressionType"],
    ["extended_l2", "extendedL2"],
    ["l2_bits", "l2Bits"],
  ];
  for (const [mk, ik] of pairs) assert.deepEqual(q[ik], h[mk], `${mk} vs ${ik}`);
  for (const k of ["incompat", "compat", "autoclear"]) {
    assert.equal(
      BigInt(
        q[
          `${
            k === "incompat" ? "incompatible" : k === "compat" ? "compatible" : "autoclear"
          }Features`
        ],
      ),
      BigInt(h[k]),
    );
  }
  const snapPairs: [string, string][] = [
    ["index", "index"],
    ["entry_offset", "entryOffset"],
    ["l1_table_offset", "l1TableOffset"],
    ["l1_size", "l1Size"],
    ["id", "id"],
    ["name", "name"],
    ["date_sec", "dateSec"],
    ["date_nsec", "dateNsec"],
    ["vm_clock_ns", "vmClockNs"],
    ["vm_state_size_32", "vmStateSize32"],
    ["extra_data_size", "extraDataSize"],
    ["vm_state_size", "vmStateSize"],
    ["disk_size", "diskSize"],
    ["icount", "icount"],
  ];
  m.container.snapshots.forEach((ms: Record<string, unknown>, i: number) => {
    for (const [mk, ik] of snapPairs) assert.deepEqual(q.snapshots[i][ik], ms[mk], `${mk}`);
    const ex = m.vmstate_extraction[ms.name as string];
    assert.equal(q.snapshots[i].stateOffset, ex.vm_state_offset);
    assert.equal(doc.streams[i].offset, ex.vm_state_offset);
    assert.equal(doc.streams[i].sha256, ex.sha256);
    assert.equal(doc.streams[i].clusterKinds.data, ex.cluster_kinds.data);
  });
}

for (const name of names) {
  Deno.test(`saved VM ${name}: info's header fields equal the manifest's`, async () => {
    const m = manifest(name);
    const path = await savedVmFile(name, containerFile(name));
    const doc = await infoJson(path);
    assert.equal(doc.format, "migscope-info");
    assert.equal(doc.version, 1);
    assert.equal(doc.file.sha256, m.container.sha256);
    if (isQcow2(name)) checkQcow2(doc, m);
    else checkLibvirt(doc, m);
    for (const [i, [, capture]] of streamsOf(name).entries()) {
      assert.equal(doc.streams[i].sha256, m.files[capture].sha256_uncompressed);
      assert.equal(doc.streams[i].machine, "pc-i440fx-7.2");
      assert.equal(doc.streams[i].error, null);
    }
  });

  Deno.test(`saved VM ${name}: extract, inspect and replay give the manifest's stream, counts and RAM`, async () => {
    const m = manifest(name);
    const path = await savedVmFile(name, containerFile(name));
    const dir = await Deno.makeTempDir();
    for (const [snap, capture, summaryFile, oracle] of streamsOf(name)) {
      const out = `${dir}/${snap ?? "stream"}.bin`;
      const res = await runExtract(path, { snapshot: snap, output: out, quiet: true }, memoryOut());
      assert.equal(res.code, 0, res.error);
      assert.equal(await sha256File(out), m.files[capture].sha256_uncompressed);
      const ms = JSON.parse(await Deno.readTextFile(`${SAVED_VMS}/${name}/${summaryFile}`));
      const cli = await runCli(["inspect", out, "--json"]);
      assert.equal(cli.code, 0, cli.stderr);
      const s = JSON.parse(cli.stdout).summary;
      assert.equal(s.ram.page, ms.ram.page);
      assert.equal(s.ram.zero, ms.ram.zero);
      assert.equal(s.ram.eos, ms.ram.eos);
      assert.equal(s.ram.continueHeaders, ms.ram.continue_headers);
      assert.equal(s.sections.FULL, ms.section_counts.SECTION_FULL);
      assert.equal(s.sections.FOOTER, ms.section_counts.SECTION_FOOTER);
      assert.equal(s.eof.offset, ms.eof_offset);
      assert.equal(s.trailer.jsonLength, ms.vmdescription.json_len);
      assert.deepEqual(
        s.ram.blocks.map((b: { name: string; size: number }) => ({ id: b.name, size: b.size })),
        ms.ram_blocks,
      );
      const rep = await runCli(["replay", out, "--out", `${dir}/replay-${snap}`, "--quiet"]);
      assert.equal(rep.code, 0, rep.stderr);
      const want = m.files[oracle].sha256_uncompressed;
      assert.equal(await sha256File(`${dir}/replay-${snap}/pc.ram.ram`), want);
      // The container's own source, positional or decompressing, replays the same.
      const input = await containerInput(path, snap);
      await Deno.mkdir(`${dir}/direct-${snap}`);
      await replayStream(input, { targets: { dir: `${dir}/direct-${snap}` } });
      input.close();
      assert.equal(await sha256File(`${dir}/direct-${snap}/pc.ram.ram`), want);
    }
    await Deno.remove(dir, { recursive: true });
  });
}

for (const name of names.filter((n) => !isQcow2(n))) {
  Deno.test(`saved VM ${name}: the shared .gz file itself opens (libvirt image inside gzip)`, async () => {
    const m = manifest(name);
    const doc = await infoJson(`${SAVED_VMS}/${name}/container.save.gz`);
    assert.equal(doc.container.gzipWrapped, true);
    assert.equal(doc.container.libvirt.dataLen, m.container.header.data_len);
    assert.equal(doc.streams[0].sha256, m.files["capture.bin.gz"].sha256_uncompressed);
  });
}
