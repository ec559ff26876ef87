/**
 * `migscope tap` as text: the live frame (a few lines redrawn in place on the terminal) and the
 * final report, both rendered from a {@link TapState}.
 * @module
 */
import type { ParseErrorEvent, PassEvent, RefusedEvent } from "../tap/events.ts";
import { connectionRate, dirtyRate, type TapConnection, type TapState } from "./tap_state.ts";
import { finalChannels } from "./tap_channels_text.ts";
import { stopText } from "./tap_stop.ts";
import { type Column, fitLine, formatBytes, hexOffset, plural, renderTable } from "./table.ts";

/** Passes the live frame shows (the last ones). */
export const LIVE_PASSES = 5;
/** Connection rows the live frame shows; with more connections, the last row sums the rest. */
export const LIVE_CONNECTIONS = 3;
/** Commands the live frame shows (the last ones). */
export const LIVE_COMMANDS = 3;
/**
 * The live frame's most lines: 1 header, 1 section (2 for a parse error), 1 + 5 passes, 1 + 3
 * connections, 3 commands (fewer when the parse error takes 2 lines).
 */
export const LIVE_LINES = 15;

/** Elapsed time as `m:ss` (`h:mm:ss` from an hour on), whole seconds rounded down. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** Milliseconds as seconds with `digits` decimals (1 by default), e.g. `1.6 s`. */
export function seconds(ms: number, digits = 1): string {
  return `${(ms / 1000).toFixed(digits)} s`;
}

/** Bytes per second with a binary unit, e.g. `100.0 MiB/s`. */
export function byteRate(perSecond: number): string {
  return `${formatBytes(Math.round(perSecond))}/s`;
}

/** `main`, `multifd #1`, `preempt`, `unknown`. */
export function kindLabel(c: TapConnection): string {
  return c.kind === "multifd" && c.channelId !== undefined ? `multifd #${c.channelId}` : c.kind;
}

/** A table without its rule of dashes (the live frame saves the line). */
function compact(columns: Column[], rows: string[][]): string[] {
  const lines = renderTable(columns, rows).trimEnd().split("\n");
  return [lines[0], ...lines.slice(2)];
}

const right = (header: string): Column => ({ header, align: "right" });

function header(s: TapState, elapsedMs: number): string {
  const open = s.connections.filter((c) => !c.closed).length;
  const conns = plural(s.connections.length, "connection");
  const refused = s.refused ? `, ${s.refused} refused` : "";
  const p = s.pages;
  const all = p.normal + p.zero + p.xbzrle;
  const pages = all ? `  ${plural(all, "page")}, ${p.zero} zero` : "";
  return `tap ${clock(elapsedMs)}  ${s.phase}  ${conns} (${open} open${refused})${pages}`;
}

/** `2 'ram' PART at 4096` (as the parser's errors name a section). */
function sectionText(s: TapState): string {
  const e = s.section!;
  const name = e.idstr !== undefined ? ` '${e.idstr}'` : "";
  return `${e.sectionId}${name} ${e.section} at ${e.offset}`;
}

/** The section line, or where parsing stopped (on two lines at most). */
function sectionLines(s: TapState, max: number): string[] {
  if (s.parseError) {
    const lines = fitLine(`parse stopped: ${stopText(s.parseError)}`, max, 2).split("\n");
    if (lines.length <= 2) return lines;
    const rest = "  " + lines.slice(1).map((l) => l.trim()).join(" ");
    return [lines[0], rest.length > max ? rest.slice(0, max - 1) + "…" : rest];
  }
  if (!s.section) return [s.connections.length ? "no section yet" : "waiting for the source"];
  return [`section ${sectionText(s)}${s.pass !== undefined ? `, pass ${s.pass}` : ""}`];
}

function rateCell(passes: readonly PassEvent[], p: PassEvent): string {
  const r = dirtyRate(passes, p);
  return r === undefined ? "-" : String(Math.round(r));
}

/**
 * Normal pages of a pass: `pages` counts every page record of the pass (as inspect's
 * summary.passes[].pages), so normal = pages − zero − XBZRLE (the obsolete compressed pages
 * fall in with the normal ones).
 */
function normal(p: PassEvent): string {
  return String(p.pages - p.zero - p.xbzrle);
}

