/**
 * Per-stream facts, learned once by the parser and carried on the records that need them:
 * the target page size (and where it came from), footers, validated capabilities, the RAM block
 * table. Replay, verify, multifd and the reports read them here instead of re-deriving them.
 * @module
 */
import { DEFAULT_PAGE_SIZE } from "./constants.ts";
import type { RamBlockInfo } from "./records.ts";

/** Where the target page size came from. */
export type PageSizeSource = "option" | "target-page-bits" | "vmdesc" | "default";

/** Facts about one stream. */
export interface StreamInfo {
  /** Target page size in bytes. */
  pageSize: number;
  /** Where {@link StreamInfo.pageSize} came from (`default`: assumed 4096, x86). */
  pageSizeFrom: PageSizeSource;
  /** Section footers (undefined until the first section shows whether they are on). */
  footers?: boolean;
  /** Validated capabilities from `configuration/capabilities`. */
  capabilities: string[];
  /** Machine type from the CONFIGURATION section. */
  machine?: string;
  /** RAM blocks announced by MEM_SIZE, in stream order. */
  blocks: RamBlockInfo[];
  /** POSTCOPY_ADVISE's host page-size summary (0 without postcopy-ram). */
  postcopyHostPageSizes: number;
  /**
   * The dirty pass of the pages sent after POSTCOPY_RUN (background sweep and requested pages
   * in no address order, so one pass), from POSTCOPY_RUN on; undefined before.
   */
  postcopyPass?: number;
}

/** Checks a page size given by a user or a document: a power of two from 512 B to 1 GiB. */
export function validPageSize(n: number): boolean {
  return Number.isInteger(n) && n >= 512 && n <= 2 ** 30 && (n & (n - 1)) === 0;
}

/**
 * The facts before any byte is read: the page size from an option, else from a vmdesc known
 * up front, else 4096 (a stream's `configuration/target-page-bits` overrides the last two).
 */
export function initialStreamInfo(pageSize?: number, vmdescPageSize?: number): StreamInfo {
  const from: PageSizeSource = pageSize !== undefined
    ? "option"
    : vmdescPageSize !== undefined
    ? "vmdesc"
    : "default";
  return {
    pageSize: pageSize ?? vmdescPageSize ?? DEFAULT_PAGE_SIZE,
    pageSizeFrom: from,
    capabilities: [],
    blocks: [],
    postcopyHostPageSizes: 0,
  };
}
