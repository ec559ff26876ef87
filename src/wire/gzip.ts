/**
 * gzip input as a {@link ByteSource}: node:zlib's gunzip (loaded on first use), which reads
 * every member of a multi-member file as gzip(1) does (`cat a.gz b.gz`), pulled as the parser
 * asks for bytes and fed in small slices so the output waiting in memory stays bounded.
 * Corruption and truncation are a {@link SourceError} naming the input and the decompressed
 * offset reached.
 * @module
 */
import { type ByteSource, SourceError } from "./source.ts";

type Zlib = typeof import("node:zlib");
type Gunzip = ReturnType<Zlib["createGunzip"]>;

/** Compressed bytes written to the decompressor at a time (≤ ~1000× that comes out). */
const SLICE = 16 << 10;

function describe(e: Error, name: string): string {
  const code = (e as { code?: string }).code ?? "";
  const msg = e.message.split("\n")[0];
  if (code === "Z_BUF_ERROR" || /unexpected end/i.test(msg)) {
    return `gzip input ${name} is truncated: its compressed data ends inside a gzip member`;
  }
  if (/incorrect data check|incorrect length check/i.test(msg)) {
    return `gzip input ${name} is corrupt: a member's checksum does not match its data (${msg})`;
  }
  if (/incorrect header check|unknown compression method/i.test(msg)) {
    return `gzip input ${name} is corrupt: bytes after a gzip member are not another member (${msg})`;
  }
  return `gzip input ${name} is corrupt: ${msg}`;
}

/** The decompressed bytes of `input`, a gzip stream (one or more members). */
export async function gunzipSource(
  input: ReadableStream<Uint8Array>,
  name: string,
): Promise<ByteSource> {
  const zlib = await import("node:zlib") as unknown as Zlib;
  const g: Gunzip = zlib.createGunzip({ chunkSize: 128 << 10 });
  const reader = input.getReader();
  const out: Uint8Array[] = [];
  let pending: Uint8Array = new Uint8Array(0);
  let delivered = 0;
  let ended = false;
  let inputDone = false;
  let feeding = false;
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  g.on("data", (c: Uint8Array) => {
    out.push(c);
    poke();
  });
  g.on("end", () => {
    ended = true;
    poke();
  });
  g.on("error", (e: Error) => {
    failed = e;
    poke();
  });
  const written = () => {
    feeding = false;
    poke();
  };
  const feed = () => {
    feeding = true;
    if (pending.length) {
      const slice = pending.subarray(0, SLICE);
      pending = pending.subarray(slice.length);
      g.write(slice, written);
      return;
    }
    reader.read().then(({ done, value }) => {
      if (done) {
        inputDone = true;
        g.end();
      } else pending = value;
      written();
    }, (e: Error) => {
      failed = e;
      written();
    });
  };
  return {
    async read(buf: Uint8Array): Promise<number | null> {
      for (;;) {
        if (out.length) {
          const head = out[0];
          const n = Math.min(buf.length, head.length);
          buf.set(n === head.length ? head : head.subarray(0, n));
          if (n === head.length) out.shift();
          else out[0] = head.subarray(n);
          delivered += n;
          return n;
        }
        if (failed) throw new SourceError(delivered, describe(failed, name));
        if (ended) return null;
        if (!feeding && !(inputDone && pending.length === 0)) feed();
        await new Promise<void>((resolve) => wake = resolve);
      }
    },
    close() {
      reader.cancel().catch(() => {});
      g.destroy();
    },
  };
}
