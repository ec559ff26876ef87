/**
 * `tap`: a migration passing between its source and destination, forwarded untouched, watched
 * (events) and optionally recorded; the result says whether the main stream completed, and if
 * not where it stopped and who closed first.
 * @module
 */
import type { TapAddress } from "../tap/address.ts";
import type { TapEvent } from "../tap/events.ts";
import { ListenError, Tap, type TapOutcome } from "../tap/tap.ts";
import { RecordError } from "../tap/record.ts";
import { summaryText } from "../report/inspect_text.ts";
import { closedWho, unfollowedText } from "../report/tap_text.ts";
import type { CommandResult } from "./io.ts";
import { loadVmdesc } from "../parse/input.ts";
import type { VmDesc } from "../protocol/records.ts";
import { type Interruptible, interruption } from "./interrupt.ts";

/** Options of {@link runTap}. */
export interface TapCommandOptions {
  listen: TapAddress;
  to: TapAddress;
  /** Recording directory. */
  record?: string;
  /** --page-size for the main channel's parser. */
  pageSize?: number;
  /** --vmdesc: a vmdesc JSON (or a capture holding one) for the main channel's parser. */
  vmdesc?: string;
  /** The migscope version, for the manifest. */
  version?: string;
  /** Every event, in order, as it happens. */
  onEvent(e: TapEvent): void;
  /** Called once listening, with the address (the port resolved when 0 was asked for). */
  onListen?(address: TapAddress): void;
  /** Ctrl-C / SIGTERM: the tap ends, recordings and manifest kept. */
  interrupt?: Interruptible;
  /** Width of the summary text (a terminal's). */
  width?: number;
  /**
   * Bytes a connection's buffers per direction may hold (default 8 MiB): what its parser (the main
   * channel's, a multifd channel's) may fall behind the forwarding by.
   */
  parseLimit?: number;
}

/** What `tap` ends with: the exit code and error line, the outcome, inspect's summary text. */
export interface TapCommandResult extends CommandResult {
  outcome?: TapOutcome;
  /** inspect's summary of the main stream, when one was parsed. */
  summary?: string;
}

/** The one-line reason a migration that passed did not complete. */
export function incompleteMessage(o: TapOutcome): string {
  const main = o.connections.find((c) => c.kind === "main");
  if (!main) {
    const kinds = o.connections.map((c) => `${c.n} ${c.kind}`).join(", ");
    return `no migration stream passed: no connection started with QEVM (${kinds})`;
  }
  if (o.channels && !o.stopped && o.parse?.summary.eof !== undefined) {
    return `migration incomplete: the main stream reached its EOF but ${o.channels}`;
  }
  const where = o.stopped
    ? `the main stream stopped at ${o.stopped.message}`
    : "the main stream did not reach its EOF";
  const who = closedWho(o.firstClose);
  const channels = o.channels ? `; ${o.channels}` : "";
  return `migration incomplete: ${where}${who}${channels}`;
}

function exit(o: TapOutcome, i?: Interruptible): { code: number; error?: string } {
  switch (o.end) {
    case "complete":
      return { code: 0 };
    case "incomplete":
      return { code: 1, error: incompleteMessage(o) };
    case "unfollowed":
      // The migration's success is not the tap's to judge: the source ended it normally.
      return { code: 0, error: unfollowedText(o.stopped!, o.connections[0]?.s2d) };
    case "unreachable":
      return { code: 2, error: o.error };
    case "interrupted":
      return interruption(i) ?? { code: 130, error: "interrupted" };
  }
}

/** Runs the tap until the migration is over. Never throws for socket or stream trouble. */
export async function runTap(opts: TapCommandOptions): Promise<TapCommandResult> {
  let vmdesc: VmDesc | undefined;
  if (opts.vmdesc) {
    try {
      vmdesc = await loadVmdesc(opts.vmdesc);
    } catch (e) {
      return { code: 2, error: `--vmdesc ${opts.vmdesc}: ${(e as Error).message.split("\n")[0]}` };
    }
  }
  const replayArgs = [
    ...(opts.pageSize ? ["--page-size", String(opts.pageSize)] : []),
    ...(opts.vmdesc ? ["--vmdesc", opts.vmdesc] : []),
  ];
  let tap: Tap;
  try {
    tap = await Tap.open({
      parse: { pageSize: opts.pageSize, vmdesc },
      replayArgs,
      listen: opts.listen,
      to: opts.to,
      record: opts.record,
      version: opts.version,
      onEvent: opts.onEvent,
      signal: opts.interrupt?.signal,
      parseLimit: opts.parseLimit,
    });
  } catch (e) {
    if (e instanceof ListenError || e instanceof RecordError) return { code: 2, error: e.message };
    throw e;
  }
  const unguard = opts.interrupt?.guard(() => tap.emergencyCleanup());
  try {
    opts.onListen?.(tap.address);
    const outcome = await tap.run();
    const res: TapCommandResult = { ...exit(outcome, opts.interrupt), outcome };
    if (outcome.parse) res.summary = summaryText(outcome.parse.summary, { width: opts.width });
    if (outcome.recordingError) {
      res.error = [res.error, `recording incomplete: ${outcome.recordingError}`]
        .filter(Boolean).join("; ");
      if (res.code === 0) res.code = 2;
    }
    return res;
  } finally {
    unguard?.();
  }
}
