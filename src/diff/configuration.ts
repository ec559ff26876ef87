/**
 * The configuration aspect of `diff`: machine type, validated capabilities, target page size,
 * `configuration/target-page-bits` and `configuration/uuid`.
 * @module
 */
import type { Summary } from "../report/summary.ts";
import type { ConfigDiff, ConfigItem } from "./types.ts";

type Value = ConfigItem["a"];

function same(a: Value, b: Value): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Compares the configuration of two summaries; capabilities as sets (their order on the wire
 * follows QEMU's capability table, not a choice of the user).
 *
 * @example
 * ```ts
 * import { emptySummary } from "../report/summary.ts";
 * import { compareConfiguration } from "./configuration.ts";
 * const a = emptySummary();
 * const b = emptySummary();
 * a.configuration.machine = "pc-i440fx-7.2";
 * b.configuration.machine = "pc-i440fx-10.0";
 * const d = compareConfiguration(a, b);
 * if (d.equal || d.items.filter((i) => !i.equal).map((i) => i.key).join() !== "machine") {
 *   throw new Error("only the machine differs");
 * }
 * ```
 */
export function compareConfiguration(a: Summary, b: Summary): ConfigDiff {
  const caps = (s: Summary) => [...s.configuration.capabilities].sort();
  const pairs: [ConfigItem["key"], Value, Value][] = [
    ["machine", a.configuration.machine ?? null, b.configuration.machine ?? null],
    ["capabilities", caps(a), caps(b)],
    ["page-size", a.stream.pageSize, b.stream.pageSize],
    [
      "target-page-bits",
      a.configuration.targetPageBits ?? null,
      b.configuration.targetPageBits ?? null,
    ],
    ["uuid", a.configuration.uuid ?? null, b.configuration.uuid ?? null],
  ];
  const items = pairs.map(([key, va, vb]) => ({ key, a: va, b: vb, equal: same(va, vb) }));
  return { equal: items.every((i) => i.equal), items };
}