function livePasses(s: TapState): string[] {
  if (!s.passes.length) return [];
  return compact(
    [
      right("PASS"),
      right("NORMAL"),
      right("ZERO"),
      right("XBZRLE"),
      right("BYTES"),
      right("TIME"),
      right("DIRTY PAGES/S"),
    ],
    s.passes.slice(-LIVE_PASSES).map((p) => [
      String(p.index),
      normal(p),
      String(p.zero),
      String(p.xbzrle),
      formatBytes(p.bytes),
      seconds(p.ms),
      rateCell(s.passes, p),
    ]),
  );
}

function liveConnections(s: TapState): string[] {
  if (!s.connections.length) return [];
  const row = (c: TapConnection) => [
    String(c.n),
    kindLabel(c),
    formatBytes(c.s2d),
    formatBytes(c.d2s),
    c.multifd ? String(c.multifd.normalPages) : "",
    c.multifd ? String(c.multifd.zeroPages) : "",
    c.closed
      ? (c.closed.first === "tap" ? "closed by the tap" : `closed (${c.closed.first} first)`)
      : byteRate(connectionRate(c, s.t)),
  ];
  const all = s.connections;
  const rows = all.length <= LIVE_CONNECTIONS
    ? all.map(row)
    : all.slice(0, LIVE_CONNECTIONS - 1).map(row);
  if (all.length > LIVE_CONNECTIONS) {
    const rest = all.slice(LIVE_CONNECTIONS - 1);
    const sum = (f: (c: TapConnection) => number) => rest.reduce((a, c) => a + f(c), 0);
    rows.push([
      `+${rest.length}`,
      "more",
      formatBytes(sum((c) => c.s2d)),
      formatBytes(sum((c) => c.d2s)),
      String(sum((c) => c.multifd?.normalPages ?? 0)),
      String(sum((c) => c.multifd?.zeroPages ?? 0)),
      byteRate(sum((c) => (c.closed ? 0 : connectionRate(c, s.t)))),
    ]);
  }
  return compact(
    [
      right("#"),
      { header: "KIND" },
      right("S2D"),
      right("D2S"),
      { ...right("NORMAL"), hideWhenEmpty: true },
      { ...right("ZERO"), hideWhenEmpty: true },
      right("RATE"),
    ],
    rows,
  );
}

function liveCommands(s: TapState, room: number): string[] {
  const last = s.commands.slice(-Math.min(LIVE_COMMANDS, room));
  if (!last.length) return [];
  const lines = renderTable(
    [{ header: "" }, right(""), { header: "" }, { header: "" }],
    last.map((c) => ["command", seconds(c.t), c.name, `at ${c.offset}`]),
  ).trimEnd().split("\n");
  return lines.slice(2);
}

/**
 * The live frame: header (elapsed time, phase, connections, pages of every connection so far),
 * the current section and pass (or where parsing stopped), the last passes, the connections
 * with their current rates (and a multifd channel's normal and zero pages), and the last
 * commands (as many of the last 3 as fit in {@link LIVE_LINES}); each line cut to `width − 1`
 * columns (a line as wide as the terminal would leave the cursor past its end, and the erase
 * after it would eat its last character).
 */
export function liveLines(s: TapState, elapsedMs: number, width: number): string[] {
  const max = Math.max(1, width - 1);
  const lines = [
    header(s, elapsedMs),
    ...sectionLines(s, max),
    ...livePasses(s),
    ...liveConnections(s),
  ];
  lines.push(...liveCommands(s, LIVE_LINES - lines.length));
  return lines.map((l) => (l.length > max ? l.slice(0, max) : l));
}

function finalConnections(s: TapState, width?: number): string {
  if (!s.connections.length) return "Connections: none\n";
  return "Connections\n" + renderTable(
    [
      right("#"),
      { header: "KIND" },
      right("ID"),
      right("S2D BYTES"),
      right("D2S BYTES"),
      { header: "CLOSED FIRST" },
      { header: "ERROR", hideWhenEmpty: true },
    ],
    s.connections.map((c) => [
      String(c.n),
      c.kind,
      c.channelId === undefined ? "" : String(c.channelId),
      String(c.s2d),
      String(c.d2s),
      c.closed ? c.closed.first : "(open)",
      c.closed?.error ?? "",
    ]),
    { width },
  );
}

