/**
 * `check`: will a destination load this stream? Reads the stream's facts, gets the
 * destination's (a QEMU binary run as a paused destination, or a `-dump-vmstate` file), checks
 * them in QEMU's loader order and writes the verdict with every finding. Exit 0 loads, 1 will
 * not load, 2 bad input (one line).
 * @module
 */
import { checkStream } from "../check/check.ts";
import { dumpDestination, readTextFile, readVmstateDump } from "../check/dump.ts";
import { destinationJson, parseDestinationJson } from "../check/facts_json.ts";
import { ProbeError, probeQemu } from "../check/qemu.ts";
import { mainBlock } from "../check/rules_ram.ts";
import { readStreamFacts } from "../check/stream_facts.ts";
import type { DestinationFacts, StreamFacts } from "../check/types.ts";
import { sniff, SNIFF_BYTES } from "../parse/sniff.ts";
import { oneLine } from "../protocol/errors.ts";
import { checkJson, type CheckReport, checkText } from "../report/check_text.ts";
import { errorObject } from "../report/documents.ts";
import { stringifyJson } from "../report/json.ts";
import type { Interruptible } from "./interrupt.ts";
import type { CommandResult, TextOut } from "./io.ts";
import { openWithVmdesc } from "./open.ts";
import type { OpenedInput } from "../parse/input.ts";

/** Options of `check`. */
export interface CheckOptions {
  input: string;
  /** The destination's QEMU binary (one of `qemu` and `against`). */
  qemu?: string;
  /** A `-dump-vmstate` JSON file. */
  against?: string;
  /** A destination file written by `saveDestination` (instead of `qemu`). */
  destination?: string;
  /** With `qemu`: write the destination's facts to this file. */
  saveDestination?: string;
  /** The destination's machine type (default: the stream's). */
  machine?: string;
  /** The destination's own command line (`--`): probed as given, nothing assumed. */
  destinationArgs?: string[];
  /** Environment for QEMU (default: this process's). */
  env?: Record<string, string>;
  json?: boolean;
  vmdesc?: string;
  snapshot?: string;
  width?: number;
  interrupt?: Interruptible;
}

class BadInput extends Error {}

async function streamFacts(opts: CheckOptions) {
  const o = await openWithVmdesc(opts.input, opts.vmdesc, { snapshot: opts.snapshot });
  if (!o.ok) throw new BadInput(o.error);
  try {
    await checkable(opts, o.input);
    const stream = await readStreamFacts(o.input, { vmdesc: o.vmdesc });
    return { stream, name: o.input.name, container: o.input.container };
  } catch (e) {
    if (e instanceof BadInput) throw e;
    throw new BadInput(errorObject(e).message);
  } finally {
    o.input.close();
  }
}

/** Captures of one connection that are not a main stream. */
const CHANNELS: Record<string, string> = {
  multifd: "a multifd channel capture (magic 0x11223344): check cannot check one connection " +
    "of a migration, check the main stream",
  cpr: "a cpr-transfer channel capture (magic QCPR): check cannot check one connection " +
    "of a migration, check the main stream",
};

/** Rejects a channel capture (openInput rejects --snapshot on what is no qcow2 image). */
async function checkable(opts: CheckOptions, input: OpenedInput): Promise<void> {
  const n = Math.min(await input.reader.peekUpTo(SNIFF_BYTES), SNIFF_BYTES);
  const what = CHANNELS[sniff(input.reader.peekBytes(n)).kind];
  if (what) throw new BadInput(`${opts.input}: ${what}`);
}

async function savedDestination(path: string): Promise<DestinationFacts> {
  try {
    return { ...parseDestinationJson(await readTextFile(path)), from: path };
  } catch (e) {
    throw new BadInput(`--destination ${path}: ${(e as Error).message}`);
  }
}

async function saveDestination(path: string, d: DestinationFacts): Promise<void> {
  if (d.unknownMachine) {
    throw new BadInput(
      `--save-destination: nothing to save, QEMU has no machine type '${d.requested}'`,
    );
  }
  try {
    await Deno.writeTextFile(path, JSON.stringify(destinationJson(d)) + "\n");
  } catch (e) {
    throw new BadInput(`--save-destination ${path}: ${(e as Error).message}`);
  }
}

async function destinationFacts(opts: CheckOptions, s: StreamFacts): Promise<DestinationFacts> {
  if (opts.destination) return await savedDestination(opts.destination);
  if (opts.against) {
    try {
      return dumpDestination(opts.against, await readVmstateDump(opts.against));
    } catch (e) {
      throw new BadInput(`--against ${opts.against}: ${(e as Error).message}`);
    }
  }
  const machine = opts.machine ?? s.machine;
  if (machine === undefined) {
    throw new BadInput(
      "the stream has no CONFIGURATION section to name its machine type: pass --machine TYPE",
    );
  }
  const blocks = s.sections.flatMap((x) => x.ramBlocks ?? []);
  const main = mainBlock(blocks);
  try {
    const d = await probeQemu({
      qemu: opts.qemu!,
      machine,
      memory: blocks.find((b) => b.name === main)?.size,
      args: opts.destinationArgs,
      env: opts.env,
      interrupt: opts.interrupt,
    });
    if (opts.saveDestination) await saveDestination(opts.saveDestination, d);
    return d;
  } catch (e) {
    if (e instanceof ProbeError) throw new BadInput(e.message);
    throw e;
  }
}

/** Runs `check`, writing the report to `out`. Never throws for bad input. */
export async function runCheck(opts: CheckOptions, out: TextOut): Promise<CommandResult> {
  let report: CheckReport;
  try {
    const { stream, name, container } = await streamFacts(opts);
    const destination = await destinationFacts(opts, stream);
    const result = checkStream(stream, destination);
    report = { input: name, container, stream, destination, result };
  } catch (e) {
    if (!(e instanceof BadInput)) throw e;
    if (opts.json) {
      await out.write(stringifyJson(checkJson(undefined, e), 2) + "\n");
      await out.flush();
    }
    return { code: 2, error: oneLine(e.message) };
  }
  await out.write(
    opts.json ? stringifyJson(checkJson(report), 2) + "\n" : checkText(report, opts.width),
  );
  await out.flush();
  return { code: report.result.loads ? 0 : 1 };
}
