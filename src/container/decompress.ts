/**
 * Decompressing a container's stream part as a {@link ByteSource}, in constant memory: gzip and
 * zstd through node:zlib (loaded only when needed), bzip2, xz and lzop through the system's
 * `TOOL -dc` as libvirt itself does, fed the compressed bytes on stdin.
 * @module
 */
import { StreamError } from "../protocol/errors.ts";
import type { ByteSource } from "../wire/source.ts";
import { iterSource } from "../wire/source.ts";

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

function truncation(e: Error): boolean {
  return /unexpected end|ends unexpectedly|end of file|truncated|Z_BUF_ERROR/i.test(
    `${e.message} ${(e as { code?: string }).code ?? ""}`,
  );
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

/** A source of the gzip- or zstd-decompressed `chunks`. */
async function zlibSource(
  chunks: AsyncIterable<Uint8Array>,
  kind: "gzip" | "zstd",
  at: CompressedAt,
): Promise<ByteSource | undefined> {
  const [zlib, stream] = await nodeZlib();
  const make = kind === "gzip"
    ? () => zlib.createGunzip({ chunkSize: ZLIB_CHUNK })
    : (zlib as unknown as { createZstdDecompress?: (o: object) => NodeJS.ReadWriteStream })
      .createZstdDecompress?.bind(zlib, { chunkSize: ZLIB_CHUNK });
  if (!make) return undefined;
  const z = make() as unknown as import("node:stream").Transform;
  stream.pipeline(stream.Readable.from(chunks), z, () => {});
  return iterSource(zlibOutput(z, at, kind), () => z.destroy());
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

/**
 * The decompressed bytes of `chunks` (the compressed part of a container, in order).
 * A missing tool, or no permission to run it, is a plain Error of one line.
 */
export async function decompressSource(
  chunks: AsyncIterable<Uint8Array>,
  kind: Compression,
  at: CompressedAt,
): Promise<ByteSource> {
  if (kind === "gzip" || kind === "zstd") {
    const src = await zlibSource(chunks, kind, at);
    if (src) return src;
  }
  return toolSource(chunks, kind, at);
}