function finalPasses(s: TapState, width?: number): string {
  if (!s.passes.length) return "Dirty passes: none\n";
  return "Dirty passes (dirty pages/s: pages of the pass / time of the pass before)\n" +
    renderTable(
      [
        right("PASS"),
        right("PAGES"),
        right("NORMAL"),
        right("ZERO"),
        right("XBZRLE"),
        right("BYTES"),
        right("MS"),
        right("DIRTY PAGES/S"),
        { header: "PHASE", hideWhenEmpty: true },
      ],
      s.passes.map((p) => [
        String(p.index),
        String(p.pages),
        normal(p),
        String(p.zero),
        String(p.xbzrle),
        String(p.bytes),
        String(p.ms),
        rateCell(s.passes, p),
        p.postcopy ? "postcopy" : "",
      ]),
      { width },
    );
}

function finalCommands(s: TapState, width?: number): string {
  if (!s.commands.length) return "Commands: none\n";
  return "Commands\n" + renderTable(
    [right("AT"), right("OFFSET"), { header: "COMMAND" }, { header: "DETAIL" }],
    s.commands.map((c) => [seconds(c.t, 3), String(c.offset), c.name, c.detail ?? ""]),
    { width },
  );
}

/** `; the source closed the main connection first` (the tap: it closed the connection). */
export function closedWho(first: "source" | "destination" | "tap" | undefined): string {
  if (!first) return "";
  return first === "tap"
    ? "; the tap closed the main connection"
    : `; the ${first} closed the main connection first`;
}

/**
 * The one line of a migration whose bytes all passed (the source closed every connection) but
 * whose main stream the tap could not parse to its end.
 */
export function unfollowedText(stop: Omit<ParseErrorEvent, "type" | "t">, bytes?: number): string {
  const all = bytes === undefined ? "" : ` (${bytes} bytes on the main connection)`;
  return `every byte of the migration passed${all} and the source closed its connections, ` +
    `but the tap could not follow the main stream past ${stopText(stop)} — whether the ` +
    "migration succeeded is the destination's to say";
}

/** The warning for a connection closed because too many were open. */
export function refusedText(e: RefusedEvent): string {
  return `warning: a new connection was closed at once: ${e.open} connections are open, ` +
    `the tap's limit`;
}

/** How the migration ended: complete, or where the main stream stopped; who closed first. */
export function endText(s: TapState): string {
  const first = s.end?.firstClose ?? s.main?.closed?.first;
  const who = closedWho(first);
  if (!s.end) return `End: not seen (connections still open when the tap stopped)${who}`;
  if (s.end.complete) return `End: complete, EOF reached${who}`;
  if (s.end.outcome === "unfollowed" && s.parseError) {
    return `End: not followed: ${unfollowedText(s.parseError, s.main?.s2d)}`;
  }
  if (s.end.channels && !s.parseError) {
    return `End: incomplete: the main stream reached its EOF but ${s.end.channels}${who}`;
  }
  if (s.parseError) {
    const why = stopText(s.parseError);
    return `End: incomplete: the main stream stopped${why.startsWith("offset ") ? " at" : ":"} ` +
      `${why}${who}`;
  }
  const bytes = s.main?.s2d ?? 0;
  const after = s.section ? `, after section ${sectionText(s)}` : "";
  return `End: incomplete: the main stream stopped at offset ${bytes} (${hexOffset(bytes)}), ` +
    `before EOF${after}${who}`;
}

/**
 * The final report: connections, the multifd channels' counts (when any was parsed), dirty
 * passes, commands, how it ended (and the replay command
 * of a recording), then `summary` (inspect's summary text) when given; wrapped to `width`.
 */
export function finalText(s: TapState, width?: number, summary?: string): string {
  const end = [fitLine(endText(s), width, 2)];
  // The command stays on one line, whatever the width: a line broken in two would not paste.
  if (s.end?.replay) end.push("replay the recording with:", `  ${s.end.replay}`);
  if (s.refused) {
    end.push(fitLine(
      `${plural(s.refused, "connection")} closed at once: the tap's limit of open connections ` +
        "was reached",
      width,
      2,
    ));
  }
  const parts = [
    finalConnections(s, width),
    ...finalChannels(s, width),
    finalPasses(s, width),
    finalCommands(s, width),
    end.join("\n") + "\n",
  ];
  if (summary) parts.push(summary.endsWith("\n") ? summary : summary + "\n");
  return parts.join("\n");
}
