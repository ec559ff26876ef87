/**
 * replay as a library call: parse an opened input and apply it to images in a directory (or
 * in place), committing the outputs only when the whole stream applied.
 * @module
 */
import type { OpenedInput } from "../parse/input.ts";
import { type ParseOptions, parseStreamItems } from "../parse/stream.ts";
import { replayItems, type ReplayOptions, type ReplayResult } from "./engine.ts";
import { openTarget } from "./errors.ts";
import { type DirectoryTargetOptions, DirectoryTargets, RestoreError } from "./targets.ts";

/** Options of {@link replayStream}. */
export interface ReplayStreamOptions extends Omit<ReplayOptions, "input"> {
  /** Where the images go, and which base images to start from. */
  targets: DirectoryTargetOptions;
  /** How to parse the stream (vmdesc, page size, …). */
  parse?: ParseOptions;
  /**
   * Checks of the result run before the outputs are committed: a throw aborts them (nothing
   * left behind, in-place images restored) and is the replay's error.
   */
  beforeCommit?: (result: ReplayResult) => void;
  /**
   * Hands over, for the time the outputs are uncommitted, a synchronous abort of them (for a
   * signal handler that cannot wait for the replay to stop); the returned function is called
   * once they are committed or aborted.
   */
  guard?: (abort: () => void) => () => void;
}

/**
 * Replays `input` into images; on any error the partial outputs are removed, images written in
 * place are restored from their undo journals, and the error is thrown (StreamError for
 * malformed input, ReplayError where a destination would fail or for a base image or size given
 * for a name the stream does not have, the signal's reason when aborted).
 *
 * @example
 * ```ts
 * import { openInput } from "../parse/input.ts";
 * import { replayStream } from "./replay_stream.ts";
 * const dir = await Deno.makeTempDir();
 * const input = await openInput("samples/small-xbzrle.mig");
 * const result = await replayStream(input, { targets: { dir }, parse: { vmdesc: input.vmdesc } });
 * input.close();
 * if (result.ram[0].page === 0) throw new Error("pages were replayed");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function replayStream(
  input: OpenedInput,
  opts: ReplayStreamOptions,
): Promise<ReplayResult> {
  const targets = new DirectoryTargets(opts.targets);
  const unguard = opts.guard?.(() => targets.abort());
  try {
    const items = parseStreamItems(input.reader, opts.parse);
    const result = await replayItems(items, targets, {
      ...opts,
      input: input.reader.source.random,
    });
    openTarget(input.reader.pos, () => targets.checkNames());
    opts.beforeCommit?.(result);
    targets.commit();
    return result;
  } catch (e) {
    try {
      targets.abort();
    } catch (ae) {
      throw new RestoreError(`${(e as Error).message}; ${(ae as Error).message}`);
    }
    throw e;
  } finally {
    unguard?.();
  }
}
