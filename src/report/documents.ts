/**
 * The JSON documents the commands write: each starts with `format` and `version`, and an error
 * is always the same object, `{offset, section, record, message}`.
 * @module
 */
import { oneLine, StreamError } from "../protocol/errors.ts";

/** Version of every JSON document's layout; raised when a key changes meaning or goes away. */
export const FORMAT_VERSION = 1;

/** The `format` names of the documents. */
export type DocumentFormat =
  | "migscope-inspect"
  | "migscope-inspect-ndjson"
  | "migscope-device-state"
  | "migscope-channel"
  | "migscope-channel-ndjson"
  | "migscope-cpr"
  | "migscope-cpr-ndjson"
  | "migscope-replay"
  | "migscope-diff"
  | "migscope-check";

/** Where and why a command stopped; `null` where it is not known. */
export interface ErrorObject {
  /** Byte offset in the stream. */
  offset: number | null;
  /** The enclosing section, e.g. `section 2 'ram' PART at 1234`. */
  section: string | null;
  /** The record being read, e.g. `PAGE record at 5678`. */
  record: string | null;
  /** The one-line message, as the command prints it on stderr. */
  message: string;
}

/**
 * The error object of any error: a StreamError gives all four fields; an error with a numeric
 * `offset` (a replay error) gives the offset; anything else only its message.
 *
 * @example
 * ```ts
 * import { StreamError } from "../protocol/errors.ts";
 * import { errorObject } from "./documents.ts";
 * const e = new StreamError({ offset: 8, record: "RAM record at 8" }, "truncated");
 * const o = errorObject(e);
 * if (o.offset !== 8 || o.section !== null || o.message !== "offset 8 (0x8), RAM record at 8: truncated") {
 *   throw new Error("the location and the one-line message");
 * }
 * ```
 */
export function errorObject(e: unknown): ErrorObject {
  if (e instanceof StreamError) {
    return {
      offset: e.offset,
      section: e.section ?? null,
      record: e.record ?? null,
      message: e.message,
    };
  }
  const offset = (e as { offset?: unknown })?.offset;
  const text = e instanceof Error ? e.message : String(e);
  return {
    offset: typeof offset === "number" ? offset : null,
    section: null,
    record: null,
    message: oneLine(text.split("\n")[0]),
  };
}

/**
 * A document: `format` and `version` first, then `body`, then `error` when there is one.
 *
 * @example
 * ```ts
 * import { document } from "./documents.ts";
 * const doc = document("migscope-replay", { records: 3 });
 * if (Object.keys(doc).join() !== "format,version,records") throw new Error("header first");
 * ```
 */
export function document(
  format: DocumentFormat,
  body: Record<string, unknown>,
  error?: unknown,
): Record<string, unknown> {
  return {
    format,
    version: FORMAT_VERSION,
    ...body,
    ...(error !== undefined ? { error: errorObject(error) } : {}),
  };
}

/** The first line of an NDJSON output: which format it is. */
export function ndjsonHeader(format: DocumentFormat): Record<string, unknown> {
  return { kind: "format", format, version: FORMAT_VERSION };
}

/** The NDJSON line of an error (the last line of a run that stopped): `{kind, error}`. */
export function ndjsonError(error: unknown): Record<string, unknown> {
  return { kind: "error", error: errorObject(error) };
}
