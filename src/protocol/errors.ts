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
    super(`${parts.join(", ")}: ${detail}`);
    this.name = "StreamError";
    this.offset = loc.offset;
    this.section = loc.section;
    this.record = loc.record;
    this.detail = detail;
  }
}
