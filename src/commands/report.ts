/**
 * `report`: one self-contained HTML file about a migration stream — the section timeline, the
 * dirty passes, the RAM map, XBZRLE, block migration, devices, channels and (with --expect)
 * the pages that differ after a replay. Written as `OUTPUT.partial` and renamed when complete;
 * nothing is left on an error or a signal.
 * @module
 */
import { type OpenedInput, openInput } from "../parse/input.ts";
import { sniff, SNIFF_BYTES } from "../parse/sniff.ts";
import { oneLine } from "../protocol/errors.ts";
import { errorObject } from "../report/documents.ts";
import { collectChannels } from "../report/html/channels.ts";
import { type Collected, collectStream } from "../report/html/collect.ts";
import { type InputFacts, reportData, type VerifyJson } from "../report/html/data.ts";
import { reportHtml } from "../report/html/page.ts";
import { compareIntoGrid } from "../report/html/verify_cells.ts";
import { replayStream } from "../replay/replay_stream.ts";
import type { ReplayResult } from "../replay/engine.ts";
import { type Interruptible, interruption } from "./interrupt.ts";
import type { CommandResult, TextOut } from "./io.ts";
import { openWithVmdesc } from "./open.ts";
import { checkOutputFile, osMessage } from "./paths.ts";

/** Options of `report`. */
export interface ReportOptions {
  input: string | ReadableStream<Uint8Array>;
  /** The HTML file to write. */
  output: string;
  /** The migration's other connections (multifd, postcopy-preempt). */
  channels?: string[];
  /** qcow2 images: the snapshot (id or name) whose VM state is reported. */
  snapshot?: string;
  /** vmdesc JSON or another capture, for streams without a trailer. */
  vmdesc?: string;
  /** Target page size, for streams that do not say it. */
  pageSize?: number;
  /** Expected images by RAM block or disk name: replay, compare, differing pages on the map. */
  expect?: Map<string, string>;
  /** Cells per RAM block at most (default 4096). */
  maxCells?: number;
  onListen?: (port: number) => void;
  /** No line on success. */
  quiet?: boolean;
  /** Ctrl-C / SIGTERM: the work stops and the partial output goes. */
  interrupt?: Interruptible;
}

/** The one-line error of an input that is not a main migration stream, if it is not. */
async function notMainStream(input: OpenedInput): Promise<string | undefined> {
  let what;
  try {
    const n = Math.min(await input.reader.peekUpTo(SNIFF_BYTES), SNIFF_BYTES);
    what = sniff(input.reader.peekBytes(n));
  } catch (e) {
    return errorObject(e).message;
  }
  if (what.kind === "migration") return undefined;
  if (what.kind === "multifd") {
    return `${input.name} is a multifd channel capture: give the main stream as INPUT and this ` +
      "file as --channel";
  }
  if (what.kind === "cpr") return `${input.name} is a cpr-transfer channel: it carries no RAM`;
  const gz = input.gzip ? " (after gzip decompression)" : "";
  return `offset 0 (0x0), file header: not a QEMU migration stream${gz}: ${what.what}`;
}

/** Replays the input again into a temporary directory and compares with the expected images. */
async function verify(opts: ReportOptions, c: Collected): Promise<VerifyJson> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-report-" });
  const unguard = opts.interrupt?.guard(() => Deno.removeSync(dir, { recursive: true }));
  const channels: OpenedInput[] = [];
  const o = await openWithVmdesc(opts.input, opts.vmdesc, { snapshot: opts.snapshot });
  try {
    if (!o.ok) throw new Error(o.error);
    for (const path of opts.channels ?? []) {
      channels.push(await openInput(path, { readTrailer: false }));
    }
    const result = await replayStream(o.input, {
      targets: { dir },
      parse: { vmdesc: o.vmdesc, pageSize: opts.pageSize },
      trackWriters: true,
      channels: channels.map((ch) => ({ name: ch.name, reader: ch.reader })),
      signal: opts.interrupt?.signal,
    });
    return compareAll(opts.expect!, result, c);
  } finally {
    if (o.ok) o.input.close();
    for (const ch of channels) ch.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    unguard?.();
  }
}

