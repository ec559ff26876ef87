/**
 * Real captures over sockets: a source and a destination QEMU (Debian's 7.2, or another binary)
 * with a recording proxy between them (tools/capture/proxy.ts) that records every connection's
 * source→destination bytes (the main channel, multifd channels, the postcopy preempt channel)
 * while passing the return path through. Used for multifd and postcopy, which `exec:` cannot
 * carry. The guest needs no kernel: the source RAM backing file is prepared with known content
 * and both sides stay paused (-S: no vCPU ever runs, so nothing but the migration — and qtest —
 * touches guest RAM). With `qtest: true` each side also serves QEMU's qtest protocol on a socket,
 * and a driver (tools/capture/drive.ts) writes the source's memory (pages dirtied between passes)
 * or reads the destination's (postcopy page faults) while the migration runs. (Debian's QEMU
 * builds have no `-accel qtest`; the qtest server works beside TCG.) The relay may also be
 * `migscope tap --record` (tools/capture/tap.ts, `--tap`) or none (`direct`).
 *
 *   deno run -A tools/capture.ts --mode multifd|postcopy|precopy --out DIR
 *     [--qemu10] [--compression zlib|zstd] [--dirty] [--preempt] [--tap]
 */
import { parseArgs } from "node:util";
import { machineArgs, qemu10, qemu72, type QemuBinary, Qmp } from "./qemu.ts";
import { type Connection, freePort, RecordingProxy, type Relay } from "./capture/proxy.ts";
import { Qtest } from "./capture/qtest.ts";
import { TapRelay } from "./capture/tap.ts";
import {
  dirtyWhileMigrating,
  type Driver,
  type MigrateInfo,
  type Migration,
  postcopyFaults,
} from "./capture/drive.ts";

export type { Connection, ConnectionKind, Relay } from "./capture/proxy.ts";
export { TapRelay, type TapRelayOptions, type TapRun } from "./capture/tap.ts";
export type { Driver, MigrateInfo, Migration } from "./capture/drive.ts";
export { dirtyWhileMigrating, postcopyFaults } from "./capture/drive.ts";
export { Qtest } from "./capture/qtest.ts";

/** Options of a capture. */
export interface CaptureOptions {
  mode: "precopy" | "multifd" | "postcopy";
  dir: string;
  /** Source RAM content; its length is the guest's RAM size (whole MiB; the tests use 64 MiB). */
  ram: Uint8Array;
  channels?: number;
  /** Which QEMU runs both sides (default: the system's 7.2). */
  qemu?: QemuBinary;
  /** More capabilities, set on both sides (e.g. `postcopy-preempt`). */
  capabilities?: string[];
  /** migrate-set-parameters on both sides (e.g. `{"multifd-compression": "zstd"}`). */
  parameters?: Record<string, unknown>;
  /** migrate-set-parameters on the source only (e.g. `max-bandwidth`). */
  sourceParameters?: Record<string, unknown>;
  /**
   * Both sides serve the qtest protocol on `dir/src.qtest` / `dir/dst.qtest` (still TCG, still
   * -S): guest memory written there goes through address_space_write, so migration sees the
   * pages dirty; read on a postcopy destination, a page not yet received faults and is requested.
   */
  qtest?: boolean;
  /** What runs while the migration is under way (replaces the postcopy mode's own switch). */
  drive?: Driver;
  /** Whole-capture time limit (default 60 s). */
  timeoutMs?: number;
  /**
   * What the source migrates through, started before the QEMUs and given the destination's
   * port; closed after both quit, it hands back the recorded connections. Default: the
   * recording proxy (tools/capture/proxy.ts) recording into `dir`. {@link direct}: straight to
   * the destination, nothing recorded; `(dir, port) => TapRelay.start(dir, port)`: through
   * `migscope tap --record dir/rec` (tools/capture/tap.ts).
   */
  relay?: (dir: string, dstPort: number) => Promise<Relay>;
}

/** No relay: the source migrates to the destination's own port; no connection is recorded. */
export function direct(_dir: string, dstPort: number): Promise<Relay> {
  return Promise.resolve({ port: dstPort, close: () => Promise.resolve([]) });
}

/** What a capture produced. */
export interface CaptureResult {
  /** Recorded connections in accept order; `main` is the one starting with QEVM. */
  main: string;
  /** The multifd channels (0x11223344), in accept order. */
  channels: string[];
  /** The postcopy preempt channel (the connection without a magic), when one was opened. */
  preempt?: string;
  /** Every recorded connection in accept order, with its kind and size. */
  connections: Connection[];
  /** The destination's RAM after the load (the oracle). */
  dstRam: string;
  /** The source's RAM at the end (its backing file, after the source quit). */
  srcRam: string;
  srcStatus: string;
  dstStatus: string;
  /** Every status query-migrate reported, in order, without repeats. */
  srcStatuses: string[];
  dstStatuses: string[];
  /** The source's and the destination's last query-migrate answers. */
  stats: MigrateInfo;
  dstStats: MigrateInfo;
  error?: string;
}

