/**
 * Inputs of target 9 (issue 14, replay of a zstd multifd capture), built in a scratch directory:
 *
 * - a real QEMU 10.0 migration (tools/capture.ts: source and destination over TCP through the
 *   recording proxy) with `multifd-compression` zstd at `multifd-zstd-level` 1 over 2 channels,
 *   of a paused guest whose file-backed RAM is a guest RAM image that compresses like a real one
 *   ({@link writeGuestRam}): the main stream, the channels and the destination's RAM;
 * - per channel, exactly its packets' zstd payloads, concatenated ({@link extractPayloads}).
 *   QEMU's sender keeps one zstd stream per channel and flushes it at the end of each packet
 *   (multifd-zstd.c, ZSTD_e_flush), and never ends the frame: `zstd -dc` decodes every page of
 *   the concatenation and then fails with "premature end". The baseline files therefore end the
 *   frame with the 3 bytes ZSTD_e_end would have written after the last flush (an empty raw
 *   block marked last; QEMU's frames carry no checksum, which is checked).
 *
 *   deno run -A tools/bench/multifd_zstd.ts CHANNEL…   (parse and decode only, for the analysis)
 * @module
 */
import * as fs from "node:fs";
import { capture } from "../capture.ts";
import { qemu10 } from "../qemu.ts";
import { haveTool } from "../containers.ts";
import { writeGuestRam } from "./guest_ram.ts";
import { MiB, sh } from "./util.ts";
import {
  MULTIFD_FLAG,
  MULTIFD_INIT_SIZE,
  MULTIFD_PACKET_BYTES,
  MULTIFD_RAM_FIXED_SIZE,
} from "../../src/protocol/multifd.ts";
import { MULTIFD_MAGIC } from "../../src/protocol/constants.ts";

/** The end of a zstd frame without checksum: an empty raw block marked last. */
export const ZSTD_FRAME_END = Uint8Array.of(0x01, 0x00, 0x00);

/** One channel's payloads. */
export interface ChannelPayloads {
  /** The payloads concatenated, as QEMU sent them (no frame end). */
  raw: string;
  /** The same with {@link ZSTD_FRAME_END} appended (what the baseline decodes). */
  ended: string;
  /** Payload bytes (without the frame end). */
  bytes: number;
  /** Normal pages the payloads hold. */
  pages: number;
  /** RAM packets with a payload. */
  packets: number;
}

/** The inputs of target 9. */
export interface ZstdMultifdInputs {
  main: string;
  channels: string[];
  payloads: ChannelPayloads[];
  /** The destination QEMU's RAM after the load (replay must equal it). */
  dstRam: string;
  qemuVersion: string;
  /** Bytes of all connections. */
  captureBytes: number;
  level: number;
}

/** The zstd level QEMU compresses at (its default, set explicitly). */
const LEVEL = 1;

/**
 * Writes the payloads of the multifd channel `channel` (4 KiB pages, RAM packets only) to
 * `out.raw` and `out` (the latter with the frame end).
 */
