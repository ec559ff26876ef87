/**
 * The section list aspect of `diff`: START and FULL sections matched by idstr and instance id
 * (the n-th section of one idstr/instance with the n-th of the other; section ids are numbered
 * per stream and not compared) — added, removed, type or version changed, and moved.
 * @module
 */
import type { SectionChange, SectionRef, SectionsDiff } from "./types.ts";

/** Keys `idstr NUL instance NUL occurrence`, one per section, in order. */
function keys(list: SectionRef[]): string[] {
  const seen = new Map<string, number>();
  return list.map((s) => {
    const k = `${s.name}\u0000${s.instance}`;
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    return `${k}\u0000${n}`;
  });
}

/**
 * Indexes into `seq` of a longest strictly increasing subsequence (patience sorting,
 * O(n log n)).
 */
export function longestIncreasing(seq: number[]): Set<number> {
  const tails: number[] = [];
  const prev = new Array<number>(seq.length).fill(-1);
  for (let i = 0; i < seq.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]] < seq[i]) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1];
    tails[lo] = i;
  }
  const keep = new Set<number>();
  for (let i = tails.at(-1) ?? -1; i >= 0; i = prev[i]) keep.add(i);
  return keep;
}

const change = (a: SectionRef, b: SectionRef): SectionChange => ({
  name: a.name,
  instance: a.instance,
  a,
  b,
});

/**
 * Compares two section lists.
 *
 * @example
 * ```ts
 * import { compareSections } from "./sections.ts";
 * const s = (name: string, version: number, position: number) =>
 *   ({ type: "FULL", id: position, name, instance: 0, version, position });
 * const d = compareSections(
 *   [s("timer", 2, 1), s("cpu", 12, 2), s("apic", 3, 3), s("hpet", 2, 4)],
 *   [s("cpu", 12, 1), s("apic", 4, 2), s("timer", 2, 3), s("rng", 1, 4)],
 * );
 * if (d.added[0].name !== "rng" || d.removed[0].name !== "hpet") throw new Error("added/removed");
 * if (d.changed[0].name !== "apic" || d.moved.map((m) => m.name).join() !== "timer") {
 *   throw new Error("apic's version changed; timer moved behind cpu and apic");
 * }
 * ```
 */
export function compareSections(a: SectionRef[], b: SectionRef[]): SectionsDiff {
  const ka = keys(a);
  const kb = keys(b);
  const posB = new Map(kb.map((k, i) => [k, i]));
  const inA = new Set(ka);
  const removed = a.filter((_, i) => !posB.has(ka[i]));
  const added = b.filter((_, i) => !inA.has(kb[i]));
  const common = ka.flatMap((k, i) => (posB.has(k) ? [[i, posB.get(k)!]] : []));
  const changed = common.flatMap(([i, j]) =>
    a[i].type !== b[j].type || a[i].version !== b[j].version ? [change(a[i], b[j])] : []
  );
  const stay = longestIncreasing(common.map(([, j]) => j));
  const moved = common.flatMap(([i, j], n) => (stay.has(n) ? [] : [change(a[i], b[j])]));
  return {
    equal: added.length + removed.length + changed.length + moved.length === 0,
    countA: a.length,
    countB: b.length,
    added,
    removed,
    changed,
    moved,
  };
}
