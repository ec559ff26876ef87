/**
 * What the tap reports while a migration passes through it, in order: connections opening
 * and closing, bytes per connection and direction, what the main channel's parser sees
 * (sections, commands, passes, page counts) and what each multifd channel's parser counts.
 * The live terminal view and the NDJSON event stream are both renderings of these events.
 * @module
 */

/** What a connection carries, told from its first bytes (or its place in the order). */
export type ConnectionKind = "main" | "multifd" | "preempt" | "unknown";

/** Which way bytes flow: source → destination, or the return path. */
export type Direction = "s2d" | "d2s";

/** A connection was accepted from the source and connected to the destination. */
export interface ConnectionEvent {
  type: "connection";
  /** Milliseconds since the tap started. */
  t: number;
  /** Accept order, from 0. */
  n: number;
  kind: ConnectionKind;
  /** Multifd channel id (from its initial packet). */
  channelId?: number;
  /** Where each direction is recorded (with --record). */
  files?: { s2d: string; d2s: string };
}

/** Bytes forwarded so far on a connection (sent at most ~10 times a second per connection). */
export interface BytesEvent {
  type: "bytes";
  t: number;
  n: number;
  s2d: number;
  d2s: number;
}

/** A section of the main channel was read completely (its timeline row). */
export interface SectionEvent {
  type: "section";
  t: number;
  offset: number;
  /** START, PART, END or FULL. */
  section: string;
  sectionId: number;
  idstr?: string;
  bytes: number;
  /** Pages it carried by kind. */
  pages: { zero: number; page: number; xbzrle: number; compressed: number };
  /** Dirty pass of its last RAM record (RAM sections). */
  pass?: number;
}

/** A command on the main channel (SWITCHOVER_START, POSTCOPY_LISTEN/RUN, PACKAGED, PING…). */
export interface CommandEvent {
  type: "command";
  t: number;
  offset: number;
  name: string;
  detail?: string;
}

/** A dirty pass ended (the page addresses wrapped): its page counts. */
export interface PassEvent {
  type: "pass";
  t: number;
  index: number;
  pages: number;
  zero: number;
  xbzrle: number;
  bytes: number;
  /** Milliseconds the pass took on the wire. */
  ms: number;
  /** The pages sent after POSTCOPY_RUN (one pass, whatever their order). */
  postcopy?: true;
}

/**
 * A connection closed; `first` is the side that closed (or failed) first, or "tap" when the
 * tap closed it (Ctrl-C, the destination unreachable for another connection).
 */
export interface CloseEvent {
  type: "close";
  t: number;
  n: number;
  first: "source" | "destination" | "tap";
  s2d: number;
  d2s: number;
  /** A socket error, when the close was one. */
  error?: string;
}

/** The main channel's parser stopped before the stream's end: where and why. */
export interface ParseErrorEvent {
  type: "parse-error";
  t: number;
  offset: number | null;
  section: string | null;
  record: string | null;
  message: string;
}

/** A multifd channel's counts so far, from its packet headers (payloads are not decoded). */
export interface MultifdCounts {
  /** RAM packets (SYNC-only packets included), not device-state packets. */
  packets: number;
  /** Packets with the SYNC flag. */
  syncs: number;
  normalPages: number;
  zeroPages: number;
  /** Bytes of the RAM packets' payloads on the wire (compressed or not). */
  payloadBytes: number;
  /** The method the first packet with pages names ("none" included); absent before. */
  compression?: string;
  /** Device-state packets (VFIO and such). */
  deviceState: number;
}

/**
 * A multifd channel's counts so far (cumulative), told at each SYNC packet, at most once a
 * second in between while pages come, and once more at the channel's end (`end`).
 */
export interface ChannelEvent extends MultifdCounts {
  type: "channel";
  t: number;
  /** The connection (accept order). */
  n: number;
  channelId?: number;
  /** The channel ended (or its parse stopped): these are its final counts. */
  end?: true;
}

/**
 * A multifd channel's parser stopped before the channel's end: which connection, where (the
 * packet) and why. Told once; its bytes are still forwarded, and the tap's outcome does not
 * depend on it.
 */
export interface ChannelErrorEvent {
  type: "channel-error";
  t: number;
  n: number;
  channelId?: number;
  offset: number | null;
  section: string | null;
  record: string | null;
  message: string;
}

/**
 * A connection was closed as soon as it was accepted: `open` connections were open, the
 * tap's limit.
 */
export interface RefusedEvent {
  type: "refused";
  t: number;
  open: number;
  limit: number;
}

/** The migration is over (every connection closed). */
export interface EndEvent {
  type: "end";
  t: number;
  /** The main stream reached EOF (and its trailer, if any), and the multifd channels are valid. */
  complete: boolean;
  /**
   * complete, incomplete, unfollowed (every byte passed and the source closed first, but the
   * main stream could not be parsed to its end), unreachable or interrupted.
   */
  outcome?: "complete" | "incomplete" | "unfollowed" | "unreachable" | "interrupted";
  /** Which side closed the main connection first. */
  firstClose?: "source" | "destination" | "tap";
  /** What is wrong with the multifd channels. */
  channels?: string;
  /** With --record: the replay command for the recording. */
  replay?: string;
}

/** Any tap event. */
export type TapEvent =
  | ConnectionEvent
  | BytesEvent
  | SectionEvent
  | CommandEvent
  | PassEvent
  | CloseEvent
  | ParseErrorEvent
  | ChannelEvent
  | ChannelErrorEvent
  | RefusedEvent
  | EndEvent;
