/**
 * JSON output that keeps 64-bit integers exact and never carries raw page bytes.
 *
 * The integer rule: an integer is written as a JSON number when its magnitude is at most
 * 2^53 − 1 (`Number.MAX_SAFE_INTEGER`), so every JSON reader gets it exactly. A larger one
 * (only 64-bit device fields decode to one) is written as a string: `0x` and 16 lower-case hex
 * digits of the value as an unsigned 64-bit number — the two's complement pattern for signed
 * types — which is how analyze-migration.py prints such fields: `"0xffffffff811e9deb"`. Read it
 * back with `BigInt(s)`, and `BigInt.asIntN(64, BigInt(s))` for a signed field (`int64`,
 * `timer`).
 * @module
 */
import type { MigRecord } from "../protocol/records.ts";
import { ramFlagNames } from "../protocol/constants.ts";

const MIN_U64_SIGNED = -(1n << 63n);
const MAX_U64 = (1n << 64n) - 1n;

/**
 * A bigint as JSON: a number when it is safe, else the hex string of the integer rule (values
 * outside the 64-bit range, which no field produces, as a decimal string).
 *
 * @example
 * ```ts
 * import { jsonInteger } from "./json.ts";
 * if (jsonInteger(0xffffffff811e9debn) !== "0xffffffff811e9deb") throw new Error("hex");
 * if (jsonInteger(-(1n << 60n)) !== "0xf000000000000000") throw new Error("two's complement");
 * if (jsonInteger(42n) !== 42) throw new Error("small integers stay numbers");
 * ```
 */
export function jsonInteger(v: bigint): number | string {
  if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(v);
  }
  if (v < MIN_U64_SIGNED || v > MAX_U64) return v.toString();
  return "0x" + BigInt.asUintN(64, v).toString(16).padStart(16, "0");
}

/** JSON.stringify that writes bigint values by the integer rule of this module. */
export function stringifyJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v) => (typeof v === "bigint" ? jsonInteger(v) : v),
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
