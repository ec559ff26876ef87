/**
 * `tap --record DIR`: each connection's two directions in their own files, named by accept
 * order and kind (`DIR/0-main.s2d.bin`, `DIR/1-multifd.d2s.bin`, …), mode 0600 since they
 * hold guest memory, created new (a file or symlink already there is an error, never followed),
 * in a directory that is empty and made 0700; and `DIR/manifest.json`, written at the end —
 * also after a failure or an interruption — through a temporary file and a rename.
 * @module
 */
import type { ConnectionKind } from "./events.ts";

/** Name of the manifest in the recording directory. */
export const MANIFEST = "manifest.json";

/** A recording directory that cannot be used; the message is one line. */
export class RecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordError";
  }
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

/** The recording directory. */
export class Recording {
  readonly dir: string;
  /** The first write or rename that failed (the recording is incomplete from there). */
  error?: string;

  #tmps = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Creates `dir` (0700) when missing. A directory already holding a manifest is refused: its
   * recording would be mixed with this one's.
   */
  static async create(dir: string): Promise<Recording> {
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new RecordError(`cannot create ${dir}: ${message(e)}`);
    }
    const names: string[] = [];
    try {
      const st = await Deno.lstat(dir);
      if (!st.isDirectory) throw new RecordError(`${dir} is not a directory (or is a symlink)`);
      for await (const e of Deno.readDir(dir)) names.push(e.name);
    } catch (e) {
      if (e instanceof RecordError) throw e;
      throw new RecordError(`cannot read ${dir}: ${message(e)}`);
    }
    if (names.includes(MANIFEST)) {
      throw new RecordError(`${dir} holds an earlier recording (${MANIFEST}): record elsewhere`);
    }
    if (names.length) {
      throw new RecordError(`${dir} is not empty (${names[0]}, …): record into a new directory`);
    }
    try {
      // Guest memory: an existing directory keeps its mode otherwise. Only its owner may
      // chmod it: a directory that is not the user's is refused here.
      await Deno.chmod(dir, 0o700);
    } catch (e) {
      throw new RecordError(`cannot make ${dir} mode 0700 (is it yours?): ${message(e)}`);
    }
    return new Recording(dir);
  }

  /** Opens connection `n`'s files (named without a kind until {@link ConnectionFiles.name}). */
  async open(n: number): Promise<ConnectionFiles> {
    const files = new ConnectionFiles(this, n);
    await files.open();
    return files;
  }

  /**
   * Writes the manifest atomically (synchronous: it also runs in a forced exit): a temporary
   * file created new (never through a planted symlink), renamed over the name (a symlink there
   * is replaced, its target untouched).
   */
  writeManifest(manifest: unknown): void {
    const tmp = `${this.dir}/.${MANIFEST}.${Deno.pid}.${this.#tmps++}.tmp`;
    const f = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o600 });
    try {
      const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
      let done = 0;
      while (done < bytes.length) done += f.writeSync(bytes.subarray(done));
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, `${this.dir}/${MANIFEST}`);
  }

  /** Notes the first failure. */
  failed(what: string, e: unknown): void {
    this.error ??= `${what}: ${message(e)}`;
  }
}

/** Both files of one connection. */
export class ConnectionFiles {
  readonly #rec: Recording;
  readonly #n: number;
  /** File names inside the recording directory, as they are now. */
  names: { s2d: string; d2s: string };
  #files: { s2d?: Deno.FsFile; d2s?: Deno.FsFile } = {};
  #closed = false;

  constructor(rec: Recording, n: number) {
    this.#rec = rec;
    this.#n = n;
    this.names = { s2d: `${n}.s2d.bin`, d2s: `${n}.d2s.bin` };
  }

  async open(): Promise<void> {
    for (const dir of ["s2d", "d2s"] as const) {
      const path = `${this.#rec.dir}/${this.names[dir]}`;
      // createNew: a file or symlink already there (planted) is an error, never followed.
      this.#files[dir] = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    }
  }

  /** Appends `bytes` to direction `dir`'s file; a failure stops the recording (noted). */
  async write(dir: "s2d" | "d2s", bytes: Uint8Array): Promise<void> {
    const f = this.#files[dir];
    if (!f || this.#rec.error) return;
    try {
      let done = 0;
      while (done < bytes.length) done += await f.write(bytes.subarray(done));
    } catch (e) {
      this.#rec.failed(`recording ${this.#rec.dir}/${this.names[dir]}`, e);
    }
  }

  /**
   * Renames both files after the connection's kind: `<n>-<kind>.s2d.bin`, `.d2s.bin`. The new
   * names are {@link names} at once; the renames follow.
   */
  async name(kind: ConnectionKind): Promise<void> {
    const old = { ...this.names };
    this.names = { s2d: `${this.#n}-${kind}.s2d.bin`, d2s: `${this.#n}-${kind}.d2s.bin` };
    for (const dir of ["s2d", "d2s"] as const) {
      const [from, to] = [`${this.#rec.dir}/${old[dir]}`, `${this.#rec.dir}/${this.names[dir]}`];
      try {
        // A link fails on an existing name (planted file or symlink) instead of replacing it.
        await Deno.link(from, to);
        await Deno.remove(from);
      } catch (e) {
        this.#rec.failed(`renaming ${this.#rec.dir}/${old[dir]}`, e);
        this.names[dir] = old[dir];
      }
    }
  }

  /**
   * Cuts each file to the bytes that were forwarded (a chunk recorded but not delivered is not
   * kept) and closes it.
   */
  async close(forwarded: { s2d: number; d2s: number }): Promise<void> {
    for (const dir of ["s2d", "d2s"] as const) {
      const f = this.#files[dir];
      if (!f || this.#closed) continue;
      try {
        if ((await f.stat()).size > forwarded[dir]) await f.truncate(forwarded[dir]);
      } catch (e) {
        this.#rec.failed(`recording ${this.#rec.dir}/${this.names[dir]}`, e);
      }
    }
    this.closeSync();
  }

  /** Closes the files as they are (a forced exit). */
  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const f of Object.values(this.#files)) {
      try {
        f.close();
      } catch { /* closed */ }
    }
  }
}
