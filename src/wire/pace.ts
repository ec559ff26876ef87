/**
 * Pacing long loops so they can be stopped: positional I/O is synchronous, so a replay or an
 * emission of a file can run for minutes without giving the event loop a turn, and a signal
 * listener would only run at the end. A pacer gives the event loop a turn now and then and
 * throws the abort reason once the loop has been asked to stop.
 * @module
 */

/** The work was stopped by a signal (exit 130 for SIGINT, 143 for SIGTERM). */
export class Interrupted extends Error {
  constructor(readonly signal: "SIGINT" | "SIGTERM") {
    super("interrupted");
    this.name = "Interrupted";
  }

  /** The exit code a shell expects: 128 + the signal number. */
  get exitCode(): number {
    return this.signal === "SIGINT" ? 130 : 143;
  }
}

/** Called once per unit of work (a batch, a chunk); awaits only when it yields. */
export type Pace = () => Promise<void> | undefined;

const NEVER: Pace = () => undefined;

/**
 * A pacer for `signal`: throws `signal.reason` once the signal is aborted, and every `ms`
 * milliseconds returns a promise that gives the event loop a turn (so signal listeners run).
 * Without a signal it does nothing.
 *
 * @example
 * ```ts
 * import { pacer } from "./pace.ts";
 * const ctl = new AbortController();
 * const pace = pacer(ctl.signal);
 * await pace();
 * ctl.abort(new Error("stop"));
 * let stopped = false;
 * try {
 *   await pace();
 * } catch {
 *   stopped = true;
 * }
 * if (!stopped) throw new Error("an aborted pacer throws the reason");
 * ```
 */
export function pacer(signal: AbortSignal | undefined, ms = 50): Pace {
  if (!signal) return NEVER;
  let last = performance.now();
  const turn = () =>
    new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => signal.throwIfAborted());
  return () => {
    signal.throwIfAborted();
    const now = performance.now();
    if (now - last < ms) return undefined;
    last = now;
    return turn();
  };
}
