/**
 * Real QEMU sources and destinations for the check ground truth: a paused guest (never run,
 * `-S`) with file-backed RAM migrated to `exec:cat > FILE`, and a destination started with
 * `-incoming defer` that loads a file with `migrate-incoming exec:cat FILE`; both on any
 * machine type and with extra devices. Also a wrapper script that runs a QEMU with its own
 * environment and firmware paths, to hand to `check --qemu`.
 */
import { type QemuBinary, Qmp } from "../../tools/qemu.ts";

/** The device set both sides share: the captures' (TCG, one vCPU, no NIC, null serial). */
export const COMMON = [
  "-accel",
  "tcg",
  "-smp",
  "1",
  "-nic",
  "none",
  "-monitor",
  "none",
  "-serial",
  "null",
];

/** One side of a migration. */
export interface Side {
  qemu: QemuBinary;
  machine: string;
  mib: number;
  /** Extra arguments (devices). */
  extra?: string[];
}

/** What a QEMU run ended with. */
export interface Outcome {
  status: string;
  error?: string;
  stderr: string;
}

function args(s: Side, ram: string, sock: string): string[] {
  return [
    ...s.qemu.args,
    "-machine",
    `${s.machine},memory-backend=pc.ram`,
    "-object",
    `memory-backend-file,id=pc.ram,size=${s.mib}M,mem-path=${ram},share=on`,
    "-m",
    `${s.mib}M`,
    "-display",
    "none",
    ...COMMON,
    "-qmp",
    `unix:${sock},server=on,wait=off`,
    "-S",
    ...(s.extra ?? []),
  ];
}

async function migration(qmp: Qmp, deadline: number): Promise<{ status: string; error?: string }> {
  for (;;) {
    const r = (await qmp.cmd("query-migrate")).return as { status?: string; "error-desc"?: string };
    if (r.status === "completed" || r.status === "failed") {
      return { status: r.status, error: r["error-desc"] };
    }
    if (Date.now() > deadline) return { status: r.status ?? "none", error: "timed out" };
    await new Promise((res) => setTimeout(res, 25));
  }
}

/** Runs `s` with `more` arguments and drives it over QMP with `drive`. */
async function runSide(
  s: Side,
  more: string[],
  drive: (qmp: Qmp, deadline: number) => Promise<{ status: string; error?: string }>,
): Promise<Outcome> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-check-qemu-" });
  const ram = `${dir}/ram`;
  await Deno.writeFile(ram, new Uint8Array(0));
  await Deno.truncate(ram, s.mib << 20);
  const sock = `${dir}/qmp.sock`;
  const child = new Deno.Command(s.qemu.bin, {
    args: [...args(s, ram, sock), ...more],
    env: s.qemu.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  const status = child.status.then((st) => (exited = true, st));
  let qmp: Qmp | undefined;
  let out: { status: string; error?: string };
  try {
    const deadline = Date.now() + 60_000;
    qmp = await Promise.race([
      Qmp.connect(sock, deadline),
      status.then(() => Promise.reject(new Error("QEMU exited"))),
    ]);
    out = await drive(qmp, deadline);
    await qmp.cmd("quit").catch(() => {});
  } catch (e) {
    out = { status: "not started", error: (e as Error).message };
  } finally {
    qmp?.close();
    const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 5000);
    await status;
    clearTimeout(timer);
    await Deno.remove(dir, { recursive: true });
  }
  return { ...out, stderr: await stderr };
}

/** Migrates the paused source to `out` (with capabilities on: `file:` for mapped-ram). */
export function capture(s: Side, out: string, capabilities: string[] = []): Promise<Outcome> {
  return runSide(s, [], async (qmp, deadline) => {
    if (capabilities.length) {
      await qmp.cmd("migrate-set-capabilities", {
        capabilities: capabilities.map((capability) => ({ capability, state: true })),
      });
    }
    const file = capabilities.includes("mapped-ram");
    await qmp.cmd("migrate", { uri: file ? `file:${out}` : `exec:cat > '${out}'` });
    return await migration(qmp, deadline);
  });
}

/** Loads `stream` into a destination started with `-incoming defer`. */
export function load(s: Side, stream: string): Promise<Outcome> {
  return runSide(s, ["-incoming", "defer"], async (qmp, deadline) => {
    await qmp.cmd("migrate-incoming", { uri: `exec:cat '${stream}'` });
    return await migration(qmp, deadline);
  });
}

/** A shell script in `dir` that runs `q` with its arguments and environment, then "$@". */
export async function wrapper(q: QemuBinary, dir: string): Promise<string> {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const env = Object.entries(q.env ?? {}).map(([k, v]) => `${k}=${quote(v)} `).join("");
  const path = `${dir}/qemu-${q.version}`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\n${env}exec ${[q.bin, ...q.args].map(quote).join(" ")} "$@"\n`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

/**
 * The section QEMU's stderr names first: the idstr of "Unknown savevm section", "unsupported
 * version … for", "error while loading state … of device"; `configuration` for a machine type
 * it rejects; `ram` for an unknown RAM block.
 */
export function qemuSection(stderr: string): string | undefined {
  for (const line of stderr.split("\n")) {
    const m = /Unknown savevm section or instance '([^']+)'/.exec(line) ??
      /savevm: unsupported version \d+ for '([^']+)'/.exec(line) ??
      /error while loading state for instance 0x[0-9a-f]+ of device '([^']+)'/.exec(line) ??
      /error while loading state section id \d+\(([^)]+)\)/.exec(line);
    if (m) return m[1];
    if (/Machine type received is|unsupported machine type|capability/i.test(line)) {
      return "configuration";
    }
    if (/Unknown ramblock/.test(line)) return "ram";
  }
  return undefined;
}

/** QEMU's error lines (its program-name prefix dropped), for the report. */
export function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.trim()).map((l) => l.replace(/^[^:]*qemu[^:]*: /, ""));
}
