/**
 * Real captures for the diff tests: a paused QEMU (`-S`, the guest never runs a vCPU) whose
 * file-backed guest RAM starts as a given image, migrated to `exec:cat > FILE` over QMP. Two
 * captures from the same image differ only in what QEMU itself puts in the stream: its device
 * set, its version's device state and firmware blocks.
 *
 * The machine is tools/qemu.ts `machineArgs` (pc, 64 MiB `pc.ram` backend, TCG, no NIC,
 * display or monitor, null serial) with the machine type given explicitly (pc-i440fx-7.2 by
 * default, which QEMU 7.2 and 10.0 both know).
 */
import { machineArgs, qemu72, type QemuBinary, Qmp, reap } from "../../tools/qemu.ts";
import { prng } from "../../tools/samples.ts";

/** Options of {@link pausedCapture}. */
export interface PausedCaptureOptions {
  /** Where the stream goes. */
  out: string;
  /** The guest RAM's initial content (its length is the RAM size; a whole number of MiB). */
  ram: Uint8Array;
  /** Which QEMU (default: the system's 7.2). */
  qemu?: QemuBinary;
  /** Machine type (default pc-i440fx-7.2). */
  machine?: string;
  /** Extra arguments, e.g. `["-device", "virtio-rng-pci"]`. */
  extra?: string[];
  timeoutMs?: number;
}

/**
 * A guest RAM image of `mib` MiB: every 4th page patterned from `seed`, every 16th page of
 * those random, the rest zero (so the stream has both PAGE and ZERO records).
 */
export function prefilledRam(mib: number, seed: number): Uint8Array {
  const img = new Uint8Array(mib << 20);
  const r = prng(seed);
  for (let p = 0; p < img.length / 4096; p += 4) {
    const page = img.subarray(p * 4096, (p + 1) * 4096);
    if (p % 64 === 0) { for (let i = 0; i < 4096; i++) page[i] = r() & 0xff; }
    else for (let i = 0; i < 4096; i += 8) page[i] = (p + i) & 0xff;
  }
  return img;
}

/** Migrates a paused guest whose RAM is `opts.ram` to `opts.out`; throws when it fails. */
export async function pausedCapture(opts: PausedCaptureOptions): Promise<void> {
  const q = opts.qemu ?? qemu72();
  if (!q) throw new Error("qemu-system-x86_64 is not installed");
  const mib = opts.ram.length >> 20;
  const work = await Deno.makeTempDir({ prefix: "migscope-diff-capture-" });
  const ramPath = `${work}/pc.ram`;
  await Deno.writeFile(ramPath, opts.ram);
  const sock = `${work}/qmp.sock`;
  const args = machineArgs(ramPath, mib, sock).map((a) =>
    a === "pc,memory-backend=pc.ram"
      ? `${opts.machine ?? "pc-i440fx-7.2"},memory-backend=pc.ram`
      : a
  );
  const child = new Deno.Command(q.bin, {
    env: q.env,
    args: [...q.args, ...args, ...(opts.extra ?? [])],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrP = new Response(child.stderr).text();
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let qmp: Qmp | undefined;
  let error: string | undefined;
  try {
    qmp = await Qmp.connect(sock, deadline);
    await qmp.cmd("migrate-set-parameters", { "max-bandwidth": 64 * 1024 * 1024 * 1024 });
    await qmp.cmd("migrate", { uri: `exec:cat > '${opts.out.replaceAll("'", "'\\''")}'` });
    for (;;) {
      const r = (await qmp.cmd("query-migrate")).return as {
        status?: string;
        "error-desc"?: string;
      };
      if (r.status === "completed") break;
      if (r.status === "failed" || Date.now() > deadline) {
        error = `migration ${r.status}: ${r["error-desc"] ?? "timed out"}`;
        break;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    await qmp.cmd("quit").catch(() => {});
  } catch (e) {
    error = (e as Error).message;
  } finally {
    await reap(child, qmp);
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  const err = (await stderrP).trim();
  if (error) throw new Error(`QEMU ${q.version}: ${error}${err ? ` (${err})` : ""}`);
}
