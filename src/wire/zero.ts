/**
 * Zero detection on wide words: the test behind ZERO pages and zero blocks.
 * @module
 */

/** True when every byte of `bytes` is zero. Reads 32-bit lanes, four at a time, where aligned. */
export function isAllZero(bytes: Uint8Array): boolean {
  const n = bytes.length;
  let i = 0;
  const head = Math.min(n, (4 - (bytes.byteOffset & 3)) & 3);
  for (; i < head; i++) if (bytes[i] !== 0) return false;
  const words = (n - i) >>> 2;
  if (words > 0) {
    const u = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    const quad = words & ~3;
    let k = 0;
    for (; k < quad; k += 4) {
      if ((u[k] | u[k + 1] | u[k + 2] | u[k + 3]) !== 0) return false;
    }
    for (; k < words; k++) if (u[k] !== 0) return false;
    i += words * 4;
  }
  for (; i < n; i++) if (bytes[i] !== 0) return false;
  return true;
}
