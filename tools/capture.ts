/**
 * Real captures over sockets: a source and a destination QEMU (Debian's 7.2) with a tee proxy
 * between them that records every connection's source→destination bytes (the main channel,
 * multifd channels) while passing the return path through. Used for multifd and postcopy,
 * which `exec:` cannot carry. The guest needs no kernel: the source RAM backing file is
 * prepared with known content and the source stays paused (-S).
 *
 *   deno run -A tools/capture.ts --mode multifd|postcopy|precopy --out DIR
 */
import { parseArgs } from "node:util";
import { machineArgs, qemu72, type QemuBinary, Qmp } from "./qemu.ts";

/** Options of a capture. */
export interface CaptureOptions {
  mode: "precopy" | "multifd" | "postcopy";
  dir: string;
  /** Source RAM content (64 MiB). */
  ram: Uint8Array;
  channels?: number;
  /** Which QEMU runs both sides (default: the system's 7.2). */
  qemu?: QemuBinary;
}

/** What a capture produced. */
export interface CaptureResult {
  /** Recorded connections in accept order; `main` is the one starting with QEVM. */
  main: string;
  channels: string[];
  /** The destination's RAM after the load (the oracle). */
  dstRam: string;
  srcStatus: string;
  dstStatus: string;
  error?: string;
}

