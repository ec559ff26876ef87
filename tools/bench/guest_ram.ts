/**
 * A guest RAM image that compresses like a real one, for the benchmarks of saved VMs in
 * containers (gzip / zstd libvirt save images, qcow2 snapshots): the page layout of
 * {@link writeImage} (alternating runs of zero pages, mean 150, and non-zero pages, mean 64 —
 * ≈70 % zero pages, as measured in the shared captures' RAM), but with non-zero runs of three
 * kinds of content:
 *
 * - random pages (40 %): incompressible, like compressed or encrypted data; one xorshift32
 *   sequence runs across all of them, so no page repeats another (writeImage reseeds each page
 *   from the same xorshift sequence, which makes its pages shifted copies of one another and
 *   lets gzip shrink them ≈80×);
 * - text pages (30 %): words of a 512-word vocabulary separated by spaces and newlines
 *   (compresses ≈3–4×);
 * - table pages (30 %): 64-bit little-endian pointers into one 1 GiB region with flags in the
 *   low bits, and small counters (compresses ≈2×).
 *
 * Deterministic (same bytes for the same size and seed), written in 4 MiB chunks.
 * @module
 */
import * as fs from "node:fs";
import { MiB, PAGE } from "./util.ts";

/** xorshift32. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** The text pages' vocabulary: 512 pronounceable words of 2–9 letters. */
function vocabulary(rnd: () => number): Uint8Array[] {
  const cons = "bcdfghklmnprstvz";
  const vow = "aeiou";
  const words: Uint8Array[] = [];
  for (let w = 0; w < 512; w++) {
    let s = "";
    const n = 2 + rnd() % 8;
    for (let i = 0; i < n; i++) s += i % 2 ? vow[rnd() % 5] : cons[rnd() % 16];
    words.push(new TextEncoder().encode(s));
  }
  return words;
}

/** What writes one kind of page. */
interface Fillers {
  random(page: Uint8Array): void;
  text(page: Uint8Array): void;
  table(page: Uint8Array): void;
}

function fillers(seed: number): Fillers {
  const data = xorshift(seed ^ 0x9e3779b9);
  const pick = xorshift(seed ^ 0x85ebca6b);
  const words = vocabulary(xorshift(seed ^ 0xc2b2ae35));
  return {
    random(page) {
      const u = new Uint32Array(page.buffer, page.byteOffset, PAGE >>> 2);
      for (let i = 0; i < u.length; i++) u[i] = data();
    },
    text(page) {
      let i = 0;
      while (i < PAGE) {
        const r = pick();
        const w = words[r & 511];
        const n = Math.min(w.length, PAGE - i);
        page.set(n === w.length ? w : w.subarray(0, n), i);
        i += n;
        if (i < PAGE) page[i++] = (r >>> 9) % 12 === 0 ? 0x0a : 0x20;
      }
    },
    table(page) {
      const dv = new DataView(page.buffer, page.byteOffset, PAGE);
      for (let i = 0; i < PAGE; i += 8) {
        const r = pick();
        if (r % 4 === 0) {
          dv.setUint32(i, (r >>> 8) % 4096, true); // a counter
          dv.setUint32(i + 4, 0, true);
        } else {
          // A kernel-style pointer: 0xffff8880_xxxxxxxx, 8-byte aligned, flags in bits 0–2.
          dv.setUint32(i, ((data() & 0x3ffffff8) | (r & 7)) >>> 0, true);
          dv.setUint32(i + 4, 0xffff8880, true);
        }
      }
    },
  };
}

/** Writes the image (`bytes`, a multiple of 4 MiB or smaller than it) to `path`. */
export function writeGuestRam(path: string, bytes: number, seed = 1): void {
  const fd = fs.openSync(path, "w");
  fs.ftruncateSync(fd, bytes);
  const chunk = new Uint8Array(Math.min(4 * MiB, bytes));
  const layout = xorshift(seed);
  const fill = fillers(seed);
  let runLeft = 0;
  let zeroRun = false;
  let kind: keyof Fillers = "random";
  for (let off = 0; off < bytes; off += chunk.length) {
    chunk.fill(0);
    for (let p = 0; p < chunk.length / PAGE; p++) {
      if (runLeft === 0) {
        zeroRun = !zeroRun;
        runLeft = zeroRun ? 1 + (layout() % 300) : 1 + (layout() % 128);
        const k = layout() % 10;
        kind = k < 4 ? "random" : k < 7 ? "text" : "table";
      }
      runLeft--;
      if (!zeroRun) fill[kind](chunk.subarray(p * PAGE, (p + 1) * PAGE));
    }
    fs.writeSync(fd, chunk, 0, chunk.length, off);
  }
  fs.closeSync(fd);
}
