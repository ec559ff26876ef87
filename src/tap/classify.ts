/**
 * What a connection carries, told from its first bytes: `QEVM` is the main channel, the magic
 * 0x11223344 a multifd channel (its id is byte 24 of the 64-byte initial packet), anything else
 * the postcopy-preempt channel when the main channel came before it, else unknown.
 * @module
 */
import { FILE_MAGIC, MULTIFD_MAGIC } from "../protocol/constants.ts";
import type { ConnectionKind } from "./events.ts";

/** Bytes a multifd channel needs before its id is known (magic, version, uuid, id). */
export const MULTIFD_ID_BYTES = 25;

/** A connection's kind, and its multifd channel id. */
export interface Classified {
  kind: ConnectionKind;
  channelId?: number;
}

/**
 * Classifies a connection by `head`, its first bytes so far; undefined when more are needed.
 * `ended`: no more bytes will come (the head is all there is). `afterMain`: a main channel was
 * accepted before this connection.
 *
 * @example
 * ```ts
 * import { classify } from "./classify.ts";
 * const qevm = new Uint8Array([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]);
 * if (classify(qevm, false, false)?.kind !== "main") throw new Error();
 * const mfd = new Uint8Array(64);
 * mfd.set([0x11, 0x22, 0x33, 0x44]);
 * mfd[24] = 2;
 * if (classify(mfd.subarray(0, 8), false, true) !== undefined) throw new Error("needs the id");
 * if (classify(mfd, false, true)?.channelId !== 2) throw new Error();
 * if (classify(new Uint8Array([0, 0, 0, 0]), false, true)?.kind !== "preempt") throw new Error();
 * ```
 */
export function classify(
  head: Uint8Array,
  ended: boolean,
  afterMain: boolean,
): Classified | undefined {
  const other: Classified = { kind: afterMain ? "preempt" : "unknown" };
  if (head.length < 4) {
    const prefixOf = (magic: number) =>
      head.every((b, i) => b === ((magic >>> (24 - 8 * i)) & 0xff));
    if (!ended && (prefixOf(FILE_MAGIC) || prefixOf(MULTIFD_MAGIC))) return undefined;
    return head.length === 0 && !ended ? undefined : other;
  }
  const magic = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
  if (magic === FILE_MAGIC) return { kind: "main" };
  if (magic !== MULTIFD_MAGIC) return other;
  if (head.length >= MULTIFD_ID_BYTES) return { kind: "multifd", channelId: head[24] };
  return ended ? { kind: "multifd" } : undefined;
}