function qemu(
  q: QemuBinary,
  dir: string,
  who: string,
  ram: string,
  extra: string[],
): Deno.ChildProcess {
  return new Deno.Command(q.bin, {
    env: q.env,
    args: [
      ...q.args,
      ...machineArgs(ram, 64, `${dir}/${who}.qmp`),
      ...extra,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** Pipes one proxied connection, recording source→destination bytes to `file`. */
async function tee(src: Deno.Conn, dstPort: number, file: string): Promise<void> {
  const dst = await Deno.connect({ hostname: "127.0.0.1", port: dstPort });
  const out = await Deno.open(file, { write: true, create: true, truncate: true });
  const forward = (async () => {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      let n: number | null;
      try {
        n = await src.read(buf);
      } catch {
        n = null;
      }
      if (n === null) break;
      const b = buf.subarray(0, n);
      let w = 0;
      while (w < n) w += await out.write(b.subarray(w));
      try {
        w = 0;
        while (w < n) w += await dst.write(b.subarray(w));
      } catch {
        break;
      }
    }
    try {
      dst.closeWrite();
    } catch { /* closed */ }
  })();
  const backward = (async () => {
    const buf = new Uint8Array(1 << 16);
    for (;;) {
      let n: number | null;
      try {
        n = await dst.read(buf);
      } catch {
        n = null;
      }
      if (n === null) break;
      try {
        let w = 0;
        while (w < n) w += await src.write(buf.subarray(w, n));
      } catch {
        break;
      }
    }
    try {
      src.closeWrite();
    } catch { /* closed */ }
  })();
  await Promise.all([forward, backward]);
  out.close();
  try {
    src.close();
  } catch { /* closed */ }
  try {
    dst.close();
  } catch { /* closed */ }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

/** Runs a migration between two QEMUs through the recording proxy. */
export async function capture(opts: CaptureOptions): Promise<CaptureResult> {
  const { dir } = opts;
  // userfaultfd (postcopy) needs shmem-backed guest RAM: keep the RAM files on /dev/shm.
  const ramDir = opts.mode === "postcopy"
    ? await Deno.makeTempDir({ dir: "/dev/shm", prefix: "migscope-" })
    : dir;
  const srcRam = `${ramDir}/src.pc.ram`;
  const dstRam = `${ramDir}/dst.pc.ram`;
  await Deno.writeFile(srcRam, opts.ram);
  const f = await Deno.open(dstRam, { create: true, write: true });
  await f.truncate(64 << 20);
  f.close();
  const dstPort = freePort();
  const proxy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const proxyPort = (proxy.addr as Deno.NetAddr).port;
  const q = opts.qemu ?? qemu72() ?? { bin: "qemu-system-x86_64", args: [], version: "?" };
  const src = qemu(q, dir, "src", srcRam, []);
  const dst = qemu(q, dir, "dst", dstRam, ["-incoming", "defer"]);
  const deadline = Date.now() + 60_000;
  const files: string[] = [];
  const pipes: Promise<void>[] = [];
  let accepting = true;
  const acceptLoop = (async () => {
    while (accepting) {
      let c: Deno.Conn;
      try {
        c = await proxy.accept();
      } catch {
        break;
      }
      const file = `${dir}/conn${files.length}.bin`;
      files.push(file);
      pipes.push(tee(c, dstPort, file));
    }
  })();
  const result: CaptureResult = { main: "", channels: [], dstRam, srcStatus: "", dstStatus: "" };
  let qs: Qmp | undefined;
  let qd: Qmp | undefined;
  try {
    qs = await Qmp.connect(`${dir}/src.qmp`, deadline);
    qd = await Qmp.connect(`${dir}/dst.qmp`, deadline);
    const caps: { capability: string; state: boolean }[] = [];
    if (opts.mode === "multifd") caps.push({ capability: "multifd", state: true });
    if (opts.mode === "postcopy") caps.push({ capability: "postcopy-ram", state: true });
    for (const q of [qs, qd]) {
      if (caps.length) await q.cmd("migrate-set-capabilities", { capabilities: caps });
      if (opts.mode === "multifd") {
        await q.cmd("migrate-set-parameters", { "multifd-channels": opts.channels ?? 2 });
      }
    }
    if (opts.mode === "postcopy") {
      await qs.cmd("migrate-set-parameters", { "max-bandwidth": 8 << 20 });
    }
    await qd.cmd("migrate-incoming", { uri: `tcp:127.0.0.1:${dstPort}` });
    await qs.cmd("migrate", { uri: `tcp:127.0.0.1:${proxyPort}` });
    if (opts.mode === "postcopy") {
      await new Promise((r) => setTimeout(r, 300));
      await qs.cmd("migrate-start-postcopy");
    }
    for (;;) {
      const s = ((await qs.cmd("query-migrate")).return as { status?: string }).status ?? "";
      const d = ((await qd.cmd("query-migrate")).return as { status?: string }).status ?? "";
      result.srcStatus = s;
      result.dstStatus = d;
      if ((s === "completed" && d === "completed") || s === "failed" || d === "failed") break;
      if (Date.now() > deadline) throw new Error(`timed out: source ${s}, destination ${d}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    for (const q of [qs, qd]) await q?.cmd("quit").catch(() => {});
    qs?.close();
    qd?.close();
    for (const child of [src, dst]) {
      const t = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
      }, 5000);
      const st = await child.status;
      clearTimeout(t);
      const err = await new Response(child.stderr).text();
      if (!st.success && err) result.error = `${result.error ?? ""} ${err.trim()}`.trim();
    }
    accepting = false;
    proxy.close();
    await acceptLoop;
    await Promise.all(pipes);
  }
  if (ramDir !== dir) {
    for (const f of ["src.pc.ram", "dst.pc.ram"]) {
      await Deno.copyFile(`${ramDir}/${f}`, `${dir}/${f}`).catch(() => {});
    }
    await Deno.remove(ramDir, { recursive: true }).catch(() => {});
    result.dstRam = `${dir}/dst.pc.ram`;
  }
  for (const file of files) {
    const head = new Uint8Array(4);
    const fh = await Deno.open(file);
    const n = await fh.read(head);
    fh.close();
    if (n === 4 && head[0] === 0x51 && head[1] === 0x45 && head[2] === 0x56 && head[3] === 0x4d) {
      result.main = file;
    } else if (n === 4 && head[0] === 0x11 && head[1] === 0x22) result.channels.push(file);
  }
  return result;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { mode: { type: "string", default: "multifd" }, out: { type: "string" } },
  });
  const dir = values.out ?? await Deno.makeTempDir();
  await Deno.mkdir(dir, { recursive: true });
  const ram = new Uint8Array(64 << 20);
  for (let p = 0; p < ram.length / 4096; p += 3) ram.fill((p * 7) & 0xff, p * 4096, p * 4096 + 512);
  const r = await capture({ mode: values.mode as CaptureOptions["mode"], dir, ram });
  console.log(JSON.stringify(r, null, 2));
}

/** A `file:` migration: the source saves to `dir/capture.bin`, a fresh destination restores it. */
export async function fileMigration(opts: {
  dir: string;
  ram: Uint8Array;
  qemu: QemuBinary;
  capabilities?: string[];
}): Promise<{ file: string; dstRam: string; error?: string }> {
  const { dir } = opts;
  const file = `${dir}/capture.bin`;
  const caps = (opts.capabilities ?? []).map((capability) => ({ capability, state: true }));
  const run = async (who: "src" | "dst", ram: string, uri: string): Promise<string | undefined> => {
    const child = qemu(opts.qemu, dir, who, ram, who === "dst" ? ["-incoming", "defer"] : []);
    let q: Qmp | undefined;
    let error: string | undefined;
    try {
      q = await Qmp.connect(`${dir}/${who}.qmp`, Date.now() + 30_000);
      if (caps.length) await q.cmd("migrate-set-capabilities", { capabilities: caps });
      await q.cmd(who === "src" ? "migrate" : "migrate-incoming", { uri });
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = (await q.cmd("query-migrate")).return as {
          status?: string;
          "error-desc"?: string;
        };
        if (r.status === "completed") break;
        if (r.status === "failed") throw new Error(r["error-desc"] ?? "failed");
        if (Date.now() > deadline) throw new Error(`timed out in ${r.status}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    } catch (e) {
      error = (e as Error).message;
    } finally {
      await q?.cmd("quit").catch(() => {});
      q?.close();
      const st = await child.status;
      const err = await new Response(child.stderr).text();
      if (!st.success && err.trim()) error = `${error ?? ""} ${err.trim()}`.trim();
    }
    return error;
  };
  await Deno.writeFile(`${dir}/src.pc.ram`, opts.ram);
  const f = await Deno.open(`${dir}/dst.pc.ram`, { create: true, write: true });
  await f.truncate(opts.ram.length);
  f.close();
  const e1 = await run("src", `${dir}/src.pc.ram`, `file:${file}`);
  if (e1) return { file, dstRam: `${dir}/dst.pc.ram`, error: `source: ${e1}` };
  const e2 = await run("dst", `${dir}/dst.pc.ram`, `file:${file}`);
  return { file, dstRam: `${dir}/dst.pc.ram`, error: e2 ? `destination: ${e2}` : undefined };
}
