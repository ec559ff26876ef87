/**
 * Argument helpers shared by the commands' CLIs.
 * @module
 */
import { isAbsolute, resolve } from "node:path";

/** A mistake in the command line (exit 2, one line). */
export class UsageError extends Error {}

/** Resolves a user path against the directory the user ran the task from (INIT_CWD). */
export function userPath(p: string): string {
  if (p === "-" || p.startsWith("tcp:") || isAbsolute(p)) return p;
  return resolve(Deno.env.get("INIT_CWD") ?? Deno.cwd(), p);
}
