/**
 * Opening a command's input together with the vmdesc it will be parsed with.
 * @module
 */
import { loadVmdesc, type OpenedInput, openInput, type OpenOptions } from "../parse/input.ts";
import type { VmDesc } from "../protocol/records.ts";

/** An opened input and its vmdesc, or the one-line error for exit 2. */
export type OpenedWithVmdesc =
  | { ok: true; input: OpenedInput; vmdesc?: VmDesc }
  | { ok: false; error: string };

/** Opens `input`; `vmdescPath` (from --vmdesc) overrides the trailer read up front. */
export async function openWithVmdesc(
  input: string | ReadableStream<Uint8Array>,
  vmdescPath: string | undefined,
  opts: OpenOptions = {},
): Promise<OpenedWithVmdesc> {
  let opened: OpenedInput;
  try {
    opened = await openInput(input, opts);
  } catch (e) {
    const name = typeof input === "string" ? input : "input";
    return { ok: false, error: `cannot open ${name}: ${(e as Error).message}` };
  }
  if (!vmdescPath) return { ok: true, input: opened, vmdesc: opened.vmdesc };
  try {
    return { ok: true, input: opened, vmdesc: await loadVmdesc(vmdescPath) };
  } catch (e) {
    opened.close();
    return { ok: false, error: `--vmdesc ${vmdescPath}: ${(e as Error).message}` };
  }
}
