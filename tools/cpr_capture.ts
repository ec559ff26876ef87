/**
 * A real cpr-transfer migration recorded from QEMU 10's source side. The source runs the pc
 * machine paused (-S) with its RAM in a shared memfd backend and `aux-ram-share=on` (every other
 * RAM block shared too), migration mode `cpr-transfer`, and `migrate` with two channels: `main`
 * and `cpr`, both unix sockets. The "destination" is two Deno listeners here: the cpr one reads
 * everything the source writes (a plain read: the SCM_RIGHTS file descriptors travelling next to
 * the data are dropped by the kernel) until the source shuts its side, then closes — the HUP the
 * source waits for before it connects the main channel; the main one records the main stream
 * until the source closes it. No destination QEMU is needed to record either channel.
 *
 * QEMU's own trace of `cpr_save_fd` (which fds it registered: name, id, fd) is kept as the
 * independent oracle for the cpr channel's contents (`expect.json`).
 *
 *   deno run -A tools/cpr_capture.ts [--out tests/data/cpr]
 *
 * writes cpr.bin, main.bin (gzip-compressed as main.bin.gz when over 100 KB), expect.json.
 * @module
 */
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { headlessArgs, qemu10, type QemuBinary, Qmp } from "./qemu.ts";

/** Guest RAM of the capture, and the id of its memfd backend (the cpr fd name QEMU saves). */
export const CPR_RAM_MIB = 32;
export const CPR_RAM_ID = "pc.ram";

/** The source's command line (after the binary's own -L/-audio arguments). */
export function cprSourceArgs(qmpSocket: string): string[] {
  return [
    "-machine",
    `pc,memory-backend=${CPR_RAM_ID},aux-ram-share=on`,
    "-object",
    `memory-backend-memfd,id=${CPR_RAM_ID},size=${CPR_RAM_MIB}M,share=on`,
    "-m",
    `${CPR_RAM_MIB}M`,
    ...headlessArgs(),
    "-trace",
    "cpr_save_fd",
    "-trace",
    "qemu_file_put_fd",
    "-qmp",
    `unix:${qmpSocket},server=on,wait=off`,
    "-S",
  ];
}

/**
 * Accepts one connection on `listener` and reads it to its end (the sender's shutdown), then
 * closes the connection (the HUP a cpr-transfer source waits for) and the listener.
 */
