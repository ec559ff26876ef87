/**
 * Writing a libvirt QEMU save image (the `virsh save` / `virsh managedsave` format) around an
 * emitted stream, so that `virsh restore` (and migscope's own reader, container/libvirt.ts) take
 * it: the 92-byte header (magic `LibvirtQemudSave`, version 2, data_len, was_running, format,
 * cookieOffset 0, 14 unused zero u32, little-endian as libvirt writes it on x86-64 and aarch64
 * hosts), the NUL-terminated domain XML, zero padding, then the QEMU stream at 92 + data_len —
 * compressed as a whole with gzip or zstd (node:zlib) or xz (the system's `xz -c -3`, as libvirt
 * itself runs its compressors), in constant memory.
 *
 * Layout of the data region, compared with real libvirt 9.0 images (../shared/saved-vms,
 * `l1_libvirt_save_raw` and `l2_libvirt_save_gzip`): libvirt writes the XML and its NUL, a
 * NUL-terminated cookie (cookieOffset = the XML's length with its NUL), then exactly 65,536
 * zero bytes, so its stream starts at an unaligned offset (67,378 and 67,380 there). The
 * padding is room for `virsh save-image-define`/`save-image-edit`, which rewrite the XML in
 * place when the new one fits in data_len. migscope writes no cookie (cookieOffset 0, which
 * libvirt accepts: the cookie is optional), keeps at least the same 64 KiB of zero padding after
 * the XML's NUL, and adds up to 4 KiB more so that the stream starts at a 4 KiB boundary of the
 * file: data_len = (roundup(92 + XML + 1 + 65,536, 4096)) - 92. Every other field sits at the
 * same offset with the same meaning as in those images (checked by tests/emit/libvirt_save_test.ts).
 * @module
 */
import { nodeZlib, TOOL_PACKAGES } from "../container/decompress.ts";
import { LIBVIRT_MAGIC } from "../container/detect.ts";
import { scanDomainXml } from "../container/domain_xml.ts";
import {
  LIBVIRT_FORMATS,
  LIBVIRT_HEADER_SIZE,
  type LibvirtFormat,
  MAX_DATA_HEAD,
} from "../container/libvirt.ts";
import type { ByteSink } from "../wire/writer.ts";

/** Header version written (2: the one with cookieOffset, libvirt's current). */
export const SAVE_VERSION = 2;
/** Least zero padding after the XML's NUL (libvirt 9.0 writes exactly this much). */
export const SAVE_PADDING = 64 << 10;
/** The stream starts at a multiple of this file offset. */
export const SAVE_ALIGN = 4096;
/** The compressions migscope writes (libvirt's codes come from {@link LIBVIRT_FORMATS}). */
export const SAVE_COMPRESSIONS = ["gzip", "zstd", "xz"] as const;
/** One of {@link SAVE_COMPRESSIONS}. */
export type SaveCompression = typeof SAVE_COMPRESSIONS[number];
/** Longest domain XML written (the reader keeps the data region, up to 16 MiB, in memory). */
export const MAX_DOMAIN_XML = MAX_DATA_HEAD - SAVE_PADDING - SAVE_ALIGN;

/** How the image is written. */
export interface LibvirtSaveOptions {
  /** Compression of the stream part (none: libvirt's `raw`). */
  compress?: SaveCompression;
  /** was_running = 1: `virsh restore` resumes the guest (unless --paused). */
  running?: boolean;
}

/** What {@link libvirtSaveWriter} wrote. */
export interface LibvirtSaveStats {
  format: LibvirtFormat;
  wasRunning: number;
  dataLen: number;
  /** Where the (compressed) stream starts: 92 + data_len. */
  streamOffset: number;
  /** Bytes of the QEMU stream before compression. */
  streamBytes: number;
  /** Bytes of the whole image. */
  imageBytes: number;
}

/** A stream sink that wraps what it is given in the image. */
export interface LibvirtSaveWriter {
  /** Takes the next bytes of the QEMU stream; resolves once they are consumed. */
  write: ByteSink;
  /** Ends the stream (flushing the compressor) and resolves when every byte is written. */
  finish(): Promise<LibvirtSaveStats>;
  /** Stops at once (destroys the compressor, kills `xz`); idempotent, synchronous. */
  abort(): void;
}

const XML_START = /^(?:\uFEFF)?(?:\s+|<\?xml[^]*?\?>|<!--[^]*?-->|<!DOCTYPE[^>]*>)*<([^\s/>]*)/;

