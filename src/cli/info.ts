/**
 * Arguments of `info` and `extract`.
 * @module
 */
import { runExtract } from "../commands/extract.ts";
import { runInfo } from "../commands/info.ts";
import { textOut } from "../commands/io.ts";
import { UsageError, userPath } from "./args.ts";
import { parseArgs } from "./parse_args.ts";

/** `info` entry point. */
export async function infoMain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      xml: { type: "boolean", default: false },
      snapshot: { type: "string" },
      "no-digests": { type: "boolean", default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError("info takes exactly one FILE");
  if (values.xml && values.json) throw new UsageError("--xml and --json exclude each other");
  if (values.xml && values["no-digests"]) {
    throw new UsageError("--no-digests has no effect with --xml");
  }
  const res = await runInfo(userPath(positionals[0]), {
    json: values.json,
    xml: values.xml,
    snapshot: values.snapshot,
    digests: !values["no-digests"],
  }, textOut(Deno.stdout));
  if (res.error) console.error(`migscope: ${res.error}`);
  return res.code;
}

/** `extract` entry point. */
export async function extractMain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      snapshot: { type: "string" },
      quiet: { type: "boolean", default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError("extract takes exactly one FILE");
  if (!values.output) throw new UsageError("extract needs -o FILE");
  const res = await runExtract(userPath(positionals[0]), {
    output: userPath(values.output),
    snapshot: values.snapshot,
    quiet: values.quiet,
  }, textOut(Deno.stdout));
  if (res.error) console.error(`migscope: ${res.error}`);
  return res.code;
}