/** The QEMU command line of one side. */
function qemuArgs(
  q: QemuBinary,
  dir: string,
  who: string,
  ram: string,
  ramMiB: number,
  qtest: boolean,
): string[] {
  const m = machineArgs(ram, ramMiB, `${dir}/${who}.qmp`);
  if (qtest) {
    m.push("-qtest", `unix:${dir}/${who}.qtest,server=on,wait=off`, "-qtest-log", "/dev/null");
  }
  return [...q.args, ...m, ...(who === "dst" ? ["-incoming", "defer"] : [])];
}

function qemu(
  q: QemuBinary,
  dir: string,
  who: string,
  ram: string,
  extra: string[] = [],
): Deno.ChildProcess {
  return spawn(q, [...q.args, ...machineArgs(ram, 64, `${dir}/${who}.qmp`), ...extra]);
}

function spawn(q: QemuBinary, args: string[]): Deno.ChildProcess {
  return new Deno.Command(q.bin, {
    env: q.env,
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  })
    .spawn();
}

/** Appends `s` unless it repeats the last entry. */
function note(list: string[], s: string | undefined) {
  if (s !== undefined && list[list.length - 1] !== s) list.push(s);
}

/** Runs a migration between two QEMUs through the recording proxy (or `opts.relay`). */
export async function capture(opts: CaptureOptions): Promise<CaptureResult> {
  const { dir } = opts;
  const qtest = opts.qtest ?? false;
  // userfaultfd (postcopy) needs shmem-backed guest RAM: keep the RAM files on /dev/shm.
  const ramDir = opts.mode === "postcopy"
    ? await Deno.makeTempDir({ dir: "/dev/shm", prefix: "migscope-" })
    : dir;
  const srcRam = `${ramDir}/src.pc.ram`;
  const dstRam = `${ramDir}/dst.pc.ram`;
  const ramMiB = opts.ram.length / (1 << 20);
  if (!Number.isInteger(ramMiB) || ramMiB === 0) throw new Error("guest RAM must be whole MiB");
  await Deno.writeFile(srcRam, opts.ram);
  const f = await Deno.open(dstRam, { create: true, write: true });
  await f.truncate(opts.ram.length);
  f.close();
  const dstPort = freePort();
  const relay = opts.relay ? await opts.relay(dir, dstPort) : new RecordingProxy(dir, dstPort);
  const q = opts.qemu ?? qemu72() ?? { bin: "qemu-system-x86_64", args: [], version: "?" };
  const src = spawn(q, qemuArgs(q, dir, "src", srcRam, ramMiB, qtest));
  const dst = spawn(q, qemuArgs(q, dir, "dst", dstRam, ramMiB, qtest));
  // Drained from the start: a full stderr pipe would stop QEMU.
  const stderr = [src, dst].map((c) => new Response(c.stderr).text());
  let exited = "";
  const early = Promise.all([src, dst].map(async (c, i) => {
    const st = await c.status;
    exited ||= `the ${i ? "destination" : "source"} exited (${st.code})`;
  }));
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const result: CaptureResult = {
    main: "",
    channels: [],
    connections: [],
    dstRam,
    srcRam,
    srcStatus: "",
    dstStatus: "",
    srcStatuses: [],
    dstStatuses: [],
    stats: {},
    dstStats: {},
  };
  let qs: Qmp | undefined;
  let qd: Qmp | undefined;
  const qtests: Qtest[] = [];
  try {
    // A QEMU that exits at start (bad arguments) fails the capture now, not at the deadline.
    const alive = <T>(p: Promise<T>) =>
      Promise.race([p, early.then(() => Promise.reject(new Error(exited)))]);
    qs = await alive(Qmp.connect(`${dir}/src.qmp`, deadline));
    qd = await alive(Qmp.connect(`${dir}/dst.qmp`, deadline));
    const [s, d] = [qs, qd];
    const caps = (opts.capabilities ?? []).slice();
    if (opts.mode === "multifd") caps.unshift("multifd");
    if (opts.mode === "postcopy") caps.unshift("postcopy-ram");
    const params: Record<string, unknown> = { ...opts.parameters };
    if (opts.mode === "multifd") params["multifd-channels"] ??= opts.channels ?? 2;
    for (const m of [s, d]) {
      if (caps.length) {
        await m.cmd("migrate-set-capabilities", {
          capabilities: caps.map((capability) => ({ capability, state: true })),
        });
      }
      if (Object.keys(params).length) await m.cmd("migrate-set-parameters", params);
    }
    const srcParams: Record<string, unknown> = {
      ...(opts.mode === "postcopy" && !opts.drive ? { "max-bandwidth": 8 << 20 } : {}),
      ...opts.drive?.sourceParameters,
      ...opts.sourceParameters,
    };
    if (Object.keys(srcParams).length) await s.cmd("migrate-set-parameters", srcParams);
    const query = async (m: Qmp, seen: string[]): Promise<MigrateInfo> => {
      const info = (await m.cmd("query-migrate")).return as MigrateInfo;
      note(seen, info.status);
      return info;
    };
    const migration: Migration = {
      src: s,
      dst: d,
      ramSize: opts.ram.length,
      deadline,
      query: () => query(s, result.srcStatuses),
      dstQuery: () => query(d, result.dstStatuses),
    };
    if (qtest) {
      migration.srcQtest = await Qtest.connect(`${dir}/src.qtest`, deadline);
      migration.dstQtest = await Qtest.connect(`${dir}/dst.qtest`, deadline);
      qtests.push(migration.srcQtest, migration.dstQtest);
    }
    await d.cmd("migrate-incoming", { uri: `tcp:127.0.0.1:${dstPort}` });
    await s.cmd("migrate", { uri: `tcp:127.0.0.1:${relay.port}` });
    let driveError: string | undefined;
    if (opts.drive) {
      // A failed driver still lets the migration end, so the stats are its final ones.
      await opts.drive.run(migration).catch((e) => {
        driveError = (e as Error).message;
      });
      if (driveError) {
        await s.cmd("migrate-set-parameters", { "max-bandwidth": 1 << 30 }).catch(() => {});
      }
    } else if (opts.mode === "postcopy") {
      await new Promise((r) => setTimeout(r, 300));
      await s.cmd("migrate-start-postcopy");
    }
    for (;;) {
      const si = await migration.query();
      const di = await migration.dstQuery();
      result.srcStatus = si.status ?? "";
      result.dstStatus = di.status ?? "";
      result.stats = si;
      result.dstStats = di;
      const done = (x: string) => x === "completed" || x === "failed";
      if ((done(result.srcStatus) && done(result.dstStatus)) || si.status === "failed") break;
      if (Date.now() > deadline) {
        throw new Error(`timed out: source ${si.status}, destination ${di.status}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const e = driveError ?? result.stats["error-desc"] ?? result.dstStats["error-desc"];
    if (e) result.error = String(e);
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    for (const t of qtests) t.close();
    for (const m of [qs, qd]) await m?.cmd("quit").catch(() => {});
    qs?.close();
    qd?.close();
    for (const [i, child] of [src, dst].entries()) {
      const t = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
      }, 5000);
      const st = await child.status;
      clearTimeout(t);
      const err = (await stderr[i]).trim();
      if (!st.success && err) result.error = `${result.error ?? ""} ${err}`.trim();
    }
    result.connections = await relay.close();
  }
  if (ramDir !== dir) {
    for (const f of ["src.pc.ram", "dst.pc.ram"]) {
      await Deno.copyFile(`${ramDir}/${f}`, `${dir}/${f}`).catch(() => {});
    }
    await Deno.remove(ramDir, { recursive: true }).catch(() => {});
    result.dstRam = `${dir}/dst.pc.ram`;
    result.srcRam = `${dir}/src.pc.ram`;
  }
  for (const c of result.connections) {
    if (c.kind === "main" && !result.main) result.main = c.file;
    else if (c.kind === "multifd") result.channels.push(c.file);
    else if (c.kind === "preempt" && !result.preempt) result.preempt = c.file;
  }
  return result;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      mode: { type: "string", default: "multifd" },
      out: { type: "string" },
      qemu10: { type: "boolean", default: false },
      compression: { type: "string" },
      dirty: { type: "boolean", default: false },
      preempt: { type: "boolean", default: false },
      tap: { type: "boolean", default: false },
    },
  });
  const dir = values.out ?? await Deno.makeTempDir();
  await Deno.mkdir(dir, { recursive: true });
  const ram = new Uint8Array(64 << 20);
  for (let p = 0; p < ram.length / 4096; p += 3) ram.fill((p * 7) & 0xff, p * 4096, p * 4096 + 512);
  const preempt = values.preempt;
  const r = await capture({
    mode: values.mode as CaptureOptions["mode"],
    dir,
    ram,
    qemu: values.qemu10 ? qemu10() : undefined,
    parameters: values.compression ? { "multifd-compression": values.compression } : undefined,
    capabilities: preempt ? ["postcopy-preempt"] : undefined,
    qtest: values.dirty || preempt,
    drive: values.dirty ? dirtyWhileMigrating() : preempt ? postcopyFaults() : undefined,
    relay: values.tap ? (d, port) => TapRelay.start(d, port) : undefined,
  });
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
