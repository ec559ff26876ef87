/**
 * A real QEMU destination for tests: starts Debian's qemu-system-x86_64 (7.2) with file-backed
 * guest RAM and `-incoming defer`, feeds it a stream with `migrate-incoming exec:cat FILE`
 * over QMP, waits for `completed` (or `failed`), and hands back the RAM (and disk) files.
 * No guest kernel is needed: the destination never runs a vCPU (-S).
 */

/** A QEMU to run: the binary and the arguments that point it at its firmware. */
export interface QemuBinary {
  bin: string;
  args: string[];
  version: string;
  /** Extra environment (QEMU 10 must not load the system 7.2's modules). */
  env?: Record<string, string>;
}

function probe(bin: string, args: string[], env?: Record<string, string>): QemuBinary | undefined {
  try {
    const r = new Deno.Command(bin, { args: ["--version"], env, stdout: "piped", stderr: "null" })
      .outputSync();
    if (!r.success) return undefined;
    const v = /version (\d+\.\d+\.\d+)/.exec(new TextDecoder().decode(r.stdout));
    return { bin, args, version: v?.[1] ?? "?", env };
  } catch {
    return undefined;
  }
}

/** Debian's qemu-system-x86_64 (7.2), when installed. */
export function qemu72(): QemuBinary | undefined {
  return probe("qemu-system-x86_64", []);
}

/**
 * QEMU 10 unpacked from Debian's bookworm-backports by .ci/run (`.cache/qemu10/root`, or the
 * directory in MIGSCOPE_QEMU10_ROOT), with its own data directory and the system's SeaBIOS.
 * `-audio none`: probing audio backends would load the system 7.2's modules.
 */
export function qemu10(): QemuBinary | undefined {
  const root = Deno.env.get("MIGSCOPE_QEMU10_ROOT") ??
    new URL("../.cache/qemu10/root", import.meta.url).pathname;
  return probe(
    `${root}/usr/bin/qemu-system-x86_64`,
    ["-L", `${root}/usr/share/qemu`, "-L", "/usr/share/seabios", "-audio", "none"],
    { QEMU_MODULE_DIR: `${root}/usr/lib/x86_64-linux-gnu/qemu` },
  );
}

/** True when qemu-system-x86_64 (7.2) is on PATH. */
export function haveQemu(): boolean {
  return qemu72() !== undefined;
}

/** TCG, one vCPU, no display, NIC or monitor, a null serial: the captures' device set. */
export function headlessArgs(): string[] {
  return [
    "-accel",
    "tcg",
    "-smp",
    "1",
    "-display",
    "none",
    "-nic",
    "none",
    "-monitor",
    "none",
    "-serial",
    "null",
  ];
}

/**
 * The machine both harnesses run: pc with file-backed guest RAM (`pc.ram`), TCG, one vCPU, no
 * display, NIC or monitor, a null serial (the captures' device set), QMP on a unix socket, paused.
 */
export function machineArgs(ramPath: string, ramMiB: number, qmpSocket: string): string[] {
  return [
    "-machine",
    "pc,memory-backend=pc.ram",
    "-object",
    `memory-backend-file,id=pc.ram,size=${ramMiB}M,mem-path=${ramPath},share=on`,
    "-m",
    `${ramMiB}M`,
    ...headlessArgs(),
    "-qmp",
    `unix:${qmpSocket},server=on,wait=off`,
    "-S",
  ];
}

/** Closes `qmp` (when connected) and waits for `child` to exit, killing it when not out in 5 s. */
export async function reap(child: Deno.ChildProcess, qmp: Qmp | undefined): Promise<void> {
  qmp?.close();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, 5000);
  await child.status;
  clearTimeout(timer);
}

/** What to load and how the destination is configured. */
export interface LoadOptions {
  stream: string;
  ramMiB?: number;
  /** Disk images to attach as virtio drives: id → size in bytes (created all-zero). */
  disks?: Record<string, number>;
  timeoutMs?: number;
  /** Which QEMU (default: the system's 7.2). */
  qemu?: QemuBinary;
  /** Capabilities to enable on the destination before the load (e.g. mapped-ram). */
  capabilities?: string[];
  /** Incoming URI (default `exec:cat STREAM`; mapped-ram needs `file:STREAM`). */
  uri?: string;
}

