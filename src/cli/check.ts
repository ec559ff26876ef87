/**
 * Arguments of `check` (help and argument mistakes are answered by src/cli/main.ts, as for every
 * command).
 * @module
 */
import { runCheck } from "../commands/check.ts";
import { Interrupts, settled } from "../commands/interrupt.ts";
import { textOut } from "../commands/io.ts";
import { printError, UsageError, userPath } from "./args.ts";
import { parseArgs } from "./parse_args.ts";
import { terminalWidth } from "./terminal.ts";

/** Options of the destination's command line that check sets itself. */
const OWN: Record<string, string> = {
  "-M": "use --machine",
  "-machine": "use --machine (a memory backend does not change the RAM block names)",
  "-incoming": "check never loads the stream",
  "-qmp": "check talks to the destination over its own QMP socket",
  "-S": "the destination is always started paused",
  "-daemonize": "check runs the destination itself",
};

/** A QEMU binary: a path when it names a directory, else a command looked up in PATH. */
function binary(p: string): string {
  return p.includes("/") ? userPath(p) : p;
}

function destinationArgs(args: string[], end: number): string[] | undefined {
  if (end < 0) return undefined;
  const rest = args.slice(end + 1);
  for (const a of rest) {
    // QEMU takes `--incoming` as `-incoming`.
    const why = OWN[a.split("=")[0].replace(/^--(?=\w)/, "-")];
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

/** `check` entry point: resolves the exit code (0 loads, 1 will not load, 2 bad input/usage). */
export async function checkMain(args: string[]): Promise<number> {
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
    printError("check", res);
    return res.code;
  } finally {
    interrupt.dispose();
  }
}
