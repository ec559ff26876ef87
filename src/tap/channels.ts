/**
 * The multifd channels that passed, checked at the end from the first bytes each sent: a
 * complete 64-byte initial packet (magic 0x11223344, version 1) and a channel id no other
 * channel has. Replay needs both; the main stream reaching its EOF says nothing about them.
 * @module
 */
import { MULTIFD_MAGIC } from "../protocol/constants.ts";

/** Bytes of a multifd channel's initial packet. */
export const MULTIFD_INIT_BYTES = 64;

/** The multifd initial packet version QEMU sends. */
const MULTIFD_VERSION = 1;

/** What the check needs of a connection. */
export interface ChannelHead {
  n: number;
  kind: string;
  /** Its first source→destination bytes (up to {@link MULTIFD_INIT_BYTES}). */
  head: Uint8Array;
}

/**
 * What is wrong with the multifd channels (one line), or undefined when each has a complete
 * initial packet and its own id.
 *
 * @example
 * ```ts
 * import { checkChannels } from "./channels.ts";
 * const init = (id: number) => {
 *   const b = new Uint8Array(64);
 *   b.set([0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1]);
 *   b[24] = id;
 *   return b;
 * };
 * const ok = [{ n: 1, kind: "multifd", head: init(0) }, { n: 2, kind: "multifd", head: init(1) }];
 * if (checkChannels(ok) !== undefined) throw new Error();
 * const dup = [{ n: 1, kind: "multifd", head: init(0) }, { n: 2, kind: "multifd", head: init(0) }];
 * if (!checkChannels(dup)?.includes("both")) throw new Error();
 * ```
 */
export function checkChannels(conns: readonly ChannelHead[]): string | undefined {
  const problems: string[] = [];
  const ids = new Map<number, number>();
  for (const c of conns) {
    if (c.kind !== "multifd") continue;
    const h = c.head;
    if (h.length < MULTIFD_INIT_BYTES) {
      problems.push(
        `connection ${c.n} sent ${h.length} bytes, fewer than a multifd initial packet (64)`,
      );
      continue;
    }
    const view = new DataView(h.buffer, h.byteOffset, MULTIFD_INIT_BYTES);
    if (view.getUint32(0) !== MULTIFD_MAGIC) {
      problems.push(`connection ${c.n} does not start with the multifd magic`);
      continue;
    }
    const version = view.getUint32(4);
    if (version !== MULTIFD_VERSION) {
      problems.push(`connection ${c.n}: multifd initial packet version ${version}, not 1`);
      continue;
    }
    const id = h[24];
    const other = ids.get(id);
    if (other !== undefined) {
      problems.push(`connections ${other} and ${c.n} both say multifd channel id ${id}`);
    } else ids.set(id, c.n);
  }
  return problems.length ? `multifd channels invalid: ${problems.join("; ")}` : undefined;
}
