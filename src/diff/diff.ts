/**
 * `diff` as library calls: two collected streams compared aspect by aspect, and the images of
 * their two replays compared page by page; the result's `equal` is true when every aspect
 * compared is.
 * @module
 */
import type { ReplayResult } from "../replay/engine.ts";
import type { Collected } from "./collect.ts";
import { compareConfiguration } from "./configuration.ts";
import { compareDevices } from "./fields.ts";
import { compareRamBlocks } from "./ram_blocks.ts";
import { compareContent, matchReplays } from "./ram_content.ts";
import { compareSchema } from "./schema.ts";
import { compareSections } from "./sections.ts";
import type { ContentAspect, DiffResult, SchemaDiff } from "./types.ts";

export type { Collected } from "./collect.ts";
export { collectStream } from "./collect.ts";

/** The RAM content aspect of a diff that did not compare it. */
export function notCompared(reason: string): ContentAspect {
  return { compared: false, reason, equal: false, blocks: [], onlyA: [], onlyB: [] };
}

function schemaOf(a: Collected, b: Collected): SchemaDiff {
  if (a.vmdesc && b.vmdesc) return compareSchema(a.vmdesc, b.vmdesc);
  const present = { a: a.vmdesc !== undefined, b: b.vmdesc !== undefined };
  const equal = present.a === present.b;
  return { equal, present, compared: 0, added: [], removed: [], devices: [] };
}

/**
 * Compares two collected streams; `ram` is the RAM content aspect (from {@link compareReplays},
 * or {@link notCompared}).
 *
 * @example A capture against itself
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { collectStream, diffCollected, notCompared } from "./diff.ts";
 * const read = async () => {
 *   const input = await openInput("samples/small-xbzrle.mig");
 *   try {
 *     return await collectStream(input, { vmdesc: input.vmdesc });
 *   } finally {
 *     input.close();
 *   }
 * };
 * const d = diffCollected(await read(), await read(), notCompared("--no-ram"));
 * if (!d.equal || d.sections.countA === 0) throw new Error("equal, sections compared");
 * ```
 */
export function diffCollected(a: Collected, b: Collected, ram: ContentAspect): DiffResult {
  const configuration = compareConfiguration(a.summary, b.summary);
  const sections = compareSections(a.sections, b.sections);
  const ramBlocks = compareRamBlocks(a.summary, b.summary);
  const devices = compareDevices(a.devices, b.devices);
  const vmdesc = schemaOf(a, b);
  const equal = configuration.equal && sections.equal && ramBlocks.equal && devices.equal &&
    vmdesc.equal && (!ram.compared || ram.equal);
  return { equal, a: a.ref, b: b.ref, configuration, sections, ramBlocks, devices, vmdesc, ram };
}

/**
 * Why the replay of `c`'s stream alone would not be the guest's RAM, or undefined: a multifd
 * main stream (MULTIFD_FLUSH records) or a postcopy stream (pages may travel on a
 * postcopy-preempt connection) has pages on other connections; a stream that announces RAM
 * blocks but carries not one data page (QEMU 7.2's multifd main stream has only its zero pages;
 * cpr-transfer and x-ignore-shared hand the memory over otherwise) has no guest RAM to compare.
 */
export function ramCaveat(side: string, c: Collected): string | undefined {
  const r = c.summary.ram;
  const mapped = r.blocks.some((b) => b.mappedRam);
  if (r.multifdFlush > 0) {
    return `${side} is the main stream of a multifd migration: its pages travel on the other ` +
      "connections, which diff does not read";
  }
  if (r.blocks.length > 0 && !mapped && r.page + r.xbzrle + r.compressed === 0) {
    return `${side} carries no page data for its RAM blocks: a QEMU 7.2 multifd main stream, ` +
      "cpr-transfer and x-ignore-shared hand the memory over otherwise";
  }
  if (c.summary.commands.some((x) => x.name === "POSTCOPY_ADVISE")) {
    return `${side} is a postcopy stream: pages may travel on a postcopy-preempt connection, ` +
      "which diff does not read";
  }
  return undefined;
}

/** Why a replay's images are not the guest's RAM (block-not-sent), or undefined. */
export function replayCaveat(side: string, r: ReplayResult): string | undefined {
  const blocks = [
    ...new Set(r.findings.filter((f) => f.kind === "block-not-sent").map((f) => f.target)),
  ];
  if (!r.findingCounts["block-not-sent"]) return undefined;
  return `${side}: no page of ${blocks.join(", ") || "a RAM block"} is in the stream ` +
    "(x-ignore-shared, cpr-transfer or other connections): its image is not the guest's memory";
}

/**
 * Compares the images of two replays, block by block (and disk by disk) by name. Replays with
 * different target page sizes are not compared page by page (`compared` false, the reason).
 * Throws an Error when an image cannot be read.
 */
export function compareReplays(a: ReplayResult, b: ReplayResult): ContentAspect {
  const m = matchReplays(a, b);
  if (!("pairs" in m)) return m;
  return m.aspect(
    m.pairs.map(([name, kind, pathA, pathB]) =>
      compareContent(name, kind, pathA, pathB, a.pageSize)
    ),
  );
}
