/**
 * `inspect` of a cpr-transfer channel capture (magic `QCPR`): the file descriptors the source
 * QEMU hands over, by name and id.
 * @module
 */
import type { OpenedInput } from "../parse/input.ts";
import { type CprFd, readCprChannel } from "../parse/cpr.ts";
import { document, errorObject, ndjsonError, ndjsonHeader } from "../report/documents.ts";
import { stringifyJson } from "../report/json.ts";
import { cprFdRow, type CprSummary, cprText } from "../report/cpr_text.ts";
import type { CommandResult, TextOut } from "./io.ts";

/** What {@link inspectCpr} takes from inspect's options. */
export interface CprOptions {
  format: "text" | "json" | "ndjson";
  /** Fit the text to this many columns. */
  width?: number;
}

/** An fd as JSON: without the `kind` the NDJSON lines carry. */
function fdJson(fd: CprFd) {
  return { index: fd.index, name: fd.name, id: fd.id, offset: fd.offset, fdOffset: fd.fdOffset };
}

/** Inspects an opened cpr channel capture. */
export async function inspectCpr(
  input: OpenedInput,
  opts: CprOptions,
  out: TextOut,
): Promise<CommandResult> {
  const { format } = opts;
  // Every key from the start, so the JSON keys keep this order.
  const s: CprSummary = {
    magic: undefined,
    version: undefined,
    fds: 0,
    names: 0,
    endOffset: undefined,
    bytes: 0,
  };
  const names = new Set<string>();
  const fds: CprFd[] = [];
  let error: Error | undefined;
  if (format === "ndjson") {
    await out.write(stringifyJson(ndjsonHeader("migscope-cpr-ndjson")) + "\n");
  }
  try {
    for await (const item of readCprChannel(input.reader, input.name)) {
      if (item.kind === "header") {
        s.magic = item.magic;
        s.version = item.version;
        s.bytes = 8;
      } else if (item.kind === "fd") {
        fds.push(item);
        names.add(item.name);
        s.fds++;
        s.names = names.size;
        s.bytes = item.fdOffset + 1;
      } else {
        s.endOffset = item.offset;
        s.bytes = item.length;
      }
      if (format === "ndjson") await out.write(stringifyJson(item) + "\n");
    }
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
  } finally {
    input.close();
  }
  if (format === "json") {
    const doc = document("migscope-cpr", { summary: s, fds: fds.map(fdJson) }, error);
    await out.write(stringifyJson(doc, 2) + "\n");
  } else if (format === "ndjson") {
    await out.write(stringifyJson({ kind: "summary", ...s }) + "\n");
    if (error) await out.write(stringifyJson(ndjsonError(error)) + "\n");
  } else {
    await out.write(cprText(input.name, s, fds.map(cprFdRow), { width: opts.width }));
  }
  await out.flush();
  return error ? { code: 2, error: errorObject(error).message } : { code: 0 };
}
