/**
 * The destination's facts from a QEMU binary: its version; its machine types (`-M help`); the
 * VMState schema of the machine type (`-dump-vmstate`); and a paused destination (`-S`, QMP on
 * a unix socket) for its RAM blocks (HMP `info ramblock`), its capabilities and the sections
 * it registers — read from its own stream, which it writes when asked to migrate to a file.
 *
 * The destination is started as `-M TYPE -m SIZE -nodefaults` (SIZE from the stream's main
 * RAM block) unless a command line is given, which is then used as it is (with `-S`, `-M`,
 * the QMP socket, and `-m` / `-display none` where it has none).
 * @module
 */
import { openInput } from "../parse/input.ts";
import { readVmstateDump } from "./dump.ts";
import { QmpClient } from "./qmp.ts";
import { parseMachineHelp, parseQemuVersion, parseRamblocks } from "./qemu_text.ts";
import { readStreamFacts } from "./stream_facts.ts";
import type { DestinationFacts } from "./types.ts";
import { memoryOption } from "./rules_ram.ts";

/** A Ctrl-C / SIGTERM to honour: the signal, and a place for synchronous cleanups. */
export interface Stoppable {
  readonly signal: AbortSignal;
  guard(cleanup: () => void): () => void;
}

/** How to run the destination. */
export interface ProbeOptions {
  /** The QEMU binary. */
  qemu: string;
  /** The machine type to run (an alias is resolved with `-M help`). */
  machine: string;
  /** Guest RAM in bytes (`-m`), unless `args` has `-m` (none: QEMU's default). */
  memory?: number;
  /** The destination's own command line; without it, `-nodefaults` and no devices. */
  args?: string[];
  /** Environment for QEMU (default: this process's). */
  env?: Record<string, string>;
  /** Bound on each QEMU run (default 60 s). */
  timeoutMs?: number;
  /** Bound on each QMP answer of the paused destination (default 30 s); past it QEMU is killed. */
  qmpAnswerMs?: number;
  /** Ctrl-C / SIGTERM: QEMU is stopped and the temporary directory removed. */
  interrupt?: Stoppable;
}

/** QEMU could not be run, or did not do what was asked: one line, for exit 2. */
export class ProbeError extends Error {}

async function run(o: ProbeOptions, args: string[]): Promise<{ ok: boolean; out: string }> {
  let r: Deno.CommandOutput;
  try {
    r = await new Deno.Command(o.qemu, {
      args,
      env: o.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: signal(o),
    }).output();
  } catch (e) {
    throw new ProbeError(`cannot run QEMU '${o.qemu}': ${(e as Error).message}`);
  }
  const dec = new TextDecoder();
  return { ok: r.success, out: r.success ? dec.decode(r.stdout) : firstLine(dec.decode(r.stderr)) };
}

function signal(o: ProbeOptions): AbortSignal {
  const t = AbortSignal.timeout(o.timeoutMs ?? 60_000);
  return o.interrupt ? AbortSignal.any([t, o.interrupt.signal]) : t;
}

function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).find((l) => l) ?? "no message";
}

const has = (args: string[], ...opts: string[]) => args.some((a) => opts.includes(a));

/** The probe's command line (without the QMP socket). */
export function probeCommandLine(machine: string, o: ProbeOptions): string[] {
  const user = o.args ?? [];
  return [
    "-S",
    "-M",
    machine,
    ...(has(user, "-m") || o.memory === undefined ? [] : ["-m", memoryOption(o.memory)]),
    ...(o.args ? [] : ["-nodefaults"]),
    ...(has(user, "-display", "-nographic") ? [] : ["-display", "none"]),
    ...user,
  ];
}

