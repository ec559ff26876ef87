/**
 * The data a `migscope report` page carries (embedded as JSON, rendered by the page's script):
 * inspect's summary, the timeline bands, the dirty passes, the RAM map, the channels and the
 * verify verdict.
 * @module
 */
import type { CompareResult } from "../../replay/verify.ts";
import type { FindingKind } from "../../replay/findings.ts";
import type { ChannelReport } from "../channel_text.ts";
import { type ErrorObject, errorObject } from "../documents.ts";
import type { Summary } from "../summary_types.ts";
import { MAX_MARKERS, type TimelineJson } from "./bands.ts";
import type { Collected } from "./collect.ts";
import type { BlockGridJson, PassStats } from "./ram_map.ts";

/** What was read. */
export interface InputFacts {
  name: string;
  container?: string;
  gzip: boolean;
  /** Size of the file, when known. */
  size?: number;
  incomplete?: boolean;
}

/** verify's verdict, per image. */
export interface VerifyJson {
  equal: boolean;
  images: CompareResult[];
  findingCounts: Partial<Record<FindingKind, number>>;
}

/** Everything the page shows. */
export interface ReportData {
  generator: string;
  input: InputFacts;
  /** inspect's summary (`commands` cut to the first {@link MAX_MARKERS}). */
  summary: Summary;
  /** Commands in the stream (summary.commands may hold fewer). */
  commandsTotal: number;
  timeline: TimelineJson;
  passes: PassStats[];
  ram: { pageSize: number; maxCells: number; unmapped: number; blocks: BlockGridJson[] };
  channels?: ChannelReport[];
  verify?: VerifyJson;
  error?: ErrorObject;
}

/** The page's data from a collected stream (and its channels and verify verdict). */
export function reportData(
  input: InputFacts,
  c: Collected,
  extra: { channels?: ChannelReport[]; verify?: VerifyJson; error?: unknown } = {},
): ReportData {
  const commands = c.summary.commands;
  const summary = { ...c.summary, commands: commands.slice(0, MAX_MARKERS) };
  const withDiff = extra.verify !== undefined;
  const error = extra.error ?? c.error;
  return {
    generator: "migscope report",
    input,
    summary,
    commandsTotal: commands.length,
    timeline: c.bands.toJson(),
    passes: c.map.passes(),
    ram: {
      pageSize: c.summary.stream.pageSize,
      maxCells: c.map.maxCells,
      unmapped: c.map.unmapped,
      blocks: [...c.map.grids.values()].map((g) => g.toJson(withDiff)),
    },
    ...(extra.channels ? { channels: extra.channels } : {}),
    ...(extra.verify ? { verify: extra.verify } : {}),
    ...(error !== undefined ? { error: errorObject(error) } : {}),
  };
}
