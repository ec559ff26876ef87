/**
 * Decompressing a container's stream part as a {@link ByteSource}, in constant memory: gzip
 * through node:zlib (loaded only when needed); zstd by the system's libzstd over FFI where
 * allowed (zstd_system.ts, about 30 % faster), else node:zlib; bzip2, xz and lzop through the
 * system's `TOOL -dc` as libvirt itself does, fed the compressed bytes on stdin. zstd is decoded
 * in synchronous steps straight into the reader's buffer ({@link zstdStepSource}): through
 * node:stream (a Transform, a Buffer per output chunk, a copy into the reader) inspect of a
 * 1 GiB guest's zstd save image took 20–25 % longer.
 * @module
 */
import { failureKind, truncation, type ZstdDecoder, zstdDecoder } from "../wire/zstd_decoder.ts";
import { StreamError } from "../protocol/errors.ts";
import type { ByteSource } from "../wire/source.ts";
import { iterSource } from "../wire/source.ts";
import { reusingChunks } from "./bytes.ts";
import { systemZstdDecoder } from "../wire/zstd_system.ts";

/** The compressions a libvirt save image uses. */
export type Compression = "gzip" | "bzip2" | "xz" | "lzop" | "zstd";

/** Debian package of each external tool. */
export const TOOL_PACKAGES: Record<string, string> = {
  bzip2: "bzip2",
  xz: "xz-utils",
  lzop: "lzop",
  zstd: "zstd",
};

/** Where the compressed bytes start, for messages, and how to treat an early end. */
export interface CompressedAt {
  /** Container offset of the compressed data. */
  offset: number;
  /** What holds it, e.g. `libvirt save image (xz)`. */
  label: string;
  /** The container is known to be incomplete: an early end of data is the end, not an error. */
  lenient?: boolean;
}

/** node:zlib's output chunk size (64-256 KiB measured fastest). */
const ZLIB_CHUNK = 128 << 10;

type NodeZlib = typeof import("node:zlib");
type NodeStream = typeof import("node:stream");
let zlibMods: Promise<[NodeZlib, NodeStream]> | undefined;

/** node:zlib and node:stream, imported once on first use (they cost start-up). */
export function nodeZlib(): Promise<[NodeZlib, NodeStream]> {
  if (!zlibMods) {
    zlibMods = Promise.all([import("node:zlib"), import("node:stream")]).then((
      [z, s],
    ) => [z as unknown as NodeZlib, s as unknown as NodeStream]);
  }
  return zlibMods;
}

async function* zlibOutput(
  z: AsyncIterable<Uint8Array>,
  at: CompressedAt,
  name: string,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of z) yield chunk;
  } catch (e) {
    if (at.lenient && truncation(e as Error)) return;
    throw new StreamError(
      { offset: at.offset, section: at.label },
      `${name} data from this offset does not decompress: ${(e as Error).message}`,
    );
  }
}

/**
 * Most bytes decoded per read (1 MiB: within a core's L2 for the parser; decoding alone took
 * 280 ms for a 310 MiB stream in 1 MiB steps, 310 ms in 256 KiB ones).
 */
const ZSTD_STEP = 1 << 20;

/** The error for zstd data that does not decode. */
export function undecodable(at: CompressedAt, e: Error): StreamError {
  // node:zlib's words start with its own prefix; libzstd's are the bare error name.
  const why = e.message.replace(/^Zstd decompress error: /, "");
  return new StreamError(
    { offset: at.offset, section: at.label },
    `zstd data from this offset does not decompress: ${why}`,
  );
}

/** The error for the `n` bytes from compressed offset `from` on, which start no zstd frame. */
export function trailingError(at: CompressedAt, from: number, n: number): StreamError {
  const offset = at.offset + from;
  return new StreamError(
    { offset, section: at.label },
    `${n} bytes after the last zstd frame at offset ${offset} are not zstd (zstd -dc fails on them)`,
  );
}

/**
 * A source of the zstd-decompressed `chunks` that drives `dec` directly: each read
 * decodes at most {@link ZSTD_STEP} bytes into the caller's buffer, with no stream machinery,
 * no output buffers and no copy. Every frame is decoded (concatenated frames, as `zstd -dc`
 * does). Bytes after the last frame that start no frame are an error, as `zstd -dc` (what
 * libvirt restores with) fails on them, except in an incomplete image ({@link
 * CompressedAt.lenient}) where they end the data, as a cut frame does (the parser then says
 * where the stream stops).
 */
function zstdStepSource(
  chunks: AsyncIterable<Uint8Array>,
  dec: ZstdDecoder,
  at: CompressedAt,
): ByteSource {
  // Each chunk is consumed (the decoder copies what it keeps) before the next is asked for.
  const it = reusingChunks(chunks)[Symbol.asyncIterator]();
  let input: Uint8Array = new Uint8Array(0);
  let inOff = 0;
  /** Compressed bytes in the chunks before `input`. */
  let before = 0;
  let inputDone = false;
  let done = false;
  let produced = 0;
  let closed = false;
  /** Compressed offset where the last frame ended, where the decoder tells. */
  let frameEnd: number | undefined;
  return {
    async read(buf: Uint8Array): Promise<number | null> {
      const room = Math.min(buf.length, ZSTD_STEP);
      if (room === 0) return done ? null : 0;
      while (!done) {
        if (inOff === input.length && !inputDone) {
          const r = await it.next();
          if (r.done) inputDone = true;
          else [before, input, inOff] = [before + input.length, r.value, 0];
          continue;
        }
        const inLen = input.length - inOff;
        let n: number;
        try {
          n = dec.step(input, inOff, inLen, buf, 0, room, inputDone);
        } catch (e) {
          const kind = failureKind(e as Error, produced);
          if (at.lenient && kind !== "corrupt") break;
          if (kind === "after") {
            // The bad bytes start where the last frame ended: the decoder may have taken a
            // few of them (a header's first bytes) in an earlier step.
            const from = frameEnd ?? before + inOff;
            throw await trailing(at, from, before + input.length - from, it);
          }
          throw undecodable(at, e as Error);
        }
        const used = dec.used;
        inOff += used;
        produced += n;
        if (dec.frameEnded) frameEnd = before + inOff;
        if (n > 0) return n;
        // No output: more input is needed, or there is none left (a cut frame ends here too).
        if (inputDone) break;
        if (used === 0 && inOff < input.length) {
          throw undecodable(at, new Error("the decoder takes no more input"));
        }
      }
      done = true;
      return null;
    },
    close() {
      if (closed) return;
      closed = done = true;
      it.return?.(undefined)?.catch(() => {});
      dec.close();
    },
  };
}

