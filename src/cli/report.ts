/**
 * Arguments of `report`. {@link reportMain} answers its own help and argument mistakes (one
 * line, exit 2); the command is loaded when it runs.
 * @module
 */
import { REPORT_HELP } from "./help.ts";
import { UsageError, userPath } from "./args.ts";
import { ArgumentError, parseArgs } from "./parse_args.ts";
import { parsePageSize } from "./size.ts";

/** The options REPORT_HELP lists (for "did you mean"). */
const OPTIONS = [...new Set(REPORT_HELP.match(/--[a-z][a-z-]*/g) ?? [])];

/** An argument mistake in one line. */
async function mistake(e: ArgumentError): Promise<string> {
  const { argumentError, didYouMean } = await import("./help.ts");
  if (e.code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") return argumentError("report", e);
  const opt = (/'([^']*)'/.exec(e.message)?.[1] ?? "").split("=")[0];
  const near = didYouMean(opt, OPTIONS);
  return `report: unknown option '${opt}'${near ? ` (did you mean ${near}?)` : ""} ` +
    "(see migscope help report)";
}

/** `--expect NAME=FILE` pairs. */
function expectations(list: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const item of list ?? []) {
    const i = item.indexOf("=");
    if (i <= 0 || i === item.length - 1) {
      throw new UsageError(`--expect takes NAME=FILE, got '${item}'`);
    }
    const name = item.slice(0, i);
    if (m.has(name)) throw new UsageError(`--expect names '${name}' twice`);
    m.set(name, userPath(item.slice(i + 1)));
  }
  return m;
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      channel: { type: "string", multiple: true },
      snapshot: { type: "string" },
      vmdesc: { type: "string" },
      "page-size": { type: "string" },
      expect: { type: "string", multiple: true },
      quiet: { type: "boolean", default: false },
    },
  });
  if (positionals.length !== 1) {
    throw new UsageError(`report takes exactly one INPUT, got ${positionals.length}`);
  }
  if (!values.output) throw new UsageError("report needs -o FILE (the HTML file to write)");
  const expect = expectations(values.expect);
  const pageSize = parsePageSize(values["page-size"]);
  const { runReport } = await import("../commands/report.ts");
  const { Interrupts, settled } = await import("../commands/interrupt.ts");
  const { textOut } = await import("../commands/io.ts");
  const interrupt = new Interrupts();
  try {
    const res = settled(
      await runReport({
        input: userPath(positionals[0]),
        output: userPath(values.output),
        channels: values.channel?.map(userPath),
        snapshot: values.snapshot,
        vmdesc: values.vmdesc ? userPath(values.vmdesc) : undefined,
        pageSize,
        expect,
        quiet: values.quiet,
        onListen: (port) => console.error(`migscope: listening on port ${port}`),
        interrupt,
      }, textOut(Deno.stdout)),
      interrupt,
    );
    const interrupted = res.code === 130 || res.code === 143;
    if (res.error) console.error(`migscope: ${interrupted ? "" : "report: "}${res.error}`);
    return res.code;
  } finally {
    interrupt.dispose();
  }
}

/** `report` entry point: resolves the exit code (0 written, 2 bad input or usage). */
export async function reportMain(args: string[]): Promise<number> {
  const end = args.indexOf("--");
  const opts = end < 0 ? args : args.slice(0, end);
  if (opts.includes("--help") || opts.includes("-h")) {
    console.log(REPORT_HELP);
    return 0;
  }
  try {
    return await run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`migscope: ${e.message} (see migscope help report)`);
      return 2;
    }
    if (e instanceof ArgumentError) {
      console.error(`migscope: ${await mistake(e)}`);
      return 2;
    }
    throw e;
  }
}
