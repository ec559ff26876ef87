/**
 * The terminal the command line writes to: its width, and the progress line on its stderr.
 * @module
 */
import { ProgressLine } from "../report/progress.ts";

/** Columns of the terminal, or undefined when there is none to ask. */
function columns(): number | undefined {
  try {
    return Deno.consoleSize().columns || undefined;
  } catch {
    return undefined;
  }
}

/** The width of the terminal stdout is, or undefined when it is not one (full lines). */
export function terminalWidth(): number | undefined {
  return Deno.stdout.isTerminal() ? columns() : undefined;
}

/** A progress line labelled `label`, drawn on stderr and cut to the terminal's width. */
export function stderrProgress(label: string): ProgressLine {
  const enc = new TextEncoder();
  return new ProgressLine((text) => void Deno.stderr.writeSync(enc.encode(text)), {
    label,
    width: columns(),
  });
}
