/**
 * Opening a stream for parsing: a file path, `-` for stdin, `tcp:HOST:PORT` to receive a live
 * migration, or any ReadableStream. Gzip is detected by its magic and decompressed. For a
 * seekable file the VMDESCRIPTION trailer is read from the end first, so device sections can
 * be delimited without buffering.
 * @module
 */
import type { VmDesc } from "../protocol/records.ts";
import { ByteReader } from "../wire/reader.ts";
import { gunzipSource } from "../wire/gzip.ts";
import { fileSource, streamSource } from "../wire/source.ts";
import { openContainer, SnapshotChoiceError } from "../container/open.ts";
import { detectKind, SNIFF_BYTES } from "../container/detect.ts";
import { prefixedSource, readSourceFully } from "../container/bytes.ts";
import { parseStream } from "./stream.ts";
import { MAX_VMDESC_BYTES, parseVmdesc, readTrailerAt } from "./trailer.ts";

/** An opened input, ready for {@link parseStream}. */
export interface OpenedInput {
  reader: ByteReader;
  /** The vmdesc read up front (seekable files only). */
  vmdesc?: VmDesc;
  /** Offset of the trailer found up front. */
  trailerOffset?: number;
  /** Size on disk of the (possibly compressed) input, when known. */
  size?: number;
  /** The input was gzip-compressed. */
  gzip: boolean;
  /** What was opened, for messages. */
  name: string;
  /** The saved-VM container the stream was found in, e.g. `qcow2 snapshot 1 'snapA'`. */
  container?: string;
  /** The container says the stream is incomplete (LibvirtQemudPart, a cut-short qcow2 state). */
  incomplete?: boolean;
  close(): void;
}

/** Options for {@link openInput}. */
export interface OpenOptions {
  /** Read the trailer first on seekable files (default true). */
  readTrailer?: boolean;
  /** For `tcp:` inputs: called once the listener is bound, with the port. */
  onListen?: (port: number) => void;
  /** qcow2 images: the snapshot (id or name) whose VM state is the stream. */
  snapshot?: string;
}

/** Opens the stream inside a libvirt save image or a qcow2 snapshot (src/container). */
async function openContainerInput(path: string, opts: OpenOptions): Promise<OpenedInput> {
  const c = await openContainer(path, { snapshot: opts.snapshot });
  const opened: OpenedInput = {
    reader: new ByteReader(c.source, { baseOffset: c.baseOffset }),
    gzip: c.gzipWrapped || c.compression === "gzip",
    name: path,
    size: c.fileSize,
    container: c.describe,
    incomplete: c.incomplete,
    close: () => c.close(),
  };
  if (opts.readTrailer !== false && c.source.random && !c.incomplete) {
    try {
      const t = readTrailerAt(c.source.random);
      if (t) {
        opened.vmdesc = t.json;
        opened.trailerOffset = t.offset;
      }
    } catch {
      // A broken trailer is reported by the parser when it reaches it.
    }
  }
  return opened;
}

/** True when `head` starts a saved-VM container (libvirt save image, qcow2). */
function isContainer(head: Uint8Array): boolean {
  const kind = detectKind(head);
  return kind === "libvirt-save" || kind === "qcow2";
}

async function openStreamInput(
  stream: ReadableStream<Uint8Array>,
  name: string,
): Promise<OpenedInput> {
  // Peek two bytes for the gzip magic, then hand the whole stream on.
  const [probe, rest] = stream.tee();
  const pr = new ByteReader(streamSource(probe), { chunk: 64 * 1024 });
  const n = await pr.peekUpTo(2);
  const gzip = n >= 2 && pr.peekU8(0) === 0x1f && pr.peekU8(1) === 0x8b;
  pr.source.close();
  const src = gzip ? await gunzipSource(rest, name) : streamSource(rest);
  const reader = new ByteReader(src);
  return { reader, gzip, name, close: () => src.close() };
}

/**
 * Opens `input` for parsing. Errors (missing file, bad address) are thrown as plain Errors.
 *
 * @example Any ReadableStream, here a gzip-compressed capture held in memory
 * ```ts
 * import { openInput } from "./input.ts";
 * import { parseStream } from "./stream.ts";
 * const bytes = await Deno.readFile("samples/small-block.mig");
 * const gzip = ReadableStream.from([bytes]).pipeThrough(new CompressionStream("gzip"));
 * const input = await openInput(gzip);
 * let records = 0;
 * for await (const _ of parseStream(input.reader, { payloads: false })) records++;
 * input.close();
 * if (!input.gzip || records === 0) throw new Error("gzip is detected by its magic");
 * ```
 */
