/**
 * The `migscope` command line: argument handling only; the work is in src/commands.
 * @module
 */

import { UsageError } from "./args.ts";
import { argumentError, COMMANDS, didYouMean, HELP, overview } from "./help.ts";

/** The version `migscope --version` prints. */
export const VERSION = "0.2.0";

async function run(cmd: string, rest: string[]): Promise<number> {
  switch (cmd) {
    case "inspect":
      return await (await import("./inspect.ts")).inspectMain(rest);
    case "replay":
    case "verify": {
      const { replayMain } = await import("./replay.ts");
      return await replayMain(cmd, rest);
    }
    case "emit":
      return await (await import("./emit.ts")).emitMain(rest);
    case "info":
      return await (await import("./info.ts")).infoMain(rest);
    case "extract":
      return await (await import("./info.ts")).extractMain(rest);
    case "tap":
      return await (await import("./tap.ts")).tapMain(rest, VERSION);
    case "diff":
      return await (await import("./diff.ts")).diffMain(rest);
    case "check":
      return await (await import("./check.ts")).checkMain(rest);
    case "report":
      return await (await import("./report.ts")).reportMain(rest);
  }
  const near = didYouMean(cmd, Object.keys(COMMANDS));
  throw new UsageError(
    `unknown command '${cmd}'${near ? ` (did you mean ${near}?)` : ""} (see migscope --help)`,
  );
}

function help(topic: string | undefined): number {
  if (topic === undefined || topic === "help") {
    console.log(overview(VERSION));
    return 0;
  }
  if (!HELP[topic]) {
    const near = didYouMean(topic, Object.keys(HELP));
    throw new UsageError(`no help for '${topic}'${near ? ` (did you mean ${near}?)` : ""}`);
  }
  console.log(HELP[topic]);
  return 0;
}

/** Runs the CLI with `args`; resolves the exit code. */
export async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  try {
    if (cmd === undefined) {
      console.error(overview(VERSION));
      return 2;
    }
    if (cmd === "--version" || cmd === "-V") {
      console.log(`migscope ${VERSION} (deno ${Deno.version.deno})`);
      return 0;
    }
    if (cmd === "help" || cmd === "--help" || cmd === "-h") return help(rest[0]);
    const end = rest.indexOf("--");
    const opts = end < 0 ? rest : rest.slice(0, end);
    if (HELP[cmd] && (opts.includes("--help") || opts.includes("-h"))) return help(cmd);
    return await run(cmd, rest);
  } catch (e) {
    if (e instanceof UsageError) {
      const see = HELP[cmd] && !e.message.includes("see migscope")
        ? ` (see migscope help ${cmd})`
        : "";
      console.error(`migscope: ${e.message}${see}`);
      return 2;
    }
    if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`migscope: ${argumentError(cmd, e as Error)}`);
      return 2;
    }
    console.error(`migscope: internal error: ${(e as Error).message?.split("\n")[0] ?? e}`);
    return 3;
  }
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
