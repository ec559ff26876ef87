/**
 * Zero detection on wide words: the test behind ZERO pages and zero blocks.
 * @module
 */

/** A 32-bit view over the whole buffer last seen: pages of one chunk share it (no view per page). */
let viewBuffer: ArrayBufferLike | undefined;
let view: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

function wordsOf(buffer: ArrayBufferLike): Uint32Array {
  if (buffer !== viewBuffer) {
    viewBuffer = buffer;
    view = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  return view;
}

/**
 * True when every byte of `bytes` is zero. Reads 32-bit lanes, eight at a time, where aligned.
 *
 * @example
 * ```ts
 * import { isAllZero } from "./zero.ts";
 * const page = new Uint8Array(4096);
 * if (!isAllZero(page)) throw new Error("a new page is zero");
 * page[4095] = 1;
 * if (isAllZero(page)) throw new Error("the last byte counts");
 * ```
 */
export function isAllZero(bytes: Uint8Array): boolean {
  const n = bytes.length;
  let i = 0;
  const head = Math.min(n, (4 - (bytes.byteOffset & 3)) & 3);
  for (; i < head; i++) if (bytes[i] !== 0) return false;
  const words = (n - i) >>> 2;
  if (words > 0) {
    const u = wordsOf(bytes.buffer);
    let k = (bytes.byteOffset + i) >>> 2;
    const end = k + words;
    const oct = k + (words & ~7);
    for (; k < oct; k += 8) {
      if (
        (u[k] | u[k + 1] | u[k + 2] | u[k + 3] | u[k + 4] | u[k + 5] | u[k + 6] | u[k + 7]) !== 0
      ) {
        return false;
      }
    }
    for (; k < end; k++) if (u[k] !== 0) return false;
    i += words * 4;
  }
  for (; i < n; i++) if (bytes[i] !== 0) return false;
  return true;
}
