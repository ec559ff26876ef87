/**
 * Arguments of `replay` and `verify`.
 * @module
 */
import { parseArgs } from "./parse_args.ts";
import type { ProgressLine } from "../report/progress.ts";
import { stderrProgress } from "./terminal.ts";
import { runReplay } from "../commands/replay.ts";
import { textOut } from "../commands/io.ts";
import { Interrupts, settled } from "../commands/interrupt.ts";
import { pairs, UsageError, userPath } from "./args.ts";
import { parsePageSize, parseSize } from "./size.ts";

/** Options that contradict each other or that nothing would act on (exit 2, one line). */
function checkConflicts(
  values: { json?: boolean; quiet?: boolean; "in-place"?: boolean },
  ram: Map<string, string>,
  disks: Map<string, string>,
  sizes: Map<string, number>,
) {
  if (values["in-place"] && ram.size + disks.size === 0) {
    throw new UsageError("--in-place writes into the --ram/--disk images: give at least one");
  }
  for (const name of sizes.keys()) {
    if (disks.has(name)) {
      throw new UsageError(
        `--disk-size ${name}: disk '${name}' has a base image (--disk), whose size it keeps`,
      );
    }
  }
  if (values.json && values.quiet) {
    throw new UsageError("--quiet prints no report, --json asks for one: give one of them");
  }
}

/** The progress line on a terminal's stderr (stream offset reached of the input's size). */
function progress(cmd: string): ProgressLine | undefined {
  return Deno.stderr.isTerminal() ? stderrProgress(cmd) : undefined;
}

function fileSize(path: string): number | undefined {
  try {
    return Deno.statSync(path).size;
  } catch {
    return undefined;
  }
}

/** `replay` / `verify` entry point. */
export async function replayMain(cmd: "replay" | "verify", args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      ram: { type: "string", multiple: true },
      disk: { type: "string", multiple: true },
      "disk-size": { type: "string", multiple: true },
      "in-place": { type: "boolean", default: false },
      expect: { type: "string", multiple: true },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      vmdesc: { type: "string" },
      "strict-zero-fill": { type: "boolean", default: false },
      channel: { type: "string", multiple: true },
      "page-size": { type: "string" },
      "no-progress": { type: "boolean", default: false },
      snapshot: { type: "string" },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`${cmd} takes exactly one CAPTURE`);
  const expect = pairs(values.expect, "--expect");
  if (cmd === "verify" && expect.size === 0) {
    throw new UsageError("verify needs at least one --expect NAME=FILE");
  }
  if (cmd === "replay" && !values.out) {
    throw new UsageError(
      "replay needs --out DIR (also with --in-place: blocks without an image are written there)",
    );
  }
  const sizes = new Map<string, number>();
  for (const [k, v] of pairs(values["disk-size"], "--disk-size", false)) sizes.set(k, parseSize(v));
  const ram = pairs(values.ram, "--ram");
  const disks = pairs(values.disk, "--disk");
  checkConflicts(values, ram, disks, sizes);
  const input = userPath(positionals[0]);
  const line = values.quiet || values["no-progress"] ? undefined : progress(cmd);
  const size = line ? fileSize(input) : undefined;
  let compare: ProgressLine | undefined;
  const interrupt = new Interrupts();
  try {
    const res = settled(
      await runReplay({
        input,
        out: values.out ? userPath(values.out) : undefined,
        ram,
        disks,
        diskSizes: sizes,
        inPlace: values["in-place"],
        expect,
        json: values.json,
        quiet: values.quiet,
        vmdesc: values.vmdesc ? userPath(values.vmdesc) : undefined,
        snapshot: values.snapshot,
        strictZeroFill: values["strict-zero-fill"],
        pageSize: parsePageSize(values["page-size"]),
        channels: (values.channel ?? []).map(userPath),
        onProgress: line &&
          ((off: number) => line.update(off, size !== undefined && off <= size ? size : undefined)),
        beforeReport: () => {
          line?.clear();
          compare?.clear();
        },
        onCompareProgress: line && ((done: number, total: number) => {
          line.clear();
          (compare ??= progress(`${cmd}: compare`))?.update(done, total);
        }),
        interrupt,
      }, textOut(Deno.stdout)),
      interrupt,
    );
    line?.clear();
    compare?.clear();
    if (res.error) console.error(`migscope: ${res.error}`);
    return res.code;
  } finally {
    interrupt.dispose();
  }
}
