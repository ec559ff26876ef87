/**
 * Device (FULL) sections: their bodies carry no length on the wire, so they are delimited field
 * by field with the vmdesc JSON — known up front, read from the end of a seekable input, or
 * found by reading a pipe ahead to its trailer (at most `maxDeviceTail` bytes held in memory,
 * 256 MiB by default, in fixed chunks: the bound is the memory taken).
 * @module
 */
import { printable } from "../protocol/errors.ts";
import type { MigRecord, SectionRecord } from "../protocol/records.ts";
import type { RandomAccess } from "../wire/random_access.ts";
import { BufferLimitError } from "../wire/reader.ts";
import { DeviceLayoutError, MAX_IDLE_VISITS, readDeviceBody } from "./device.ts";
import type { ParseState } from "./state.ts";
import {
  locateTrailer,
  MAX_VMDESC_BYTES,
  parseVmdesc,
  readTrailerAt,
  TrailerError,
} from "./trailer.ts";
import { describedCost } from "./vmdesc_shape.ts";

/** Default bound on what a pipe may buffer to reach the trailer. */
export const DEFAULT_MAX_DEVICE_TAIL = 256 << 20;

function noTrailer(st: ParseState, sec: SectionRecord): never {
  st.fail(
    `device section '${
      printable(sec.idstr)
    }' cannot be delimited: the stream has no VMDESCRIPTION trailer ` +
      `(postcopy, suppress-vmdesc or a truncated capture); pass --vmdesc with the JSON or another capture`,
    sec.offset,
  );
}

/** The trailer of a seekable input, read with positional reads from its end. */
function vmdescFromEnd(st: ParseState, sec: SectionRecord, ra: RandomAccess): void {
  let t;
  try {
    t = readTrailerAt(ra);
  } catch (e) {
    if (e instanceof TrailerError) st.fail(e.message, sec.offset);
    throw e;
  }
  if (!t) noTrailer(st, sec);
  st.setVmdesc(t.json, t.offset);
}

/** Makes sure the vmdesc is known: from the options, the input's end, or the trailer ahead. */
async function ensureVmdesc(st: ParseState, sec: SectionRecord): Promise<void> {
  if (st.vmdesc) return;
  const ra = st.r.source.random;
  if (ra) return vmdescFromEnd(st, sec, ra);
  const limit = st.opts.maxDeviceTail ?? DEFAULT_MAX_DEVICE_TAIL;
  let left: number;
  try {
    left = await st.r.readAhead(limit);
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
  const found = trailerInTail(st, sec, left);
  st.setVmdesc(found.json, found.offset);
}

/** The trailer among the `left` bytes read ahead, found from their end as in a file. */
function trailerInTail(st: ParseState, sec: SectionRecord, left: number) {
  let want = Math.min(left, 1 << 20);
  for (;;) {
    const tail = st.r.tail(want);
    const loc = locateTrailer(tail);
    if (loc === null) noTrailer(st, sec);
    const at = st.r.pos + left - want;
    if (loc !== "more") {
      try {
        return { json: parseVmdesc(tail.subarray(loc.marker + 5)), offset: at + loc.marker };
      } catch (e) {
        st.fail(new TrailerError(at + loc.marker, (e as Error).message).message, sec.offset);
      }
    }
    if (want >= left || want >= MAX_VMDESC_BYTES + 6) noTrailer(st, sec);
    want = Math.min(left, want * 4, MAX_VMDESC_BYTES + 6);
  }
}

/** Bytes the body may still take: to the end of the PACKAGED payload or of the stream. */
function bytesLeft(st: ParseState): number | undefined {
  const inPackage = st.limit - st.r.pos;
  const inStream = st.r.remaining;
  return inStream === undefined ? (st.limit === Infinity ? undefined : inPackage) : Math.min(
    inPackage,
    inStream,
  );
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
  const left = bytesLeft(st);
  const cost = describedCost(dev);
  if (left !== undefined && cost > left + MAX_IDLE_VISITS) {
    st.fail(
      `the vmdesc JSON describes at least ${cost} bytes for this device (array_len × size, ` +
        `nested), but only ${left} bytes are left`,
    );
  }
  let fields;
  try {
    fields = await readDeviceBody(st.r, dev, st.opts.decodeDevices ?? false, st.deviceWork);
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
