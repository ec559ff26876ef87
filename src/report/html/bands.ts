/**
 * The section timeline of `migscope report` as bands along the stream's byte offsets: one
 * lane each for RAM, block migration, devices (FULL and other iterable sections) and the rest
 * (header, configuration, trailer), commands and EOF as markers. Rows are taken as inspect's
 * timeline hands them over; adjacent rows of one section are one band, so a precopy's
 * thousands of RAM PARTs are one band between device sections. Past {@link MAX_BANDS} bands
 * (block migration alternating with RAM, a long stream) bands of a lane are merged per offset
 * bucket, the bucket doubling as needed: the page stays small whatever the stream's length.
 * @module
 */
import type { TimelineRow } from "../summary_types.ts";

/** Bands kept at most before merging per bucket. */
export const MAX_BANDS = 4000;
/** Command markers kept at most (the count of the rest is kept). */
export const MAX_MARKERS = 2000;

/** The lanes of the timeline. */
export type Lane = "ram" | "block" | "device" | "other";

/** One band: rows of one lane merged. */
export interface Band {
  lane: Lane;
  offset: number;
  end: number;
  /** Bytes of the rows (less than end − offset where rows of other lanes lie between). */
  bytes: number;
  rows: number;
  /** The rows' section name, or "" when they differ (see `names`). */
  name: string;
  /** Distinct names merged (1 unless merged per bucket). */
  names: number;
  /** The first row's kind (START, PART, FULL, …). */
  kind: string;
  depth: number;
  sectionId?: number;
  page: number;
  zero: number;
  xbzrle: number;
  compressed: number;
  blockData: number;
  blockZero: number;
}

/** A command (or EOF) on the timeline. */
export interface Marker {
  offset: number;
  name: string;
  depth: number;
  detail?: string;
}

/** What the report embeds. */
export interface TimelineJson {
  bands: Band[];
  markers: Marker[];
  /** Markers left out past {@link MAX_MARKERS}. */
  markersOmitted: number;
  /** Timeline rows seen. */
  rows: number;
  /** Merge bucket in bytes (0: only adjacent rows of one section were merged). */
  bucket: number;
}

const SECTIONS = new Set(["START", "PART", "END"]);

function laneOf(row: TimelineRow): Lane {
  if (SECTIONS.has(row.kind)) {
    if (row.name === "ram") return "ram";
    if (row.name === "block") return "block";
    return "device";
  }
  return row.kind === "FULL" ? "device" : "other";
}

function bandOf(row: TimelineRow, lane: Lane): Band {
  return {
    lane,
    offset: row.offset,
    end: row.offset + row.bytes,
    bytes: row.bytes,
    rows: 1,
    name: row.name ?? "",
    names: 1,
    kind: row.kind,
    depth: row.depth,
    sectionId: row.sectionId,
    page: row.page,
    zero: row.zero,
    xbzrle: row.xbzrle,
    compressed: row.compressed,
    blockData: row.blockData,
    blockZero: row.blockZero,
  };
}

function merge(into: Band, b: Band): void {
  if (b.name !== into.name) {
    into.name = "";
    into.names += b.names;
  }
  into.end = Math.max(into.end, b.end);
  into.bytes += b.bytes;
  into.rows += b.rows;
  into.page += b.page;
  into.zero += b.zero;
  into.xbzrle += b.xbzrle;
  into.compressed += b.compressed;
  into.blockData += b.blockData;
  into.blockZero += b.blockZero;
}

/** Builds the bands and markers from final timeline rows, in stream order. */
export class TimelineBands {
  bands: Band[] = [];
  readonly markers: Marker[] = [];
  markersOmitted = 0;
  rows = 0;
  bucket = 0;
  /** The last band of each lane (and depth), for merging per bucket. */
  #lastOf = new Map<string, Band>();

  add(row: TimelineRow): void {
    this.rows++;
    if (row.kind === "COMMAND" || row.kind === "EOF") {
      if (this.markers.length >= MAX_MARKERS) this.markersOmitted++;
      else {
        const name = row.kind === "EOF" ? "EOF" : row.name ?? "";
        this.markers.push({ offset: row.offset, name, depth: row.depth, detail: row.note });
      }
      return;
    }
    const band = bandOf(row, laneOf(row));
    const key = `${band.lane}/${band.depth}`;
    const last = this.bands.at(-1);
    if (
      last && last.lane === band.lane && last.depth === band.depth && last.name === band.name &&
      last.end === band.offset
    ) {
      return merge(last, band);
    }
    const prev = this.#lastOf.get(key);
    if (prev && this.bucket > 0 && this.#sameBucket(prev.offset, band.offset)) {
      return merge(prev, band);
    }
    this.bands.push(band);
    this.#lastOf.set(key, band);
    if (this.bands.length > MAX_BANDS) this.#coarsen();
  }

  #sameBucket(a: number, b: number): boolean {
    return Math.floor(a / this.bucket) === Math.floor(b / this.bucket);
  }

  /** Doubles the bucket until the bands merged per lane and bucket are few enough. */
  #coarsen(): void {
    const span = this.bands.at(-1)!.end;
    let bucket = Math.max(this.bucket * 2, 2 ** Math.ceil(Math.log2(span / (MAX_BANDS / 16))));
    for (;;) {
      const merged: Band[] = [];
      const lastOf = new Map<string, Band>();
      for (const b of this.bands) {
        const key = `${b.lane}/${b.depth}`;
        const prev = lastOf.get(key);
        if (prev && Math.floor(prev.offset / bucket) === Math.floor(b.offset / bucket)) {
          merge(prev, b);
          continue;
        }
        const copy = { ...b };
        merged.push(copy);
        lastOf.set(key, copy);
      }
      if (merged.length <= MAX_BANDS / 2) {
        this.bands = merged;
        this.#lastOf = lastOf;
        this.bucket = bucket;
        return;
      }
      bucket *= 2;
    }
  }

  toJson(): TimelineJson {
    return {
      bands: this.bands,
      markers: this.markers,
      markersOmitted: this.markersOmitted,
      rows: this.rows,
      bucket: this.bucket,
    };
  }
}
