/**
 * Path-safe file names for RAM blocks and disks. Every byte outside `[A-Za-z0-9._-]` is
 * percent-encoded (so `/` becomes `%2F` and no name can climb out of the output directory), a
 * leading `.` is encoded too (no `.`/`..`/hidden files), and names whose encoding is longer
 * than 180 characters are cut and suffixed with a hash, keeping the mapping one-to-one.
 * RAM blocks get `.ram`, disks `.disk`: `0000:00:02.0/vga.vram` → `0000%3A00%3A02.0%2Fvga.vram.ram`.
 * @module
 */

const SAFE = /^[A-Za-z0-9._-]$/;
const MAX_ENCODED = 180;

function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** Encodes a block or device name into one path component (no separators, never `.` or `..`). */
export function safeName(name: string): string {
  const bytes = new TextEncoder().encode(name);
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const ch = String.fromCharCode(bytes[i]);
    out += SAFE.test(ch) && !(i === 0 && ch === ".")
      ? ch
      : `%${bytes[i].toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (out.length > MAX_ENCODED) out = `${out.slice(0, MAX_ENCODED)}~${fnv1a(bytes)}`;
  return out.length ? out : "%00";
}

/** File name of a RAM block's image in the output directory. */
export function ramFileName(block: string): string {
  return `${safeName(block)}.ram`;
}

/** File name of a block-migration device's image in the output directory. */
export function diskFileName(device: string): string {
  return `${safeName(device)}.disk`;
}
