/**
 * Arguments of `check`. {@link checkMain} answers its own help and argument mistakes (one line,
 * exit 2), so that it runs the same from src/cli/main.ts or from src/cli/check_entry.ts.
 * @module
 */
import { runCheck } from "../commands/check.ts";
import { Interrupts, settled } from "../commands/interrupt.ts";
import { textOut } from "../commands/io.ts";
import { UsageError, userPath } from "./args.ts";
import { argumentError, didYouMean } from "./help.ts";
import { ArgumentError, parseArgs } from "./parse_args.ts";
import { terminalWidth } from "./terminal.ts";

/** What `migscope help check` and `migscope check --help` print. */
export const CHECK_HELP =
  `usage: migscope check INPUT --qemu PATH [--machine TYPE] [--json] [-- DESTINATION ARGS]
       migscope check INPUT --against DUMP.json [--json]

Predicts whether a destination QEMU will load INPUT and, if not, the first error it will give,
checking in the order QEMU's loader does: the machine type, the CONFIGURATION section
(capabilities, target page size), then each section in stream order — idstr and instance
known, version within the destination's minimum and current version, the RAM block list
(names, sizes), each device's subsections — and last what the destination has that the
stream lacks (notes: QEMU loads without them). INPUT is any file inspect reads.
Exit 0 when it loads, 1 when it will not, 2 for bad input or usage (one line).

options:
  --qemu PATH             the destination's QEMU binary: runs PATH -M help, PATH -M TYPE
                          -dump-vmstate, and a paused PATH -S -M TYPE -m SIZE -nodefaults
                          (SIZE: the stream's pc.ram) for its RAM blocks (info ramblock),
                          capabilities and registered sections
  --machine TYPE          the destination's machine type (default: the stream's)
  -- ARGS                 with --qemu, after everything else: the destination's own command
                          line (-m, -device, -nic, …). It is started with these instead of
                          -nodefaults, and a section it does not create is an error. Without
                          them, devices the machine type does not create are taken to be on the
                          destination's command line (a note each)
  --against DUMP.json     the schema of an existing -dump-vmstate (gzip too) instead of a QEMU:
                          machine type, section versions and subsections only (no RAM blocks,
                          capabilities, page size or device set)
  --json                  one JSON document (format migscope-check)
  --vmdesc FILE           vmdesc JSON (or another capture) for a stream without a trailer
  --snapshot NAME|ID      qcow2 images: the internal snapshot whose VM state is checked
  -h, --help              this help

examples:
  migscope check guest.mig --qemu qemu-system-x86_64
  migscope check guest.mig --qemu /opt/qemu-10/bin/qemu-system-x86_64 --machine pc-i440fx-7.2
  migscope check guest.mig --qemu qemu-system-x86_64 -- -m 128M -nic none
  migscope check guest.save --against dst-vmstate.json --json | jq .findings`;

/** The options CHECK_HELP lists (for "did you mean"). */
const OPTIONS = [...new Set(CHECK_HELP.match(/--[a-z][a-z-]*/g) ?? [])];

/** Options of the destination's command line that check sets itself. */
const OWN: Record<string, string> = {
  "-M": "use --machine",
  "-machine": "use --machine (a memory backend does not change the RAM block names)",
  "-incoming": "check never loads the stream",
  "-qmp": "check talks to the destination over its own QMP socket",
  "-S": "the destination is always started paused",
  "-daemonize": "check runs the destination itself",
};

function mistake(e: ArgumentError): string {
  if (e.code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") return argumentError("check", e);
  const opt = (/'([^']*)'/.exec(e.message)?.[1] ?? "").split("=")[0];
  const near = didYouMean(opt, OPTIONS);
  return `check: unknown option '${opt}'${near ? ` (did you mean ${near}?)` : ""} ` +
    "(see migscope help check)";
}

/** A QEMU binary: a path when it names a directory, else a command looked up in PATH. */
function binary(p: string): string {
  return p.includes("/") ? userPath(p) : p;
}

function destinationArgs(args: string[], end: number): string[] | undefined {
  if (end < 0) return undefined;
  const rest = args.slice(end + 1);
  for (const a of rest) {
    const why = OWN[a.split("=")[0]];
    if (why) throw new UsageError(`${a} after --: ${why}`);
  }
  return rest;
}

async function run(args: string[]): Promise<number> {
  const end = args.indexOf("--");
  const { values, positionals } = parseArgs({
    args: end < 0 ? args : args.slice(0, end),
    allowPositionals: true,
    options: {
      qemu: { type: "string" },
      against: { type: "string" },
      machine: { type: "string" },
      json: { type: "boolean", default: false },
      vmdesc: { type: "string" },
      snapshot: { type: "string" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("check takes exactly one INPUT");
  if (values.qemu && values.against) {
    throw new UsageError("--qemu and --against exclude each other: give one destination");
  }
  if (!values.qemu && !values.against) {
    throw new UsageError("check needs a destination: --qemu PATH or --against DUMP.json");
  }
  if (values.against && values.machine) {
    throw new UsageError("--machine goes with --qemu: a dump is made for one machine type");
  }
  if (values.against && end >= 0) {
    throw new UsageError("a destination command line after -- goes with --qemu");
  }
  const interrupt = new Interrupts();
  try {
    const res = settled(
      await runCheck({
        input: userPath(positionals[0]),
        qemu: values.qemu ? binary(values.qemu) : undefined,
        against: values.against ? userPath(values.against) : undefined,
        machine: values.machine,
        destinationArgs: destinationArgs(args, end),
        json: values.json,
        vmdesc: values.vmdesc ? userPath(values.vmdesc) : undefined,
        snapshot: values.snapshot,
        width: terminalWidth(),
        interrupt,
      }, textOut(Deno.stdout)),
      interrupt,
    );
    if (res.error) console.error(`migscope: check: ${res.error}`);
    return res.code;
  } finally {
    interrupt.dispose();
  }
}

/** `check` entry point: resolves the exit code (0 loads, 1 will not load, 2 bad input/usage). */
export async function checkMain(args: string[]): Promise<number> {
  const end = args.indexOf("--");
  const opts = end < 0 ? args : args.slice(0, end);
  if (opts.includes("--help") || opts.includes("-h")) {
    console.log(CHECK_HELP);
    return 0;
  }
  try {
    return await run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`migscope: ${e.message} (see migscope help check)`);
      return 2;
    }
    if (e instanceof ArgumentError) {
      console.error(`migscope: ${mistake(e)}`);
      return 2;
    }
    throw e;
  }
}
