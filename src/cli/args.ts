/**
 * Argument helpers shared by the commands' CLIs.
 * @module
 */

/** A mistake in the command line (exit 2, one line). */
export class UsageError extends Error {}

/** `dir/p` with `.` and `..` segments folded (POSIX paths; no node:path at start-up). */
function joinPath(dir: string, p: string): string {
  const out: string[] = [];
  for (const seg of `${dir}/${p}`.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

/**
 * Resolves a user path against the directory the user ran the task from (INIT_CWD, which
 * `deno task` sets), else the current directory.
 *
 * @example
 * ```ts
 * import { userPath } from "./args.ts";
 * if (userPath("/a/b") !== "/a/b" || userPath("-") !== "-") throw new Error("kept as given");
 * if (!userPath("x/../y.bin").endsWith("/y.bin")) throw new Error("relative to the caller");
 * ```
 */
export function userPath(p: string): string {
  if (p === "-" || p.startsWith("tcp:") || p.startsWith("/")) return p;
  return joinPath(Deno.env.get("INIT_CWD") ?? Deno.cwd(), p);
}

/** `NAME=FILE` (or, without `path`, `NAME=VALUE`) pairs of a repeated option `flag`. */
export function pairs(list: string[] | undefined, flag: string, path = true): Map<string, string> {
  const m = new Map<string, string>();
  for (const item of list ?? []) {
    const i = item.indexOf("=");
    if (i <= 0 || i === item.length - 1) {
      throw new UsageError(`${flag} takes NAME=${path ? "FILE" : "VALUE"}, got '${item}'`);
    }
    const name = item.slice(0, i);
    if (m.has(name)) throw new UsageError(`${flag} names '${name}' twice`);
    m.set(name, path ? userPath(item.slice(i + 1)) : item.slice(i + 1));
  }
  return m;
}

/**
 * A command's error line on stderr: `migscope: CMD: …`, or for an interruption (exit 130 / 143)
 * `migscope: …` as every command tells it (src/commands/interrupt.ts).
 */
export function printError(cmd: string, res: { code: number; error?: string }): void {
  if (!res.error) return;
  const interrupted = res.code === 130 || res.code === 143;
  console.error(`migscope: ${interrupted ? "" : `${cmd}: `}${res.error}`);
}
