/**
 * Multifd RAM packet payloads back into pages, per compression method, as QEMU's receiver
 * decodes them (multifd-zlib.c, -zstd.c, -qpl.c, -uadk.c, -qatzip.c):
 * - zlib and zstd: one stream per channel, continued from packet to packet (the sender flushes
 *   at the end of each packet), so a channel's decoder keeps its state between packets;
 * - qpl and uadk: a be32 length per page, then each page compressed on its own — qpl as raw
 *   deflate, uadk in zlib format (its session's alg_type is WD_ZLIB: header 78 xx, adler32
 *   trailer); a length equal to the page size means the page is sent as is;
 * - zlib: the stream must not end — QEMU's receiver fails when inflate returns Z_STREAM_END
 *   instead of Z_OK;
 * - qatzip: one gzip blob per packet.
 * Output is bounded: a payload that inflates past the packet's pages is an error as soon as it
 * does. node:zlib is loaded only when a compressed channel is met. zstd is stepped straight into
 * the packet's pages (src/parse/multifd_zstd.ts) by the system's libzstd where it can be used
 * (about 30 % faster), else by node:zlib's (src/wire/zstd_decoder.ts, as containers are); zlib by
 * the zlib handle's synchronous write ({@link HandleDecoder}); each with the node:stream decoder
 * as the fallback where node:zlib has no such handle.
 * @module
 */
import { syncHandle, type ZlibHandle, type ZlibInternals } from "../wire/zlib_handle.ts";
import { systemZstdDecoder } from "../wire/zstd_system.ts";
import { zstdDecoder } from "../wire/zstd_decoder.ts";
import { ZstdStepDecoder } from "./multifd_zstd.ts";
import { type PayloadDecoder, PayloadError } from "./payload_decoder.ts";
import type { MultifdCompression } from "../protocol/multifd.ts";

type Zlib = typeof import("node:zlib");
type NodeStream = ReturnType<Zlib["createInflate"]>;

export { type PayloadDecoder, PayloadError };

let zlib: Zlib | undefined;

/** How {@link payloadDecoder} decodes zlib and zstd (for tests of every path). */
export interface PayloadDecoderOptions {
  /** Use the node:stream decoder even where the zlib handle has a synchronous write. */
  streamPath?: boolean;
  /** zstd: node:zlib even where the system's libzstd can be used. */
  nodeZstd?: boolean;
}

/** A decoder for one channel's payloads of `method` (not "none"). */
export async function payloadDecoder(
  method: MultifdCompression,
  pageSize: number,
  options: PayloadDecoderOptions = {},
): Promise<PayloadDecoder> {
  if (method === "zstd" && !options.streamPath && !options.nodeZstd) {
    const system = systemZstdDecoder();
    if (system) return new ZstdStepDecoder(system);
  }
  zlib ??= await import("node:zlib") as unknown as Zlib;
  const z = zlib;
  const handle = (name: string, t: NodeStream, flush: number, probe?: number) =>
    options.streamPath ? (t.close(), undefined) : HandleDecoder.of(name, t, flush, probe);
  switch (method) {
    case "zlib":
      return handle("zlib", z.createInflate(), z.constants.Z_SYNC_FLUSH, z.constants.Z_FINISH) ??
        new ContinuingDecoder(
          "zlib",
          z.createInflate({ chunkSize: 512 << 10 }),
          z.constants.Z_SYNC_FLUSH,
        );
    case "zstd": {
      // node:zlib's own zstd, stepped as the system's is (src/wire/zstd_decoder.ts).
      const dec = options.streamPath ? undefined : zstdDecoder(z);
      if (dec) return new ZstdStepDecoder(dec);
      return new ContinuingDecoder(
        "zstd",
        z.createZstdDecompress({ chunkSize: 512 << 10 }) as unknown as NodeStream,
        z.constants.ZSTD_e_flush,
      );
    }
    case "qpl":
      return new PageDeflateDecoder(pageSize, (b, o) => z.inflateRawSync(b, o));
    case "uadk":
      return new PageDeflateDecoder(pageSize, (b, o) => z.inflateSync(b, o));
    case "qatzip":
      return new GzipBlobDecoder(z);
    default:
      throw new Error(`no payload decoder for '${method}'`);
  }
}

