/**
 * The error a replay stops with where a QEMU destination would fail too.
 * @module
 */
import { oneLine } from "../protocol/errors.ts";

/**
 * A replay that cannot continue; names the stream offset.
 *
 * @example A base image whose size contradicts the stream's MEM_SIZE
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { replayStream } from "./replay_stream.ts";
 * import { ReplayError } from "./errors.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/base.ram`, new Uint8Array(4096)); // the stream's pc.ram is 8 MiB
 * const input = await openInput("samples/small-xbzrle.mig");
 * let error: unknown;
 * try {
 *   await replayStream(input, {
 *     targets: { dir, ram: new Map([["pc.ram", `${dir}/base.ram`]]) },
 *     parse: { vmdesc: input.vmdesc },
 *   });
 * } catch (e) {
 *   error = e;
 * }
 * input.close();
 * await Deno.remove(dir, { recursive: true });
 * if (!(error instanceof ReplayError) || !error.message.includes("the stream says 8388608")) {
 *   throw new Error("the replay stops at the MEM_SIZE record");
 * }
 * ```
 */
export class ReplayError extends Error {
  /** An error at stream offset `offset`; the message starts with the offset. */
  constructor(readonly offset: number, message: string) {
    super(oneLine(`offset ${offset} (0x${offset.toString(16)}): ${message}`));
    this.name = "ReplayError";
  }
}

/**
 * Opens a target for the record at `offset`; a failure (a base image of the wrong size, a
 * name clash, an OS error) becomes a ReplayError naming that record.
 */
export function openTarget<T>(offset: number, open: () => T): T {
  try {
    return open();
  } catch (e) {
    throw new ReplayError(offset, (e as Error).message.split("\n")[0]);
  }
}
