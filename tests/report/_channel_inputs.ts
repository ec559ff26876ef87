/**
 * A multifd channel with zlib-compressed page packets and a device-state packet, built with
 * node:zlib the way QEMU's sender writes them: one deflate stream for the channel, each packet's
 * pages written then sync-flushed, so each payload continues the previous one.
 */
import zlib from "node:zlib";
import { Buffer } from "node:buffer";
import { Bytes, CHANNEL_UUID } from "./_inputs.ts";

const PAGE = 4096;

/** One packet of {@link zlibChannelFile}: pages (normal, zero) or device state. */
export type ZlibChannelPacket =
  | { sync: boolean; block: string; normal: number[]; zero: number[] }
  | { device: string; instance: number; payload: Uint8Array };

/** The packets of the golden case: SYNC, pages, device state, pages, SYNC. */
export const ZLIB_CHANNEL_PACKETS: ZlibChannelPacket[] = [
  { sync: true, block: "", normal: [], zero: [] },
  { sync: false, block: "pc.ram", normal: [0x0, 0x1000, 0x9000], zero: [0x2000] },
  { device: "0000:00:05.0/vfio", instance: 0, payload: new Uint8Array(100).fill(0xab) },
  { sync: false, block: "pc.ram", normal: [0x3000, 0x4000], zero: [] },
  { sync: true, block: "", normal: [], zero: [] },
];

/** Page k of packet n: a repeating pattern, so that zlib compresses it. */
export function zlibChannelPage(n: number, k: number): Uint8Array {
  const page = new Uint8Array(PAGE);
  for (let i = 0; i < PAGE; i++) page[i] = (n * 16 + k + (i % 7)) & 0xff;
  return page;
}

/** The channel, each packet's offset and payload size (bytes after its header). */
export async function zlibChannelFile(
  packets: ZlibChannelPacket[] = ZLIB_CHANNEL_PACKETS,
): Promise<{ bytes: Uint8Array; at: number[]; payload: number[] }> {
  const deflate = zlib.createDeflate({ level: 1 });
  const chunks: Buffer[] = [];
  deflate.on("data", (c: Buffer) => chunks.push(c));
  const compress = async (data: Uint8Array) => {
    deflate.write(data);
    await new Promise<void>((r) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
    const out = Buffer.concat(chunks);
    chunks.length = 0;
    return new Uint8Array(out);
  };
  const w = new Bytes();
  w.be32(0x11223344).be32(1);
  w.bytes(CHANNEL_UUID.replaceAll("-", "").match(/../g)!.map((h) => parseInt(h, 16)));
  w.u8(1).zeros(39);
  const at: number[] = [];
  const payload: number[] = [];
  for (const [n, p] of packets.entries()) {
    at.push(w.offset);
    if ("device" in p) {
      w.be32(0x11223344).be32(1).be32(0x40);
      const name = new Uint8Array(256);
      name.set(new TextEncoder().encode(p.device));
      w.bytes(name).be32(p.instance).be32(p.payload.length).bytes(p.payload);
      payload.push(p.payload.length);
      continue;
    }
    const pages = new Uint8Array(p.normal.length * PAGE);
    p.normal.forEach((_, k) => pages.set(zlibChannelPage(n, k), k * PAGE));
    const z = p.normal.length ? await compress(pages) : new Uint8Array(0);
    const flags = (p.sync ? 1 : 0) | (p.normal.length + p.zero.length ? 2 : 0);
    w.be32(0x11223344).be32(1).be32(flags).be32(p.sync ? 0 : 128);
    w.be32(p.normal.length).be32(z.length).be64(n).be32(p.zero.length).zeros(28);
    const name = new Uint8Array(256);
    name.set(new TextEncoder().encode(p.block));
    w.bytes(name);
    const offsets = [...p.normal, ...p.zero];
    for (let i = 0; i < 128; i++) w.be64(offsets[i] ?? 0);
    w.bytes(z);
    payload.push(z.length);
  }
  deflate.destroy();
  return { bytes: w.result(), at, payload };
}