/**
 * Why `xml` (a file's bytes) cannot be the image's domain XML, or undefined when it can: it must
 * be non-empty UTF-8 without a NUL byte (the header ends the XML at the first NUL), of at most
 * {@link MAX_DOMAIN_XML} bytes, a `<domain>` document with a `<name>` (libvirt restores the
 * domain by it).
 */
export function domainXmlProblem(xml: Uint8Array): string | undefined {
  if (xml.length === 0) return "the file is empty";
  const nul = xml.indexOf(0);
  if (nul >= 0) return `a NUL byte at offset ${nul} (the image ends the XML at the first NUL)`;
  if (xml.length > MAX_DOMAIN_XML) {
    return `${xml.length} bytes: a domain XML of at most ${MAX_DOMAIN_XML} bytes is written`;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(xml);
  } catch {
    return "not UTF-8 text";
  }
  const root = XML_START.exec(text)?.[1];
  if (root !== "domain") {
    return root
      ? `not a libvirt domain XML: its root element is <${root.slice(0, 40)}>, not <domain>`
      : "not a libvirt domain XML: it does not start with a <domain> element";
  }
  if (!/<\/domain\s*>\s*(?:<!--[^]*?-->\s*)*$/.test(text)) {
    return "not a whole domain XML: it does not end with </domain>";
  }
  if (!scanDomainXml(text).name) return "the domain XML has no <name> (libvirt restores by it)";
  return undefined;
}

/**
 * The header, the XML and the padding: the first 92 + data_len bytes of the image. Throws when
 * {@link domainXmlProblem} finds one.
 *
 * @example The header fields, read back little-endian
 * ```ts
 * import { libvirtSaveHead } from "./libvirt_save.ts";
 * const xml = new TextEncoder().encode("<domain type='kvm'><name>g</name></domain>");
 * const head = libvirtSaveHead(xml, { compress: "gzip", running: true });
 * const v = new DataView(head.buffer);
 * const magic = new TextDecoder().decode(head.subarray(0, 16));
 * const [version, dataLen, running, format] = [16, 20, 24, 28].map((at) => v.getUint32(at, true));
 * if (magic !== "LibvirtQemudSave" || version !== 2 || running !== 1 || format !== 1) {
 *   throw new Error("gzip (1), running, version 2");
 * }
 * if (head.length !== 92 + dataLen || head.length % 4096 !== 0) throw new Error("aligned");
 * ```
 */
export function libvirtSaveHead(xml: Uint8Array, opts: LibvirtSaveOptions = {}): Uint8Array {
  const problem = domainXmlProblem(xml);
  if (problem) throw new Error(`domain XML: ${problem}`);
  const least = LIBVIRT_HEADER_SIZE + xml.length + 1 + SAVE_PADDING;
  const streamOffset = Math.ceil(least / SAVE_ALIGN) * SAVE_ALIGN;
  const head = new Uint8Array(streamOffset);
  head.set(new TextEncoder().encode(LIBVIRT_MAGIC), 0);
  const v = new DataView(head.buffer);
  v.setUint32(16, SAVE_VERSION, true);
  v.setUint32(20, streamOffset - LIBVIRT_HEADER_SIZE, true);
  v.setUint32(24, opts.running ? 1 : 0, true);
  v.setUint32(28, LIBVIRT_FORMATS.indexOf(opts.compress ?? "raw"), true);
  v.setUint32(32, 0, true); // cookieOffset: no cookie
  head.set(xml, LIBVIRT_HEADER_SIZE); // then NUL and zero padding: the array is zeroed
  return head;
}

/** A compressor fed chunk by chunk, its output read as it comes. */
interface Compressor {
  /** Resolves once the compressor has taken `b`. */
  input(b: Uint8Array): Promise<void>;
  /** No more input. */
  end(): Promise<void>;
  output: AsyncIterable<Uint8Array>;
  /** After the output ended: rejects when the compressor failed. */
  done(): Promise<void>;
  kill(): void;
}

/** node:zlib's output chunk size, as for decompression. */
const ZLIB_CHUNK = 128 << 10;

async function zlibCompressor(kind: "gzip" | "zstd"): Promise<Compressor> {
  const [zlib] = await nodeZlib();
  const make = kind === "gzip"
    ? () => zlib.createGzip({ chunkSize: ZLIB_CHUNK })
    : (zlib as unknown as { createZstdCompress?: (o: object) => NodeJS.ReadWriteStream })
      .createZstdCompress?.bind(zlib, { chunkSize: ZLIB_CHUNK });
  if (!make) throw new Error(`this Deno's node:zlib has no ${kind} compressor`);
  const z = make() as unknown as import("node:stream").Transform;
  return {
    input: (b) => new Promise((res, rej) => z.write(b, (e) => e ? rej(e) : res())),
    end: () => new Promise((res) => z.end(() => res())),
    output: z,
    done: () => Promise.resolve(),
    kill: () => z.destroy(),
  };
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const c of stream) if (text.length < 4096) text += new TextDecoder().decode(c);
  return text.split("\n").find((l) => l.trim())?.trim() ?? "";
}

