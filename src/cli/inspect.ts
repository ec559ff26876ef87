/**
 * Arguments of `inspect`.
 * @module
 */
import { parseArgs } from "node:util";
import { runInspect } from "../commands/inspect.ts";
import { textOut } from "../commands/io.ts";
import { UsageError, userPath } from "./args.ts";
import { parsePageSize } from "./size.ts";

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
    },
  });
  if (positionals.length !== 1) throw new UsageError("inspect takes exactly one INPUT");
  if (!["on", "off", "auto"].includes(values.footers!)) {
    throw new UsageError("--footers takes on, off or auto");
  }
  if (values.json && values.ndjson) throw new UsageError("--json and --ndjson exclude each other");
  const out = textOut(Deno.stdout);
  const res = await runInspect({
    input: userPath(positionals[0]),
    format: values.json ? "json" : values.ndjson ? "ndjson" : "text",
    records: values.records!,
    deviceState: values["device-state"]!,
    vmdesc: values.vmdesc ? userPath(values.vmdesc) : undefined,
    footers: values.footers as "on" | "off" | "auto",
    hugePageBlocks: values["hugepage-block"],
    pageSize: parsePageSize(values["page-size"]),
    onListen: (port) => console.error(`migscope: listening on port ${port}`),
  }, out);
  if (res.error) console.error(`migscope: ${res.error}`);
  return res.code;
}
