/**
 * One COMPRESS_PAGE payload inflated exactly: its zlib stream must end at the payload's last
 * byte and hold exactly one page. QEMU's compressor writes nothing else, so bytes after the end
 * of the zlib stream mean the record's length is wrong (it swallowed what follows).
 *
 * node:zlib is loaded on first use only (it costs start-up): call {@link loadInflate} first.
 * @module
 */
type Zlib = typeof import("node:zlib");

let zlib: Zlib | undefined;

/** True once node:zlib is loaded. */
export function inflateReady(): boolean {
  return zlib !== undefined;
}

/** Loads node:zlib (once). */
export async function loadInflate(): Promise<void> {
  zlib ??= await import("node:zlib") as unknown as Zlib;
}

/**
 * Inflates `data` into one `pageSize`-byte page; returns the page, or why it is not one (a
 * phrase to follow "COMPRESS_PAGE payload").
 *
 * @example
 * ```ts
 * import { deflateSync } from "node:zlib";
 * import { inflatePage, loadInflate } from "./inflate.ts";
 * await loadInflate();
 * const z = new Uint8Array(deflateSync(new Uint8Array(4096).fill(7)));
 * const page = inflatePage(z, 4096);
 * if (typeof page === "string" || page[4095] !== 7) throw new Error("one page of 7s");
 * const longer = new Uint8Array(z.length + 10);
 * longer.set(z);
 * if (inflatePage(longer, 4096) !== "has 10 bytes after the end of its zlib stream") {
 *   throw new Error("a length 10 bytes too long is refused");
 * }
 * ```
 */
export function inflatePage(data: Uint8Array, pageSize: number): Uint8Array | string {
  if (!zlib) throw new Error("inflatePage: call loadInflate() first");
  if (data.length === 0) return "is empty";
  let res: { buffer: Uint8Array; engine: { bytesWritten: number } };
  try {
    res = zlib.inflateSync(data, { info: true, maxOutputLength: pageSize + 1 }) as unknown as {
      buffer: Uint8Array;
      engine: { bytesWritten: number };
    };
  } catch (e) {
    const m = (e as Error).message.split("\n")[0];
    return /larger than|maxOutputLength|ERR_BUFFER_TOO_LARGE/i.test(m)
      ? `inflates to more than a ${pageSize}-byte page`
      : `does not inflate (${m})`;
  }
  const used = res.engine.bytesWritten;
  if (used < data.length) return `has ${data.length - used} bytes after the end of its zlib stream`;
  if (res.buffer.length !== pageSize) {
    return `inflates to ${res.buffer.length} bytes, not a ${pageSize}-byte page`;
  }
  return new Uint8Array(res.buffer.buffer, res.buffer.byteOffset, res.buffer.length);
}