/**
 * The error for the bytes from compressed offset `from` to the end that start no zstd frame:
 * counts them (`left` in the current chunk, then the rest of `it`).
 */
async function trailing(
  at: CompressedAt,
  from: number,
  left: number,
  it: AsyncIterator<Uint8Array>,
): Promise<StreamError> {
  let n = left;
  for (let r = await it.next(); !r.done; r = await it.next()) n += r.value.length;
  return trailingError(at, from, n);
}

/**
 * A source of the zstd-decompressed `chunks`: the system's libzstd, else node:zlib's handle;
 * undefined when neither can be used (the caller runs `zstd -dc`).
 */
async function zstdSource(
  chunks: AsyncIterable<Uint8Array>,
  at: CompressedAt,
  choice: NonNullable<DecompressOptions["zstd"]>,
): Promise<ByteSource | undefined> {
  if (choice === "auto" || choice === "system") {
    const dec = systemZstdDecoder();
    if (dec) return zstdStepSource(chunks, dec, at);
    if (choice === "system") throw new Error("the system's libzstd cannot be used here");
  }
  if (choice === "auto" || choice === "node") {
    const dec = zstdDecoder((await nodeZlib())[0]);
    if (dec) return zstdStepSource(chunks, dec, at);
    if (choice === "node") throw new Error("node:zlib has no synchronous zstd handle here");
  }
  return undefined;
}

/** A source of the gzip-decompressed `chunks`. */
async function gzipSource(
  chunks: AsyncIterable<Uint8Array>,
  at: CompressedAt,
): Promise<ByteSource> {
  const [zlib, stream] = await nodeZlib();
  const z = zlib.createGunzip({ chunkSize: ZLIB_CHUNK });
  stream.pipeline(stream.Readable.from(chunks), z, () => {});
  return iterSource(zlibOutput(z, at, "gzip"), () => z.destroy());
}

function spawnTool(tool: string): Deno.ChildProcess {
  try {
    return new Deno.Command(tool, {
      args: ["-dc"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `${tool} is not installed: install the Debian package ${
          TOOL_PACKAGES[tool]
        } (apt-get install ${TOOL_PACKAGES[tool]})`,
      );
    }
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new Error(`decompressing with ${tool} needs permission to run it (--allow-run)`);
    }
    throw e;
  }
}

async function pump(chunks: AsyncIterable<Uint8Array>, stdin: WritableStream<Uint8Array>) {
  const w = stdin.getWriter();
  try {
    for await (const c of chunks) await w.write(c);
    await w.close();
  } catch {
    // The tool exited (bad data, or closed early): its exit status tells.
    w.abort().catch(() => {});
  }
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const c of stream) {
    if (text.length < 4096) text += new TextDecoder().decode(c);
  }
  return text.split("\n").find((l) => l.trim()) ?? "";
}

async function* toolOutput(
  child: Deno.ChildProcess,
  stderr: Promise<string>,
  tool: string,
  at: CompressedAt,
): AsyncGenerator<Uint8Array> {
  for await (const c of child.stdout) yield c;
  const status = await child.status;
  if (status.success || at.lenient) return;
  throw new StreamError(
    { offset: at.offset, section: at.label },
    `${tool} -dc failed (exit ${status.code}): ${(await stderr).trim() || "no message"}`,
  );
}

/** A source of `chunks` decompressed by the system's `tool -dc`. */
function toolSource(chunks: AsyncIterable<Uint8Array>, tool: string, at: CompressedAt): ByteSource {
  const child = spawnTool(tool);
  const stderr = firstLine(child.stderr);
  const fed = pump(chunks, child.stdin);
  let ended = false;
  const src = iterSource(toolOutput(child, stderr, tool, at), () => {
    if (ended) return;
    ended = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
  });
  // Reap the child whatever happens, so no promise is left pending.
  Promise.all([child.status, fed, stderr]).then(() => ended = true, () => ended = true);
  return src;
}

/** Options of {@link decompressSource}. */
export interface DecompressOptions {
  /**
   * The zstd decoder: `auto` (the default) the system's libzstd where FFI is allowed, else
   * node:zlib's synchronous handle, else the system's `zstd -dc`; the others force one.
   */
  zstd?: "auto" | "system" | "node" | "tool";
}

/**
 * The decompressed bytes of `chunks` (the compressed part of a container, in order).
 * A missing tool, or no permission to run it, is a plain Error of one line.
 */
export async function decompressSource(
  chunks: AsyncIterable<Uint8Array>,
  kind: Compression,
  at: CompressedAt,
  opts: DecompressOptions = {},
): Promise<ByteSource> {
  if (kind === "gzip") return gzipSource(chunks, at);
  if (kind === "zstd" && opts.zstd !== "tool") {
    const src = await zstdSource(chunks, at, opts.zstd ?? "auto");
    if (src) return src;
  }
  return toolSource(chunks, kind, at);
}
