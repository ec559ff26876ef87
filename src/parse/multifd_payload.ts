/**
 * Multifd RAM packet payloads back into pages, per compression method, as QEMU's receiver
 * decodes them (multifd-zlib.c, -zstd.c, -qpl.c, -uadk.c, -qatzip.c):
 * - zlib and zstd: one stream per channel, continued from packet to packet (the sender flushes
 *   at the end of each packet), so a channel's decoder keeps its state between packets;
 * - qpl and uadk: a be32 length per page, then each page deflated on its own (raw deflate, no
 *   zlib header); a length equal to the page size means the page is sent as is;
 * - qatzip: one gzip blob per packet.
 * Output is bounded: a payload that inflates past the packet's pages is an error as soon as it
 * does. node:zlib is loaded only when a compressed channel is met.
 * @module
 */
import type { MultifdCompression } from "../protocol/multifd.ts";

type Zlib = typeof import("node:zlib");
type NodeStream = ReturnType<Zlib["createInflate"]>;

/** Why a payload does not decode (a phrase following "payload"). */
export class PayloadError extends Error {}

/** Decodes one channel's payloads, in order. */
export interface PayloadDecoder {
  /** Decodes `payload` into exactly `out.length` bytes of pages, written to `out`. */
  decode(payload: Uint8Array, out: Uint8Array): Promise<void>;
  /** Releases the decoder's native state. */
  close(): void;
}

let zlib: Zlib | undefined;

/** A decoder for one channel's payloads of `method` (not "none"). */
export async function payloadDecoder(
  method: MultifdCompression,
  pageSize: number,
): Promise<PayloadDecoder> {
  zlib ??= await import("node:zlib") as unknown as Zlib;
  const z = zlib;
  switch (method) {
    case "zlib":
      return new ContinuingDecoder(
        "zlib",
        z.createInflate({ chunkSize: 512 << 10 }),
        z.constants.Z_SYNC_FLUSH,
      );
    case "zstd":
      return new ContinuingDecoder(
        "zstd",
        z.createZstdDecompress({ chunkSize: 512 << 10 }) as unknown as NodeStream,
        z.constants.ZSTD_e_flush,
      );
    case "qpl":
    case "uadk":
      return new PageDeflateDecoder(z, pageSize);
    case "qatzip":
      return new GzipBlobDecoder(z);
    default:
      throw new Error(`no payload decoder for '${method}'`);
  }
}

function why(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

/** zlib or zstd: one node:zlib stream for the whole channel, flushed after each payload. */
class ContinuingDecoder implements PayloadDecoder {
  readonly #name: string;
  readonly #t: NodeStream;
  readonly #flush: number;
  #out?: Uint8Array;
  #len = 0;
  #over = false;
  #err?: string;
  #wake?: () => void;

  constructor(name: string, t: NodeStream, flush: number) {
    this.#name = name;
    this.#t = t;
    this.#flush = flush;
    t.on("data", (c: Uint8Array) => this.#data(c));
    t.on("error", (e: unknown) => {
      this.#err ??= why(e);
      this.#wake?.();
    });
  }

  #data(c: Uint8Array) {
    const out = this.#out;
    if (!out || this.#over) return;
    if (this.#len + c.length > out.length) {
      this.#over = true;
      this.#wake?.();
      return;
    }
    out.set(c, this.#len);
    this.#len += c.length;
  }

  async decode(payload: Uint8Array, out: Uint8Array): Promise<void> {
    if (this.#err || this.#over) {
      throw new PayloadError(`cannot be decoded: the channel's ${this.#name} stream broke before`);
    }
    this.#out = out;
    this.#len = 0;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#t.write(payload);
      this.#t.flush(this.#flush, () => resolve());
    });
    this.#wake = undefined;
    this.#out = undefined;
    if (this.#err) throw new PayloadError(`does not decode (${this.#err})`);
    if (this.#over) {
      this.close();
      throw new PayloadError(`inflates past the packet's ${out.length} bytes`);
    }
    if (this.#len !== out.length) {
      throw new PayloadError(`inflates to ${this.#len} bytes, not the packet's ${out.length}`);
    }
  }

  close() {
    this.#t.destroy();
  }
}

/** qpl and uadk: be32 lengths, then each page deflated alone (or raw at full length). */
class PageDeflateDecoder implements PayloadDecoder {
  readonly #z: Zlib;
  readonly #ps: number;
  constructor(z: Zlib, pageSize: number) {
    this.#z = z;
    this.#ps = pageSize;
  }

  decode(payload: Uint8Array, out: Uint8Array): Promise<void> {
    const ps = this.#ps;
    const pages = out.length / ps;
    const head = pages * 4;
    if (payload.length <= head) {
      throw new PayloadError(`of ${payload.length} bytes is too short for ${pages} page lengths`);
    }
    const dv = new DataView(payload.buffer, payload.byteOffset, head);
    let at = head;
    for (let i = 0; i < pages; i++) {
      const len = dv.getUint32(i * 4);
      if (len === 0 || len > ps) throw new PayloadError(`page ${i} has length ${len}`);
      if (at + len > payload.length) {
        throw new PayloadError(`page lengths add up past the payload's ${payload.length} bytes`);
      }
      const z = payload.subarray(at, at + len);
      at += len;
      if (len === ps) {
        out.set(z, i * ps);
        continue;
      }
      let page: Uint8Array;
      try {
        page = this.#z.inflateRawSync(z, { maxOutputLength: ps });
      } catch (e) {
        throw new PayloadError(`page ${i} does not inflate (${why(e)})`);
      }
      if (page.length !== ps) {
        throw new PayloadError(`page ${i} inflates to ${page.length} bytes, not ${ps}`);
      }
      out.set(page, i * ps);
    }
    if (at !== payload.length) {
      throw new PayloadError(`has ${payload.length - at} bytes past its pages`);
    }
    return Promise.resolve();
  }

  close() {}
}

/** qatzip: the packet's pages as one gzip blob (possibly several members). */
class GzipBlobDecoder implements PayloadDecoder {
  readonly #z: Zlib;
  constructor(z: Zlib) {
    this.#z = z;
  }

  decode(payload: Uint8Array, out: Uint8Array): Promise<void> {
    let data: Uint8Array;
    try {
      data = this.#z.gunzipSync(payload, { maxOutputLength: out.length });
    } catch (e) {
      const m = why(e);
      throw new PayloadError(
        /larger than|maxOutputLength|ERR_BUFFER_TOO_LARGE/i.test(m)
          ? `inflates past the packet's ${out.length} bytes`
          : `does not decode (${m})`,
      );
    }
    if (data.length !== out.length) {
      throw new PayloadError(`inflates to ${data.length} bytes, not the packet's ${out.length}`);
    }
    out.set(data);
    return Promise.resolve();
  }

  close() {}
}
