/**
 * `extract`: the bare QEMU stream inside a container (decompressed; a qcow2 snapshot's VM
 * state), written to a file atomically — `OUTPUT.partial`, renamed when complete, removed on
 * error — ready for `qemu-system-x86_64 -incoming "exec:cat OUTPUT"`.
 * @module
 */
import { WINDOW_CHUNK } from "../container/bytes.ts";
import { openContainer } from "../container/open.ts";
import { oneLine, printable } from "../protocol/errors.ts";
import { errorObject } from "../report/documents.ts";
import type { CommandResult, TextOut } from "./io.ts";

/** Options of `extract`. */
export interface ExtractOptions {
  /** qcow2: the snapshot (id or name). */
  snapshot?: string;
  /** Where the stream is written. */
  output: string;
  /** No summary line. */
  quiet?: boolean;
}

/** What {@link extractStream} wrote. */
export interface ExtractResult {
  bytes: number;
  describe: string;
  incomplete: boolean;
}

/**
 * Writes the stream of the container at `path` to `output` (atomically). Throws what
 * {@link openContainer} or the decompressor throws; nothing is left behind on error.
 */
export async function extractStream(
  path: string,
  output: string,
  snapshot?: string,
): Promise<ExtractResult> {
  const c = await openContainer(path, { snapshot });
  const partial = `${output}.partial`;
  let file: Deno.FsFile | undefined;
  try {
    if (c.libvirt?.format === "sparse") {
      throw new Error(
        "a sparse (mapped-ram) save image's stream uses absolute file offsets: it cannot be extracted to a bare file",
      );
    }
    file = await Deno.open(partial, { write: true, create: true, truncate: true });
    const buf = new Uint8Array(WINDOW_CHUNK * 4);
    let bytes = 0;
    for (;;) {
      const n = await c.source.read(buf);
      if (n === null) break;
      let done = 0;
      while (done < n) done += await file.write(buf.subarray(done, n));
      bytes += n;
    }
    file.close();
    file = undefined;
    await Deno.rename(partial, output);
    return { bytes, describe: c.describe, incomplete: c.incomplete };
  } catch (e) {
    file?.close();
    await Deno.remove(partial).catch(() => {});
    throw e;
  } finally {
    c.close();
  }
}

/** Runs `extract`: exit 0 with a summary line, or 2 with a one-line error. */
export async function runExtract(
  path: string,
  opts: ExtractOptions,
  out: TextOut,
): Promise<CommandResult> {
  let r: ExtractResult;
  try {
    r = await extractStream(path, opts.output, opts.snapshot);
  } catch (e) {
    return { code: 2, error: oneLine(`${printable(path, 200)}: ${errorObject(e).message}`) };
  }
  if (!opts.quiet) {
    const note = r.incomplete ? " (the container says the stream is incomplete)" : "";
    await out.write(
      `${opts.output}: ${r.bytes} bytes, the QEMU stream of the ${r.describe}${note}\n`,
    );
    await out.flush();
  }
  return { code: 0 };
}
