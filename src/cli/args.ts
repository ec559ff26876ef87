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
