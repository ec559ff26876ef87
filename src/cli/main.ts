/**
 * The `migscope` command line: argument handling only; the work is in src/commands.
 * @module
 */

const USAGE = `usage: migscope <command> [options]

commands:
  inspect INPUT   timeline and summary of a migration stream
                  INPUT: a file (gzip detected), '-' for stdin, or tcp:[HOST:]PORT to listen
    --records       one row per RAM / block record (flags, block, page address, pass)
    --json          one JSON document (summary + timeline)
    --ndjson        one JSON record per line, streamed, then the summary
    --device-state  decoded device fields as JSON
    --vmdesc FILE   vmdesc JSON (or another capture) for streams without a trailer
    --footers on|off|auto   section footers (default: detected)
    --hugepage-block NAME   block whose MEM_SIZE entry carries a page size (repeatable)
    --page-size SIZE        target page size of a stream that does not say it (no
                            target-page-bits subsection and no trailer), e.g. 1K on ARM
  replay CAPTURE --out DIR   apply a stream to RAM images and disks, as a QEMU destination does
    --ram NAME=FILE       start RAM block NAME from this image (copied unless --in-place)
    --disk NAME=FILE      start disk NAME from this image (incremental block migration)
    --disk-size NAME=SIZE size of a disk without a base image (default: end of its last chunk)
    --in-place            write into the --ram/--disk images themselves
    --expect NAME=FILE    compare the result with this image (as verify does)
    --channel FILE        a multifd channel capture replayed with the main stream (repeatable)
    --strict-zero-fill    reject ZERO records with a non-zero fill byte (QEMU >= 8.2)
    --json, --quiet, --vmdesc FILE, --page-size SIZE
  verify CAPTURE --expect NAME=FILE ...   replay (into --out or a temporary directory) and
                  compare; exit 1 when any page differs

  emit --ram NAME=FILE ... -o FILE   write a stream QEMU loads
    --round NAME=FILE[,NAME=FILE]   a later dirty round (repeatable, in order): pages that
                          changed since the previous round are sent again
    --disk NAME=FILE      block migration of this disk (1 MiB chunks, PROGRESS records)
    --zero-blocks         all-zero chunks as ZERO_BLOCK
    --xbzrle, --xbzrle-cache SIZE   XBZRLE after the first pass, QEMU's cache rules (64M)
    --template CAPTURE    configuration, device sections and trailer from a real capture
    --machine TYPE        machine type without a template (pc-i440fx-7.2)
    --no-footers          no section footers (pc-2.3-era streams)
    --mapped-ram          write a mapped-ram file (QEMU 9.0+ file: migration); --template
                          may be a mapped-ram capture
    --stats               query-migrate-style counters (stdout, or stderr with -o -)

  --version, -V    print the version

exit codes: 0 success, 1 verify found differences, 2 malformed input or bad usage`;

import { UsageError } from "./args.ts";

/** The version `migscope --version` prints. */
export const VERSION = "0.2.0";

/** Runs the CLI with `args`; resolves the exit code. */
export async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  try {
    switch (cmd) {
      case "inspect":
        return await (await import("./inspect.ts")).inspectMain(rest);
      case "replay":
      case "verify": {
        const { replayMain } = await import("./replay.ts");
        return await replayMain(cmd, rest);
      }
      case "emit":
        return await (await import("./emit.ts")).emitMain(rest);
      case "--version":
      case "-V":
        console.log(`migscope ${VERSION} (deno ${Deno.version.deno})`);
        return 0;
      case undefined:
      case "-h":
      case "--help":
      case "help":
        console.log(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`migscope: ${(e as Error).message} (see migscope --help)`);
      return 2;
    }
    console.error(`migscope: internal error: ${(e as Error).message?.split("\n")[0] ?? e}`);
    return 3;
  }
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
