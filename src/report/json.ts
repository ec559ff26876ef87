/**
 * JSON output that keeps 64-bit integers exact and never carries raw page bytes.
 * @module
 */
import type { MigRecord } from "../protocol/records.ts";
import { ramFlagNames } from "../protocol/constants.ts";

type RawJSON = (text: string) => unknown;
const rawJSON: RawJSON | undefined = (JSON as unknown as { rawJSON?: RawJSON }).rawJSON;

/** JSON.stringify that writes bigint values as exact JSON numbers. */
export function stringifyJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v) => (typeof v === "bigint" ? (rawJSON ? rawJSON(v.toString()) : v.toString()) : v),
    indent,
  );
}

/** A record as a plain object for JSON: payload views are replaced by their length. */
export function recordToJson(rec: MigRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) {
    if (v === undefined) continue;
    if (v instanceof Uint8Array) continue;
    else if (k === "json") continue;
    else o[k] = v;
  }
  if (rec.kind === "ram") o.flagNames = ramFlagNames(rec.flags);
  return o;
}
