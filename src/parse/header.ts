/**
 * The file header (`QEVM`, version 3) and the CONFIGURATION section: machine type and the
 * validated subsections (target-page-bits, capabilities, uuid), which set per-stream facts.
 * @module
 */
import {
  FILE_MAGIC,
  FILE_VERSION,
  FILE_VERSION_COMPAT,
  KNOWN_CAPABILITIES,
  MULTIFD_MAGIC,
  VM,
} from "../protocol/constants.ts";
import { printable } from "../protocol/errors.ts";
import type { ConfigurationRecord, HeaderRecord } from "../protocol/records.ts";
import { countedString, decodeName, type ParseState } from "./state.ts";

/** Reads the 8-byte file header. */
export async function readHeader(st: ParseState): Promise<HeaderRecord> {
  st.record = "file header";
  await st.need(8, "file header");
  const magic = st.r.peekBe32(0);
  if (magic !== FILE_MAGIC) {
    if (magic === MULTIFD_MAGIC) {
      st.fail(
        "this is a multifd channel (magic 0x11223344), not a main stream; pass it with --channel",
      );
    }
    st.fail(
      `not a QEMU migration stream: magic 0x${
        magic.toString(16).padStart(8, "0")
      }, expected 0x5145564d ('QEVM')`,
    );
  }
  const version = st.r.peekBe32(4);
  if (version === FILE_VERSION_COMPAT) st.fail("stream version 2 is obsolete (QEMU rejects it)", 4);
  if (version !== FILE_VERSION) st.fail(`unsupported stream version ${version}, expected 3`, 4);
  st.r.advance(8);
  return { kind: "header", offset: 0, length: 8, depth: 0, version };
}

function uuidText(b: Uint8Array): string {
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `configuration/target-page-bits`: sets the page size unless an option or vmdesc disagrees. */
async function targetPageBits(st: ParseState, rec: ConfigurationRecord, subAt: number) {
  await st.need(4, "target-page-bits");
  const bits = st.r.be32();
  if (bits < 10 || bits > 30) st.fail(`target-page-bits ${bits} is out of range`, subAt);
  rec.targetPageBits = bits;
  const size = 2 ** bits;
  const info = st.info;
  if (info.pageSizeFrom !== "default" && info.pageSize !== size) {
    const from = info.pageSizeFrom === "option" ? "--page-size" : "the vmdesc JSON";
    st.fail(`target-page-bits ${bits} (${size}-byte pages) contradicts ${from} (${info.pageSize})`);
  }
  info.pageSize = size;
  info.pageSizeFrom = "target-page-bits";
}

async function capabilities(st: ParseState, rec: ConfigurationRecord, subAt: number) {
  await st.need(4, "capability count");
  const count = st.r.be32();
  if (count > 64) st.fail(`capability count ${count} is implausible`, subAt);
  for (let i = 0; i < count; i++) {
    const capAt = st.r.pos;
    const cap = await countedString(st, "capability name");
    if (!(KNOWN_CAPABILITIES as readonly string[]).includes(cap)) {
      st.fail(`unknown validated capability '${printable(cap)}'`, capAt);
    }
    rec.capabilities.push(cap);
  }
  st.info.capabilities = rec.capabilities;
}

/** Reads the CONFIGURATION section (type byte, machine type, subsections). */
export async function readConfiguration(st: ParseState): Promise<ConfigurationRecord> {
  const offset = st.r.pos;
  st.record = `CONFIGURATION at ${offset}`;
  await st.need(5, "configuration");
  st.r.advance(1);
  const len = st.r.be32();
  if (len > 1024) st.fail(`machine type name of ${len} bytes is implausible (max 1024)`);
  await st.need(len, "machine type name");
  const machine = decodeName(st.r.bytes(len));
  st.info.machine = machine;
  const rec: ConfigurationRecord = {
    kind: "configuration",
    offset,
    length: 0,
    depth: 0,
    machine,
    capabilities: [],
    subsections: [],
  };
  for (;;) {
    const avail = await st.r.peekUpTo(2);
    if (avail < 2 || st.r.peekU8() !== VM.SUBSECTION) break;
    const nameLen = st.r.peekU8(1);
    await st.need(2 + nameLen, "configuration subsection");
    const name = decodeName(st.r.peekBytes(nameLen, 2));
    if (!name.startsWith("configuration/")) break;
    const subAt = st.r.pos;
    st.r.advance(2 + nameLen);
    await st.need(4, "subsection version");
    st.r.be32();
    rec.subsections.push(name);
    if (name === "configuration/target-page-bits") await targetPageBits(st, rec, subAt);
    else if (name === "configuration/capabilities") await capabilities(st, rec, subAt);
    else if (name === "configuration/uuid") {
      await st.need(16, "uuid");
      rec.uuid = uuidText(st.r.bytes(16));
    } else st.fail(`unknown configuration subsection '${printable(name)}'`, subAt);
  }
  rec.length = st.r.pos - offset;
  return rec;
}
