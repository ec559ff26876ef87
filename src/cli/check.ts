/**
 * Arguments of `check`. {@link checkMain} answers its own help and argument mistakes (one line,
 * exit 2), as src/cli/main.ts runs it.
 * @module
 */
import { runCheck } from "../commands/check.ts";
import { Interrupts, settled } from "../commands/interrupt.ts";
import { textOut } from "../commands/io.ts";
import { UsageError, userPath } from "./args.ts";
import { argumentError, CHECK_HELP, didYouMean } from "./help.ts";
import { ArgumentError, parseArgs } from "./parse_args.ts";
import { terminalWidth } from "./terminal.ts";

/** The options CHECK_HELP lists, and the destination file options (for "did you mean"). */
const OPTIONS = [
  ...new Set([
    ...CHECK_HELP.match(/--[a-z][a-z-]*/g) ?? [],
    "--destination",
    "--save-destination",
  ]),
];

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

/** Exactly one destination, and the options that go with it. */
function destinationChoice(
  v: { qemu?: string; against?: string; destination?: string; machine?: string } & {
    "save-destination"?: string;
  },
  commandLine: boolean,
): void {
  const given = [
    v.qemu && "--qemu",
    v.against && "--against",
    v.destination && "--destination",
  ].filter((x) => x);
  if (given.length > 1) {
    throw new UsageError(`${given.join(" and ")} exclude each other: give one destination`);
  }
  if (!given.length) {
    throw new UsageError(
      "check needs a destination: --qemu PATH, --against DUMP.json or --destination FILE",
    );
  }
  if (v.qemu) return;
  const what = v.against ? "a dump is made for one machine type" : "the file holds its machine";
  if (v.machine) throw new UsageError(`--machine goes with --qemu: ${what}`);
  if (commandLine) throw new UsageError("a destination command line after -- goes with --qemu");
  if (v["save-destination"]) {
    throw new UsageError("--save-destination goes with --qemu: it saves what QEMU said");
  }
}

async function run(args: string[]): Promise<number> {
  const end = args.indexOf("--");
  const { values, positionals } = parseArgs({
    args: end < 0 ? args : args.slice(0, end),
    allowPositionals: true,
    options: {
      qemu: { type: "string" },
      against: { type: "string" },
      destination: { type: "string" },
      "save-destination": { type: "string" },
      machine: { type: "string" },
      json: { type: "boolean", default: false },
      vmdesc: { type: "string" },
      snapshot: { type: "string" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("check takes exactly one INPUT");
  destinationChoice(values, end >= 0);
  const interrupt = new Interrupts();
  try {
    const res = settled(
      await runCheck({
        input: userPath(positionals[0]),
        qemu: values.qemu ? binary(values.qemu) : undefined,
        against: values.against ? userPath(values.against) : undefined,
        destination: values.destination ? userPath(values.destination) : undefined,
        saveDestination: values["save-destination"]
          ? userPath(values["save-destination"])
          : undefined,
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
