/**
 * SHA-256 of a file or of a source, streamed in constant memory (node:crypto, loaded on first
 * use), and a source wrapper that hashes every byte read through it.
 * @module
 */
import type { RandomAccess } from "../wire/random_access.ts";
import type { ByteSource } from "../wire/source.ts";
import { WINDOW_CHUNK } from "./bytes.ts";

/** An incremental hash. */
export interface Hasher {
  update(bytes: Uint8Array): void;
  /** Lower-case hex digest. */
  hex(): string;
}

/** A new SHA-256 hasher. */
export async function sha256Hasher(): Promise<Hasher> {
  const { createHash } = await import("node:crypto");
  const h = createHash("sha256");
  return {
    update: (b) => void h.update(b),
    hex: () => h.digest("hex"),
  };
}

/** SHA-256 of all of `ra`. */
export async function sha256Access(ra: RandomAccess): Promise<string> {
  const h = await sha256Hasher();
  const buf = new Uint8Array(Math.min(WINDOW_CHUNK * 4, Math.max(1, ra.size)));
  for (let pos = 0; pos < ra.size;) {
    const n = ra.read(buf, pos);
    if (n <= 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return h.hex();
}

/** `src` with every byte it delivers fed to `h` (and counted); no skip, so nothing is missed. */
export function hashingSource(src: ByteSource, h: Hasher): ByteSource & { bytes(): number } {
  let bytes = 0;
  return {
    async read(buf: Uint8Array): Promise<number | null> {
      const n = await src.read(buf);
      if (n) {
        h.update(buf.subarray(0, n));
        bytes += n;
      }
      return n;
    },
    close: () => src.close(),
    bytes: () => bytes,
  };
}

/** Reads `src` to its end (feeding whatever wraps it); returns the bytes read. */
export async function drain(src: ByteSource): Promise<number> {
  const buf = new Uint8Array(WINDOW_CHUNK * 4);
  let total = 0;
  for (;;) {
    const n = await src.read(buf);
    if (n === null) return total;
    total += n;
  }
}
