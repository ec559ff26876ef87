/**
 * Comparing a replayed image with an expected one (a QEMU destination's RAM or disk), page by
 * page, in constant memory; each difference names the record that last wrote the page.
 * @module
 */
import * as fs from "node:fs";
import { equalBytes } from "../wire/compare.ts";
import { WRITER_KINDS } from "./engine.ts";

/** One differing page. */
export interface PageDiff {
  addr: number;
  /** Stream offset and kind of the last record that wrote the page (undefined: none did). */
  writer?: { offset: number; kind: string };
}

/** Verdict for one image. */
export interface CompareResult {
  name: string;
  actual: string;
  expected: string;
  pages: number;
  equal: number;
  different: number;
  actualSize: number;
  expectedSize: number;
  diffs: PageDiff[];
}

/** Compares two files page by page; lists up to `maxDiffs` differing pages. */
export function compareImages(
  name: string,
  actual: string,
  expected: string,
  pageSize: number,
  writers?: Float64Array,
  maxDiffs = 20,
): CompareResult {
  const fa = fs.openSync(actual, "r");
  const fe = fs.openSync(expected, "r");
  try {
    const actualSize = fs.fstatSync(fa).size;
    const expectedSize = fs.fstatSync(fe).size;
    const size = Math.max(actualSize, expectedSize);
    const pages = Math.ceil(size / pageSize);
    const chunk = 256 * pageSize;
    const a = new Uint8Array(chunk);
    const e = new Uint8Array(chunk);
    const res: CompareResult = {
      name,
      actual,
      expected,
      pages,
      equal: 0,
      different: 0,
      actualSize,
      expectedSize,
      diffs: [],
    };
    for (let pos = 0; pos < size; pos += chunk) {
      const n = Math.min(chunk, size - pos);
      readFull(fa, a.subarray(0, n), pos);
      readFull(fe, e.subarray(0, n), pos);
      for (let p = 0; p < n; p += pageSize) {
        const addr = pos + p;
        const end = Math.min(p + pageSize, n);
        const inBoth = addr + (end - p) <= actualSize && addr + (end - p) <= expectedSize;
        const same = inBoth && equalBytes(a.subarray(p, end), e.subarray(p, end));
        if (same) {
          res.equal++;
          continue;
        }
        res.different++;
        if (res.diffs.length < maxDiffs) {
          const w = writers?.[addr / pageSize];
          res.diffs.push({
            addr,
            writer: w ? { offset: Math.floor(w / 8), kind: WRITER_KINDS[w % 8] } : undefined,
          });
        }
      }
    }
    return res;
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fe);
  }
}

function readFull(fd: number, buf: Uint8Array, pos: number) {
  let done = 0;
  while (done < buf.length) {
    const n = fs.readSync(fd, buf, done, buf.length - done, pos + done);
    if (n === 0) break;
    done += n;
  }
  buf.fill(0, done);
}
