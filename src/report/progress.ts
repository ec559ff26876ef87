/**
 * A progress line for terminals: bytes done (of the total when known), rate and time left,
 * redrawn in place with a carriage return and cleared before the result is printed. It only
 * builds text; the command hands it the function that writes to stderr.
 * @module
 */
import { formatBytes } from "./table.ts";

/** One measurement: bytes done, the total when known, time since the start. */
export interface ProgressSample {
  done: number;
  total?: number;
  elapsedMs: number;
}

/**
 * A duration as `m:ss`, or `h:mm:ss` from an hour on (rounded up to the second).
 *
 * @example
 * ```ts
 * import { duration } from "./progress.ts";
 * if (duration(7) !== "0:07" || duration(3723) !== "1:02:03") throw new Error("m:ss, h:mm:ss");
 * ```
 */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const two = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/**
 * The progress text, e.g. `inspect: 1.0 GiB of 4.0 GiB (25%), 512.0 MiB/s, ETA 0:06`; without a
 * total, only the bytes done and the rate.
 *
 * @example
 * ```ts
 * import { progressText } from "./progress.ts";
 * const t = progressText("inspect", { done: 2 ** 30, total: 4 * 2 ** 30, elapsedMs: 2000 });
 * if (t !== "inspect: 1.0 GiB of 4.0 GiB (25%), 512.0 MiB/s, ETA 0:06") throw new Error(t);
 * ```
 */
export function progressText(label: string, s: ProgressSample): string {
  const rate = s.elapsedMs > 0 ? s.done / (s.elapsedMs / 1000) : 0;
  const parts: string[] = [];
  if (s.total) {
    const pct = Math.min(100, Math.floor((s.done / s.total) * 100));
    parts.push(`${formatBytes(s.done)} of ${formatBytes(s.total)} (${pct}%)`);
  } else parts.push(formatBytes(s.done));
  if (rate > 0) parts.push(`${formatBytes(rate)}/s`);
  if (s.total && rate > 0 && s.done < s.total) {
    parts.push(`ETA ${duration((s.total - s.done) / rate)}`);
  }
  return `${label}: ${parts.join(", ")}`;
}

/** Options of {@link ProgressLine}. */
export interface ProgressLineOptions {
  /** What is in progress, e.g. `inspect`. */
  label: string;
  /** Milliseconds clock (tests); `performance.now` by default. */
  now?: () => number;
  /** Nothing is drawn before the run has lasted this long (default 300 ms: short runs stay quiet). */
  delayMs?: number;
  /** Terminal width: the line is cut to one less. */
  width?: number;
}

/** Carriage return, then the text, then erase to the end of the line. */
const REDRAW = (text: string) => `\r${text}\x1b[K`;
/** Carriage return and erase the line: what {@link ProgressLine.clear} writes. */
export const CLEAR = "\r\x1b[K";

/**
 * A progress line redrawn in place through `write` (the command's stderr writer).
 *
 * @example
 * ```ts
 * import { ProgressLine } from "./progress.ts";
 * let t = 0;
 * const written: string[] = [];
 * const line = new ProgressLine((s) => written.push(s), { label: "inspect", now: () => t });
 * line.update(1 << 20, 4 << 20); // at 0 ms: too early, nothing drawn
 * t = 1000;
 * line.update(2 << 20, 4 << 20);
 * line.clear();
 * if (written.join("|") !== "\rinspect: 2.0 MiB of 4.0 MiB (50%), 2.0 MiB/s, ETA 0:01\x1b[K|\r\x1b[K") {
 *   throw new Error(JSON.stringify(written));
 * }
 * ```
 */
export class ProgressLine {
  readonly #write: (text: string) => void;
  readonly #opts: ProgressLineOptions;
  readonly #now: () => number;
  readonly #start: number;
  #drawn = false;
  /** When the line was last drawn: at most 10 redraws a second. */
  #lastDraw = -Infinity;

  constructor(write: (text: string) => void, opts: ProgressLineOptions) {
    this.#write = write;
    this.#opts = opts;
    this.#now = opts.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** Redraws the line with `done` bytes of `total` (when known). */
  update(done: number, total?: number): void {
    const now = this.#now();
    const elapsedMs = now - this.#start;
    if (elapsedMs < (this.#opts.delayMs ?? 300) || now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    let text = progressText(this.#opts.label, { done, total, elapsedMs });
    const w = this.#opts.width;
    if (w && text.length > w - 1) text = text.slice(0, Math.max(0, w - 1));
    this.#write(REDRAW(text));
    this.#drawn = true;
  }

  /** Erases the line if it was drawn (before the result is printed). */
  clear(): void {
    if (!this.#drawn) return;
    this.#write(CLEAR);
    this.#drawn = false;
  }
}
