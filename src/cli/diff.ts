/**
 * Arguments of `diff`. {@link diffMain} answers its own help and argument mistakes (one line,
 * exit 2). Its help text lives in src/cli/help.ts with the other commands'; only light modules
 * are imported up front, the command when it runs.
 * @module
 */
export { DIFF_HELP } from "./help.ts";
import { UsageError, userPath } from "./args.ts";
import { DIFF_HELP } from "./help.ts";
import { ArgumentError, parseArgs } from "./parse_args.ts";

/** The options DIFF_HELP lists (for "did you mean"). */
const OPTIONS = [...new Set(DIFF_HELP.match(/--[a-z][a-z-]*/g) ?? [])];

/** An argument mistake in one line of our words (see src/cli/help.ts argumentError). */
async function mistake(e: ArgumentError): Promise<string> {
  const { argumentError, didYouMean } = await import("./help.ts");
  if (e.code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") return argumentError("diff", e);
  const opt = (/'([^']*)'/.exec(e.message)?.[1] ?? "").split("=")[0];
  const near = didYouMean(opt, OPTIONS);
  return `diff: unknown option '${opt}'${near ? ` (did you mean ${near}?)` : ""} ` +
    "(see migscope help diff)";
}

function inputPath(p: string, side: string): string {
  if (p === "-" || p.startsWith("tcp:")) {
    throw new UsageError(`diff reads each input twice: ${side} must be a file, not '${p}'`);
  }
  return userPath(p);
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      "no-ram": { type: "boolean", default: false },
      "snapshot-a": { type: "string" },
      "snapshot-b": { type: "string" },
      "vmdesc-a": { type: "string" },
      "vmdesc-b": { type: "string" },
    },
  });
  if (positionals.length !== 2) {
    throw new UsageError(`diff takes two inputs A and B, got ${positionals.length}`);
  }
  const side = (p: string, s: "A" | "B", snapshot?: string, vmdesc?: string) => ({
    path: inputPath(p, s),
    snapshot,
    vmdesc: vmdesc ? userPath(vmdesc) : undefined,
  });
  const { runDiff } = await import("../commands/diff.ts");
  const { Interrupts, settled } = await import("../commands/interrupt.ts");
  const { textOut } = await import("../commands/io.ts");
  const { terminalWidth } = await import("./terminal.ts");
  const interrupt = new Interrupts();
  try {
    const res = settled(
      await runDiff({
        a: side(positionals[0], "A", values["snapshot-a"], values["vmdesc-a"]),
        b: side(positionals[1], "B", values["snapshot-b"], values["vmdesc-b"]),
        json: values.json,
        noRam: values["no-ram"],
        width: terminalWidth(),
        interrupt,
      }, textOut(Deno.stdout)),
      interrupt,
    );
    // An interruption is told as every command tells it (see src/commands/interrupt.ts).
    const interrupted = res.code === 130 || res.code === 143;
    if (res.error) console.error(`migscope: ${interrupted ? "" : "diff: "}${res.error}`);
    return res.code;
  } finally {
    interrupt.dispose();
  }
}

/** `diff` entry point: resolves the exit code (0 equal, 1 different, 2 bad input or usage). */
export async function diffMain(args: string[]): Promise<number> {
  const end = args.indexOf("--");
  const opts = end < 0 ? args : args.slice(0, end);
  if (opts.includes("--help") || opts.includes("-h")) {
    console.log(DIFF_HELP);
    return 0;
  }
  try {
    return await run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`migscope: ${e.message} (see migscope help diff)`);
      return 2;
    }
    if (e instanceof ArgumentError) {
      console.error(`migscope: ${await mistake(e)}`);
      return 2;
    }
    throw e;
  }
}
