/**
 * One input read for `diff`: its summary (configuration, RAM blocks, page size), its section
 * list, its device state decoded field by field, and the vmdesc it was decoded with. Page
 * records are only counted (in batches); the RAM content is compared from replays instead.
 * @module
 */
import type { OpenedInput } from "../parse/input.ts";
import { parseStreamItems } from "../parse/stream.ts";
import type { VmDesc } from "../protocol/records.ts";
import { Summarizer, type Summary } from "../report/summary.ts";
import { uniqueVmdesc } from "./names.ts";
import type { CollectedDevice, InputRef, SectionRef } from "./types.ts";

/** What {@link collectStream} read from one input. */
export interface Collected {
  ref: InputRef;
  summary: Summary;
  /** START and FULL sections, in stream order. */
  sections: SectionRef[];
  devices: CollectedDevice[];
  /** The description the devices were decoded with: the one given, else the stream's trailer. */
  vmdesc?: VmDesc;
  /** Device sections that could not be delimited (no vmdesc inside a PACKAGED payload). */
  undelimited: number;
}

/** Options of {@link collectStream}. */
export interface CollectOptions {
  /** The description to decode device sections with (as QEMU wrote it; names are made unique). */
  vmdesc?: VmDesc;
  /** Target page size for a stream that does not say it. */
  pageSize?: number;
  /** Stops the read with the signal's reason once aborted. */
  signal?: AbortSignal;
}

/**
 * Reads `input` to its end. Throws the parser's error (a StreamError) for malformed input.
 *
 * @example
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { collectStream } from "./collect.ts";
 * const input = await openInput("samples/small-xbzrle.mig");
 * const c = await collectStream(input, { vmdesc: input.vmdesc });
 * input.close();
 * if (c.sections[0].name !== "ram" || c.devices.length !== c.summary.devices.length) {
 *   throw new Error("the ram section first, every device decoded");
 * }
 * ```
 */
export async function collectStream(
  input: OpenedInput,
  opts: CollectOptions = {},
): Promise<Collected> {
  const sum = new Summarizer({ timeline: false });
  const sections: SectionRef[] = [];
  const devices: CollectedDevice[] = [];
  let vmdesc = opts.vmdesc;
  let undelimited = 0;
  const items = parseStreamItems(input.reader, {
    vmdesc: vmdesc && uniqueVmdesc(vmdesc),
    decodeDevices: true,
    pageSize: opts.pageSize,
    payloads: false,
  });
  for await (const item of items) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    sum.add(item);
    if (item.kind === "section" && (item.type === "START" || item.type === "FULL")) {
      const { type, sectionId: id, idstr: name, instanceId: instance, version } = item;
      sections.push({ type, id, name, instance, version, position: sections.length + 1 });
    } else if (item.kind === "device") {
      devices.push({
        name: item.idstr,
        instance: item.instanceId,
        version: item.version,
        fields: item.fields ?? {},
      });
    } else if (item.kind === "vmdesc") vmdesc ??= item.json;
    else if (item.kind === "undelimited") undelimited++;
  }
  const ref = { name: input.name, ...(input.container ? { container: input.container } : {}) };
  return { ref, summary: sum.finish(), sections, devices, vmdesc, undelimited };
}
