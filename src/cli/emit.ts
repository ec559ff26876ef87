/**
 * Arguments of `emit`.
 * @module
 */
import { parseArgs } from "node:util";
import { runEmit } from "../commands/emit.ts";
import { textOut } from "../commands/io.ts";
import { UsageError, userPath } from "./args.ts";
import { parseSize } from "./size.ts";

function pair(item: string, flag: string): [string, string] {
  const i = item.indexOf("=");
  if (i <= 0 || i === item.length - 1) {
    throw new UsageError(`${flag} takes NAME=FILE, got '${item}'`);
  }
  return [item.slice(0, i), userPath(item.slice(i + 1))];
}

/** `emit` entry point. */
export async function emitMain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: false,
    options: {
      ram: { type: "string", multiple: true },
      round: { type: "string", multiple: true },
      disk: { type: "string", multiple: true },
      output: { type: "string", short: "o" },
      machine: { type: "string" },
      "no-footers": { type: "boolean", default: false },
      xbzrle: { type: "boolean", default: false },
      "xbzrle-cache": { type: "string" },
      "zero-blocks": { type: "boolean", default: false },
      template: { type: "string" },
      stats: { type: "boolean", default: false },
      "mapped-ram": { type: "boolean", default: false },
    },
  });
  void positionals;
  if (!values.ram?.length) throw new UsageError("emit needs at least one --ram NAME=FILE");
  const ram = values.ram.map((r) => pair(r, "--ram"));
  const rounds = (values.round ?? []).map((r) => r.split(",").map((x) => pair(x, "--round")));
  const disks = (values.disk ?? []).map((d) => pair(d, "--disk"));
  const output = values.output ? (values.output === "-" ? "-" : userPath(values.output)) : "-";
  if (output === "-" && Deno.stdout.isTerminal()) {
    throw new UsageError("refusing to write a binary stream to a terminal: use -o FILE");
  }
  let cache: number | undefined;
  if (values.xbzrle || values["xbzrle-cache"]) cache = parseSize(values["xbzrle-cache"] ?? "64M");
  const res = await runEmit({
    ram,
    rounds,
    disks,
    output,
    machine: values.machine,
    footers: !values["no-footers"],
    xbzrleCacheSize: cache,
    zeroBlocks: values["zero-blocks"],
    template: values.template ? userPath(values.template) : undefined,
    stats: values.stats,
    mappedRam: values["mapped-ram"],
  }, textOut(output === "-" ? Deno.stderr : Deno.stdout));
  if (res.error) console.error(`migscope: ${res.error}`);
  return res.code;
}
