/**
 * File-kind detection from an input's first bytes: a migration stream, a multifd channel, or
 * what else it looks like (a libvirt save image, a qcow2 image, an ELF core, compressed data,
 * JSON, text, an empty input, unknown bytes), so a command can say so in one line instead of
 * reporting an empty stream.
 * @module
 */
import { detectKind } from "../container/detect.ts";
import { isCprChannel } from "./cpr.ts";

/** How many leading bytes {@link sniff} looks at (fewer when the input is shorter). */
export const SNIFF_BYTES = 512;

/** What an input is. */
export type InputKind =
  | "migration"
  | "multifd"
  | "cpr"
  | "empty"
  | "libvirt-save"
  | "qcow2"
  | "elf-core"
  | "elf"
  | "compressed"
  | "json"
  | "text"
  | "unknown";

/** The verdict: the kind and, for anything but a stream, what it is in words. */
export interface Sniffed {
  kind: InputKind;
  /** E.g. `a qcow2 disk image (version 3, 2 internal snapshots)`. */
  what: string;
}

const ascii = (b: Uint8Array, from: number, n: number) =>
  String.fromCharCode(...b.subarray(from, from + n));

function startsWith(b: Uint8Array, magic: number[]): boolean {
  return b.length >= magic.length && magic.every((m, i) => b[i] === m);
}

/** libvirt's virQEMUSaveFormat codes (qemu_saveimage_format.h). */
const LIBVIRT_FORMATS = ["raw", "gzip", "bzip2", "xz", "lzop", "zstd", "sparse"];

/** libvirt's virQEMUSaveHeader: 16-byte magic, then u32 version, data_len, was_running, format. */
function libvirtSave(b: Uint8Array): Sniffed {
  const magic = ascii(b, 0, 16);
  if (magic === "LibvirtQemudPart") {
    return {
      kind: "libvirt-save",
      what: "an incomplete libvirt save image (LibvirtQemudPart: the save did not finish)",
    };
  }
  if (b.length < 92) {
    return { kind: "libvirt-save", what: "a libvirt save image (LibvirtQemudSave)" };
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  // The header is written in the host's byte order; a version that only makes sense swapped
  // says which.
  const le = dv.getUint32(16, true) < 0x10000;
  const u32 = (at: number) => dv.getUint32(at, le);
  const format = LIBVIRT_FORMATS[u32(28)] ?? `format code ${u32(28)}`;
  const start = 92 + u32(20);
  const inner = format === "raw" ? "" : `, ${format}-compressed,`;
  return {
    kind: "libvirt-save",
    what: `a libvirt save image (LibvirtQemudSave v${u32(16)}, format ${format}) whose QEMU ` +
      `migration stream${inner} starts at offset ${start}, after the header and the domain XML`,
  };
}

function qcow2(b: Uint8Array): Sniffed {
  if (b.length < 64) return { kind: "qcow2", what: "a qcow2 disk image" };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const snaps = dv.getUint32(60);
  const s = snaps === 0
    ? "no internal snapshots"
    : `${snaps} internal snapshot${snaps === 1 ? "" : "s"}, whose VM state is stored inside it`;
  return { kind: "qcow2", what: `a qcow2 disk image (version ${dv.getUint32(4)}, ${s})` };
}

function elf(b: Uint8Array): Sniffed {
  if (b.length >= 18) {
    const type = b[5] === 2 ? (b[16] << 8) | b[17] : b[16] | (b[17] << 8);
    if (type === 4) {
      return {
        kind: "elf-core",
        what: "an ELF core file (a memory dump, e.g. from virsh dump or dump-guest-memory)",
      };
    }
  }
  return { kind: "elf", what: "an ELF executable or shared object" };
}

const COMPRESSED: [number[], string, string][] = [
  [[0x1f, 0x8b], "gzip", "gzip -dc"],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz", "xz -dc"],
  [[0x42, 0x5a, 0x68], "bzip2", "bzip2 -dc"],
  [[0x28, 0xb5, 0x2f, 0xfd], "zstd", "zstd -dc"],
  [[0x89, 0x4c, 0x5a, 0x4f, 0x00], "lzop", "lzop -dc"],
  [[0x04, 0x22, 0x4d, 0x18], "lz4", "lz4 -dc"],
];

function textLike(b: Uint8Array): boolean {
  for (const c of b) if (c < 0x09 || (c > 0x0d && c < 0x20) || c === 0x7f) return false;
  return true;
}

function hexBytes(b: Uint8Array, n: number): string {
  const shown = [...b.subarray(0, n)].map((x) => x.toString(16).padStart(2, "0")).join(" ");
  return b.length > n ? `${shown} …` : shown;
}

/**
 * Says what `head`, the first bytes of an input (up to {@link SNIFF_BYTES}; all of it when the
 * input is shorter), looks like.
 *
 * @example
 * ```ts
 * import { sniff } from "./sniff.ts";
 * const qcow2 = new Uint8Array(64);
 * qcow2.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]);
 * if (sniff(qcow2).what !== "a qcow2 disk image (version 3, no internal snapshots)") {
 *   throw new Error("qcow2 is recognised by QFI\\xfb");
 * }
 * if (sniff(new TextEncoder().encode("QEVM\0\0\0\x03")).kind !== "migration") {
 *   throw new Error("QEVM starts a migration stream");
 * }
 * ```
 */
export function sniff(head: Uint8Array): Sniffed {
  const b = head;
  if (b.length === 0) return { kind: "empty", what: "the input is empty" };
  // The magics migscope opens itself are told by the container layer's one table.
  switch (detectKind(b)) {
    case "qemu-stream":
      return { kind: "migration", what: "" };
    case "multifd-channel":
      return { kind: "multifd", what: "" };
    case "libvirt-save":
      return libvirtSave(b);
    case "qcow2":
      return qcow2(b);
  }
  if (isCprChannel(b)) return { kind: "cpr", what: "a cpr-transfer state channel (magic QCPR)" };
  if (startsWith(b, [0x7f, 0x45, 0x4c, 0x46])) return elf(b);
  for (const [magic, name, cmd] of COMPRESSED) {
    if (startsWith(b, magic)) {
      return {
        kind: "compressed",
        what: `${name}-compressed data (decompress it first: ${cmd} FILE | migscope inspect -)`,
      };
    }
  }
  if (textLike(b)) {
    const first = b.findIndex((c) => c > 0x20);
    if (b[first] === 0x7b) {
      return {
        kind: "json",
        what: "JSON text (a vmdesc? --vmdesc FILE gives it to a capture without a trailer)",
      };
    }
    const words = new TextDecoder().decode(b.subarray(0, 40)).replace(/\s+/g, " ").trim();
    return { kind: "text", what: `text ("${words}${b.length > 40 ? "…" : ""}")` };
  }
  return {
    kind: "unknown",
    what: `unknown data with no known magic (first bytes ${hexBytes(b, 8)})`,
  };
}