async function waitMigration(qmp: QmpClient, deadline: number): Promise<void> {
  for (;;) {
    const r = await qmp.cmd("query-migrate") as { status?: string; "error-desc"?: string };
    if (r.status === "completed") return;
    if (r.status === "failed") {
      throw new ProbeError(`saving its own state failed: ${r["error-desc"]}`);
    }
    if (Date.now() > deadline) throw new ProbeError(`saving its own state timed out (${r.status})`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** What the paused destination says of itself over QMP; it saves its state to `save`. */
async function ask(qmp: QmpClient, save: string, deadline: number) {
  const ramblock = await qmp.cmd("human-monitor-command", { "command-line": "info ramblock" });
  const caps = await qmp.cmd("query-migrate-capabilities") as { capability: string }[];
  await qmp.cmd("migrate-set-parameters", { "max-bandwidth": 2 ** 40 });
  await qmp.cmd("migrate", { uri: `exec:cat > '${save.replaceAll("'", "'\\''")}'` });
  await waitMigration(qmp, deadline);
  return {
    ramBlocks: parseRamblocks(String(ramblock)),
    capabilities: caps.map((c) => c.capability),
  };
}

/** Starts the paused destination, asks it, and stops it. */
async function destination(o: ProbeOptions, cmdline: string[], dir: string) {
  const sock = `${dir}/qmp.sock`;
  const child = new Deno.Command(o.qemu, {
    args: [...cmdline, "-qmp", `unix:${sock},server=on,wait=off`],
    env: o.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  const kill = () => {
    if (!exited) child.kill("SIGKILL");
  };
  o.interrupt?.signal.addEventListener("abort", kill);
  const unguard = o.interrupt?.guard(kill);
  let qmp: QmpClient | undefined;
  try {
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    qmp = await QmpClient.connect(sock, deadline, () => !exited, {
      answerMs: o.qmpAnswerMs,
      signal: o.interrupt?.signal,
    });
    const facts = await ask(qmp, `${dir}/self.mig`, deadline);
    await qmp.cmd("quit").catch(() => {});
    return facts;
  } catch (e) {
    if (e instanceof ProbeError) throw e;
    if (!exited) {
      kill();
      throw new ProbeError(`the paused destination QEMU: ${(e as Error).message}`);
    }
    throw new ProbeError(`the destination QEMU stopped: ${firstLine(await stderr)}`);
  } finally {
    qmp?.close();
    const timer = setTimeout(kill, 5000);
    await status;
    clearTimeout(timer);
    await stderr;
    o.interrupt?.signal.removeEventListener("abort", kill);
    unguard?.();
  }
}

/** The sections and subsections of the destination's own stream. */
async function ownStream(path: string) {
  const input = await openInput(path);
  try {
    const f = await readStreamFacts(input, { vmdesc: input.vmdesc });
    const sent = new Map<string, Map<string, number>>();
    for (const s of f.sections) {
      for (const sub of s.subsections) {
        if (!sent.has(sub.parent)) sent.set(sub.parent, new Map());
        sent.get(sub.parent)!.set(sub.name, sub.version);
      }
    }
    const registry = f.sections.map((s) => ({
      idstr: s.idstr,
      instance: s.instance,
      version: s.version,
    }));
    return { registry, sent, pageSize: f.pageSize, targetPageBits: f.targetPageBits };
  } catch (e) {
    throw new ProbeError(`the destination's own stream: ${(e as Error).message}`);
  } finally {
    input.close();
  }
}

/** Runs the QEMU binary as described above; throws {@link ProbeError}. */
export async function probeQemu(o: ProbeOptions): Promise<DestinationFacts> {
  const v = await run(o, ["--version"]);
  if (!v.ok) throw new ProbeError(`'${o.qemu} --version' failed: ${v.out}`);
  const qemuVersion = parseQemuVersion(v.out);
  const help = await run(o, ["-M", "help"]);
  if (!help.ok) throw new ProbeError(`'${o.qemu} -M help' failed: ${help.out}`);
  const machines = parseMachineHelp(help.out);
  const base = {
    origin: "qemu" as const,
    path: o.qemu,
    qemuVersion,
    requested: o.machine,
    machines: machines.names,
  };
  const assumeDevices = o.args === undefined;
  if (!machines.names.includes(o.machine)) {
    return {
      ...base,
      machine: o.machine,
      unknownMachine: machines.names,
      schema: new Map(),
      assumeDevices,
    };
  }
  const machine = machines.aliases.get(o.machine) ?? o.machine;
  const dir = await Deno.makeTempDir({ prefix: "migscope-check-" });
  const unguard = o.interrupt?.guard(() => Deno.removeSync(dir, { recursive: true }));
  try {
    const d = await run(o, ["-M", machine, "-dump-vmstate", `${dir}/dump.json`]);
    if (!d.ok) throw new ProbeError(`-dump-vmstate failed: ${d.out}`);
    const dump = await readVmstateDump(`${dir}/dump.json`);
    const commandLine = probeCommandLine(machine, o);
    const asked = await destination(o, commandLine, dir);
    const own = await ownStream(`${dir}/self.mig`);
    return {
      ...base,
      machine,
      schema: dump.schema,
      registry: own.registry,
      sentSubsections: own.sent,
      ramBlocks: asked.ramBlocks,
      capabilities: asked.capabilities,
      pageSize: own.pageSize,
      targetPageBits: own.targetPageBits,
      commandLine,
      assumeDevices,
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    unguard?.();
  }
}
