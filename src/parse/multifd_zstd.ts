/**
 * A multifd zstd channel's payloads decoded by a {@link ZstdDecoder} — the system's libzstd
 * where it can be used (src/wire/zstd_system.ts): one stream for the whole channel, each payload
 * decoding to exactly its packet's pages, straight into them. Output past the packet is looked
 * for in a small spare buffer, as QEMU's receiver refuses a payload that decodes past its pages.
 * @module
 */
import type { ZstdDecoder } from "../wire/zstd_decoder.ts";
import { type PayloadDecoder, PayloadError } from "./payload_decoder.ts";

/** Decodes a channel's zstd payloads with `dec`, in order. */
export class ZstdStepDecoder implements PayloadDecoder {
  readonly #dec: ZstdDecoder;
  readonly #spare = new Uint8Array(4096);
  #broken = false;

  constructor(dec: ZstdDecoder) {
    this.#dec = dec;
  }

  decode(payload: Uint8Array, out: Uint8Array): Promise<void> {
    if (this.#broken) {
      throw new PayloadError("cannot be decoded: the channel's zstd stream broke before");
    }
    this.#broken = true; // until the payload decoded to exactly the packet's pages
    const got = this.#run(payload, out);
    if (got !== out.length) {
      throw new PayloadError(`inflates to ${got} bytes, not the packet's ${out.length}`);
    }
    this.#broken = false;
    return Promise.resolve();
  }

  /** Feeds the payload, filling `out`; returns the bytes written to it. */
  #run(payload: Uint8Array, out: Uint8Array): number {
    const dec = this.#dec;
    let inOff = 0;
    let outOff = 0;
    for (;;) {
      const full = outOff === out.length;
      const dst = full ? this.#spare : out;
      const at = full ? 0 : outOff;
      const room = dst.length - at;
      let n: number;
      try {
        n = dec.step(payload, inOff, payload.length - inOff, dst, at, room, false);
      } catch (e) {
        throw new PayloadError(`does not decode (${(e as Error).message.split("\n")[0]})`);
      }
      inOff += dec.used;
      if (full && n > 0) throw new PayloadError(`inflates past the packet's ${out.length} bytes`);
      outOff += n;
      // Room left after all the input went in: the decoder has given all it can.
      if (n < room && inOff === payload.length) return outOff;
      if (n === 0 && dec.used === 0) {
        throw new PayloadError(`does not decode (${payload.length - inOff} bytes not taken)`);
      }
    }
  }

  close(): void {
    this.#dec.close();
  }
}
