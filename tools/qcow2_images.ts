/**
 * qcow2 images with internal snapshots for tests, made by real QEMU: `savevm` over QMP in a
 * paused QEMU 7.2 whose file-backed guest RAM holds a known pattern (and `loadvm` to check), and
 * variants of a snapshot's VM state laid out by qemu-img itself — compressed (zlib, zstd),
 * extended L2, other cluster sizes — by converting a raw file holding the state at its virtual
 * offset, taking a disk-only snapshot, and setting the snapshot's vm_state_size and the disk
 * sizes (header `size`, snapshot `disk_size`) so the state lies past the disk as after savevm.
 */
import { machineArgs, qemu72, Qmp } from "./qemu.ts";

/** Runs a tool; throws with its stderr when it fails. Returns stdout. */
export function run(tool: string, args: string[]): string {
  const r = new Deno.Command(tool, { args, stdout: "piped", stderr: "piped" }).outputSync();
  const dec = new TextDecoder();
  if (!r.success) throw new Error(`${tool} ${args.join(" ")}: ${dec.decode(r.stderr).trim()}`);
  return dec.decode(r.stdout);
}

/** A big-endian field to write at a file offset. */
export type Patch = { at: number; u64?: number | bigint; u32?: number; u16?: number; u8?: number };

/** Writes big-endian fields into a file in place. */
export function patchFile(path: string, patches: Patch[]): void {
  const f = Deno.openSync(path, { read: true, write: true });
  try {
    for (const p of patches) {
      const b = new Uint8Array(8);
      const dv = new DataView(b.buffer);
      let n = 1;
      if (p.u64 !== undefined) [n] = [8, dv.setBigUint64(0, BigInt(p.u64))];
      else if (p.u32 !== undefined) [n] = [4, dv.setUint32(0, p.u32)];
      else if (p.u16 !== undefined) [n] = [2, dv.setUint16(0, p.u16)];
      else dv.setUint8(0, p.u8 ?? 0);
      f.seekSync(p.at, Deno.SeekMode.Start);
      f.writeSync(b.subarray(0, n));
    }
  } finally {
    f.close();
  }
}

/** Reads `n` bytes at `at`. */
export function readAt(path: string, at: number, n: number): DataView {
  const f = Deno.openSync(path);
  const b = new Uint8Array(n);
  f.seekSync(at, Deno.SeekMode.Start);
  let got = 0;
  while (got < n) got += f.readSync(b.subarray(got)) ?? n;
  f.close();
  return new DataView(b.buffer);
}

/** Options of {@link stateImage}. */
export interface StateImageOptions {
  clusterSize?: number;
  compress?: "zlib" | "zstd";
  extendedL2?: boolean;
  /** The virtual disk's size (default 1 MiB). */
  diskSize?: number;
  snapshot?: string;
}

/** Where the state of a snapshot of a `diskSize` disk lies, for this cluster geometry. */
export function stateOffset(clusterSize: number, extendedL2: boolean, diskSize: number): number {
  const span = clusterSize * (clusterSize / (extendedL2 ? 16 : 8));
  return Math.ceil(diskSize / span) * span;
}

/** A qcow2 image (made by qemu-img) with one snapshot whose VM state is the bytes of `state`. */
export function stateImage(out: string, state: string, o: StateImageOptions = {}): void {
  const cs = o.clusterSize ?? 65536;
  const disk = o.diskSize ?? 1 << 20;
  const at = stateOffset(cs, !!o.extendedL2, disk);
  const bytes = Deno.readFileSync(state);
  const raw = `${out}.raw`;
  const f = Deno.openSync(raw, { write: true, create: true, truncate: true });
  f.truncateSync(at + Math.ceil(bytes.length / cs) * cs);
  f.seekSync(at, Deno.SeekMode.Start);
  for (let done = 0; done < bytes.length;) done += f.writeSync(bytes.subarray(done));
  f.close();
  const opts = [`cluster_size=${cs}`];
  if (o.compress) opts.push(`compression_type=${o.compress}`);
  if (o.extendedL2) opts.push("extended_l2=on");
  run("qemu-img", [
    "convert",
    ...(o.compress ? ["-c"] : []),
    "-f",
    "raw",
    "-O",
    "qcow2",
    "-o",
    opts.join(","),
    raw,
    out,
  ]);
  Deno.removeSync(raw);
  run("qemu-img", ["snapshot", "-c", o.snapshot ?? "state", out]);
  const h = readAt(out, 0, 72);
  const snapAt = Number(h.getBigUint64(64));
  const e = readAt(out, snapAt, 40);
  if (e.getUint32(36) < 16) throw new Error("qemu-img wrote no disk_size extra data");
  patchFile(out, [
    { at: 24, u64: disk },
    { at: snapAt + 32, u32: bytes.length },
    { at: snapAt + 40, u64: bytes.length },
    { at: snapAt + 48, u64: disk },
  ]);
}

/** A paused QEMU 7.2 with file-backed `pc.ram` and a qcow2 virtio disk, driven over QMP. */
export class PausedVm {
  private constructor(
    readonly qmp: Qmp,
    readonly child: Deno.ChildProcess,
    readonly ramPath: string,
  ) {}

  /** Starts QEMU on `disk` with `ramMiB` of RAM backed by `ramPath`. */
  static async start(dir: string, disk: string, ramPath: string, ramMiB: number) {
    const q = qemu72()!;
    const sock = `${dir}/qmp-${crypto.randomUUID().slice(0, 8)}.sock`;
    const f = await Deno.open(ramPath, { create: true, write: true });
    await f.truncate(ramMiB << 20);
    f.close();
    const child = new Deno.Command(q.bin, {
      args: [
        ...q.args,
        ...machineArgs(ramPath, ramMiB, sock),
        "-drive",
        `file=${disk},format=qcow2,if=virtio,id=disk0,cache=writeback`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const qmp = await Qmp.connect(sock, Date.now() + 30_000);
    return new PausedVm(qmp, child, ramPath);
  }

  /** Runs an HMP command; throws when it prints an error. */
  async hmp(line: string): Promise<string> {
    const r = await this.qmp.cmd("human-monitor-command", { "command-line": line });
    const text = String(r.return ?? "");
    if (/error|fail/i.test(text)) throw new Error(`${line}: ${text.trim()}`);
    return text;
  }

  /** Quits QEMU and waits for it. */
  async quit() {
    await this.qmp.cmd("quit").catch(() => {});
    this.qmp.close();
    await this.child.status;
  }
}
