/**
 * Device (FULL) sections: their bodies carry no length on the wire, so they are delimited field
 * by field with the vmdesc JSON — known up front, or found by buffering up to the trailer.
 * @module
 */
import { printable } from "../protocol/errors.ts";
import type { MigRecord, SectionRecord } from "../protocol/records.ts";
import { BufferLimitError } from "../wire/reader.ts";
import { DeviceLayoutError, readDeviceBody } from "./device.ts";
import type { ParseState } from "./state.ts";
import { locateTrailer, parseVmdesc } from "./trailer.ts";

/** Default bound on what a pipe may buffer to reach the trailer. */
export const DEFAULT_MAX_DEVICE_TAIL = 256 << 20;

/** Makes sure the vmdesc is known: from the options, or from the trailer found ahead. */
async function ensureVmdesc(st: ParseState, sec: SectionRecord): Promise<void> {
  if (st.vmdesc) return;
  const limit = st.opts.maxDeviceTail ?? DEFAULT_MAX_DEVICE_TAIL;
  let tail: Uint8Array;
  try {
    tail = await st.r.bufferRest(limit);
  } catch (e) {
    if (e instanceof BufferLimitError) {
      st.fail(
        `device section '${
          printable(sec.idstr)
        }' cannot be delimited without the vmdesc JSON, and the trailer ` +
          `is more than ${limit} bytes ahead; pass --vmdesc or read from a seekable file`,
        sec.offset,
      );
    }
    throw e;
  }
  const loc = locateTrailer(tail);
  if (loc === null || loc === "more") {
    st.fail(
      `device section '${
        printable(sec.idstr)
      }' cannot be delimited: the stream has no VMDESCRIPTION trailer ` +
        `(postcopy, suppress-vmdesc or a truncated capture); pass --vmdesc with the JSON or another capture`,
      sec.offset,
    );
  }
  let json;
  try {
    json = parseVmdesc(tail.subarray(loc.marker + 5));
  } catch (e) {
    st.fail(
      `the VMDESCRIPTION trailer at offset ${st.r.pos + loc.marker} is unusable: ${
        (e as Error).message
      }`,
      sec.offset,
    );
  }
  st.setVmdesc(json, st.r.pos + loc.marker);
}

/** Reads the body of a FULL section, delimited (and decoded) with the vmdesc. */
export async function readDevice(st: ParseState, sec: SectionRecord): Promise<MigRecord> {
  await ensureVmdesc(st, sec);
  const dev = st.vmdescIndex!.get(`${sec.idstr}\u0000${sec.instanceId}`);
  if (!dev) {
    st.fail(
      `device '${
        printable(sec.idstr)
      }' instance ${sec.instanceId} is not described in the vmdesc JSON`,
      sec.offset,
    );
  }
  const offset = st.r.pos;
  st.record = `device body at ${offset}`;
  let fields;
  try {
    fields = await readDeviceBody(st.r, dev, st.opts.decodeDevices ?? false);
  } catch (e) {
    if (e instanceof DeviceLayoutError) {
      st.fail(`device body does not match the vmdesc JSON: ${e.message}`, e.offset);
    }
    throw e;
  }
  if (st.r.pos > st.limit) st.fail("device body runs past the end of the PACKAGED payload");
  return {
    kind: "device",
    offset,
    length: st.r.pos - offset,
    depth: sec.depth,
    sectionId: sec.sectionId,
    idstr: sec.idstr,
    instanceId: sec.instanceId,
    version: sec.version,
    fields,
  };
}
