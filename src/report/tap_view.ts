/**
 * The live view of `migscope tap` and its NDJSON events. The view folds the tap's events
 * (src/tap/events.ts) into a {@link TapState}, redraws a frame of at most 15 lines in place
 * through the `write` function it is given (the CLI's stderr writer; nothing here prints), at
 * most 10 times a second, and at the end clears it and returns the final report.
 * @module
 */
import type { TapEvent } from "../tap/events.ts";
import { stringifyJson } from "./json.ts";
import { TapState } from "./tap_state.ts";
import { finalText, liveLines } from "./tap_text.ts";

/** Options of {@link TapView}. */
export interface TapViewOptions {
  /** Terminal width: frame lines are cut to one less, the final text wrapped to it. */
  width?: number;
  /** Milliseconds clock for the elapsed time and the redraw limit; `performance.now` by default. */
  now?: () => number;
}

/** The live frame's width when none is given. */
const DEFAULT_WIDTH = 80;
/** At most one redraw per this many milliseconds (10 a second). */
export const REDRAW_MS = 100;

/** Erase from the cursor to the end of the line. */
const EL = "\x1b[K";
/** Erase from the cursor to the end of the screen. */
const ED = "\x1b[J";
/** Carriage return, then cursor up `n` lines: to the first line of a frame of `n` lines. */
export const up = (n: number): string => `\r\x1b[${n}A`;

/**
 * The text that draws `lines` as a frame: each line followed by an erase to its end (what the
 * previous frame had there) and a newline; then an erase of the rest of the screen (the lines
 * of a longer previous frame). `previous` is the number of lines of the frame drawn before
 * (0: none), which the cursor first moves up over.
 *
 * @example
 * ```ts
 * import { frameText } from "./tap_view.ts";
 * const t = frameText(["a", "b"], 3);
 * if (t !== "\r\x1b[3Aa\x1b[K\nb\x1b[K\n\x1b[J") throw new Error(JSON.stringify(t));
 * ```
 */
export function frameText(lines: readonly string[], previous: number): string {
  return (previous > 0 ? up(previous) : "") + lines.map((l) => l + EL + "\n").join("") + ED;
}

/**
 * The live view of `migscope tap`: give it every event; it redraws itself through `write`
 * (ANSI: cursor up over the previous frame, each line erased to its end), at most 10 times a
 * second — a redraw that falls due is made at the next event 100 ms or more after the last one,
 * or by {@link TapView.tick}, and only when the frame changed. {@link TapView.finish} erases
 * the frame and returns the final report.
 *
 * @example
 * ```ts
 * import { TapView } from "./tap_view.ts";
 * let now = 0;
 * const written: string[] = [];
 * const view = new TapView((s) => written.push(s), { width: 80, now: () => now });
 * view.event({ type: "connection", t: 0, n: 0, kind: "main" });
 * now = 1000;
 * view.event({ type: "bytes", t: 1000, n: 0, s2d: 2 << 20, d2s: 0 });
 * const frame = written.at(-1)!; // the second frame: up over the 4 lines of the first
 * if (!frame.startsWith("\r\x1b[4Atap 0:01  precopy  1 connection (1 open)\x1b[K\n")) {
 *   throw new Error(JSON.stringify(frame));
 * }
 * if (!frame.includes("0  main  2.0 MiB  0 B  2.0 MiB/s")) throw new Error(frame);
 * view.event({ type: "close", t: 1200, n: 0, first: "source", s2d: 2 << 20, d2s: 0 });
 * view.event({ type: "end", t: 1200, complete: true, firstClose: "source" });
 * const text = view.finish();
 * if (written.at(-1) !== "\r\x1b[4A\x1b[J") throw new Error("the frame is erased");
 * const expected = [
 *   "Connections",
 *   "#  KIND  ID  S2D BYTES  D2S BYTES  CLOSED FIRST",
 *   "-  ----  --  ---------  ---------  ------------",
 *   "0  main        2097152          0  source",
 *   "",
 *   "Dirty passes: none",
 *   "",
 *   "Commands: none",
 *   "",
 *   "End: complete, EOF reached; the source closed the main connection first",
 *   "",
 * ].join("\n");
 * if (text !== expected) throw new Error(text);
 * ```
 */