/** The system's `xz -c -3` (libvirt's own choice of tool), fed on stdin. */
function xzCompressor(): Compressor {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("xz", {
      args: ["-c", "-3"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      const pkg = TOOL_PACKAGES.xz;
      throw new Error(
        `xz is not installed: install the Debian package ${pkg} (apt-get install ${pkg})`,
      );
    }
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new Error("compressing with xz needs permission to run it (--allow-run)");
    }
    throw e;
  }
  const stderr = firstLine(child.stderr);
  const stdin = child.stdin.getWriter();
  let killed = false;
  return {
    input: (b) => stdin.write(b),
    end: () => stdin.close(),
    output: child.stdout,
    async done() {
      const status = await child.status;
      const why = await stderr;
      if (!status.success && !killed) {
        throw new Error(`xz -c -3 failed (exit ${status.code}): ${why || "no message"}`);
      }
    },
    kill() {
      if (killed) return;
      killed = true;
      stdin.abort().catch(() => {});
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
    },
  };
}

/** A writer passing the stream through uncompressed. */
function rawWriter(out: ByteSink, stats: LibvirtSaveStats): LibvirtSaveWriter {
  return {
    async write(b) {
      stats.streamBytes += b.length;
      stats.imageBytes += b.length;
      await out(b);
    },
    finish: () => Promise.resolve({ ...stats }),
    abort() {},
  };
}

/** A writer feeding `comp` and writing its output to `out` as it comes. */
function compressedWriter(
  out: ByteSink,
  comp: Compressor,
  stats: LibvirtSaveStats,
): LibvirtSaveWriter {
  const pumped = (async () => {
    for await (const c of comp.output) {
      stats.imageBytes += c.length;
      await out(c);
    }
    await comp.done();
  })();
  // The compressor ended (or failed) while input was still being fed.
  const stopped = pumped.then(() => {
    throw new Error(`the ${stats.format} compressor ended before the stream did`);
  });
  stopped.catch(() => {});
  return {
    async write(b) {
      stats.streamBytes += b.length;
      await Promise.race([comp.input(b), stopped]);
    },
    async finish() {
      const ended = comp.end();
      ended.catch(() => {});
      await pumped;
      await ended;
      return { ...stats };
    },
    abort: () => comp.kill(),
  };
}

/**
 * Writes the image's head (header, XML, padding) to `out` and returns the sink for the QEMU
 * stream, which it passes on (compressed when asked) to `out`. Call `finish` after the last
 * write, or `abort` on failure. Throws, before writing anything, for a bad XML, a missing `xz`
 * or no permission to run it.
 *
 * @example A raw image around a few stream bytes, in memory
 * ```ts
 * import { libvirtSaveWriter } from "./libvirt_save.ts";
 * const parts: Uint8Array[] = [];
 * const xml = new TextEncoder().encode("<domain type='kvm'><name>g</name></domain>\n");
 * const w = await libvirtSaveWriter((b) => Promise.resolve(void parts.push(b)), xml);
 * await w.write(new TextEncoder().encode("QEVM"));
 * const stats = await w.finish();
 * const [head, stream] = parts; // the header, XML and padding; then the stream as given
 * if (head.length !== stats.streamOffset || head.length % 4096 !== 0) throw new Error("aligned");
 * if (new TextDecoder().decode(stream) !== "QEVM" || stats.imageBytes !== head.length + 4) {
 *   throw new Error("the stream follows the padding");
 * }
 * ```
 */
export async function libvirtSaveWriter(
  out: ByteSink,
  xml: Uint8Array,
  opts: LibvirtSaveOptions = {},
): Promise<LibvirtSaveWriter> {
  const head = libvirtSaveHead(xml, opts);
  const kind = opts.compress;
  const comp = kind === "xz" ? xzCompressor() : kind ? await zlibCompressor(kind) : undefined;
  const stats: LibvirtSaveStats = {
    format: kind ?? "raw",
    wasRunning: opts.running ? 1 : 0,
    dataLen: head.length - LIBVIRT_HEADER_SIZE,
    streamOffset: head.length,
    streamBytes: 0,
    imageBytes: head.length,
  };
  try {
    await out(head);
  } catch (e) {
    comp?.kill();
    throw e;
  }
  return comp ? compressedWriter(out, comp, stats) : rawWriter(out, stats);
}
