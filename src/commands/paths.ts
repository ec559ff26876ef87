/**
 * Checks of the paths a command writes, made before any work: an output that cannot be written
 * is exit 2 with one line naming the path, never an OS error after the whole stream was read;
 * and no output may land on one of the command's inputs.
 * @module
 */
import { diskFileName, ramFileName } from "../replay/names.ts";

/** An OS error's words without the call and path Deno appends (`…(os error 2): open '/x'`). */
export function osMessage(e: unknown): string {
  const m = (e as Error)?.message?.split("\n")[0] ?? String(e);
  return /^(.*?\(os error \d+\))/.exec(m)?.[1] ?? m;
}

/** True when `a` and `b` name the same existing file (hard links and symlinks included). */
export function sameFile(a: string, b: string): boolean {
  try {
    const x = Deno.statSync(a);
    const y = Deno.statSync(b);
    if (x.dev !== null && x.ino !== null) return x.dev === y.dev && x.ino === y.ino;
    return Deno.realPathSync(a) === Deno.realPathSync(b);
  } catch {
    return false;
  }
}

function dirOf(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i > 0 ? path.slice(0, i) : i === 0 ? "/" : ".";
}

/**
 * Makes sure `--out DIR` is a directory the replay can write in (creating it and its parents);
 * returns the one-line error otherwise.
 */
export function prepareOutDir(dir: string): string | undefined {
  let info: Deno.FileInfo | undefined;
  try {
    info = Deno.statSync(dir);
  } catch (e) {
    const absent = e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;
    if (!absent) return `--out ${dir}: ${osMessage(e)}`;
  }
  if (info && !info.isDirectory) return `--out ${dir}: exists and is not a directory`;
  if (!info) {
    try {
      Deno.mkdirSync(dir, { recursive: true });
    } catch (e) {
      return `--out ${dir}: cannot create the directory: ${osMessage(e)}`;
    }
  }
  try {
    Deno.removeSync(Deno.makeTempFileSync({ dir, prefix: ".migscope-probe-" }));
  } catch (e) {
    return `--out ${dir}: cannot write in the directory: ${osMessage(e)}`;
  }
  return undefined;
}

/** Base images given to replay. */
export interface BaseImages {
  ram?: Map<string, string>;
  disks?: Map<string, string>;
  inPlace?: boolean;
  /** The capture and the other files the replay reads. */
  inputs: string[];
  /** The output directory (when given). */
  out?: string;
}

/**
 * Base images must be regular files; copied ones must not be the file the replay writes for
 * their block (the rename would replace them); in-place ones must be distinct and none of the
 * files the replay reads.
 */
export function checkBaseImages(o: BaseImages): string | undefined {
  const all = [
    ...[...(o.ram ?? [])].map(([n, p]) => ["--ram", n, p, ramFileName(n)]),
    ...[...(o.disks ?? [])].map(([n, p]) => ["--disk", n, p, diskFileName(n)]),
  ];
  for (const [k, [flag, name, path, file]] of all.entries()) {
    const what = `${flag} ${name}=${path}`;
    try {
      if (!Deno.statSync(path).isFile) return `${what}: not a regular file`;
    } catch (e) {
      return `${what}: ${osMessage(e)}`;
    }
    if (!o.inPlace && o.out && sameFile(path, `${o.out}/${file}`)) {
      return `${what}: this is the file the replay writes for '${name}'; give another --out ` +
        "(or --in-place to write into the image)";
    }
    if (!o.inPlace) continue;
    const input = o.inputs.find((i) => sameFile(path, i));
    if (input) {
      return `${what}: this is an input of the replay (${input}); --in-place would change it`;
    }
    const twin = all.slice(0, k).find((x) => sameFile(path, x[2]));
    if (twin) {
      return `${what}: the same image as ${twin[0]} ${twin[1]}; --in-place would write it twice`;
    }
  }
  return undefined;
}

/**
 * Checks `-o FILE` of emit: not a directory, in an existing directory, and not one of the
 * command's inputs (nor is its `.partial`); returns the one-line error.
 */
export function checkOutputFile(
  output: string,
  inputs: [option: string, path: string][],
): string | undefined {
  try {
    if (Deno.statSync(output).isDirectory) return `-o ${output}: is a directory`;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return `-o ${output}: ${osMessage(e)}`;
  }
  const dir = dirOf(output);
  try {
    if (!Deno.statSync(dir).isDirectory) return `-o ${output}: ${dir} is not a directory`;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return `-o ${output}: directory ${dir} does not exist`;
    return `-o ${output}: ${dir}: ${osMessage(e)}`;
  }
  for (const [option, path] of inputs) {
    if (sameFile(path, output) || sameFile(path, `${output}.partial`)) {
      return `-o ${output}: the output would overwrite an input (${option})`;
    }
  }
  return undefined;
}
