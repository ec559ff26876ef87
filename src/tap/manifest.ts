/**
 * What `tap --record DIR` writes to `DIR/manifest.json`, and the replay command of a recording.
 * @module
 */
import type { ConnectionInfo } from "./connection.ts";
import type { Side } from "./forward.ts";

/** How a tap ended. */
export type TapEnd =
  /** The main stream reached its EOF. */
  | "complete"
  /**
   * Every connection closed before the main stream's EOF (or without a main stream), or a
   * multifd channel is invalid.
   */
  | "incomplete"
  /**
   * Every byte passed and the source closed every connection, but the tap could not parse the
   * main stream to its end (a page size or vmdesc it was not told): not the tap's to judge.
   */
  | "unfollowed"
  /** The destination refused a connection. */
  | "unreachable"
  /** Ctrl-C / SIGTERM. */
  | "interrupted";

/** Where the main stream's parse stopped (the JSON error object of the other documents). */
export interface StopPoint {
  offset: number | null;
  section: string | null;
  record: string | null;
  message: string;
}

/** `DIR/manifest.json`. */
export interface TapManifest {
  format: "migscope-tap";
  version: 1;
  /** The migscope version that recorded it. */
  migscope?: string;
  listen: string;
  to: string;
  start: string;
  end: string;
  outcome: TapEnd;
  complete: boolean;
  /** What the recordings hold when the migration did not complete. */
  note?: string;
  /** Where the main stream stopped, when it did not reach EOF. */
  stopped?: StopPoint;
  /** Which side closed the main connection first. */
  firstClose?: Side;
  /** What is wrong with the multifd channels. */
  channels?: string;
  /** A write to the recording that failed (the files are short from there). */
  recordingError?: string;
  /** The replay command for the recording (paths inside the directory; OUT to choose). */
  replay?: string;
  connections: ConnectionInfo[];
}

/** The note a manifest carries when its recordings are not of a whole migration. */
export const PARTIAL_NOTE = "the recordings hold the bytes that passed through the tap " +
  "before it ended: each file is complete up to there, the migration is not";

/** The note of a manifest whose main stream the tap could not follow to its end. */
export const UNFOLLOWED_NOTE = "every byte passed and the source closed first; the tap " +
  "could not parse the main stream past 'stopped' (replay may need --page-size or --vmdesc)";

/** A path as a shell word. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * `migscope replay DIR/<main> --channel DIR/<channel> … --out OUT` for the recorded
 * connections: the first main channel, then every multifd and preempt channel that carried
 * bytes, in accept order, then `extra` (e.g. `--page-size 1024`); undefined without a main
 * channel.
 *
 * @example
 * ```ts
 * import { replayCommand } from "./manifest.ts";
 * const c = (n: number, kind: "main" | "multifd") => ({
 *   n, kind, s2d: 1, d2s: 0, opened: "",
 *   files: { s2d: `${n}-${kind}.s2d.bin`, d2s: `${n}-${kind}.d2s.bin` },
 * });
 * const cmd = replayCommand("/r", [c(0, "main"), c(1, "multifd")]);
 * if (cmd !== "migscope replay /r/0-main.s2d.bin --channel /r/1-multifd.s2d.bin --out OUT") {
 *   throw new Error(cmd);
 * }
 * ```
 */
export function replayCommand(
  dir: string,
  conns: ConnectionInfo[],
  extra: string[] = [],
): string | undefined {
  const main = conns.find((c) => c.kind === "main" && c.files);
  if (!main) return undefined;
  const words = ["migscope", "replay", `${dir}/${main.files!.s2d}`];
  for (const c of conns) {
    if ((c.kind === "multifd" || c.kind === "preempt") && c.files && c.s2d > 0) {
      words.push("--channel", `${dir}/${c.files.s2d}`);
    }
  }
  return [...words, ...extra].map(shellWord).concat("--out", "OUT").join(" ");
}
