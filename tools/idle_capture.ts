/**
 * A real capture of an idle guest: Debian's qemu-system-x86_64 (7.2) with file-backed RAM
 * (`-m 4G` by default, memory-backend-file on /dev/shm), no kernel — the guest runs its BIOS
 * for about a second — then migrates to `exec:cat > FILE` over QMP. Almost every page is zero,
 * so the stream is ≈1 Mi ZERO records plus the BIOS's pages, device state and the vmdesc.
 *
 *   deno run -A tools/idle_capture.ts [--ram-mib 4096] [--run-ms 1000] [--out FILE] [--force]
 *
 * Without --out the capture is cached in the repository's .cache/bench/ (git-ignored) and
 * reused while QEMU's version and the options are the same.
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { machineArgs, qemu72, type QemuBinary, Qmp } from "./qemu.ts";

/** Options of an idle capture. */
export interface IdleCaptureOptions {
  /** Where the stream goes. */
  out: string;
  /** Guest RAM in MiB (default 4096). */
  ramMiB?: number;
  /** How long the guest runs its BIOS before the migration starts (default 1000 ms). */
  runMs?: number;
  /** Directory for the RAM backing file (default /dev/shm; removed afterwards). */
  ramDir?: string;
  /** Which QEMU (default: the system's 7.2). */
  qemu?: QemuBinary;
  timeoutMs?: number;
}

/** What a capture produced. */
export interface IdleCaptureResult {
  file: string;
  bytes: number;
  /** Migration time (migrate command to completed), seconds. */
  seconds: number;
  status: string;
  qemuVersion: string;
  error?: string;
}

/** Runs the guest, migrates it to `opts.out`, and quits QEMU. */
export async function idleCapture(opts: IdleCaptureOptions): Promise<IdleCaptureResult> {
  const ramMiB = opts.ramMiB ?? 4096;
  const q = opts.qemu ?? qemu72();
  if (!q) throw new Error("qemu-system-x86_64 is not installed");
  const work = await Deno.makeTempDir({ dir: opts.ramDir ?? "/dev/shm", prefix: "migscope-idle-" });
  const ram = `${work}/pc.ram`;
  const f = await Deno.open(ram, { create: true, write: true });
  await f.truncate(ramMiB * 1024 * 1024);
  f.close();
  const sock = `${work}/qmp.sock`;
  const child = new Deno.Command(q.bin, {
    env: q.env,
    args: [...q.args, ...machineArgs(ram, ramMiB, sock)],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrP = new Response(child.stderr).text();
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const result: IdleCaptureResult = {
    file: opts.out,
    bytes: 0,
    seconds: 0,
    status: "none",
    qemuVersion: q.version,
  };
  let qmp: Qmp | undefined;
  try {
    qmp = await Qmp.connect(sock, deadline);
    await qmp.cmd("cont");
    await new Promise((r) => setTimeout(r, opts.runMs ?? 1000));
    // QEMU 7.2 limits a migration to 32 MiB/s by default; a file has no such limit.
    await qmp.cmd("migrate-set-parameters", { "max-bandwidth": 64 * 1024 * 1024 * 1024 });
    await Deno.remove(opts.out).catch(() => {});
    const t0 = performance.now();
    await qmp.cmd("migrate", { uri: `exec:cat > '${opts.out.replaceAll("'", "'\\''")}'` });
    for (;;) {
      const r = (await qmp.cmd("query-migrate")).return as {
        status?: string;
        "error-desc"?: string;
      };
      result.status = r.status ?? "none";
      if (r.status === "completed" || r.status === "failed") {
        result.error = r["error-desc"];
        break;
      }
      if (Date.now() > deadline) {
        result.error = `timed out in status ${r.status}`;
        break;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    result.seconds = (performance.now() - t0) / 1000;
    await qmp.cmd("quit").catch(() => {});
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    qmp?.close();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
    }, 5000);
    const st = await child.status;
    clearTimeout(timer);
    const err = (await stderrP).trim();
    if (!st.success && err) result.error = `${result.error ?? ""} ${err}`.trim();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  if (result.status !== "completed" && !result.error) result.error = `status ${result.status}`;
  try {
    result.bytes = (await Deno.stat(opts.out)).size;
  } catch { /* none */ }
  return result;
}

const CACHE = fileURLToPath(new URL("../.cache/bench/", import.meta.url));

/**
 * The idle capture of a `ramMiB` guest in .cache/bench/, made when missing (or when `force`);
 * keyed by QEMU's version, the RAM size and the run time.
 */
export async function cachedIdleCapture(
  opts: { ramMiB?: number; runMs?: number; force?: boolean } = {},
): Promise<IdleCaptureResult & { cached: boolean }> {
  const q = qemu72();
  if (!q) throw new Error("qemu-system-x86_64 is not installed");
  const ramMiB = opts.ramMiB ?? 4096;
  const runMs = opts.runMs ?? 1000;
  await Deno.mkdir(CACHE, { recursive: true });
  const base = `${CACHE}idle-${ramMiB}M-${runMs}ms-qemu${q.version}`;
  const file = `${base}.mig`;
  const manifest = `${base}.json`;
  if (!opts.force) {
    try {
      const m = JSON.parse(await Deno.readTextFile(manifest)) as IdleCaptureResult;
      if (m.status === "completed" && (await Deno.stat(file)).size === m.bytes) {
        return { ...m, file, cached: true };
      }
    } catch { /* make it */ }
  }
  const r = await idleCapture({ out: file, ramMiB, runMs, qemu: q });
  if (r.error) throw new Error(`idle capture failed: ${r.error}`);
  await Deno.writeTextFile(manifest, JSON.stringify(r, null, 2) + "\n");
  return { ...r, cached: false };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "ram-mib": { type: "string", default: "4096" },
      "run-ms": { type: "string", default: "1000" },
      out: { type: "string" },
      force: { type: "boolean", default: false },
    },
  });
  const ramMiB = Number(values["ram-mib"]);
  const runMs = Number(values["run-ms"]);
  const r = values.out
    ? await idleCapture({ out: values.out, ramMiB, runMs })
    : await cachedIdleCapture({ ramMiB, runMs, force: values.force });
  console.log(JSON.stringify(r, null, 2));
  if (r.error) Deno.exit(1);
}
