/**
 * `diff`: two inputs of any kind (bare stream, gzip, libvirt save image, qcow2 snapshot) read,
 * each with its own vmdesc, compared aspect by aspect; unless `noRam`, both are replayed into a
 * temporary directory (removed afterwards) and their images compared page by page.
 * @module
 */
import { compareReplaysAsync } from "../diff/ram_content.ts";
import { type OpenedInput, openInput } from "../parse/input.ts";
import { sniff, SNIFF_BYTES } from "../parse/sniff.ts";
import { parseStreamItems } from "../parse/stream.ts";
import { oneLine } from "../protocol/errors.ts";
import type { VmDesc } from "../protocol/records.ts";
import { type Collected, collectStream } from "../diff/collect.ts";
import { diffCollected, notCompared, ramCaveat, replayCaveat } from "../diff/diff.ts";
import type { ContentAspect } from "../diff/types.ts";
import type { ReplayResult } from "../replay/engine.ts";
import { replayStream } from "../replay/replay_stream.ts";
import { diffText } from "../report/diff_text.ts";
import { document, errorObject } from "../report/documents.ts";
import { stringifyJson } from "../report/json.ts";
import { type Interruptible, interruption } from "./interrupt.ts";
import type { CommandResult, TextOut } from "./io.ts";
import { openWithVmdesc } from "./open.ts";
import { osMessage } from "./paths.ts";

export type { CommandResult } from "./io.ts";

/** One side of the comparison. */
export interface DiffInput {
  /** A file: each input is read more than once (no pipes or sockets). */
  path: string;
  /** qcow2 images: the snapshot (id or name) whose VM state is compared. */
  snapshot?: string;
  /** vmdesc JSON (or another capture) to decode this input's device state with. */
  vmdesc?: string;
}

/** Options of `diff`. */
export interface DiffOptions {
  a: DiffInput;
  b: DiffInput;
  json?: boolean;
  /** Skip the RAM content comparison (no replays). */
  noRam?: boolean;
  /** Fit the text report to this many columns. */
  width?: number;
  /** Ctrl-C / SIGTERM: the reads and replays stop, the temporary directory is removed. */
  interrupt?: Interruptible;
}

/** A failure of one side: the one-line message (with A or B) and what caused it. */
class SideError extends Error {
  constructor(message: string, readonly origin?: unknown) {
    super(oneLine(message));
  }
}

function fail(side: string, e: unknown): never {
  if (e instanceof SideError) throw e;
  const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
  throw new SideError(`${side}: ${msg}`, e);
}

/** Captures of a migration's other connections, which diff does not compare. */
const CHANNELS: Record<string, string> = {
  multifd: "a multifd channel capture (magic 0x11223344), one connection of a migration",
  cpr: "a cpr-transfer channel capture (magic QCPR), one connection of a migration",
};

/** Opens one side's input (checked to be a file and a migration stream) and its vmdesc. */
async function open(side: string, x: DiffInput): Promise<{ input: OpenedInput; vmdesc?: VmDesc }> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(x.path);
  } catch (e) {
    throw new SideError(`${side}: cannot open ${x.path}: ${osMessage(e)}`);
  }
  if (!stat.isFile) {
    throw new SideError(`${side}: ${x.path} is not a regular file (diff reads each input twice)`);
  }
  const o = await openWithVmdesc(x.path, x.vmdesc, { snapshot: x.snapshot });
  if (!o.ok) {
    throw new SideError(
      `${side}: ${
        o.error.replace(/^--vmdesc /, `--vmdesc-${side.toLowerCase()} `)
          .replace(/: --snapshot /, `: --snapshot-${side.toLowerCase()} `)
      }`,
    );
  }
  try {
    const n = Math.min(await o.input.reader.peekUpTo(SNIFF_BYTES), SNIFF_BYTES);
    const kind = sniff(o.input.reader.peekBytes(n));
    if (kind.kind !== "migration") {
      const gz = o.input.gzip ? " (after gzip decompression)" : "";
      const what = CHANNELS[kind.kind] ?? kind.what;
      throw new SideError(`${side}: ${x.path}: not a QEMU migration stream${gz}: ${what}`);
    }
  } catch (e) {
    o.input.close();
    fail(side, e);
  }
  return { input: o.input, vmdesc: o.vmdesc };
}