async function recordOne(listener: Deno.Listener): Promise<Uint8Array> {
  const conn = await listener.accept();
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(1 << 16);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  conn.close();
  listener.close();
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One fd QEMU's trace says it saved. */
export interface SavedFd {
  name: string;
  id: number;
  fd: number;
}

/** What a capture produced. */
export interface CprCapture {
  cpr: Uint8Array;
  main: Uint8Array;
  /** `cpr_save_fd` trace lines, in the order QEMU registered them. */
  saved: SavedFd[];
  /** Fds the `qemu_file_put_fd` trace says were sent, in order. */
  sent: number[];
  status: string;
  qemuVersion: string;
  stderr: string;
}

function parseTrace(stderr: string): { saved: SavedFd[]; sent: number[] } {
  const saved: SavedFd[] = [];
  const sent: number[] = [];
  for (const line of stderr.split("\n")) {
    const s = /cpr_save_fd (.*), id (-?\d+), fd (-?\d+)\s*$/.exec(line);
    if (s) saved.push({ name: s[1], id: Number(s[2]), fd: Number(s[3]) });
    const p = /qemu_file_put_fd ioc cpr-out, fd (-?\d+) -> status 0/.exec(line);
    if (p) sent.push(Number(p[1]));
  }
  return { saved, sent };
}

async function migrate(q: Qmp, dir: string, deadline: number): Promise<string> {
  await q.cmd("migrate-set-parameters", { mode: "cpr-transfer" });
  await q.cmd("migrate", {
    channels: [
      {
        "channel-type": "main",
        addr: { transport: "socket", type: "unix", path: `${dir}/main.sock` },
      },
      {
        "channel-type": "cpr",
        addr: { transport: "socket", type: "unix", path: `${dir}/cpr.sock` },
      },
    ],
  });
  for (;;) {
    const r = (await q.cmd("query-migrate")).return as { status?: string; "error-desc"?: string };
    const status = r.status ?? "none";
    if (status === "completed") return status;
    if (status === "failed") return `failed: ${r["error-desc"] ?? "?"}`;
    if (Date.now() > deadline) return `timed out in ${status}`;
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Runs the source, records both channels, and quits the source. */
export async function captureCpr(qemu: QemuBinary, timeoutMs = 60_000): Promise<CprCapture> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-cpr-" });
  const cprL = Deno.listen({ transport: "unix", path: `${dir}/cpr.sock` });
  const mainL = Deno.listen({ transport: "unix", path: `${dir}/main.sock` });
  const cprP = recordOne(cprL);
  const mainP = recordOne(mainL);
  const child = new Deno.Command(qemu.bin, {
    env: qemu.env,
    args: [...qemu.args, ...cprSourceArgs(`${dir}/qmp.sock`)],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrP = new Response(child.stderr).text();
  let q: Qmp | undefined;
  let status = "unknown";
  try {
    const deadline = Date.now() + timeoutMs;
    q = await Qmp.connect(`${dir}/qmp.sock`, deadline);
    status = await migrate(q, dir, deadline);
    await q.cmd("quit").catch(() => {});
  } catch (e) {
    status = `error: ${(e as Error).message}`;
    child.kill("SIGKILL");
  } finally {
    q?.close();
  }
  await child.status;
  const stderr = await stderrP;
  const empty = new Uint8Array();
  if (status !== "completed") {
    // Whatever was not accepted or read is abandoned: the listeners close, their reads fail.
    for (const l of [cprL, mainL]) {
      try {
        l.close();
      } catch { /* closed */ }
    }
  }
  const [cpr, main] = await Promise.all([
    cprP.catch(() => empty),
    mainP.catch(() => empty),
  ]);
  await Deno.remove(dir, { recursive: true });
  return { cpr, main, ...parseTrace(stderr), status, qemuVersion: qemu.version, stderr };
}

/** The README of the capture directory: how it was made and what each file is. */
export function cprReadme(c: CprCapture, mainName: string): string {
  const lines = ["qemu-system-x86_64"];
  for (const a of cprSourceArgs("$DIR/qmp.sock")) {
    if (a.startsWith("-")) lines.push(a);
    else lines[lines.length - 1] += ` ${a}`;
  }
  const cmd = lines.join(" \\\n  ");
  return `# cpr: a real QEMU ${c.qemuVersion} cpr-transfer migration, source side

Made by \`deno run -A tools/cpr_capture.ts --out tests/data/cpr\` with QEMU ${c.qemuVersion}
(Debian bookworm-backports, unpacked by .ci/run into .cache/qemu10). Nothing here is hand-made.

Source (paused, never runs a vCPU; \`-L\` data directories and \`-audio none\` from tools/qemu.ts):

\`\`\`
${cmd}
\`\`\`

QMP: \`migrate-set-parameters {"mode": "cpr-transfer"}\`, then \`migrate {"channels": [{"channel-type":
"main", "addr": {"transport": "socket", "type": "unix", "path": "$DIR/main.sock"}}, {"channel-type":
"cpr", "addr": {… "path": "$DIR/cpr.sock"}}]}\`. Both sockets are Deno listeners that record what
they receive: the cpr one reads until the source shuts its side, then closes (the HUP the source
waits for before it connects the main channel). SCM_RIGHTS descriptors are dropped by the plain
read. The migration then completes (query-migrate \`completed\`) with no destination QEMU.

- \`cpr.bin\` (${c.cpr.length} bytes): the cpr channel.
- \`${mainName}\` (${c.main.length} bytes${
    mainName.endsWith(".gz") ? ", gzip" : ""
  }): the main channel: the ram section's
  block list (MEM_SIZE: every RAM block, name and size) and EOS, but no page (every block travels
  as its fd), then the device state and the vmdesc trailer as in any precopy stream.
- \`expect.json\`: QEMU's own trace (\`-trace cpr_save_fd\`, \`-trace qemu_file_put_fd\`): the fds it
  registered (name, id, fd, in registration order) and the fds it sent on the cpr channel, in order.
`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: "tests/data/cpr" } },
  });
  const qemu = qemu10();
  if (!qemu) throw new Error("QEMU 10 is not unpacked (.cache/qemu10/root)");
  const c = await captureCpr(qemu);
  if (c.status !== "completed") {
    console.error(c.stderr);
    throw new Error(`migration ${c.status}`);
  }
  const out = values.out!;
  await Deno.mkdir(out, { recursive: true });
  await Deno.writeFile(`${out}/cpr.bin`, c.cpr);
  const mainName = c.main.length > 100_000 ? "main.bin.gz" : "main.bin";
  await Deno.writeFile(`${out}/${mainName}`, mainName.endsWith(".gz") ? gzipSync(c.main) : c.main);
  const expect = {
    qemu: c.qemuVersion,
    saved: c.saved,
    sent: c.sent,
    cprBytes: c.cpr.length,
    mainBytes: c.main.length,
  };
  await Deno.writeTextFile(`${out}/expect.json`, JSON.stringify(expect, null, 2) + "\n");
  await Deno.writeTextFile(`${out}/README.md`, cprReadme(c, mainName));
  console.log(
    `cpr channel ${c.cpr.length} bytes, main stream ${c.main.length} bytes (${mainName})`,
  );
  console.log(`QEMU ${c.qemuVersion} saved ${c.saved.length} fds, sent ${c.sent.length}`);
}
