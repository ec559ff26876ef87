/**
 * What `migscope tap` has seen so far, folded from its events (src/tap/events.ts): the
 * connections with their byte counts, current rates and (multifd channels) page counts, the
 * pages of every connection, the dirty passes, the commands, the current section, the phase of
 * the migration and how it ended. The live view and the final text (tap_text.ts) are renderings
 * of this state.
 * @module
 */
import type {
  ChannelErrorEvent,
  CommandEvent,
  ConnectionKind,
  EndEvent,
  MultifdCounts,
  ParseErrorEvent,
  PassEvent,
  SectionEvent,
  TapEvent,
} from "../tap/events.ts";

/** Where the migration is, in the order it goes through. */
export type TapPhase = "precopy" | "switchover" | "postcopy" | "done";

const PHASE_ORDER: readonly TapPhase[] = ["precopy", "switchover", "postcopy", "done"];

/**
 * The phase each command starts: SWITCHOVER_START (the source stopped for the switchover, its
 * device state follows), POSTCOPY_LISTEN (the destination listens for page requests: the
 * source is stopped and sends the device state), POSTCOPY_RUN (the destination runs; the rest
 * of RAM comes on demand or in the background).
 */
const COMMAND_PHASE: Readonly<Record<string, TapPhase>> = {
  SWITCHOVER_START: "switchover",
  POSTCOPY_LISTEN: "switchover",
  POSTCOPY_RUN: "postcopy",
};

/** The rate of a connection is measured over this window (ms of event time). */
export const RATE_WINDOW_MS = 1000;

/** One connection of the migration. */
export interface TapConnection {
  n: number;
  kind: ConnectionKind;
  channelId?: number;
  /** Event time it was accepted. */
  t: number;
  s2d: number;
  d2s: number;
  /**
   * (event time, bytes both ways) samples of the last second: the first is the newest one at
   * least {@link RATE_WINDOW_MS} older than the last (or the oldest), the base of the rate.
   */
  samples: { t: number; bytes: number }[];
  closed?: { first: "source" | "destination" | "tap"; error?: string; t: number };
  /** A multifd channel's counts (its latest channel event). */
  multifd?: MultifdCounts;
  /** Where a multifd channel's parse stopped. */
  channelError?: ChannelErrorEvent;
}

/** Pages by kind: normal (compressed ones included), zero, XBZRLE. */
export interface PageTotals {
  normal: number;
  zero: number;
  xbzrle: number;
}

/**
 * Bytes per second, both directions together, over the last second before `at` (event time,
 * the latest event's): the bytes counted since the newest sample at least
 * {@link RATE_WINDOW_MS} older than `at` (or since the oldest kept, for a younger connection),
 * divided by the time since that sample. A connection no bytes event came for in the last
 * second is at 0.
 */
export function connectionRate(c: TapConnection, at: number): number {
  const s = c.samples;
  let base = s[0];
  for (let i = s.length - 1; i > 0; i--) {
    if (s[i].t <= at - RATE_WINDOW_MS) {
      base = s[i];
      break;
    }
  }
  const dt = at - base.t;
  return dt > 0 ? (s[s.length - 1].bytes - base.bytes) / (dt / 1000) : 0;
}

/**
 * Estimated dirty-page rate of pass `p`, in pages per second, or undefined for the first pass
 * (or when the previous pass was not seen or took no time). Pass k re-sends the pages the
 * guest wrote while pass k−1 was on the wire (QEMU syncs the dirty bitmap as a pass ends), so
 * pages(k) / duration(k−1) estimates how fast the guest dirties memory. It undercounts a page
 * written twice in that time and counts pages of a pass cut short by the switchover too. The
 * postcopy pass has none: it sends every page not sent yet, not the pages dirtied.
 */
export function dirtyRate(passes: readonly PassEvent[], p: PassEvent): number | undefined {
  if (p.postcopy) return undefined;
  const prev = passes.find((q) => q.index === p.index - 1);
  if (!prev || prev.ms <= 0) return undefined;
  return p.pages / (prev.ms / 1000);
}

