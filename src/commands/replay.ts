/**
 * `replay` and `verify`: apply a stream to images in an output directory, then (verify)
 * compare them with expected images and explain every difference.
 * @module
 */
import { liveChannelError } from "../parse/channel_identity.ts";
import { type OpenedInput, openInput } from "../parse/input.ts";
import { oneLine, StreamError } from "../protocol/errors.ts";
import { document } from "../report/documents.ts";
import { stringifyJson } from "../report/json.ts";
import { replayText } from "../report/replay_text.ts";
import { ReplayError, type ReplayResult } from "../replay/engine.ts";
import type { ChannelInput } from "../replay/multifd_scheduler.ts";
import { replayStream } from "../replay/replay_stream.ts";
import { RestoreError, TargetError } from "../replay/targets.ts";
import { type CompareResult, verifyImages } from "../replay/verify.ts";
import { type Interruptible, interruption } from "./interrupt.ts";
import type { CommandResult, TextOut } from "./io.ts";
import { openWithVmdesc } from "./open.ts";
import { checkBaseImages, osMessage, prepareOutDir } from "./paths.ts";

/** Options of `replay` / `verify`. */
export interface ReplayCommandOptions {
  input: string | ReadableStream<Uint8Array>;
  /** Output directory; verify without it replays into a temporary directory. */
  out?: string;
  /** Base images for RAM blocks (the destination's memory before the load). */
  ram?: Map<string, string>;
  /** Base images for disks (incremental block migration). */
  disks?: Map<string, string>;
  /** Sizes of disks without a base image (otherwise the highest chunk end). */
  diskSizes?: Map<string, number>;
  /** Write into the base images instead of copies. */
  inPlace?: boolean;
  /** Expected images to compare with (verify). */
  expect?: Map<string, string>;
  json?: boolean;
  vmdesc?: string;
  /** Target page size, for streams that do not say it. */
  pageSize?: number;
  strictZeroFill?: boolean;
  /** Multifd channel captures replayed with the main stream. */
  channels?: string[];
  /** No report: the exit code says it all. */
  quiet?: boolean;
  onProgress?: (offset: number) => void;
  /** Called once the work is done, before the report is written (progress lines are cleared). */
  beforeReport?: () => void;
  /** Progress of verify's compare step: bytes compared, of the total. */
  onCompareProgress?: (done: number, total: number) => void;
  /** Ctrl-C / SIGTERM: the replay stops, partial outputs go, in-place images are restored. */
  interrupt?: Interruptible;
  /** qcow2 images: the snapshot (id or name) whose VM state is replayed. */
  snapshot?: string;
}

async function openChannels(paths: string[]): Promise<{ inputs: OpenedInput[]; error?: string }> {
  const inputs: OpenedInput[] = [];
  const live = paths.map(liveChannelError).find((e) => e);
  if (live) return { inputs, error: live };
  for (const c of paths) {
    try {
      inputs.push(await openInput(c, { readTrailer: false }));
    } catch (e) {
      for (const ci of inputs) ci.close();
      return { inputs: [], error: `--channel ${c}: ${(e as Error).message}` };
    }
  }
  return { inputs };
}

function errorText(e: unknown): string {
  if (e instanceof StreamError || e instanceof ReplayError || e instanceof TargetError) {
    return e.message;
  }
  return oneLine((e as Error).message?.split("\n")[0] ?? String(e));
}

/** Stream inputs (pipes, sockets) are closed on a signal, so that a read waiting for them ends. */
function closeOnAbort(signal: AbortSignal | undefined, inputs: OpenedInput[]): () => void {
  const streams = inputs.filter((i) => !i.reader.source.random);
  if (!signal || streams.length === 0) return () => {};
  const close = () => streams.forEach((i) => i.close());
  signal.addEventListener("abort", close, { once: true });
  return () => signal.removeEventListener("abort", close);
}

/** Unknown `--expect` names are found before the outputs are committed. */
function checkExpectNames(result: ReplayResult, expect: Map<string, string> | undefined) {
  for (const name of expect?.keys() ?? []) {
    const all = [...result.ram, ...result.disks];
    if (all.some((x) => x.name === name)) continue;
    const have = all.map((x) => x.name).join(", ") || "none";
    throw new TargetError(
      `--expect ${name}: the stream has no RAM block or disk of that name (it has: ${have})`,
    );
  }
}

