/**
 * Size arguments: `65536`, `64K`, `64M`, `1G`, `16MiB`.
 * @module
 */
import { validPageSize } from "../protocol/stream_info.ts";
import { UsageError } from "./args.ts";

/** Parses a byte size with an optional binary unit. */
export function parseSize(s: string): number {
  const m = /^(\d+)\s*([KMGT])?(i?B)?$/i.exec(s.trim());
  if (!m) throw new UsageError(`bad size '${s}' (examples: 65536, 64K, 16M, 1G)`);
  const unit = m[2]?.toUpperCase();
  return Number(m[1]) * (unit ? 1024 ** ("KMGT".indexOf(unit) + 1) : 1);
}

/** Parses `--page-size`: a power of two from 512 bytes to 1 GiB (e.g. 1024, 4K, 16K, 64K). */
export function parsePageSize(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = parseSize(s);
  if (!validPageSize(n)) {
    throw new UsageError(`--page-size ${s} is not a power of two from 512 bytes to 1G`);
  }
  return n;
}