/** The tap's state: apply events in order with {@link TapState.apply}. */
export class TapState {
  /** By accept order. */
  readonly connections: TapConnection[] = [];
  readonly passes: PassEvent[] = [];
  readonly commands: CommandEvent[] = [];
  section?: SectionEvent;
  /** The dirty pass of the last RAM section (the pass being sent). */
  pass?: number;
  phase: TapPhase = "precopy";
  /** The latest event time. */
  t = 0;
  parseError?: ParseErrorEvent;
  end?: EndEvent;
  /** Connections closed at once (the tap's limit of open connections reached). */
  refused = 0;
  /** Pages of the main channel's sections read so far. */
  readonly mainPages: PageTotals = { normal: 0, zero: 0, xbzrle: 0 };

  /** Pages seen so far on every connection: the main channel's and the multifd channels'. */
  get pages(): PageTotals {
    const t = { ...this.mainPages };
    for (const c of this.connections) {
      if (!c.multifd) continue;
      t.normal += c.multifd.normalPages;
      t.zero += c.multifd.zeroPages;
    }
    return t;
  }

  /** The connection numbered `n` (made, of unknown kind, if its connection event was missed). */
  connection(n: number, t: number): TapConnection {
    let c = this.connections.find((x) => x.n === n);
    if (!c) {
      c = { n, kind: "unknown", t, s2d: 0, d2s: 0, samples: [{ t, bytes: 0 }] };
      this.connections.push(c);
      this.connections.sort((a, b) => a.n - b.n);
    }
    return c;
  }

  /** The main connection (the first of kind main). */
  get main(): TapConnection | undefined {
    return this.connections.find((c) => c.kind === "main");
  }

  #advance(to: TapPhase): void {
    if (PHASE_ORDER.indexOf(to) > PHASE_ORDER.indexOf(this.phase)) this.phase = to;
  }

  #count(n: number, t: number, s2d: number, d2s: number): TapConnection {
    const c = this.connection(n, t);
    c.s2d = s2d;
    c.d2s = d2s;
    const s = c.samples;
    s.push({ t, bytes: s2d + d2s });
    while (s.length > 2 && s[1].t <= t - RATE_WINDOW_MS) s.shift();
    return c;
  }

  /** Folds one event into the state. */
  apply(e: TapEvent): void {
    this.t = Math.max(this.t, e.t);
    switch (e.type) {
      case "connection": {
        const c = this.connection(e.n, e.t);
        c.kind = e.kind;
        c.t = e.t;
        if (e.channelId !== undefined) c.channelId = e.channelId;
        break;
      }
      case "bytes":
        this.#count(e.n, e.t, e.s2d, e.d2s);
        break;
      case "close": {
        const c = this.#count(e.n, e.t, e.s2d, e.d2s);
        c.closed = { first: e.first, t: e.t, ...(e.error !== undefined && { error: e.error }) };
        break;
      }
      case "section": {
        const m = this.mainPages;
        m.normal += e.pages.page + e.pages.compressed;
        m.zero += e.pages.zero;
        m.xbzrle += e.pages.xbzrle;
        this.section = e;
        if (e.pass !== undefined) this.pass = e.pass;
        if (e.section === "EOF") this.#advance("done");
        break;
      }
      case "channel": {
        const { type: _, t: _t, n, channelId, end: _end, ...counts } = e;
        const c = this.connection(n, e.t);
        if (channelId !== undefined) c.channelId = channelId;
        c.multifd = counts;
        break;
      }
      case "channel-error":
        this.connection(e.n, e.t).channelError = e;
        break;
      case "command":
        this.commands.push(e);
        if (COMMAND_PHASE[e.name]) this.#advance(COMMAND_PHASE[e.name]);
        break;
      case "pass":
        this.passes.push(e);
        break;
      case "parse-error":
        this.parseError = e;
        break;
      case "refused":
        this.refused++;
        break;
      case "end":
        this.end = e;
        this.#advance("done");
        break;
    }
  }
}
