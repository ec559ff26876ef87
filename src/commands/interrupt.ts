/**
 * Ctrl-C and SIGTERM for the commands that write outputs. The first signal aborts the work:
 * its loops notice between records (wire/pace.ts) and unwind through their usual failure path,
 * which removes partial outputs and restores images written in place. If the work has not
 * unwound after a grace period (blocked on a read or write that never completes: a socket no
 * one connects to, a stdout no one reads), the cleanups registered with {@link Interrupts.guard}
 * run and the process exits. Either way: one line, `migscope: interrupted`, and exit 130
 * (SIGINT) or 143 (SIGTERM).
 * @module
 */
import { oneLine } from "../protocol/errors.ts";
import { Interrupted } from "../wire/pace.ts";
import type { CommandResult } from "./io.ts";

export { Interrupted };

/** What a command needs to be stoppable: the signal, and a place for synchronous cleanups. */
export interface Interruptible {
  /** Aborted (with an {@link Interrupted} reason) when a signal arrives. */
  readonly signal: AbortSignal;
  /**
   * Registers a synchronous, idempotent cleanup run if the process must exit before the work
   * unwinds; returns the function that unregisters it (call it once the outputs are settled).
   */
  guard(cleanup: () => void): () => void;
}

/** The exit code and message of an interrupted command, or undefined when none arrived. */
export function interruption(
  i: Interruptible | undefined,
): { code: number; error: string } | undefined {
  const reason = i?.signal.aborted ? i.signal.reason : undefined;
  return reason instanceof Interrupted
    ? { code: reason.exitCode, error: "interrupted" }
    : undefined;
}

/** The result to report: a signal received before the command returned wins over its result. */
export function settled(res: CommandResult, i: Interruptible | undefined): CommandResult {
  const stop = interruption(i);
  return stop && res.code !== stop.code ? stop : res;
}

/** Listens for SIGINT and SIGTERM while a command runs (see the module comment). */
export class Interrupts implements Interruptible {
  readonly #ctl = new AbortController();
  readonly #cleanups = new Set<() => void>();
  readonly #listeners: [Deno.Signal, () => void][] = [];
  readonly #graceMs: number;
  #timer?: ReturnType<typeof setTimeout>;

  /** Starts listening; `graceMs`: how long the work may take to unwind before a forced exit. */
  constructor(graceMs = 2000) {
    this.#graceMs = graceMs;
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      const fn = () => this.#received(sig);
      try {
        Deno.addSignalListener(sig, fn);
        this.#listeners.push([sig, fn]);
      } catch { /* a platform without this signal */ }
    }
  }

  get signal(): AbortSignal {
    return this.#ctl.signal;
  }

  guard(cleanup: () => void): () => void {
    this.#cleanups.add(cleanup);
    return () => this.#cleanups.delete(cleanup);
  }

  #received(sig: "SIGINT" | "SIGTERM") {
    if (this.#ctl.signal.aborted) return;
    this.#ctl.abort(new Interrupted(sig));
    this.#timer = setTimeout(() => this.#forceExit(), this.#graceMs);
  }

  #forceExit() {
    const failed: string[] = [];
    for (const c of this.#cleanups) {
      try {
        c();
      } catch (e) {
        failed.push((e as Error).message.split("\n")[0]);
      }
    }
    const { code, error } = interruption(this)!;
    const line = oneLine([error, ...failed].join("; "));
    Deno.stderr.writeSync(new TextEncoder().encode(`migscope: ${line}\n`));
    Deno.exit(code);
  }

  /** Stops listening (the command has finished or unwound). */
  dispose(): void {
    clearTimeout(this.#timer);
    for (const [sig, fn] of this.#listeners) Deno.removeSignalListener(sig, fn);
    this.#listeners.length = 0;
  }
}