export function extractPayloads(channel: string, out: string): ChannelPayloads {
  const b = fs.readFileSync(channel);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const headerLen = MULTIFD_RAM_FIXED_SIZE + 8 * (MULTIFD_PACKET_BYTES / 4096);
  const raw = `${out}.raw`;
  const fd = fs.openSync(raw, "w");
  let pos = MULTIFD_INIT_SIZE;
  let bytes = 0;
  let pages = 0;
  let packets = 0;
  try {
    while (pos < b.length) {
      if (dv.getUint32(pos) !== MULTIFD_MAGIC) throw new Error(`${channel}: no packet at ${pos}`);
      const flags = dv.getUint32(pos + 8);
      if (flags & MULTIFD_FLAG.DEVICE_STATE) throw new Error(`${channel}: device state at ${pos}`);
      const normal = dv.getUint32(pos + 16);
      const size = normal ? dv.getUint32(pos + 20) : 0;
      const payload = b.subarray(pos + headerLen, pos + headerLen + size);
      if (size && (flags & MULTIFD_FLAG.COMPRESSION_MASK) !== 0x04) {
        throw new Error(`${channel}: packet at ${pos} is not zstd (flags 0x${flags.toString(16)})`);
      }
      if (packets === 0 && size && (payload[4] & 0x04)) {
        throw new Error(`${channel}: the zstd frame has a checksum: 3 bytes cannot end it`);
      }
      fs.writeSync(fd, payload);
      bytes += size;
      pages += normal;
      if (size) packets++;
      pos += headerLen + size;
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.copyFileSync(raw, out);
  fs.appendFileSync(out, ZSTD_FRAME_END);
  return { raw, ended: out, bytes, pages, packets };
}

/**
 * Captures the migration of a `ramBytes` guest and extracts its payloads in `dir`; a string
 * says why it could not be built (no QEMU 10.0, no zstd, a failed migration).
 */
export async function buildZstdMultifdInputs(
  dir: string,
  ramBytes: number,
  log: (s: string) => void,
): Promise<ZstdMultifdInputs | string> {
  const q = qemu10();
  if (!q) return "QEMU 10.0 (.cache/qemu10, tools/qemu.ts qemu10()) is not installed";
  if (!haveTool("zstd")) return "`zstd` is not installed";
  const img = `${dir}/guest.img`;
  log(`multifd zstd: ${ramBytes / MiB} MiB guest RAM image`);
  writeGuestRam(img, ramBytes, 14);
  const ram = await Deno.readFile(img);
  await Deno.remove(img);
  log(`multifd zstd: QEMU ${q.version} migration, 2 channels, zstd level ${LEVEL}`);
  const r = await capture({
    mode: "multifd",
    dir,
    ram,
    qemu: q,
    channels: 2,
    parameters: {
      "multifd-compression": "zstd",
      "multifd-channels": 2,
      "multifd-zstd-level": LEVEL,
    },
    // No rate limit: the guest is paused, the migration converges in one pass.
    sourceParameters: { "max-bandwidth": 64 << 30 },
    timeoutMs: 600_000,
  });
  await Deno.remove(r.srcRam).catch(() => {});
  if (r.error || r.srcStatus !== "completed" || r.dstStatus !== "completed") {
    return `the QEMU ${q.version} migration did not complete: ${r.error ?? r.srcStatus}`;
  }
  if (r.channels.length !== 2 || r.connections.length !== 3) {
    return `the migration opened ${r.connections.map((c) => c.kind).join(", ")}, not main + 2`;
  }
  const payloads = r.channels.map((c, i) => extractPayloads(c, `${dir}/payloads.${i + 1}.zst`));
  for (const p of payloads) {
    // The baseline file must decode, completely, to the channel's pages.
    const n = await sh(`test "$(zstd -dc -q '${p.ended}' | wc -c)" -eq ${p.pages * 4096}`);
    if (n.code) throw new Error(`zstd -dc of ${p.ended} does not give its ${p.pages} pages`);
  }
  return {
    main: r.main,
    channels: r.channels,
    payloads,
    dstRam: r.dstRam,
    qemuVersion: q.version,
    captureBytes: r.connections.reduce((a, c) => a + c.bytes, 0),
    level: LEVEL,
  };
}

/** What `zstd -dc` says of a channel's payloads as QEMU sent them (no frame end). */
export async function unendedVerdict(p: ChannelPayloads): Promise<string> {
  const c = await new Deno.Command("sh", {
    args: ["-c", `zstd -dc '${p.raw}' | wc -c`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = Number(new TextDecoder().decode(c.stdout).trim());
  const err = new TextDecoder().decode(c.stderr).trim().split("\n").pop() ?? "";
  const m = /: ([^:]*)$/.exec(err)?.[1] ?? err;
  return `${out === p.pages * 4096 ? "decodes every page" : `decodes ${out} bytes`}, then ${
    err ? `fails ("${m.trim()}")` : "ends without error"
  }`;
}

if (import.meta.main) {
  // Start-up, parse and decode of the channels, no replay: what decoding costs in a process.
  const { parseMultifdChannel } = await import("../../src/parse/multifd.ts");
  const { ByteReader } = await import("../../src/wire/reader.ts");
  const { fileSource } = await import("../../src/wire/source.ts");
  let pages = 0;
  for (const f of Deno.args) {
    for await (const p of parseMultifdChannel(new ByteReader(fileSource(f)), f)) {
      if (p.kind === "packet") pages += p.normalPages;
    }
  }
  console.log(pages);
}
