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

/** A malformed, truncated or unsupported stream; the message is one line. */
export class StreamError extends Error {
  readonly offset: number;
  readonly section?: string;
  readonly record?: string;
  readonly detail: string;

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
