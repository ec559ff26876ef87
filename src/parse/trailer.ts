/**
 * Locating the VMDESCRIPTION trailer exactly: `00` (EOF) `06` be32 L, then L bytes of JSON that
 * end at the end of the stream. Found by walking back over JSON text to the first byte that
 * cannot be JSON and checking the few marker positions that allows — never by searching for
 * a brace.
 * @module
 */
import { COMMANDS, SECTION_TYPE_NAMES, VM } from "../protocol/constants.ts";
import { printable } from "../protocol/errors.ts";
import type { MigRecord, VmDesc } from "../protocol/records.ts";
import type { ParseState } from "./state.ts";
import { type RandomAccess, readFully } from "../wire/random_access.ts";
import { checkVmdesc } from "./vmdesc_shape.ts";

/** Upper bound on the vmdesc JSON (QEMU's are ~100 KiB; analyze-migration stops at 10 MiB). */
export const MAX_VMDESC_BYTES = 64 << 20;

/** Where the trailer sits within a buffer holding the stream's last bytes. */
export interface TrailerLocation {
  /** Index of the `0x06` marker within the buffer. */
  marker: number;
  /** JSON length from the be32 field. */
  jsonLength: number;
}

/** A byte that may appear in JSON text (printable ASCII, UTF-8, or JSON white space). */
function jsonByte(b: number): boolean {
  return b >= 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/**
 * Finds the trailer in `tail`, the last bytes of a stream. Returns the location, `null` when
 * there is none, or `"more"` when the tail is all JSON text and an earlier byte is needed.
 */
export function locateTrailer(tail: Uint8Array): TrailerLocation | null | "more" {
  const n = tail.length;
  if (n < 7) return null;
  let k = n - 1;
  while (k >= 0 && jsonByte(tail[k])) k--;
  if (k < 0) return "more";
  // The first non-JSON byte from the end is the marker or one of the four length bytes.
  for (let p = k; p >= Math.max(1, k - 4); p--) {
    if (tail[p] !== 0x06 || tail[p - 1] !== 0x00 || p + 5 >= n) continue;
    const len = ((tail[p + 1] << 24) >>> 0) + (tail[p + 2] << 16) + (tail[p + 3] << 8) +
      tail[p + 4];
    if (len === n - p - 5 && tail[p + 5] === 0x7b) return { marker: p, jsonLength: len };
  }
  return null;
}

/**
 * Parses vmdesc JSON text and checks it has the shape the parser relies on (see
 * vmdesc_shape.ts); throws a one-line Error naming the first violation by its JSON path.
 */
export function parseVmdesc(bytes: Uint8Array): VmDesc {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`vmdesc is not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  return checkVmdesc(doc);
}

/** A trailer was found at `offset` but its JSON is unusable; the message says why, in one line. */
export class TrailerError extends Error {
  constructor(readonly offset: number, detail: string) {
    super(`the VMDESCRIPTION trailer at offset ${offset} is unusable: ${detail}`);
    this.name = "TrailerError";
  }
}

/**
 * Reads the trailer of a seekable stream with positional reads from its end.
 * Returns the JSON and its absolute offsets, or null when the stream has no trailer; throws
 * {@link TrailerError} when there is one whose JSON is invalid or misshapen.
 */
export function readTrailerAt(
  ra: RandomAccess,
): { offset: number; json: VmDesc; jsonLength: number } | null {
  const size = ra.size;
  let want = Math.min(size, 1 << 20);
  for (;;) {
    const buf = new Uint8Array(want);
    const got = readFully(ra, buf, size - want);
    if (got !== want) return null;
    const loc = locateTrailer(buf);
    if (loc === null) return null;
    if (loc !== "more") {
      const offset = size - want + loc.marker;
      let json: VmDesc;
      try {
        json = parseVmdesc(buf.subarray(loc.marker + 5));
      } catch (e) {
        throw new TrailerError(offset, (e as Error).message);
      }
      return { offset, json, jsonLength: loc.jsonLength };
    }
    if (want >= size || want >= MAX_VMDESC_BYTES + 6) return null;
    want = Math.min(size, want * 4, MAX_VMDESC_BYTES + 6);
  }
}

/** Bytes that may be a section idstr (QEMU's are printable ASCII). */
function printableName(b: Uint8Array): boolean {
  return b.length > 0 && b.every((c) => c >= 0x20 && c < 0x7f);
}

/**
 * What the bytes after a top-level EOF look like, if they look like a record the stream could
 * go on with: PART/END of an open RAM or block section, a START/FULL header with a printable
 * idstr, or a known command with its fixed length. Undefined for anything else.
 */
async function recordAhead(st: ParseState): Promise<string | undefined> {
  const r = st.r;
  const n = await r.peekUpTo(5 + 1 + 255 + 8);
  const type = r.peekU8();
  if (n < 5) return undefined;
  if (type === VM.SECTION_PART || type === VM.SECTION_END) {
    const id = r.peekBe32(1);
    const info = st.sections.get(id);
    if (!info || info.handler === "device") return undefined;
    return `${SECTION_TYPE_NAMES[type]} of section ${id} '${printable(info.idstr)}'`;
  }
  if (type === VM.SECTION_START || type === VM.SECTION_FULL) {
    const len = n > 5 ? r.peekU8(5) : 0;
    if (n < 6 + len + 8 || !printableName(r.peekBytes(len, 6))) return undefined;
    const idstr = new TextDecoder().decode(r.peekBytes(len, 6));
    return `a ${SECTION_TYPE_NAMES[type]} section header for '${printable(idstr)}'`;
  }
  if (type === VM.COMMAND) {
    const def = COMMANDS.find((c) => c.cmd === ((r.peekU8(1) << 8) | r.peekU8(2)));
    const len = (r.peekU8(3) << 8) | r.peekU8(4);
    if (def && (def.len < 0 || def.len === len)) return `a ${def.name} command`;
  }
  return undefined;
}

/**
 * Reads what follows the top-level EOF: the VMDESCRIPTION trailer, trailing bytes, or nothing.
 *
 * Trailing bytes that are not a trailer are reported as a `trailing` record (QEMU only warns
 * about them) — unless they look like a record the stream goes on with (a RAM END, a device
 * section, a command): then the EOF byte is most likely stray (a `00` before a section) and
 * the stream did not end there. QEMU would stop loading at it and ignore the rest, silently
 * losing the sections after it, so this is an error: inspect reports it after what it read,
 * and replay and verify fail rather than write or compare a half-applied stream.
 */
export async function* readTrailer(st: ParseState): AsyncGenerator<MigRecord> {
  const offset = st.r.pos;
  st.section = undefined;
  st.record = `trailer at ${offset}`;
  const avail = await st.r.peekUpTo(5);
  if (avail === 0) return;
  if (st.r.peekU8() !== VM.VMDESCRIPTION) {
    const ahead = await recordAhead(st);
    if (ahead) {
      st.record = `EOF at ${offset - 1}`;
      st.fail(
        `QEMU_VM_EOF is followed by ${ahead} at offset ${offset}, not by a VMDESCRIPTION ` +
          "trailer: the 00 byte is probably stray, and QEMU would stop loading there and " +
          "ignore the rest of the stream",
        offset - 1,
      );
    }
    // QEMU only warns here; report the bytes as trailing data.
    let n = 0;
    while (!(await st.r.atEnd())) {
      n += st.r.buffered;
      st.r.advance(st.r.buffered);
    }
    yield { kind: "trailing", offset, length: n, depth: 0 };
    return;
  }
  if (avail < 5) st.fail("VMDESCRIPTION trailer is truncated in its length field");
  const len = st.r.peekBe32(1);
  if (len > MAX_VMDESC_BYTES) {
    st.fail(`vmdesc length ${len} exceeds the ${MAX_VMDESC_BYTES}-byte bound`);
  }
  await st.need(5 + len, "vmdesc JSON");
  st.r.advance(5);
  let json: VmDesc;
  try {
    json = parseVmdesc(st.r.bytes(len));
  } catch (e) {
    st.fail((e as Error).message, offset + 5);
  }
  st.setVmdesc(json, offset);
  yield { kind: "vmdesc", offset, length: 5 + len, depth: 0, jsonLength: len, json };
  const rest = await st.r.peekUpTo(1);
  if (rest > 0) st.fail("bytes follow the VMDESCRIPTION trailer");
}
