/**
 * verify for the report: a replayed image compared with an expected one page by page, as
 * `migscope verify` compares them (the same verdict and the same first differences with the
 * record that last wrote each), with every differing page also counted into its cell of the
 * RAM map. Constant memory: one 1 MiB chunk of each image at a time.
 * @module
 */
import type { CompareResult, PageDiff } from "../../replay/verify.ts";
import type { WriterMap } from "../../replay/writers.ts";
import { equalBytes } from "../../wire/compare.ts";
import { fileAccess, readPadded } from "../../wire/random_access.ts";
import type { BlockGrid } from "./ram_map.ts";

/** Differences listed per image at most (as verify). */
export const MAX_DIFFS = 20;

/**
 * Compares `actual` with `expected` in pages of `pageSize`; differing pages go to `grid` when
 * given. Throws an Error when a file cannot be read.
 */
export function compareIntoGrid(
  name: string,
  actual: string,
  expected: string,
  pageSize: number,
  writers?: WriterMap,
  grid?: BlockGrid,
): CompareResult {
  const fa = fileAccess(actual);
  let fe;
  try {
    fe = fileAccess(expected);
  } catch (e) {
    fa.close();
    throw e;
  }
  try {
    const pages = Math.ceil(Math.max(fa.size, fe.size) / pageSize);
    const diffs: PageDiff[] = [];
    let different = 0;
    const differ = (addr: number) => {
      different++;
      grid?.addDiff(addr / pageSize);
      if (diffs.length < MAX_DIFFS) diffs.push({ addr, writer: writers?.get(addr / pageSize) });
    };
    const common = Math.min(fa.size, fe.size);
    const chunk = Math.max(pageSize, 1 << 20);
    const a = new Uint8Array(chunk);
    const e = new Uint8Array(chunk);
    for (let pos = 0; pos < common; pos += chunk) {
      const n = Math.min(chunk, common - pos);
      readPadded(fa, a.subarray(0, n), pos);
      readPadded(fe, e.subarray(0, n), pos);
      for (let p = 0; p < n; p += pageSize) {
        const end = Math.min(p + pageSize, n);
        if (!equalBytes(a.subarray(p, end), e.subarray(p, end))) differ(pos + p);
        else if (end - p < pageSize && fa.size !== fe.size) differ(pos + p);
      }
    }
    // Pages past the shorter image differ by size (counted, not read).
    let page = Math.ceil(common / pageSize);
    for (; page < pages && diffs.length < MAX_DIFFS; page++) differ(page * pageSize);
    different += pages - page;
    grid?.addDiffRange(page, pages);
    return {
      name,
      actual,
      expected,
      pages,
      equal: pages - different,
      different,
      actualSize: fa.size,
      expectedSize: fe.size,
      diffs,
    };
  } finally {
    fa.close();
    fe.close();
  }
}
