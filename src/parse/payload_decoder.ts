/**
 * What decodes a multifd channel's payloads (src/parse/multifd_payload.ts picks one per
 * compression method), and the error a payload that does not decode is.
 * @module
 */

/** Why a payload does not decode (a phrase following "payload"). */
export class PayloadError extends Error {}

/** Decodes one channel's payloads, in order. */
export interface PayloadDecoder {
  /** Decodes `payload` into exactly `out.length` bytes of pages, written to `out`. */
  decode(payload: Uint8Array, out: Uint8Array): Promise<void>;
  /** Releases the decoder's native state. */
  close(): void;
}
