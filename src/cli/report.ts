/**
 * Arguments of `report` (help and argument mistakes are answered by src/cli/main.ts, as for
 * every command); the command is loaded when it runs.
 * @module
 */
import { pairs, printError, UsageError, userPath } from "./args.ts";
import { parseArgs } from "./parse_args.ts";
import { parsePageSize } from "./size.ts";

/** `report` entry point: resolves the exit code (0 written, 2 bad input or usage). */
export async function reportMain(args: string[]): Promise<number> {
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
  const expect = pairs(values.expect, "--expect");
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
    printError("report", res);
    return res.code;
  } finally {
    interrupt.dispose();
  }
}
