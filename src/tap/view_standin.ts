/**
 * TEMPORARY stand-in for src/report/tap_view.ts (the live view, written elsewhere), with its
 * interface: deleted when that module lands, and src/cli/tap.ts imports it instead.
 * @module
 */
import type { TapEvent } from "./events.ts";

/** Stand-in of the live view: one status line, and the end state. */
export class TapView {
  readonly #write: (s: string) => void;
  #conns = 0;
  #bytes = new Map<number, number>();
  #end?: Extract<TapEvent, { type: "end" }>;

  constructor(write: (s: string) => void, _opts: { width?: number } = {}) {
    this.#write = write;
  }

  event(e: TapEvent): void {
    if (e.type === "connection") this.#conns++;
    if (e.type === "bytes" || e.type === "close") this.#bytes.set(e.n, e.s2d);
    if (e.type === "end") this.#end = e;
    let total = 0;
    for (const b of this.#bytes.values()) total += b;
    this.#write(`\rtap: ${this.#conns} connections, ${total} bytes\x1b[K`);
  }

  /** Final text: the end state and, given it, the inspect summary. */
  finish(summary?: string): string {
    this.#write("\r\x1b[K");
    const e = this.#end;
    const end = e
      ? `End: ${e.complete ? "complete" : "incomplete"}` +
        (e.firstClose ? `; the ${e.firstClose} closed the main connection first` : "") +
        (e.replay ? `\nReplay: ${e.replay}` : "")
      : "End: -";
    return `${end}\n${summary ? `\n${summary}` : ""}`;
  }
}

/** One NDJSON line for an event (no newline). */
export function tapEventJson(e: TapEvent): string {
  return JSON.stringify(e);
}
