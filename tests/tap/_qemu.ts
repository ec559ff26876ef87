/**
 * A real migration through `migscope tap`: a source and a destination QEMU (paused, no guest
 * kernel, file-backed RAM so the destination's RAM file is the oracle), the tap between them
 * as a child process (tests/tap/_cli.ts), driven over QMP. {@link captureThroughTap} runs
 * tools/capture.ts's migrations (multifd, postcopy, qtest-driven dirtying and page faults)
 * with the tap as the relay; {@link returnPath} reads a recorded return path.
 */
import { machineArgs, type QemuBinary, Qmp } from "../../tools/qemu.ts";
import {
  capture,
  type CaptureOptions,
  type CaptureResult,
  TapRelay,
  type TapRun,
} from "../../tools/capture.ts";
import { runCli } from "../_helpers.ts";
import { spawnTap } from "./_cli.ts";

/** Options of {@link migrateThroughTap}. */
export interface TapMigration {
  qemu: QemuBinary;
  dir: string;
  /** The source's RAM (whole MiB). */
  ram: Uint8Array;
  /** The destination's RAM size in MiB (default: the source's; another size is refused). */
  dstMiB?: number;
  /** Capabilities set on both sides. */
  capabilities?: string[];
  /** migrate-set-parameters on both sides. */
  parameters?: Record<string, unknown>;
  /** More tap arguments (e.g. --record DIR). */
  tapArgs?: string[];
  timeoutMs?: number;
}