function compareAll(expect: Map<string, string>, result: ReplayResult, c: Collected): VerifyJson {
  const images = [];
  const all = [...result.ram, ...result.disks];
  for (const [name, file] of expect) {
    const s = result.ram.find((x) => x.name === name) ?? result.disks.find((x) => x.name === name);
    if (!s) {
      const have = all.map((x) => x.name).join(", ") || "none";
      throw new Error(
        `--expect ${name}: the stream has no RAM block or disk of that name (it has: ${have})`,
      );
    }
    const isRam = result.ram.includes(s);
    const writers = result.writers.get(isRam ? name : `disk:${name}`);
    const grid = isRam ? c.map.grids.get(name) : undefined;
    try {
      const r = compareIntoGrid(name, s.path, file, result.pageSize, writers, grid);
      images.push({ ...r, actual: "(temporary)" });
    } catch (e) {
      throw new Error(`--expect ${name}=${file}: ${(e as Error).message}`);
    }
  }
  const equal = images.every((i) => i.different === 0);
  return { equal, images, findingCounts: result.findingCounts };
}

/** Writes `text` to `output` through `output.partial`; nothing is left behind on a failure. */
async function writeAtomically(output: string, bytes: Uint8Array, interrupt?: Interruptible) {
  const partial = `${output}.partial`;
  const unguard = interrupt?.guard(() => Deno.removeSync(partial));
  try {
    await Deno.writeFile(partial, bytes);
    await Deno.rename(partial, output);
  } catch (e) {
    await Deno.remove(partial).catch(() => {});
    throw new Error(`-o ${output}: ${osMessage(e)}`);
  } finally {
    unguard?.();
  }
}

/** The checks made before any work; the one-line error of the first that fails. */
function checkArgs(opts: ReportOptions): string | undefined {
  const piped = typeof opts.input !== "string" || opts.input === "-" ||
    opts.input.startsWith("tcp:");
  if (piped && opts.expect?.size) {
    return "--expect replays the input after reading it: INPUT must be a file, not a pipe or socket";
  }
  const inputs: [string, string][] = [
    ...(typeof opts.input === "string" ? [["INPUT", opts.input] as [string, string]] : []),
    ...(opts.channels ?? []).map((c) => ["--channel", c] as [string, string]),
    ...[...(opts.expect ?? [])].map(([n, f]) => [`--expect ${n}`, f] as [string, string]),
  ];
  return checkOutputFile(opts.output, inputs);
}

/** Reads the input (and channels, and verifies) into the page's data; throws a one-line Error. */
async function gather(opts: ReportOptions) {
  const o = await openWithVmdesc(opts.input, opts.vmdesc, {
    snapshot: opts.snapshot,
    onListen: opts.onListen,
  });
  if (!o.ok) throw new Error(o.error);
  const input = o.input;
  let c: Collected;
  const facts: InputFacts = {
    name: input.name,
    container: input.container,
    gzip: input.gzip,
    size: input.size,
    incomplete: input.incomplete,
  };
  // A pipe or socket is closed on a signal, so that a read waiting for it ends.
  const signal = opts.interrupt?.signal;
  const close = () => input.close();
  if (!input.reader.source.random) signal?.addEventListener("abort", close, { once: true });
  try {
    const bad = await notMainStream(input);
    if (bad) throw new Error(bad);
    c = await collectStream(input, {
      vmdesc: o.vmdesc,
      pageSize: opts.pageSize,
      maxCells: opts.maxCells,
      signal: opts.interrupt?.signal,
    });
  } finally {
    signal?.removeEventListener("abort", close);
    input.close();
  }
  if (c.error) throw c.error;
  const ch = opts.channels?.length
    ? await collectChannels(opts.channels, c.summary, c.map)
    : undefined;
  if (ch?.error) throw ch.error;
  const verified = opts.expect?.size ? await verify(opts, c) : undefined;
  return reportData(facts, c, { channels: ch?.channels, verify: verified });
}

/** Runs `report`. Never throws for bad input: exit 2 with one line. */
export async function runReport(opts: ReportOptions, out: TextOut): Promise<CommandResult> {
  const bad = checkArgs(opts);
  if (bad) return { code: 2, error: oneLine(bad) };
  try {
    const data = await gather(opts);
    const html = new TextEncoder().encode(await reportHtml(data));
    await writeAtomically(opts.output, html, opts.interrupt);
    if (!opts.quiet) {
      const v = data.verify;
      const differ = v ? v.images.reduce((a, i) => a + i.different, 0) : 0;
      const verdict = v ? (v.equal ? ", every page as expected" : `, ${differ} pages differ`) : "";
      await out.write(`${opts.output}: ${html.length} bytes${verdict}\n`);
      await out.flush();
    }
    return { code: 0 };
  } catch (e) {
    const stop = interruption(opts.interrupt);
    if (stop) return stop;
    return { code: 2, error: oneLine(errorObject(e).message) };
  }
}
