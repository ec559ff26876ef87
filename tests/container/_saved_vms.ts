/**
 * The shared saved-VM containers (../shared/saved-vms): their manifests, and their files
 * decompressed once into the test cache.
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { createGunzip } from "node:zlib";
import { Readable } from "node:stream";
import { openContainer } from "../../src/container/open.ts";
import type { OpenedInput } from "../../src/parse/input.ts";
import { readTrailerAt } from "../../src/parse/trailer.ts";
import { ByteReader } from "../../src/wire/reader.ts";

/** ../shared/saved-vms, beside the repository. */
export const SAVED_VMS = fromFileUrl(new URL("../../../shared/saved-vms/", import.meta.url));

const CACHE = `${Deno.env.get("TMPDIR") ?? "/tmp"}/migscope-test-cache/saved-vms`;

/** Folders of the shared saved VMs present. */
export function savedVmNames(): string[] {
  try {
    return [...Deno.readDirSync(SAVED_VMS)].filter((e) => e.isDirectory).map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** A folder's manifest.json. */
// deno-lint-ignore no-explicit-any
export function manifest(name: string): any {
  return JSON.parse(Deno.readTextFileSync(`${SAVED_VMS}/${name}/manifest.json`));
}

/** The decompressed file `file` (without `.gz`) of folder `name`, cached; streamed. */
export async function savedVmFile(name: string, file: string): Promise<string> {
  const out = `${CACHE}/${name}/${file}`;
  try {
    await Deno.stat(out);
    return out;
  } catch { /* not cached yet */ }
  await Deno.mkdir(`${CACHE}/${name}`, { recursive: true });
  const tmp = `${out}.${Deno.pid}.tmp`;
  const src = await Deno.open(`${SAVED_VMS}/${name}/${file}.gz`);
  const dst = await Deno.open(tmp, { write: true, create: true, truncate: true });
  for await (const chunk of Readable.fromWeb(src.readable as never).pipe(createGunzip())) {
    await dst.write(chunk);
  }
  dst.close();
  await Deno.rename(tmp, out);
  return out;
}

/**
 * A container opened as the parser's input — what openInput gives for a container: the reader
 * at the container's base offset and, for positional streams, the trailer read up front.
 */
export async function containerInput(path: string, snapshot?: string): Promise<OpenedInput> {
  const c = await openContainer(path, { snapshot });
  const opened: OpenedInput = {
    reader: new ByteReader(c.source, { baseOffset: c.baseOffset }),
    gzip: c.compression === "gzip" || c.gzipWrapped,
    name: path,
    size: c.fileSize,
    close: () => c.close(),
  };
  if (c.source.random) {
    const t = readTrailerAt(c.source.random);
    if (t) {
      opened.vmdesc = t.json;
      opened.trailerOffset = t.offset;
    }
  }
  return opened;
}
