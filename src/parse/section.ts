/**
 * Section headers (START/FULL with idstr, instance and version; PART/END by id) and section
 * footers (`0x7E` + section id), whose presence is learned from the first section.
 * @module
 */
import { BLOCK_SECTION, RAM_SECTION, SECTION_TYPE_NAMES, VM } from "../protocol/constants.ts";
import type { FooterRecord, SectionRecord } from "../protocol/records.ts";
import { countedString, type ParseState, type SectionInfo, sectionLabel } from "./state.ts";

function iterativeHandler(
  st: ParseState,
  idstr: string,
  version: number,
  offset: number,
): SectionInfo["handler"] {
  if (idstr === RAM_SECTION.idstr) {
    if (version !== RAM_SECTION.version) {
      st.fail(
        `'ram' section version ${version} is not supported (QEMU accepts only 4)`,
        offset + 1,
      );
    }
    return "ram";
  }
  if (idstr === BLOCK_SECTION.idstr) {
    if (version !== BLOCK_SECTION.version) {
      st.fail(`'block' section version ${version} is not supported (expected 1)`, offset + 1);
    }
    return "block";
  }
  st.fail(`iterative section '${idstr}' is not supported (only 'ram' and 'block' are)`, offset);
}

/** Reads a section header at nesting `depth`. */
export async function readSectionHeader(st: ParseState, depth: number): Promise<SectionRecord> {
  const offset = st.r.pos;
  await st.need(5, "section header");
  const type = SECTION_TYPE_NAMES[st.r.u8()];
  const sectionId = st.r.be32();
  if (type === "START" || type === "FULL") {
    st.section = `${type} section ${sectionId} at ${offset}`;
    const idAt = st.r.pos;
    const idstr = await countedString(st, "section idstr");
    if (idstr.length === 0) st.fail("section idstr is empty", idAt);
    await st.need(8, "section instance and version");
    const instanceId = st.r.be32();
    const version = st.r.be32();
    st.section = sectionLabel(type, sectionId, idstr, offset);
    const handler = type === "START" ? iterativeHandler(st, idstr, version, offset) : "device";
    st.sections.set(sectionId, { idstr, instanceId, version, handler });
    const length = st.r.pos - offset;
    return { kind: "section", offset, length, depth, type, sectionId, idstr, instanceId, version };
  }
  const info = st.sections.get(sectionId);
  if (!info) {
    st.fail(`${type} refers to section id ${sectionId}, which no START introduced`, offset + 1);
  }
  if (info.handler === "device") {
    st.fail(`${type} refers to section id ${sectionId}, a device (FULL) section`, offset + 1);
  }
  st.section = sectionLabel(type, sectionId, info.idstr, offset);
  return {
    kind: "section",
    offset,
    length: 5,
    depth,
    type,
    sectionId,
    idstr: info.idstr,
    instanceId: info.instanceId,
    version: info.version,
  };
}

/** Reads the footer of `sec` when footers are on (learned from the first section). */
export async function readFooter(st: ParseState, sec: SectionRecord): Promise<FooterRecord | null> {
  const offset = st.r.pos;
  st.record = `footer at ${offset}`;
  if (st.info.footers === undefined) {
    const avail = await st.r.peekUpTo(1);
    st.info.footers = avail > 0 && st.r.peekU8() === VM.SECTION_FOOTER;
  }
  if (!st.info.footers) return null;
  await st.need(5, "section footer");
  const marker = st.r.peekU8();
  if (marker !== VM.SECTION_FOOTER) {
    st.fail(
      `missing section footer: byte 0x${marker.toString(16).padStart(2, "0")} instead of 0x7e` +
        (sec.type === "FULL" ? " after the device body the vmdesc JSON describes" : ""),
    );
  }
  const id = st.r.peekBe32(1);
  if (id !== sec.sectionId) st.fail(`footer names section ${id}, expected ${sec.sectionId}`);
  st.r.advance(5);
  return { kind: "footer", offset, length: 5, depth: sec.depth, sectionId: id, idstr: sec.idstr };
}