/** Opens the input and channels and replays into `dir`; resolves the result or the error. */
async function replayInto(
  opts: ReplayCommandOptions,
  dir: string,
): Promise<{ result?: ReplayResult; error?: string; cause?: unknown; unrestored?: boolean }> {
  const o = await openWithVmdesc(opts.input, opts.vmdesc, { snapshot: opts.snapshot });
  if (!o.ok) return { error: o.error };
  const ch = await openChannels(opts.channels ?? []);
  if (ch.error) {
    o.input.close();
    return { error: ch.error };
  }
  const channels: ChannelInput[] = ch.inputs.map((c) => ({ name: c.name, reader: c.reader }));
  const verifying = (opts.expect?.size ?? 0) > 0;
  const signal = opts.interrupt?.signal;
  const unlisten = closeOnAbort(signal, [o.input, ...ch.inputs]);
  try {
    const result = await replayStream(o.input, {
      targets: {
        dir,
        ram: opts.ram,
        disks: opts.disks,
        diskSizes: opts.diskSizes,
        inPlace: opts.inPlace,
      },
      parse: { vmdesc: o.vmdesc, pageSize: opts.pageSize },
      trackWriters: verifying,
      checkUnwritten: (opts.ram?.size ?? 0) > 0,
      strictZeroFill: opts.strictZeroFill,
      channels,
      checkStaleSlots: verifying,
      onProgress: opts.onProgress,
      signal,
      guard: opts.interrupt?.guard.bind(opts.interrupt),
      beforeCommit: (r) => checkExpectNames(r, opts.expect),
    });
    return { result };
  } catch (e) {
    return { error: errorText(e), cause: e, unrestored: e instanceof RestoreError };
  } finally {
    unlisten();
    o.input.close();
    for (const c of ch.inputs) c.close();
  }
}

/** The checks made before any work; the one-line error of the first that fails. */
function checkPaths(opts: ReplayCommandOptions): string | undefined {
  const inputs = [
    ...(typeof opts.input === "string" ? [opts.input] : []),
    ...(opts.channels ?? []),
    ...(opts.vmdesc ? [opts.vmdesc] : []),
    ...(opts.expect?.values() ?? []),
  ];
  const base = { ram: opts.ram, disks: opts.disks, inPlace: opts.inPlace, inputs, out: opts.out };
  return checkBaseImages(base) ?? (opts.out ? prepareOutDir(opts.out) : undefined);
}

/** Runs a replay (and a verification when `expect` is given). Never throws for bad input. */
export async function runReplay(opts: ReplayCommandOptions, out: TextOut): Promise<CommandResult> {
  const verifying = (opts.expect?.size ?? 0) > 0;
  if (!opts.out && !verifying) return { code: 2, error: "replay needs --out DIR" };
  const bad = checkPaths(opts);
  if (bad) return { code: 2, error: oneLine(bad) };
  let dir = opts.out;
  if (!dir) {
    try {
      dir = await Deno.makeTempDir({ prefix: "migscope-verify-" });
    } catch (e) {
      return { code: 2, error: `cannot create a temporary directory: ${osMessage(e)}` };
    }
  }
  const temp = opts.out ? undefined : dir;
  const unguard = temp && opts.interrupt?.guard(() => Deno.removeSync(temp, { recursive: true }));
  try {
    const { result, error, cause, unrestored } = await replayInto(opts, dir);
    const stopped = interruption(opts.interrupt);
    // Interrupted: one line, unless an in-place image could not be restored (that line says so).
    if (stopped) return unrestored ? { ...stopped, error } : stopped;
    if (!result) {
      if (opts.json && error) {
        // The error object keeps the StreamError's offset, section and record.
        const doc = document("migscope-replay", {}, cause ?? new Error(error));
        await out.write(stringifyJson(doc, 2) + "\n");
        await out.flush();
      }
      return { code: 2, error: error ? oneLine(error) : error };
    }
    return await report(opts, result, out);
  } finally {
    if (temp) await Deno.remove(temp, { recursive: true }).catch(() => {});
    if (unguard) unguard();
  }
}

/** Compares with the expected images (verify) and writes the report. */
async function report(
  opts: ReplayCommandOptions,
  result: ReplayResult,
  out: TextOut,
): Promise<CommandResult> {
  const verifying = (opts.expect?.size ?? 0) > 0;
  let compares: CompareResult[] = [];
  let verifyError: string | undefined;
  try {
    if (verifying) compares = verifyImages(result, opts.expect!, opts.onCompareProgress);
  } catch (e) {
    verifyError = (e as Error).message;
  }
  if (!opts.out) {
    for (const s of [...result.ram, ...result.disks]) s.path = "(temporary)";
    compares = compares.map((c) => ({ ...c, actual: "(temporary)" }));
  }
  const differ = compares.some((c) => c.different > 0);
  const allEqual = verifying ? !differ : undefined;
  opts.beforeReport?.();
  if (!opts.quiet) {
    await out.write(
      opts.json ? replayJson(result, compares, allEqual) : replayText(result, compares, allEqual),
    );
    await out.flush();
  }
  if (verifyError) return { code: 2, error: oneLine(verifyError) };
  return { code: differ ? 1 : 0 };
}

function replayJson(r: ReplayResult, compares: CompareResult[], allEqual: boolean | undefined) {
  return stringifyJson(
    document("migscope-replay", {
      ram: r.ram,
      disks: r.disks,
      findings: r.findings,
      findingCounts: r.findingCounts,
      records: r.records,
      verify: allEqual === undefined ? undefined : { equal: allEqual, images: compares },
    }),
    2,
  ) + "\n";
}
