/**
 * `info`: what a file is and what is inside — container kind and header fields, then each
 * stream's machine, RAM blocks, capabilities, size and SHA-256 (text, or JSON), or with `xml`
 * the domain XML of a libvirt save image.
 * @module
 */
import { type ContainerReport, describeContainer } from "../container/describe.ts";
import { openContainer } from "../container/open.ts";
import { oneLine, printable } from "../protocol/errors.ts";
import { errorObject } from "../report/documents.ts";
import { infoJson, infoText } from "../report/info_text.ts";
import { stringifyJson } from "../report/json.ts";
import type { CommandResult, TextOut } from "./io.ts";

/** Options of `info`. */
export interface InfoOptions {
  /** One `migscope-info` JSON document instead of text. */
  json?: boolean;
  /** Print the libvirt domain XML only. */
  xml?: boolean;
  /** qcow2: describe this snapshot only (id or name). */
  snapshot?: string;
  /** Hash the container and its streams (default true). */
  digests?: boolean;
}

function message(path: string, e: unknown): string {
  const m = errorObject(e).message;
  return oneLine(`${printable(path, 200)}: ${m}`);
}

async function printXml(path: string, out: TextOut): Promise<CommandResult> {
  const c = await openContainer(path).catch((e) => e as Error);
  if (c instanceof Error) return { code: 2, error: message(path, c) };
  c.close();
  if (!c.libvirt) {
    return {
      code: 2,
      error: message(path, new Error(`no domain XML: the file is a ${c.describe}`)),
    };
  }
  await out.write(c.libvirt.xml.endsWith("\n") ? c.libvirt.xml : c.libvirt.xml + "\n");
  await out.flush();
  return { code: 0 };
}

/** The first stream error of a report, if any. */
function streamError(r: ContainerReport): unknown {
  for (const s of r.streams) {
    const e = s.error ?? s.head?.error;
    if (e !== undefined) return e;
  }
  return undefined;
}

/**
 * Runs `info` on `path`, writing to `out`. Exit code 0, or 2 with a one-line error when the
 * container cannot be read (the JSON document then carries the error) or a stream inside is
 * malformed (the report is still written).
 */
export async function runInfo(
  path: string,
  opts: InfoOptions,
  out: TextOut,
): Promise<CommandResult> {
  if (opts.xml) return await printXml(path, out);
  let report: ContainerReport;
  try {
    report = await describeContainer(path, { snapshot: opts.snapshot, digests: opts.digests });
  } catch (e) {
    if (opts.json) {
      await out.write(stringifyJson(infoJson(undefined, e), 2) + "\n");
      await out.flush();
    }
    return { code: 2, error: message(path, e) };
  }
  await out.write(opts.json ? stringifyJson(infoJson(report), 2) + "\n" : infoText(report));
  await out.flush();
  const e = streamError(report);
  return e === undefined ? { code: 0 } : { code: 2, error: message(path, e) };
}
