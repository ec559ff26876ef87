/**
 * src/parse/sniff.ts: what an input's first bytes look like, from a few crafted bytes each.
 */
import assert from "node:assert/strict";
import { sniff } from "../../src/parse/sniff.ts";

import { elfHeader, enc, libvirtHeader, qcow2Header } from "./_sniff_build.ts";

Deno.test("sniff: streams and channels by their magic", () => {
  assert.equal(sniff(enc.encode("QEVM\0\0\0\x03\x07")).kind, "migration");
  assert.equal(sniff(new Uint8Array([0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1])).kind, "multifd");
});

Deno.test("sniff: libvirt save images, complete and partial, with the stream offset", () => {
  assert.deepEqual(sniff(libvirtHeader("LibvirtQemudSave", 0, 67286)), {
    kind: "libvirt-save",
    what: "a libvirt save image (LibvirtQemudSave v2, format raw) whose QEMU migration stream " +
      "starts at offset 67378, after the header and the domain XML",
  });
  assert.equal(
    sniff(libvirtHeader("LibvirtQemudSave", 3, 100)).what,
    "a libvirt save image (LibvirtQemudSave v2, format xz) whose QEMU migration stream, " +
      "xz-compressed, starts at offset 192, after the header and the domain XML",
  );
  assert.equal(
    sniff(libvirtHeader("LibvirtQemudPart", 0, 100)).what,
    "an incomplete libvirt save image (LibvirtQemudPart: the save did not finish)",
  );
});

Deno.test("sniff: qcow2, ELF core and other ELF files", () => {
  assert.equal(
    sniff(qcow2Header(3, 2)).what,
    "a qcow2 disk image (version 3, 2 internal snapshots, whose VM state is stored inside it)",
  );
  assert.equal(
    sniff(qcow2Header(2, 0)).what,
    "a qcow2 disk image (version 2, no internal snapshots)",
  );
  const core = "an ELF core file (a memory dump, e.g. from virsh dump or dump-guest-memory)";
  assert.deepEqual(sniff(elfHeader(4)), { kind: "elf-core", what: core });
  assert.deepEqual(sniff(elfHeader(4, true)), { kind: "elf-core", what: core });
  assert.equal(sniff(elfHeader(2)).kind, "elf");
});

Deno.test("sniff: empty, compressed, JSON, text and unknown bytes", () => {
  assert.deepEqual(sniff(new Uint8Array(0)), { kind: "empty", what: "the input is empty" });
  assert.equal(
    sniff(new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4])).what,
    "xz-compressed data (decompress it first: xz -dc FILE | migscope inspect -)",
  );
  assert.equal(sniff(enc.encode("BZh91AY&SY")).kind, "compressed");
  assert.equal(sniff(enc.encode('\n  {"page_size": 4096, "devices": []}')).kind, "json");
  assert.equal(sniff(enc.encode("hello\tworld\n")).what, 'text ("hello world")');
  assert.deepEqual(sniff(new Uint8Array([0x58, 0x9b, 0xd8, 0x61, 0xef, 0x2f, 0x69, 0x0c, 7])), {
    kind: "unknown",
    what: "unknown data with no known magic (first bytes 58 9b d8 61 ef 2f 69 0c …)",
  });
});