/** What happened. */
export interface TapMigrationResult {
  tap: { code: number; stdout: string; stderr: string };
  /** NDJSON events of the tap's stdout. */
  events: Record<string, unknown>[];
  srcStatus: string;
  dstStatus: string;
  /** The destination's RAM file (after it quit). */
  dstRam: string;
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

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

async function status(q: Qmp): Promise<string> {
  try {
    return ((await q.cmd("query-migrate")).return as { status?: string }).status ?? "none";
  } catch {
    return "gone"; // a destination that failed the load has exited (QEMU 7.2)
  }
}

/** Migrates `ram` from a source QEMU through `migscope tap` to a destination QEMU. */
export async function migrateThroughTap(o: TapMigration): Promise<TapMigrationResult> {
  const { dir, qemu } = o;
  const mib = o.ram.length >> 20;
  const dstMiB = o.dstMiB ?? mib;
  await Deno.writeFile(`${dir}/src.pc.ram`, o.ram);
  const f = await Deno.open(`${dir}/dst.pc.ram`, { create: true, write: true });
  await f.truncate(dstMiB << 20);
  f.close();
  const src = spawn(qemu, [
    ...qemu.args,
    ...machineArgs(`${dir}/src.pc.ram`, mib, `${dir}/src.qmp`),
  ]);
  const dst = spawn(qemu, [
    ...qemu.args,
    ...machineArgs(`${dir}/dst.pc.ram`, dstMiB, `${dir}/dst.qmp`),
    "-incoming",
    "defer",
  ]);
  const stderr = [src, dst].map((c) => new Response(c.stderr).text());
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  const dstPort = freePort();
  const tap = await spawnTap([
    "--listen",
    "127.0.0.1:0",
    "--to",
    `127.0.0.1:${dstPort}`,
    ...(o.tapArgs ?? []),
  ]);
  const qs = await Qmp.connect(`${dir}/src.qmp`, deadline);
  const qd = await Qmp.connect(`${dir}/dst.qmp`, deadline);
  let srcStatus = "";
  let dstStatus = "";
  try {
    for (const q of [qs, qd]) {
      if (o.capabilities?.length) {
        await q.cmd("migrate-set-capabilities", {
          capabilities: o.capabilities.map((capability) => ({ capability, state: true })),
        });
      }
      if (o.parameters) await q.cmd("migrate-set-parameters", o.parameters);
    }
    await qd.cmd("migrate-incoming", { uri: `tcp:127.0.0.1:${dstPort}` });
    await qs.cmd("migrate", { uri: `tcp:127.0.0.1:${tap.port}` });
    const done = (s: string) => ["completed", "failed", "gone"].includes(s);
    for (;;) {
      srcStatus = await status(qs);
      dstStatus = await status(qd);
      if ((done(srcStatus) && done(dstStatus)) || srcStatus === "failed") break;
      if (Date.now() > deadline) throw new Error(`timed out: ${srcStatus} / ${dstStatus}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    for (const q of [qs, qd]) {
      await q.cmd("quit").catch(() => {});
      q.close();
    }
    for (const c of [src, dst]) {
      const t = setTimeout(() => c.kill("SIGKILL"), 10_000);
      await c.status;
      clearTimeout(t);
    }
    await Promise.all(stderr);
  }
  const t = setTimeout(() => tap.child.kill("SIGTERM"), 20_000);
  const result = await tap.result();
  clearTimeout(t);
  const events = result.stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  return { tap: result, events, srcStatus, dstStatus, dstRam: `${dir}/dst.pc.ram` };
}

/** A guest RAM image of `mib` MiB: every third page partly filled, the rest zero. */
export function patternedRam(mib: number): Uint8Array {
  const ram = new Uint8Array(mib << 20);
  for (let p = 256; p < ram.length / 4096; p += 3) {
    ram.fill((p * 7) & 0xff, p * 4096, p * 4096 + 100 + (p % 3000));
  }
  return ram;
}

/** A capture through `migscope tap --record DIR/rec`: the capture, and what the tap left. */
export interface TapCapture {
  dir: string;
  /** Its connections are the tap's recordings (`DIR/rec/<n>-<kind>.s2d.bin`), in accept order. */
  c: CaptureResult;
  tap: TapRun;
}

/**
 * tools/capture.ts's migration (source and destination QEMU, file-backed RAM; on /dev/shm for
 * postcopy) with `migscope tap --record DIR/rec --json-events` as the relay, in a new temporary
 * directory.
 */
export async function captureThroughTap(
  opts: Omit<CaptureOptions, "dir" | "relay">,
): Promise<TapCapture> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-tap-ch-" });
  let relay: TapRelay | undefined;
  const c = await capture({
    ...opts,
    dir,
    relay: async (d, port) => relay = await TapRelay.start(d, port),
  });
  if (!relay?.result) throw new Error(`the tap did not run: ${c.error}`);
  return { dir, c, tap: relay.result };
}

/**
 * Runs the replay command the tap printed (`migscope replay MAIN --channel … --out OUT`) with
 * OUT = `out`; the exit code and the replayed pc.ram image.
 */
export async function replayPrinted(
  command: string,
  out: string,
): Promise<{ code: number; stderr: string; pcRam: string }> {
  const words = command.split(" ");
  if (words[0] !== "migscope" || words.at(-1) !== "OUT") {
    throw new Error(`not a replay: ${command}`);
  }
  const r = await runCli([...words.slice(1, -1), out]);
  return { code: r.code, stderr: r.stderr, pcRam: `${out}/pc.ram.ram` };
}

/** Return-path message types (QEMU migration/migration.h, enum mig_rp_message_type). */
const RP_TYPES = [
  "INVALID",
  "SHUT",
  "PONG",
  "REQ_PAGES_ID",
  "REQ_PAGES",
  "RECV_BITMAP",
  "RESUME_ACK",
  "SWITCHOVER_ACK",
];

/** One return-path message. */
export interface RpMessage {
  offset: number;
  type: string;
  /** SHUT's status, PONG's ping value. */
  value?: number;
  /** REQ_PAGES(_ID): the first byte requested in its RAM block, and how many. */
  start?: number;
  length?: number;
  /** REQ_PAGES_ID: the RAM block (later REQ_PAGES are in the same block). */
  block?: string;
}

/**
 * The messages of a recorded return path (destination → source on the main connection): each
 * a be16 type, a be16 length and that many bytes. Throws unless the bytes are whole messages of
 * known types with the lengths QEMU gives them.
 */
export function returnPath(bytes: Uint8Array): RpMessage[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: RpMessage[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (pos + 4 > bytes.length) throw new Error(`return path: truncated header at ${pos}`);
    const t = dv.getUint16(pos);
    const len = dv.getUint16(pos + 2);
    const type = RP_TYPES[t];
    if (!type || t === 0) throw new Error(`return path: type ${t} at ${pos}`);
    if (pos + 4 + len > bytes.length) throw new Error(`return path: ${type} truncated at ${pos}`);
    const m: RpMessage = { offset: pos, type };
    const d = pos + 4;
    const want = (n: number) => {
      if (len !== n) throw new Error(`return path: ${type} of ${len} bytes at ${pos}`);
    };
    if (type === "SHUT" || type === "PONG") {
      want(4);
      m.value = dv.getUint32(d);
    } else if (type === "REQ_PAGES" || type === "REQ_PAGES_ID") {
      m.start = Number(dv.getBigUint64(d));
      m.length = dv.getUint32(d + 8);
      if (type === "REQ_PAGES_ID") {
        const n = bytes[d + 12];
        want(13 + n);
        m.block = new TextDecoder().decode(bytes.subarray(d + 13, d + 13 + n));
      } else want(12);
    }
    out.push(m);
    pos = d + len;
  }
  return out;
}