function why(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

/**
 * zlib: one decoder for the whole channel, driven by the handle's synchronous write
 * straight into the packet's pages — no node:stream, no output chunks, no copy, no wait for
 * callbacks (through node:stream, replay of a 1 GiB guest's zstd multifd capture took 1.03 s
 * instead of 0.88 s, its channels' parse and decode alone 0.65 s instead of 0.45 s). Output
 * past the packet is looked for in a small spare buffer.
 */
class HandleDecoder implements PayloadDecoder {
  readonly #name: string;
  readonly #t: NodeStream & ZlibInternals;
  readonly #h: ZlibHandle;
  readonly #state: Uint32Array;
  readonly #flush: number;
  readonly #probe?: number;
  readonly #spare = new Uint8Array(4096);
  #err?: string;
  #broken = false;
  /** Payload bytes the last {@link HandleDecoder.#run} left untaken. */
  #left = 0;

  /**
   * A decoder over `t`'s handle; undefined (and `t` closed) where it has no synchronous write.
   * With `probe` (zlib's Z_FINISH), each payload is checked not to end the stream.
   */
  static of(name: string, t: NodeStream, flush: number, probe?: number): HandleDecoder | undefined {
    const sync = syncHandle(t);
    if (!sync) {
      t.close();
      return undefined;
    }
    return new HandleDecoder(name, t, sync.handle, sync.state, flush, probe);
  }

  private constructor(
    name: string,
    t: NodeStream & ZlibInternals,
    h: ZlibHandle,
    state: Uint32Array,
    flush: number,
    probe?: number,
  ) {
    this.#name = name;
    this.#t = t;
    this.#h = h;
    this.#state = state;
    this.#flush = flush;
    this.#probe = probe;
    t.on("error", (e: unknown) => this.#err ??= why(e)); // none may go unhandled
    h.onerror = (message: string) => this.#err ??= message;
  }

  decode(payload: Uint8Array, out: Uint8Array): Promise<void> {
    if (this.#broken) {
      throw new PayloadError(`cannot be decoded: the channel's ${this.#name} stream broke before`);
    }
    this.#broken = true; // until the payload decoded to exactly the packet's pages
    const got = this.#run(payload, out);
    if (this.#probe !== undefined && this.#ended(this.#probe)) {
      throw new PayloadError(
        `ends the ${this.#name} stream (inflate returns Z_STREAM_END, not Z_OK)`,
      );
    }
    if (this.#left > 0) throw new PayloadError(`does not decode (${this.#left} bytes not taken)`);
    if (got !== out.length) {
      throw new PayloadError(`inflates to ${got} bytes, not the packet's ${out.length}`);
    }
    this.#broken = false;
    return Promise.resolve();
  }

  /**
   * Whether the stream has ended: a write of no input with Z_FINISH fails ("unexpected end of
   * file", Z_BUF_ERROR, which leaves a running stream as it was) unless the stream is at its end.
   */
  #ended(flush: number): boolean {
    let failed = false;
    const keep = this.#h.onerror;
    this.#h.onerror = () => failed = true;
    try {
      this.#h.writeSync(flush, this.#spare, 0, 0, this.#spare, 0, 1);
    } catch {
      failed = true;
    } finally {
      this.#h.onerror = keep;
    }
    return !failed;
  }

  /** Feeds the payload, filling `out`; returns the bytes written to it. */
  #run(payload: Uint8Array, out: Uint8Array): number {
    let inOff = 0;
    let outOff = 0;
    this.#left = 0;
    for (;;) {
      const full = outOff === out.length;
      const dst = full ? this.#spare : out;
      const at = full ? 0 : outOff;
      const room = dst.length - at;
      const inLen = payload.length - inOff;
      this.#write(payload, inOff, inLen, dst, at, room);
      const n = room - this.#state[0];
      const used = inLen - this.#state[1];
      inOff += used;
      if (full && n > 0) throw new PayloadError(`inflates past the packet's ${out.length} bytes`);
      outOff += n;
      // Room left after all the input went in: the decoder has given all it can.
      if (this.#state[0] > 0 && inOff === payload.length) return outOff;
      if (n === 0 && used === 0) {
        this.#left = payload.length - inOff;
        return outOff;
      }
    }
  }

  #write(input: Uint8Array, inOff: number, inLen: number, dst: Uint8Array, at: number, n: number) {
    try {
      this.#h.writeSync(this.#flush, input, inOff, inLen, dst, at, n);
    } catch (e) {
      this.#err ??= why(e);
    }
    // Where a handle reports errors by destroying its stream instead of throwing (Node).
    if (!this.#err && this.#t.destroyed) this.#err = "the decoder failed";
    if (this.#err) throw new PayloadError(`does not decode (${this.#err})`);
  }

  close() {
    this.#t.close();
  }
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
    const t = this.#t as NodeStream & { bytesWritten?: number };
    const before = t.bytesWritten ?? 0;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#t.write(payload);
      this.#t.flush(this.#flush, () => resolve());
    });
    this.#wake = undefined;
    this.#out = undefined;
    if (this.#err) throw new PayloadError(`does not decode (${this.#err})`);
    const left = payload.length - ((t.bytesWritten ?? 0) - before);
    if (left > 0) {
      // Input the decoder would not take: its stream ended (node:stream tells no more; a stream
      // ending exactly at a payload's end shows here only at the next payload).
      this.#over = true;
      throw new PayloadError(
        this.#name === "zlib"
          ? `ends the zlib stream (inflate returns Z_STREAM_END, not Z_OK)`
          : `does not decode (${left} bytes not taken)`,
      );
    }
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

type Inflate = (b: Uint8Array, o: { maxOutputLength: number }) => Uint8Array;

/** qpl and uadk: be32 lengths, then each page compressed alone (or raw at full length). */
class PageDeflateDecoder implements PayloadDecoder {
  readonly #ps: number;
  readonly #inflate: Inflate;
  constructor(pageSize: number, inflate: Inflate) {
    this.#ps = pageSize;
    this.#inflate = inflate;
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
        page = this.#inflate(z, { maxOutputLength: ps });
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