export async function openInput(
  input: string | ReadableStream<Uint8Array>,
  opts: OpenOptions = {},
): Promise<OpenedInput> {
  const opened = await openAny(input, opts);
  if (opts.snapshot !== undefined && !opened.container?.startsWith("qcow2")) {
    // Never read the whole input when a snapshot was asked for: say what it is instead.
    opened.close();
    const what = opened.container
      ? `a ${opened.container}`
      : opened.gzip
      ? "a gzip file"
      : "a bare stream";
    throw new SnapshotChoiceError(
      [],
      `--snapshot applies to qcow2 images, not to ${what}`,
    );
  }
  return opened;
}

async function openAny(
  input: string | ReadableStream<Uint8Array>,
  opts: OpenOptions,
): Promise<OpenedInput> {
  if (typeof input !== "string") return await openStreamInput(input, "stream");
  if (input === "-") return await openStreamInput(Deno.stdin.readable, "stdin");
  const tcp = /^tcp:(?:(\[[^\]]+\]|[^:]*):)?(\d+)$/.exec(input);
  if (tcp) {
    const hostname = (tcp[1] || "127.0.0.1").replace(/^\[|\]$/g, "");
    const listener = Deno.listen({ hostname, port: Number(tcp[2]) });
    opts.onListen?.((listener.addr as Deno.NetAddr).port);
    const conn = await listener.accept();
    listener.close();
    return await openStreamInput(conn.readable, input);
  }
  const file = await Deno.open(input, { read: true });
  const stat = await file.stat();
  if (!stat.isFile) {
    // A FIFO or character device: read it as a stream.
    return await openStreamInput(file.readable, input);
  }
  const head = new Uint8Array(SNIFF_BYTES);
  const got = (await file.read(head)) ?? 0;
  await file.seek(0, Deno.SeekMode.Start);
  if (isContainer(head.subarray(0, got))) {
    file.close();
    return await openContainerInput(input, opts);
  }
  if (got >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gz = await gunzipSource(file.readable, input);
    const first = new Uint8Array(SNIFF_BYTES);
    const n = await readSourceFully(gz, first).catch(() => 0);
    if (detectKind(first.subarray(0, n)) === "libvirt-save") {
      // A libvirt image kept gzip-compressed: read it through the container layer.
      gz.close();
      return await openContainerInput(input, opts);
    }
    const src = prefixedSource(first.subarray(0, n), gz);
    const r = new ByteReader(src);
    return {
      reader: r,
      gzip: true,
      name: input,
      size: stat.size,
      close: () => src.close(),
    };
  }
  file.close();
  const src = fileSource(input);
  const opened: OpenedInput = {
    reader: new ByteReader(src),
    gzip: false,
    name: input,
    size: stat.size,
    close: () => src.close(),
  };
  if (opts.readTrailer !== false && stat.size > 0) {
    try {
      const t = readTrailerAt(src.random!);
      if (t) {
        opened.vmdesc = t.json;
        opened.trailerOffset = t.offset;
      }
    } catch {
      // A broken trailer is reported by the parser when it reaches it.
    }
  }
  return opened;
}

/**
 * Loads a vmdesc JSON for `--vmdesc`: a JSON file (at most MAX_VMDESC_BYTES), or another capture
 * whose trailer is read from its end (plain file) or reached by parsing it (gzip, pipe) — in
 * bounded memory either way.
 *
 * @example From a capture's trailer, then from a JSON file
 * ```ts
 * import { loadVmdesc } from "./input.ts";
 * const vmdesc = await loadVmdesc("samples/small-xbzrle.mig");
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(path, JSON.stringify(vmdesc));
 * const again = await loadVmdesc(path);
 * await Deno.remove(path);
 * if (vmdesc.page_size !== 4096 || again.page_size !== 4096) throw new Error("4 KiB pages");
 * ```
 */
export async function loadVmdesc(path: string): Promise<VmDesc> {
  const f = await Deno.open(path, { read: true });
  const head = new Uint8Array(64);
  const n = (await f.read(head)) ?? 0;
  const size = (await f.stat()).size;
  f.close();
  let i = 0;
  while (i < n && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) {
    i++;
  }
  if (head[i] === 0x7b) {
    if (size > MAX_VMDESC_BYTES) {
      throw new Error(`${path}: vmdesc JSON of ${size} bytes exceeds ${MAX_VMDESC_BYTES}`);
    }
    return parseVmdesc(await Deno.readFile(path));
  }
  const opened = await openInput(path);
  try {
    if (opened.vmdesc) return opened.vmdesc;
    for await (const rec of parseStream(opened.reader, { payloads: false })) {
      if (rec.kind === "vmdesc") return rec.json;
    }
  } finally {
    opened.close();
  }
  throw new Error(`${path}: neither vmdesc JSON nor a capture with a VMDESCRIPTION trailer`);
}
