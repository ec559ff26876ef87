/**
 * Text output for commands: buffered writes to a byte sink, tolerant of a closed pipe.
 * @module
 */

/** Result of a command: exit code and, on failure, the one-line message for stderr. */
export interface CommandResult {
  code: number;
  error?: string;
}

/** Where a command writes its report. */
export interface TextOut {
  write(text: string): Promise<void>;
  flush(): Promise<void>;
}

/** Buffers text and writes it to `w` in large chunks; a closed pipe ends output quietly. */
export function textOut(w: { write(p: Uint8Array): Promise<number> }): TextOut {
  const enc = new TextEncoder();
  let parts: string[] = [];
  let size = 0;
  let closed = false;
  async function flush() {
    if (closed || parts.length === 0) return;
    let bytes = enc.encode(parts.join(""));
    parts = [];
    size = 0;
    try {
      while (bytes.length) bytes = bytes.subarray(await w.write(bytes));
    } catch (e) {
      if (e instanceof Deno.errors.BrokenPipe) closed = true;
      else throw e;
    }
  }
  return {
    async write(text: string) {
      parts.push(text);
      size += text.length;
      if (size >= 1 << 16) await flush();
    },
    flush,
  };
}

/** Discards everything (`--quiet`: the exit code and the error line are the whole answer). */
export function nullOut(): TextOut {
  return { write: () => Promise.resolve(), flush: () => Promise.resolve() };
}

/** Collects output in memory (tests). */
export function memoryOut(): TextOut & { text(): string } {
  const parts: string[] = [];
  return {
    write(t: string) {
      parts.push(t);
      return Promise.resolve();
    },
    flush: () => Promise.resolve(),
    text: () => parts.join(""),
  };
}
