/**
 * The one error type the core raises for malformed streams: it names where the stream broke.
 * @module
 */

/** Where in the stream something happened: byte offset, enclosing section, record. */
export interface StreamLocation {
  /** Absolute byte offset of the offending bytes. */
  offset: number;
  /** The enclosing section, e.g. `section 2 'ram' PART at 1234`. */
  section?: string;
  /** The record, e.g. `PAGE record at 5678`. */
  record?: string;
}

function escapeControls(s: string, alsoC1: boolean): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const bad = c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029 ||
      (alsoC1 && ((c >= 0x80 && c <= 0x9f) || c === 0xfffd));
    out += bad ? `\\x${c.toString(16).padStart(2, "0")}` : ch;
  }
  return out;
}

/**
 * A name from the stream made safe for a one-line message: control and non-printable characters
 * are escaped as `\xNN`, and long names are cut to `max` characters with `…`.
 */
export function printable(name: string, max = 80): string {
  const s = escapeControls(name, true);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Collapses anything that would break a one-line message, and bounds its length. */
export function oneLine(message: string, max = 500): string {
  const s = escapeControls(message, false);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/**
 * A malformed, truncated or unsupported stream; the message is one line.
 *
 * @example A stream that ends after its header
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { parseStream } from "../parse/stream.ts";
 * import { StreamError } from "./errors.ts";
 * const bytes = new Uint8Array([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]); // "QEVM", version 3
 * const input = await openInput(ReadableStream.from([bytes]));
 * const kinds: string[] = [];
 * let error: unknown;
 * try {
 *   for await (const rec of parseStream(input.reader)) kinds.push(rec.kind);
 * } catch (e) {
 *   error = e;
 * }
 * input.close();
 * // "offset 8 (0x8), next record: truncated: the stream ends before QEMU_VM_EOF"
 * if (!(error instanceof StreamError) || error.offset !== 8 || kinds.join() !== "header") {
 *   throw new Error("the header is yielded, then the error names offset 8");
 * }
 * ```
 */
export class StreamError extends Error {
  /** Absolute byte offset of the offending bytes. */
  readonly offset: number;
  /** The enclosing section, when there is one. */
  readonly section?: string;
  /** The record being read. */
  readonly record?: string;
  /** What is wrong, without the location. */
  readonly detail: string;

  /** An error at `loc`; the message is the location followed by `detail`. */
  constructor(loc: StreamLocation, detail: string) {
    const parts = [`offset ${loc.offset} (0x${loc.offset.toString(16)})`];
    if (loc.section) parts.push(loc.section);
    if (loc.record) parts.push(loc.record);
    super(oneLine(`${parts.join(", ")}: ${detail}`));
    this.name = "StreamError";
    this.offset = loc.offset;
    this.section = loc.section;
    this.record = loc.record;
    this.detail = detail;
  }
}
