/**
 * Test helpers for Ctrl-C / SIGTERM: the real CLI as a child process that a test can signal,
 * and a large stream that costs almost no disk (a sparse file).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { emitStream } from "../../src/emit/emitter.ts";
import { bytesAccess, fileAccess } from "../../src/wire/random_access.ts";
import { isAllZero } from "../../src/wire/zero.ts";

/** The CLI, started with `args`; stdin piped when asked. */
export function spawnCli(
  args: string[],
  opts: { stdin?: boolean; env?: Record<string, string> } = {},
) {
  const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", main, ...args],
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: opts.env,
  }).spawn();
}

/** Waits until `ready()` holds (polling every 10 ms), at most `ms`. */
export async function until(ready: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Size of `path`, or -1 when it does not exist. */
export function sizeOf(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return -1;
  }
}

/** Names in `dir` (sorted). */
export function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** The child's exit: the code it chose (not a death by the signal), and one line on stderr. */
export async function assertInterrupted(
  child: Deno.ChildProcess,
  code: 130 | 143,
): Promise<void> {
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.signal, null, `the process exits by itself (${stderr})`);
  assert.equal(out.code, code, stderr);
  assert.equal(stderr, "migscope: interrupted\n");
}

/**
 * Writes a valid stream of one 4 KiB RAM block and a `diskBytes` disk of zeros sent as data
 * chunks (no ZERO_BLOCK): as large as the disk, but sparse (its zero runs are holes).
 */
export async function sparseDiskStream(path: string, diskBytes: number): Promise<number> {
  const out = fileAccess(path, { create: true });
  const zeroDisk = {
    size: diskBytes,
    read(buf: Uint8Array, pos: number) {
      const n = Math.max(0, Math.min(buf.length, diskBytes - pos));
      buf.fill(0, 0, n);
      return n;
    },
    close() {},
  };
  let at = 0;
  await emitStream(
    [{ name: "pc.ram", image: bytesAccess(new Uint8Array(4096).fill(1)) }],
    [{ name: "disk0", image: zeroDisk }],
    (b) => {
      for (let off = 0; off < b.length; off += 4096) {
        const piece = b.subarray(off, Math.min(off + 4096, b.length));
        if (!isAllZero(piece)) out.write(piece, at + off);
      }
      at += b.length;
      return Promise.resolve();
    },
  );
  out.truncate(at);
  out.close();
  return at;
}
