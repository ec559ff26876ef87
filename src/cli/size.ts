/**
 * Size arguments: `65536`, `64K`, `64M`, `1G`, `16MiB`.
 * @module
 */
import { UsageError } from "./args.ts";

/** Parses a byte size with an optional binary unit. */
export function parseSize(s: string): number {
  const m = /^(\d+)\s*([KMGT])?(i?B)?$/i.exec(s.trim());
  if (!m) throw new UsageError(`bad size '${s}' (examples: 65536, 64K, 16M, 1G)`);
  const unit = m[2]?.toUpperCase();
  return Number(m[1]) * (unit ? 1024 ** ("KMGT".indexOf(unit) + 1) : 1);
}