export class TapView {
  readonly #write: (s: string) => void;
  readonly #width: number | undefined;
  readonly #now: () => number;
  readonly #start: number;
  readonly #state = new TapState();
  /** Lines of the frame on the terminal (0: none). */
  #drawnLines = 0;
  #drawnText = "";
  #lastDraw = -Infinity;
  #finished = false;

  constructor(write: (s: string) => void, opts: TapViewOptions = {}) {
    this.#write = write;
    this.#width = opts.width;
    this.#now = opts.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** The state folded from the events so far. */
  get state(): TapState {
    return this.#state;
  }

  /** Takes one event; redraws the view if a redraw is due (see the class). */
  event(e: TapEvent): void {
    this.#state.apply(e);
    this.tick();
  }

  /** Redraws if one is due: 100 ms since the last redraw and the frame changed. */
  tick(): void {
    if (this.#finished) return;
    const now = this.#now();
    if (now - this.#lastDraw < REDRAW_MS) return;
    const lines = liveLines(this.#state, now - this.#start, this.#width ?? DEFAULT_WIDTH);
    const text = lines.join("\n");
    if (text === this.#drawnText && this.#drawnLines) return;
    this.#write(frameText(lines, this.#drawnLines));
    this.#drawnLines = lines.length;
    this.#drawnText = text;
    this.#lastDraw = now;
  }

  /**
   * Erases the live view (if drawn) and returns the final text: connections, dirty passes,
   * commands, the end state, then `summary` (inspect's summary text) when given. Later events
   * are still folded in but never drawn.
   */
  finish(summary?: string): string {
    if (this.#drawnLines) this.#write(up(this.#drawnLines) + ED);
    this.#drawnLines = 0;
    this.#drawnText = "";
    this.#finished = true;
    return finalText(this.#state, this.#width, summary);
  }
}

/** The keys of each event type, in the order NDJSON lines carry them. */
const KEYS: {
  readonly [K in TapEvent["type"]]: readonly (keyof Extract<TapEvent, { type: K }>)[];
} = {
  connection: ["type", "t", "n", "kind", "channelId", "files"],
  bytes: ["type", "t", "n", "s2d", "d2s"],
  section: ["type", "t", "offset", "section", "sectionId", "idstr", "bytes", "pages", "pass"],
  command: ["type", "t", "offset", "name", "detail"],
  pass: ["type", "t", "index", "pages", "zero", "xbzrle", "bytes", "ms", "postcopy"],
  close: ["type", "t", "n", "first", "s2d", "d2s", "error"],
  "parse-error": ["type", "t", "offset", "section", "record", "message"],
  channel: [
    "type",
    "t",
    "n",
    "channelId",
    "packets",
    "syncs",
    "normalPages",
    "zeroPages",
    "payloadBytes",
    "compression",
    "deviceState",
    "end",
  ],
  "channel-error": ["type", "t", "n", "channelId", "offset", "section", "record", "message"],
  refused: ["type", "t", "open", "limit"],
  end: ["type", "t", "complete", "outcome", "firstClose", "channels", "replay"],
};

/** The keys of the nested objects, in order. */
const NESTED: Readonly<Record<string, readonly string[]>> = {
  files: ["s2d", "d2s"],
  pages: ["zero", "page", "xbzrle", "compressed"],
};

function ordered(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = o[k];
    if (v === undefined) continue;
    out[k] = NESTED[k] && v !== null && typeof v === "object"
      ? ordered(v as Record<string, unknown>, NESTED[k])
      : v;
  }
  return out;
}

/**
 * One NDJSON line for an event (no newline): the fields of its type in a fixed order (`type`,
 * `t`, then as src/tap/events.ts declares them), optional fields left out when absent, `null`
 * kept; other properties are not written.
 *
 * @example
 * ```ts
 * import { tapEventJson } from "./tap_view.ts";
 * const line = tapEventJson({ n: 1, type: "bytes", d2s: 0, s2d: 4096, t: 250 });
 * if (line !== '{"type":"bytes","t":250,"n":1,"s2d":4096,"d2s":0}') throw new Error(line);
 * ```
 */
export function tapEventJson(e: TapEvent): string {
  return stringifyJson(ordered(e as unknown as Record<string, unknown>, KEYS[e.type] as string[]));
}