/** The trailer of an input whose end cannot be read first (gzip, compressed containers). */
async function trailerByParsing(x: DiffInput): Promise<VmDesc | undefined> {
  const input = await openInput(x.path, { snapshot: x.snapshot });
  try {
    for await (const item of parseStreamItems(input.reader, { payloads: false })) {
      if (item.kind === "vmdesc") return item.json;
    }
  } catch {
    // The collecting read reports the stream's error where it is.
  } finally {
    input.close();
  }
  return undefined;
}

/** Reads one side: its summary, sections, devices decoded with its vmdesc. */
async function collect(side: string, x: DiffInput, signal?: AbortSignal): Promise<Collected> {
  const { input, vmdesc: given } = await open(side, x);
  try {
    const vmdesc = given ?? await trailerByParsing(x);
    const c = await collectStream(input, { vmdesc, signal });
    if (c.undelimited > 0) {
      throw new SideError(
        `${side}: ${c.undelimited} device section range(s) cannot be delimited without the vmdesc ` +
          `JSON (the stream carries none): pass --vmdesc-${side.toLowerCase()}`,
      );
    }
    return c;
  } catch (e) {
    fail(side, e);
  } finally {
    input.close();
  }
}

/** Replays one side into `dir`. */
async function replay(
  side: string,
  x: DiffInput,
  vmdesc: VmDesc | undefined,
  dir: string,
  signal?: AbortSignal,
): Promise<ReplayResult> {
  const { input } = await open(side, x);
  try {
    return await replayStream(input, { targets: { dir }, parse: { vmdesc }, signal });
  } catch (e) {
    fail(side, e);
  } finally {
    input.close();
  }
}

/** Both replays, in a temporary directory removed afterwards, compared page by page. */
async function compareRam(opts: DiffOptions, a: Collected, b: Collected): Promise<ContentAspect> {
  let dir: string;
  try {
    dir = await Deno.makeTempDir({ prefix: "migscope-diff-" });
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b`);
  } catch (e) {
    throw new SideError(`cannot create a temporary directory: ${osMessage(e)}`);
  }
  const unguard = opts.interrupt?.guard(() => Deno.removeSync(dir, { recursive: true }));
  const signal = opts.interrupt?.signal;
  try {
    const ra = await replay("A", opts.a, a.vmdesc, `${dir}/a`, signal);
    const rb = await replay("B", opts.b, b.vmdesc, `${dir}/b`, signal);
    const caveat = replayCaveat("A", ra) ?? replayCaveat("B", rb);
    if (caveat) return notCompared(caveat);
    try {
      return await compareReplaysAsync(ra, rb, signal);
    } catch (e) {
      throw new SideError(`comparing the replayed images: ${(e as Error).message}`, e);
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    unguard?.();
  }
}

async function writeError(opts: DiffOptions, out: TextOut, e: SideError): Promise<void> {
  if (!opts.json) return;
  const cause = errorObject(e.origin ?? e);
  const doc = { ...document("migscope-diff", {}), error: { ...cause, message: e.message } };
  await out.write(stringifyJson(doc, 2) + "\n");
  await out.flush();
}

/**
 * Runs `diff`, writing the report to `out`: exit 0 when equal, 1 when different, 2 for bad
 * input (one line). Never throws for bad input.
 */
export async function runDiff(opts: DiffOptions, out: TextOut): Promise<CommandResult> {
  const signal = opts.interrupt?.signal;
  try {
    const a = await collect("A", opts.a, signal);
    const b = await collect("B", opts.b, signal);
    const caveat = ramCaveat("A", a) ?? ramCaveat("B", b);
    const ram = opts.noRam
      ? notCompared("--no-ram")
      : caveat
      ? notCompared(caveat)
      : await compareRam(opts, a, b);
    const result = diffCollected(a, b, ram);
    await out.write(
      opts.json
        ? stringifyJson(document("migscope-diff", { ...result }), 2) + "\n"
        : diffText(result, { width: opts.width }),
    );
    await out.flush();
    return { code: result.equal ? 0 : 1 };
  } catch (e) {
    const stopped = interruption(opts.interrupt);
    if (stopped) return stopped;
    if (!(e instanceof SideError)) throw e;
    await writeError(opts, out, e);
    return { code: 2, error: e.message };
  }
}