/** Outcome of a load. */
export interface LoadResult {
  status: string;
  error?: string;
  ramPath: string;
  diskPaths: Record<string, string>;
  stderr: string;
  dir: string;
}

/** A minimal QMP client over a unix socket. */
export class Qmp {
  #conn: Deno.UnixConn;
  #buf = "";
  #dec = new TextDecoder();
  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }
  /** Connects (retrying until `deadline`), reads the greeting and negotiates capabilities. */
  static async connect(path: string, deadline: number): Promise<Qmp> {
    for (;;) {
      try {
        const q = new Qmp(await Deno.connect({ transport: "unix", path }));
        await q.#line();
        await q.cmd("qmp_capabilities");
        return q;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`QMP socket ${path}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  async #line(): Promise<Record<string, unknown>> {
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        if (line.trim()) return JSON.parse(line);
        continue;
      }
      const chunk = new Uint8Array(65536);
      const n = await this.#conn.read(chunk);
      if (n === null) throw new Error("QMP connection closed");
      this.#buf += this.#dec.decode(chunk.subarray(0, n));
    }
  }
  /** Runs a command; throws on a QMP error. */
  async cmd(execute: string, args?: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.#conn.write(
      new TextEncoder().encode(JSON.stringify({ execute, arguments: args }) + "\n"),
    );
    for (;;) {
      const m = await this.#line();
      if ("error" in m) throw new Error(`${execute}: ${JSON.stringify(m.error)}`);
      if ("return" in m) return m;
    }
  }
  close() {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

/** Loads `opts.stream` into a fresh QEMU destination and returns where its RAM ended up. */
export async function loadIntoQemu(opts: LoadOptions): Promise<LoadResult> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-qemu-" });
  const ramMiB = opts.ramMiB ?? 64;
  const ramPath = `${dir}/dst.pc.ram`;
  const f = await Deno.open(ramPath, { create: true, write: true });
  await f.truncate(ramMiB << 20);
  f.close();
  const diskPaths: Record<string, string> = {};
  const driveArgs: string[] = [];
  for (const [id, size] of Object.entries(opts.disks ?? {})) {
    const p = `${dir}/${id}.raw`;
    const d = await Deno.open(p, { create: true, write: true });
    await d.truncate(size);
    d.close();
    diskPaths[id] = p;
    driveArgs.push("-drive", `file=${p},format=raw,if=virtio,id=${id},cache=writeback`);
  }
  const sock = `${dir}/qmp.sock`;
  const q = opts.qemu ?? qemu72() ?? { bin: "qemu-system-x86_64", args: [], version: "?" };
  const child = new Deno.Command(q.bin, {
    env: q.env,
    args: [
      ...q.args,
      ...machineArgs(ramPath, ramMiB, sock),
      ...driveArgs,
      "-incoming",
      "defer",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrP = new Response(child.stderr).text();
  const stdoutP = new Response(child.stdout).text();
  let qmp: Qmp | undefined;
  let status = "unknown";
  let error: string | undefined;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  try {
    qmp = await Qmp.connect(sock, deadline);
    if (opts.capabilities?.length) {
      await qmp.cmd("migrate-set-capabilities", {
        capabilities: opts.capabilities.map((capability) => ({ capability, state: true })),
      });
    }
    await qmp.cmd("migrate-incoming", { uri: opts.uri ?? `exec:cat ${opts.stream}` });
    for (;;) {
      const q = await qmp.cmd("query-migrate");
      const ret = q.return as { status?: string; "error-desc"?: string };
      status = ret.status ?? "none";
      if (status === "completed" || status === "failed") {
        error = ret["error-desc"];
        break;
      }
      if (Date.now() > deadline) {
        error = `timed out in status ${status}`;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await qmp.cmd("quit").catch(() => {});
  } catch (e) {
    error = (e as Error).message;
  } finally {
    await reap(child, qmp);
  }
  await stdoutP;
  return { status, error, ramPath, diskPaths, stderr: await stderrP, dir };
}
