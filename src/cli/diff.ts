/**
 * Arguments of `diff` (help and argument mistakes are answered by src/cli/main.ts, as for every
 * command); the command is loaded when it runs.
 * @module
 */
export { DIFF_HELP } from "./help.ts";
import { printError, UsageError, userPath } from "./args.ts";
import { parseArgs } from "./parse_args.ts";

function inputPath(p: string, side: string): string {
  if (p === "-" || p.startsWith("tcp:")) {
    throw new UsageError(`diff reads each input twice: ${side} must be a file, not '${p}'`);
  }
  return userPath(p);
}

/** `diff` entry point: resolves the exit code (0 equal, 1 different, 2 bad input or usage). */
export async function diffMain(args: string[]): Promise<number> {
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
    printError("diff", res);
    return res.code;
  } finally {
    interrupt.dispose();
  }
}
