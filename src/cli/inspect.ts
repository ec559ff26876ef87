/**
 * Arguments of `inspect`.
 * @module
 */
import { parseArgs } from "./parse_args.ts";
import { runInspect } from "../commands/inspect.ts";
import { describeFilter } from "../commands/inspect_records.ts";
import {
  filterEmpty,
  RECORD_KINDS,
  type RecordFilter,
  type RecordKind,
} from "../report/records_text.ts";
import { textOut } from "../commands/io.ts";
import type { ProgressLine } from "../report/progress.ts";
import { stderrProgress, terminalWidth } from "./terminal.ts";
import { UsageError, userPath } from "./args.ts";
import { parsePageSize } from "./size.ts";

/** The option values that decide what inspect writes. */
interface OutputFlags {
  records: boolean;
  json: boolean;
  ndjson: boolean;
  deviceState: boolean;
  quiet?: boolean;
}

/**
 * The first combination of output options inspect would not act on, as the one-line reason,
 * or undefined when they fit together.
 */
export function outputConflict(f: OutputFlags): string | undefined {
  if (f.json && f.ndjson) return "--json and --ndjson exclude each other";
  for (
    const [on, flag] of [[f.json, "--json"], [f.ndjson, "--ndjson"], [f.records, "--records"], [
      f.deviceState,
      "--device-state",
    ]] as const
  ) {
    if (f.quiet && on) return `--quiet prints no report, ${flag} asks for one: give one of them`;
  }
  if (f.records && f.json) {
    return "--records lists records as text and --json writes one document: use --ndjson for " +
      "one JSON record per line";
  }
  if (f.records && f.ndjson) return "--ndjson already writes every record: drop --records";
  if (f.deviceState && f.records) return "--device-state and --records exclude each other";
  if (f.deviceState && f.ndjson) {
    return "--device-state writes one JSON document: it cannot be combined with --ndjson";
  }
  return undefined;
}

function integers(list: string[] | undefined, flag: string, min: number): number[] {
  return (list ?? []).map((v) => {
    if (!/^\d+$/.test(v) || Number(v) < min) {
      throw new UsageError(
        `${flag} takes ${min ? "a pass number from 1" : "a section id"}, got '${v}'`,
      );
    }
    return Number(v);
  });
}

/** The `--records` filter of `--block`, `--pass`, `--kind` and `--section` (each repeatable). */
export function recordFilter(
  v: { block?: string[]; pass?: string[]; kind?: string[]; section?: string[] },
): RecordFilter {
  const kinds = (v.kind ?? []).map((k) => {
    const kind = k.toLowerCase().replaceAll("_", "-") as RecordKind;
    if (!RECORD_KINDS.includes(kind)) {
      throw new UsageError(`--kind ${k}: the kinds are ${RECORD_KINDS.join(", ")}`);
    }
    return kind;
  });
  return {
    blocks: v.block ?? [],
    passes: integers(v.pass, "--pass", 1),
    kinds,
    sections: integers(v.section, "--section", 0),
  };
}

/**
 * The progress line on stderr, or undefined: only when stderr is a terminal, not with --quiet
 * or --no-progress, and not when rows stream to the same terminal as stdout (--records,
 * --ndjson), where they would tear the line.
 */
export function progressLine(w: {
  quiet: boolean;
  noProgress: boolean;
  streamed: boolean;
  stderrTerminal: boolean;
  stdoutTerminal: boolean;
}): ProgressLine | undefined {
  if (w.quiet || w.noProgress || !w.stderrTerminal || (w.streamed && w.stdoutTerminal)) {
    return undefined;
  }
  return stderrProgress("inspect");
}

/** `inspect` entry point. */
export async function inspectMain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      records: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      ndjson: { type: "boolean", default: false },
      "device-state": { type: "boolean", default: false },
      vmdesc: { type: "string" },
      footers: { type: "string", default: "auto" },
      "hugepage-block": { type: "string", multiple: true },
      "page-size": { type: "string" },
      snapshot: { type: "string" },
      channel: { type: "string", multiple: true },
      block: { type: "string", multiple: true },
      pass: { type: "string", multiple: true },
      kind: { type: "string", multiple: true },
      section: { type: "string", multiple: true },
      quiet: { type: "boolean", default: false },
      "no-progress": { type: "boolean", default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError("inspect takes exactly one INPUT");
  if (!["on", "off", "auto"].includes(values.footers!)) {
    throw new UsageError("--footers takes on, off or auto");
  }
  const conflict = outputConflict({
    records: values.records!,
    json: values.json!,
    ndjson: values.ndjson!,
    deviceState: values["device-state"]!,
    quiet: values.quiet!,
  });
  if (conflict) throw new UsageError(conflict);
  if (values.channel?.length && values["device-state"]) {
    throw new UsageError("--device-state shows the main stream's devices only: drop --channel");
  }
  const filter = recordFilter(values);
  if (!values.records && !filterEmpty(filter)) {
    throw new UsageError(
      `${describeFilter(filter).split(" ")[0]} selects --records rows: add --records`,
    );
  }
  const out = textOut(Deno.stdout);
  const res = await runInspect({
    input: userPath(positionals[0]),
    format: values.json ? "json" : values.ndjson ? "ndjson" : "text",
    records: values.records!,
    filter,
    deviceState: values["device-state"]!,
    vmdesc: values.vmdesc ? userPath(values.vmdesc) : undefined,
    footers: values.footers as "on" | "off" | "auto",
    hugePageBlocks: values["hugepage-block"],
    pageSize: parsePageSize(values["page-size"]),
    snapshot: values.snapshot,
    channels: values.channel?.map(userPath),
    onListen: (port) => console.error(`migscope: listening on port ${port}`),
    width: terminalWidth(),
    quiet: values.quiet!,
    progress: progressLine({
      quiet: values.quiet!,
      noProgress: values["no-progress"]!,
      streamed: values.records! || values.ndjson!,
      stderrTerminal: Deno.stderr.isTerminal(),
      stdoutTerminal: Deno.stdout.isTerminal(),
    }),
  }, out);
  if (res.error) console.error(`migscope: ${res.error}`);
  return res.code;
}
