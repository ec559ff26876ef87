/**
 * A real migration stream with 1 KiB target pages: Debian's qemu-system-arm (7.2) runs the
 * 32-bit `versatilepb` board, paused (-S) with file-backed guest RAM pre-filled with a known
 * pattern, migrates to `exec:cat > capture.bin`; a second QEMU with the identical command line,
 * fresh all-zero RAM and `-incoming defer` loads the capture with `migrate-incoming exec:cat`,
 * and its RAM file is the oracle. The stream is also walked by a small counter written here
 * (independent of src/) that counts the RAM records and applies them to its own block images.
 *
 *   deno run -A tools/arm_capture.ts [--out tests/data/arm_versatilepb_1k]
 *
 * writes capture.bin.gz, oracle.ram.gz, expect.json and README.md into the output directory.
 * @module
 */
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import type { QemuBinary } from "./qemu.ts";
import { Qmp } from "./qemu.ts";

/** versatilepb's target page size. */
export const ARM_PAGE = 1024;
/** Guest RAM of the capture (versatilepb accepts at most 256 MiB). */
export const ARM_RAM_MIB = 16;
/** Id of the memory backend, which is also the RAM block's name in the stream. */
export const ARM_RAM_ID = "ram0";

/** Debian's qemu-system-arm, when installed. */
export function qemuArm(): QemuBinary | undefined {
  try {
    const r = new Deno.Command("qemu-system-arm", {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    if (!r.success) return undefined;
    const v = /version (\d+\.\d+\.\d+)/.exec(new TextDecoder().decode(r.stdout));
    return { bin: "qemu-system-arm", args: [], version: v?.[1] ?? "?" };
  } catch {
    return undefined;
  }
}

/**
 * The command line of both sides (the destination adds `-incoming defer`): versatilepb with its
 * RAM in a shared file, TCG, no display, NIC, monitor or sound output, a null serial, QMP on a
 * unix socket, paused. The board's PL041 gets a `none` audio backend so QEMU does not probe the
 * host's sound (that changes nothing in the stream).
 */
export function armMachineArgs(ramPath: string, ramMiB: number, qmpSocket: string): string[] {
  return [
    "-machine",
    `versatilepb,memory-backend=${ARM_RAM_ID}`,
    "-object",
    `memory-backend-file,id=${ARM_RAM_ID},size=${ramMiB}M,mem-path=${ramPath},share=on`,
    "-m",
    `${ramMiB}M`,
    "-accel",
    "tcg",
    "-display",
    "none",
    "-nic",
    "none",
    "-monitor",
    "none",
    "-serial",
    "null",
    "-audiodev",
    "none,id=snd0",
    "-global",
    "pl041.audiodev=snd0",
    "-qmp",
    `unix:${qmpSocket},server=on,wait=off`,
    "-S",
  ];
}

/** Which of the 1 KiB pages of the pattern are non-zero, and how they are filled. */
function patternPage(p: number, pages: number): "zero" | "full" | "upper-half" | "last-byte" {
  let nonzero: boolean;
  if (p < pages / 4) {
    // Every 4 KiB group takes one of the 16 zero/non-zero combinations of its four 1 KiB pages.
    nonzero = (((p >> 2) & 15) >> (p & 3) & 1) === 1;
  } else if (p < pages / 2) {
    nonzero = false;
  } else if (p < pages / 2 + pages / 16) {
    nonzero = true;
  } else {
    nonzero = p % 37 === 0 || p % 41 === 5;
  }
  if (!nonzero) return "zero";
  return (["full", "upper-half", "last-byte"] as const)[p % 3];
}

/**
 * The source RAM: `size` bytes of 1 KiB pages (page p):
 *
 * - first quarter: 4 KiB group g = p >> 2 has page p non-zero iff bit (p & 3) of (g & 15) is
 *   set, so all 16 zero/non-zero mixes of a 4 KiB group occur (e.g. zero first 1 KiB, data after);
 * - second quarter: all zero;
 * - next sixteenth: all non-zero;
 * - the rest: non-zero iff p % 37 == 0 or p % 41 == 5.
 *
 * A non-zero page is filled by p % 3: 0 "full" (byte i = (13·i + 7·p + 1) & 0xff, then be32
 * 0xA5000000 | p at byte 0); 1 "upper-half" (bytes 0–511 zero, byte i ≥ 512 =
 * (29·i + p) & 0xff, then be32 0x5A000000 | p at byte 512); 2 "last-byte" (only byte 1023
 * non-zero: (p % 255) + 1).
 */
export function armPattern(size: number): Uint8Array {
  const ram = new Uint8Array(size);
  const pages = size / ARM_PAGE;
  const dv = new DataView(ram.buffer);
  for (let p = 0; p < pages; p++) {
    const base = p * ARM_PAGE;
    switch (patternPage(p, pages)) {
      case "zero":
        break;
      case "full":
        for (let i = 0; i < ARM_PAGE; i++) ram[base + i] = (13 * i + 7 * p + 1) & 0xff;
        dv.setUint32(base, (0xa5000000 | p) >>> 0);
        break;
      case "upper-half":
        for (let i = 512; i < ARM_PAGE; i++) ram[base + i] = (29 * i + p) & 0xff;
        dv.setUint32(base + 512, (0x5a000000 | p) >>> 0);
        break;
      case "last-byte":
        ram[base + ARM_PAGE - 1] = (p % 255) + 1;
        break;
    }
  }
  return ram;
}

/** What the independent walk of a stream found. */
export interface StreamFacts {
  bytes: number;
  machine: string;
  /** Names of the configuration's subsections (none expected on versatilepb). */
  configurationSubsections: string[];
  /** Page size from the vmdesc trailer. */
  vmdescPageSize: number;
  vmdescDevices: string[];
  memSizeTotal: number;
  blocks: { name: string; size: number }[];
  records: {
    page: number;
    zero: number;
    eos: number;
    memSize: number;
    named: number;
    continue: number;
  };
  perBlock: Record<string, { page: number; zero: number }>;
  /** Distinct header flag values (low 10 bits) seen. */
  flags: number[];
  sections: { START: number; PART: number; END: number; FULL: number };
  /** The blocks as a destination holds them after applying the RAM records to zeroed images. */
  images: Map<string, Uint8Array>;
}

/**
 * Walks a precopy stream whose RAM records use `pageSize`-byte target pages: file header,
 * configuration (and its subsections), the `ram` START/PART/END sections record by record
 * (flags = low bits of the be64 header), then requires the device FULL sections to follow and
 * the VMDESCRIPTION trailer to end the file. Written for this harness only (exec: precopy, no
 * capabilities), independent of src/.
 */
export function countStream(d: Uint8Array, pageSize = ARM_PAGE): StreamFacts {
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  let o = 0;
  const need = (n: number) => {
    if (o + n > d.length) throw new Error(`truncated at ${o}: need ${n} bytes`);
  };
  const u8 = () => (need(1), d[o++]);
  const be32 = () => (need(4), o += 4, dv.getUint32(o - 4));
  const be64 = () => (need(8), o += 8, Number(dv.getBigUint64(o - 8)));
  const str = () => {
    const n = u8();
    need(n);
    o += n;
    return new TextDecoder().decode(d.subarray(o - n, o));
  };
  if (be32() !== 0x5145564d || be32() !== 3) throw new Error("not a QEVM version 3 stream");
  if (u8() !== 0x07) throw new Error("no configuration record at offset 8");
  const nameLen = be32();
  need(nameLen);
  const machine = new TextDecoder().decode(d.subarray(o, o + nameLen));
  o += nameLen;
  const configurationSubsections: string[] = [];
  while (d[o] === 0x05) {
    o++;
    const name = str();
    be32(); // version
    configurationSubsections.push(name);
    if (name === "configuration/target-page-bits") be32();
    else if (name === "configuration/capabilities") {
      for (let n = be32(); n > 0; n--) str();
    } else if (name === "configuration/uuid") o += 16;
    else throw new Error(`unknown configuration subsection ${name}`);
  }
  const facts: StreamFacts = {
    bytes: d.length,
    machine,
    configurationSubsections,
    vmdescPageSize: 0,
    vmdescDevices: [],
    memSizeTotal: 0,
    blocks: [],
    records: { page: 0, zero: 0, eos: 0, memSize: 0, named: 0, continue: 0 },
    perBlock: {},
    flags: [],
    sections: { START: 0, PART: 0, END: 0, FULL: 0 },
    images: new Map(),
  };
  const flagSet = new Set<number>();
  const sectionNames = new Map<number, string>();
  let block: string | undefined;
  let ramEnded = false;
  while (!ramEnded) {
    const type = u8();
    if (type !== 0x01 && type !== 0x02 && type !== 0x03) {
      throw new Error(`section type 0x${type.toString(16)} at ${o - 1} before the RAM END`);
    }
    const id = be32();
    if (type === 0x01) {
      const idstr = str();
      be32(); // instance
      if (be32() !== 4 || idstr !== "ram") throw new Error(`unexpected START ${idstr}`);
      sectionNames.set(id, idstr);
      facts.sections.START++;
    } else if (sectionNames.get(id) !== "ram") throw new Error(`section ${id} is not ram`);
    else if (type === 0x02) facts.sections.PART++;
    else {
      facts.sections.END++;
      ramEnded = true;
    }
    for (;;) {
      const at = o;
      const h = be64();
      const flags = h & (pageSize - 1);
      const addr = h - flags;
      flagSet.add(flags);
      const kind = flags & ~0x20;
      if (kind === 0x10) {
        facts.records.eos++;
        break;
      }
      if (kind === 0x04) {
        facts.records.memSize++;
        facts.memSizeTotal = addr;
        for (let sum = 0; sum < addr;) {
          const name = str();
          const size = be64();
          facts.blocks.push({ name, size });
          facts.images.set(name, new Uint8Array(size));
          facts.perBlock[name] = { page: 0, zero: 0 };
          sum += size;
        }
        continue;
      }
      if (kind !== 0x02 && kind !== 0x08) {
        throw new Error(`RAM header 0x${h.toString(16)} at ${at}: flags 0x${flags.toString(16)}`);
      }
      if (flags & 0x20) {
        if (block === undefined) throw new Error(`CONTINUE with no block at ${at}`);
        facts.records.continue++;
      } else {
        block = str();
        facts.records.named++;
      }
      const img = facts.images.get(block);
      if (!img || addr + pageSize > img.length) throw new Error(`bad page ${block}+${addr}`);
      if (kind === 0x02) {
        img.fill(u8(), addr, addr + pageSize);
        facts.records.zero++;
        facts.perBlock[block].zero++;
      } else {
        need(pageSize);
        img.set(d.subarray(o, o + pageSize), addr);
        o += pageSize;
        facts.records.page++;
        facts.perBlock[block].page++;
      }
    }
    if (u8() !== 0x7e || be32() !== id) throw new Error(`no footer for section ${id} at ${o}`);
  }
  if (d[o] !== 0x04) throw new Error(`expected the device FULL sections at ${o}`);
  // Device data carries no lengths; the trailer is found from the end: 00 06 be32 L {json}.
  for (let t = d.length - 6; t > o; t--) {
    if (d[t] !== 0x06 || d[t - 1] !== 0x00 || d[t + 5] !== 0x7b) continue;
    if (t + 5 + dv.getUint32(t + 1) !== d.length) continue;
    const json = JSON.parse(new TextDecoder().decode(d.subarray(t + 5)));
    facts.vmdescPageSize = json.page_size;
    facts.vmdescDevices = json.devices.map((x: { name: string; instance_id: number }) =>
      `${x.name}/${x.instance_id}`
    );
    facts.sections.FULL = json.devices.length;
    break;
  }
  if (!facts.vmdescPageSize) throw new Error("no VMDESCRIPTION trailer at the end");
  facts.flags = [...flagSet].sort((a, b) => a - b);
  return facts;
}

/** QEMU's own counters from the source's final query-migrate. */
export interface QemuRamStats {
  normal: number;
  duplicate: number;
  "page-size": number;
  total: number;
  transferred: number;
}

/** Outcome of {@link armCapture}; paths are inside `dir`. */
export interface ArmCaptureResult {
  capture: string;
  srcRam: string;
  dstRam: string;
  /** pmemsave of the destination's `versatile.flash` region (guest address 0x34000000). */
  dstFlash?: string;
  srcArgs: string[];
  dstArgs: string[];
  qemuVersion: string;
  stats?: QemuRamStats;
  error?: string;
}

async function runSide(
  q: QemuBinary,
  args: string[],
  sock: string,
  work: (qmp: Qmp) => Promise<void>,
  timeoutMs: number,
): Promise<string | undefined> {
  const child = new Deno.Command(q.bin, {
    args: [...q.args, ...args],
    env: q.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrP = new Response(child.stderr).text();
  let qmp: Qmp | undefined;
  let error: string | undefined;
  try {
    qmp = await Qmp.connect(sock, Date.now() + timeoutMs);
    await work(qmp);
  } catch (e) {
    error = (e as Error).message;
  } finally {
    await qmp?.cmd("quit").catch(() => {});
    qmp?.close();
    const t = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
    }, 5000);
    const st = await child.status;
    clearTimeout(t);
    const err = (await stderrP).trim();
    if (!st.success && err) error = `${error ?? ""} ${err}`.trim();
  }
  return error;
}

async function waitMigration(
  qmp: Qmp,
  deadline: number,
): Promise<Record<string, unknown>> {
  for (;;) {
    const r = (await qmp.cmd("query-migrate")).return as Record<string, unknown>;
    if (r.status === "completed") return r;
    if (r.status === "failed") throw new Error(`migration failed: ${r["error-desc"] ?? "?"}`);
    if (Date.now() > deadline) throw new Error(`timed out in status ${r.status}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/**
 * Source with `ram` (default {@link armPattern}) as its RAM → `dir/capture.bin`, then a fresh
 * destination loads it; returns the paths and QEMU's counters. Both QEMUs are gone on return.
 */
export async function armCapture(opts: {
  dir: string;
  ram?: Uint8Array;
  qemu?: QemuBinary;
  timeoutMs?: number;
}): Promise<ArmCaptureResult> {
  const { dir } = opts;
  const q = opts.qemu ?? qemuArm() ?? { bin: "qemu-system-arm", args: [], version: "?" };
  const ram = opts.ram ?? armPattern(ARM_RAM_MIB << 20);
  const ramMiB = ram.length >> 20;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const res: ArmCaptureResult = {
    capture: `${dir}/capture.bin`,
    srcRam: `${dir}/src.ram`,
    dstRam: `${dir}/dst.ram`,
    srcArgs: armMachineArgs(`${dir}/src.ram`, ramMiB, `${dir}/src.qmp`),
    dstArgs: [...armMachineArgs(`${dir}/dst.ram`, ramMiB, `${dir}/dst.qmp`), "-incoming", "defer"],
    qemuVersion: q.version,
  };
  await Deno.writeFile(res.srcRam, ram);
  const f = await Deno.open(res.dstRam, { create: true, write: true, truncate: true });
  await f.truncate(ram.length);
  f.close();
  const e1 = await runSide(q, res.srcArgs, `${dir}/src.qmp`, async (qmp) => {
    await qmp.cmd("migrate", { uri: `exec:cat > '${res.capture}'` });
    const r = await waitMigration(qmp, Date.now() + timeoutMs);
    res.stats = r.ram as QemuRamStats;
  }, timeoutMs);
  if (e1) return { ...res, error: `source: ${e1}` };
  const e2 = await runSide(q, res.dstArgs, `${dir}/dst.qmp`, async (qmp) => {
    await qmp.cmd("migrate-incoming", { uri: `exec:cat '${res.capture}'` });
    await waitMigration(qmp, Date.now() + timeoutMs);
    const mtree = (await qmp.cmd("human-monitor-command", {
      "command-line": "info mtree -f",
    })).return as string;
    const m = /([0-9a-f]{16})-([0-9a-f]{16}) \(prio \d+, romd\): versatile\.flash/.exec(mtree);
    if (m) {
      const start = parseInt(m[1], 16);
      res.dstFlash = `${dir}/dst.flash`;
      await qmp.cmd("pmemsave", {
        val: start,
        size: parseInt(m[2], 16) - start + 1,
        filename: res.dstFlash,
      });
    }
  }, timeoutMs);
  if (e2) return { ...res, error: `destination: ${e2}` };
  return res;
}

/** Hex sha256 of bytes. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const h = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(h)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What `expect.json` holds: the facts the tests compare migscope's output with. */
export interface ArmExpect {
  qemu: string;
  machine: string;
  pageSize: number;
  configurationSubsections: string[];
  targetPageBitsPresent: boolean;
  records: StreamFacts["records"];
  perBlock: StreamFacts["perBlock"];
  blocks: StreamFacts["blocks"];
  memSizeTotal: number;
  flags: number[];
  sections: StreamFacts["sections"];
  vmdescDevices: string[];
  qemuStats: QemuRamStats;
  ramBlock: string;
  sha256: { capture: string; oracle: string; dstFlash?: string };
  bytes: { capture: number; oracle: number; captureGz: number; oracleGz: number };
}

/**
 * Captures, checks every fact against every other (destination RAM = source RAM = the counter's
 * own replay; counter counts = QEMU's normal/duplicate counters) and writes the data directory.
 */
export async function buildArmData(out: string): Promise<ArmExpect> {
  const q = qemuArm();
  if (!q) throw new Error("qemu-system-arm is not installed");
  const dir = await Deno.makeTempDir({ prefix: "migscope-arm-" });
  try {
    const src = armPattern(ARM_RAM_MIB << 20);
    const r = await armCapture({ dir, ram: src, qemu: q });
    if (r.error) throw new Error(r.error);
    const capture = await Deno.readFile(r.capture);
    const dst = await Deno.readFile(r.dstRam);
    if (!equalBytes(dst, src)) throw new Error("destination RAM differs from the source pattern");
    if (!equalBytes(await Deno.readFile(r.srcRam), src)) throw new Error("source RAM changed");
    const facts = countStream(capture);
    if (!equalBytes(facts.images.get(ARM_RAM_ID)!, dst)) {
      throw new Error("the counter's replay of ram0 differs from the destination");
    }
    const flash = r.dstFlash ? await Deno.readFile(r.dstFlash) : undefined;
    if (flash && !equalBytes(facts.images.get("versatile.flash")!, flash)) {
      throw new Error("the counter's replay of versatile.flash differs from the destination");
    }
    const s = r.stats!;
    if (s.normal !== facts.records.page || s.duplicate !== facts.records.zero) {
      throw new Error(`QEMU counted ${s.normal} normal / ${s.duplicate} duplicate pages`);
    }
    if (s["page-size"] !== ARM_PAGE || facts.vmdescPageSize !== ARM_PAGE) {
      throw new Error(`page size ${s["page-size"]} / vmdesc ${facts.vmdescPageSize}`);
    }
    await Deno.mkdir(out, { recursive: true });
    const captureGz = gzipSync(capture, { level: 9 });
    const oracleGz = gzipSync(dst, { level: 9 });
    await Deno.writeFile(`${out}/capture.bin.gz`, captureGz);
    await Deno.writeFile(`${out}/oracle.ram.gz`, oracleGz);
    const expect: ArmExpect = {
      qemu: q.version,
      machine: facts.machine,
      pageSize: facts.vmdescPageSize,
      configurationSubsections: facts.configurationSubsections,
      targetPageBitsPresent: facts.configurationSubsections.includes(
        "configuration/target-page-bits",
      ),
      records: facts.records,
      perBlock: facts.perBlock,
      blocks: facts.blocks,
      memSizeTotal: facts.memSizeTotal,
      flags: facts.flags,
      sections: facts.sections,
      vmdescDevices: facts.vmdescDevices,
      qemuStats: {
        normal: s.normal,
        duplicate: s.duplicate,
        "page-size": s["page-size"],
        total: s.total,
        transferred: s.transferred,
      },
      ramBlock: ARM_RAM_ID,
      sha256: {
        capture: await sha256Hex(capture),
        oracle: await sha256Hex(dst),
        dstFlash: flash ? await sha256Hex(flash) : undefined,
      },
      bytes: {
        capture: capture.length,
        oracle: dst.length,
        captureGz: captureGz.length,
        oracleGz: oracleGz.length,
      },
    };
    await Deno.writeTextFile(`${out}/expect.json`, JSON.stringify(expect, null, 2) + "\n");
    await Deno.writeTextFile(`${out}/README.md`, readme(expect, r, dir));
    // The repository's formatting (CI runs deno fmt --check on Markdown and JSON too).
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", `${out}/README.md`, `${out}/expect.json`],
      stdout: "null",
    }).output();
    return expect;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function readme(e: ArmExpect, r: ArmCaptureResult, dir: string): string {
  const cmd = (args: string[]) => {
    const lines = ["qemu-system-arm"];
    for (let i = 0; i < args.length; i++) {
      const pair = args[i + 1] !== undefined && !args[i + 1].startsWith("-");
      lines.push(pair ? `${args[i]} ${args[++i]}` : args[i]);
    }
    return lines.join(" \\\n     ").replaceAll(dir, "$DIR");
  };
  const blocks = e.blocks.map((b) =>
    `| \`${b.name}\` | ${b.size} (0x${b.size.toString(16)}) | ${e.perBlock[b.name].page} | ${
      e.perBlock[b.name].zero
    } |`
  ).join("\n");
  return `# arm_versatilepb_1k: a real stream with 1 KiB target pages

Made by \`deno run -A tools/arm_capture.ts --out tests/data/arm_versatilepb_1k\` with Debian's
QEMU ${e.qemu} (\`qemu-system-arm\`, package 1:7.2+dfsg), machine \`${e.machine}\` (32-bit ARM,
CPU arm926). Nothing here is hand-made: the stream is what QEMU wrote, the oracle is what QEMU loaded.

## How

1. The source RAM file (\`$DIR/src.ram\`, ${ARM_RAM_MIB} MiB) is written with the pattern of
   \`armPattern()\` in tools/arm_capture.ts (1 KiB page p of N = 16384):
   - pages [0, N/4): in each 4 KiB group g = p >> 2, page p is non-zero iff bit (p & 3) of
     (g & 15) is set: every zero/non-zero mix of four 1 KiB pages occurs, e.g. a 4 KiB group
     whose first 1 KiB is zero and the rest not (a 4 KiB-page reading gives wrong bytes);
   - pages [N/4, N/2): zero; [N/2, N/2 + N/16): all non-zero; the rest: non-zero iff
     p % 37 == 0 or p % 41 == 5;
   - a non-zero page is, by p % 3: "full" (byte i = (13i + 7p + 1) & 0xff, then be32
     0xA5000000|p at byte 0), "upper-half" (bytes 0-511 zero, byte i = (29i + p) & 0xff above,
     then be32 0x5A000000|p at byte 512), or "last-byte" (only byte 1023 set, to p % 255 + 1).
2. Source (paused: the CPU never runs, RAM keeps the pattern):

   \`\`\`
   ${cmd(r.srcArgs)}
   \`\`\`

   QMP: \`{"execute":"migrate","arguments":{"uri":"exec:cat > '$DIR/capture.bin'"}}\`, then
   \`query-migrate\` until \`completed\` (QEMU's defaults: no capabilities, max-bandwidth 128 MiB/s).
3. Destination: the same command line with a fresh all-zero RAM file, plus \`-incoming defer\`:

   \`\`\`
   ${cmd(r.dstArgs)}
   \`\`\`

   QMP: \`{"execute":"migrate-incoming","arguments":{"uri":"exec:cat '$DIR/capture.bin'"}}\`,
   \`query-migrate\` until \`completed\`. Its RAM file is \`oracle.ram\`. It is byte-equal to the
   pre-filled source RAM (checked by the tool). The tool also saves the destination's
   \`versatile.flash\` region with QMP \`pmemsave\` (guest address 0x34000000, 64 MiB).
4. gzip -9 (node:zlib level 9) of both files.

\`-audiodev none,id=snd0 -global pl041.audiodev=snd0\` keeps QEMU from probing the host's
sound. Compared once on all-zero RAM, with and without these two options: the streams have the
same length and differ only in section ids (each one higher with them).

## What the stream holds (counted independently)

Counted by \`countStream()\` in tools/arm_capture.ts, which does not use src/: it reads the
header, the configuration, the \`ram\` sections record by record with
flags = low 10 bits of the be64 header (offset = the rest, a multiple of 1024), applies the
records to zeroed images of the blocks (equal to the destination's RAM and flash), and finds the
vmdesc trailer at the end of the file. QEMU's own counters from the source's \`query-migrate\`
agree: normal = ${e.qemuStats.normal}, duplicate = ${e.qemuStats.duplicate}, page-size =
${e.qemuStats["page-size"]}.

- target page size: **${e.pageSize}** (vmdesc \`"page_size": ${e.pageSize}\`, query-migrate
  \`page-size\` ${e.qemuStats["page-size"]})
- configuration: machine \`${e.machine}\`; subsections: ${
    e.configurationSubsections.length ? e.configurationSubsections.join(", ") : "**none**"
  } (\`configuration/target-page-bits\` is ${
    e.targetPageBitsPresent ? "present" : "**absent**"
  }: 10 bits is ARM's legacy minimum, so QEMU does not send it)
- RAM records: PAGE = ${e.records.page}, ZERO = ${e.records.zero}, EOS = ${e.records.eos},
  MEM_SIZE = ${e.records.memSize} (named headers ${e.records.named}, CONTINUE headers ${e.records.continue})
- header flag values seen: ${e.flags.map((f) => `0x${f.toString(16)}`).join(", ")}
- sections: START ${e.sections.START}, PART ${e.sections.PART}, END ${e.sections.END} (all \`ram\`),
  then ${e.sections.FULL} device FULL sections (vmdesc devices)
- MEM_SIZE total: ${e.memSizeTotal} (0x${e.memSizeTotal.toString(16)})

| RAM block | used_length (bytes) | PAGE | ZERO |
|---|---|---|---|
${blocks}

The main RAM block is named after the memory backend id, \`${e.ramBlock}\` (migscope replays it
to \`${e.ramBlock}.ram\`). \`versatile.flash\` is the board's 64 MiB NOR flash, present without a
\`-drive if=pflash\` and all zero here.

Device sections (vmdesc order): ${e.vmdescDevices.map((d) => `\`${d}\``).join(", ")}.

The PART count depends on timing (rate limit); the record counts do not: every page is sent
once, the guest never runs.

## Files

| file | bytes | sha256 (uncompressed) |
|---|---|---|
| capture.bin.gz | ${e.bytes.captureGz} (uncompressed ${e.bytes.capture}) | ${e.sha256.capture} |
| oracle.ram.gz | ${e.bytes.oracleGz} (uncompressed ${e.bytes.oracle}) | ${e.sha256.oracle} |

Destination \`versatile.flash\` (pmemsave, not shipped): sha256 ${
    e.sha256.dstFlash ?? "(not saved)"
  }.

\`expect.json\` holds the same facts for tests/replay/arm_page_size_test.ts.
`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: "tests/data/arm_versatilepb_1k" } },
  });
  const e = await buildArmData(values.out!);
  console.log(JSON.stringify({ ...e, vmdescDevices: e.vmdescDevices.length }, null, 2));
}
