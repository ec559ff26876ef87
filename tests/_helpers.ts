/**
 * Shared test helpers: the shared captures (decompressed once into a cache), the expected
 * values their README states, and small stream utilities.
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { gunzipSync } from "node:zlib";
import { type ParseOptions, parseStream } from "../src/parse/stream.ts";
import { openInput } from "../src/parse/input.ts";
import { ByteReader } from "../src/wire/reader.ts";
import { bytesSource } from "../src/wire/source.ts";
import type { MigRecord } from "../src/protocol/records.ts";
import { Summarizer, type Summary } from "../src/report/summary.ts";

/** ../shared/captures, beside the repository. */
export const CAPTURES_DIR = fromFileUrl(new URL("../../shared/captures/", import.meta.url));

/** Names of the shared captures present. */
export function captureNames(): string[] {
  const names: string[] = [];
  try {
    for (const e of Deno.readDirSync(CAPTURES_DIR)) {
      if (e.isDirectory) names.push(e.name);
    }
  } catch {
    return [];
  }
  return names.sort();
}

const CACHE = `${Deno.env.get("TMPDIR") ?? "/tmp"}/migscope-test-cache`;

/** Path of a decompressed file of a capture (`capture.bin`, `oracle.pc.ram`, …), cached. */
export async function captureFile(capture: string, file = "capture.bin"): Promise<string> {
  const out = `${CACHE}/${capture}/${file}`;
  try {
    await Deno.stat(out);
    return out;
  } catch { /* not cached yet */ }
  await Deno.mkdir(`${CACHE}/${capture}`, { recursive: true });
  const gz = await Deno.readFile(`${CAPTURES_DIR}/${capture}/${file}.gz`);
  const tmp = `${out}.${Deno.pid}.tmp`;
  await Deno.writeFile(tmp, gunzipSync(gz));
  await Deno.rename(tmp, out);
  return out;
}

/** Expected values stated by ../shared/captures/README.md for one capture. */
export interface ReadmeExpect {
  records: Record<string, number>;
  perBlock: Record<string, Record<string, number>>;
  blockRecords: Record<string, number>;
  sections: Record<string, number>;
  configurationOffset?: number;
  eofOffset?: number;
  vmdescJsonLength?: number;
  vmdescOffset?: number;
  blocks: { name: string; size: number }[];
  sha256: Record<string, string>;
}

function pairs(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/([A-Za-z_ ]+?)=(\d+)/g)) out[m[1].trim()] = Number(m[2]);
  return out;
}

/** Parses the README's per-capture tables. */
export function readmeExpectations(): Map<string, ReadmeExpect> {
  const text = Deno.readTextFileSync(`${CAPTURES_DIR}/README.md`);
  const map = new Map<string, ReadmeExpect>();
  let cur: ReadmeExpect | undefined;
  for (const line of text.split("\n")) {
    const h = /^#{2,3} ([a-z0-9_]+)\s*$/.exec(line);
    if (h) {
      cur = { records: {}, perBlock: {}, blockRecords: {}, sections: {}, blocks: [], sha256: {} };
      map.set(h[1], cur);
      continue;
    }
    if (!cur || !line.startsWith("|")) continue;
    const cells = line.split("|").map((c) => c.trim());
    const [key, value] = [cells[1], cells[2] ?? ""];
    if (key === "stream records (lab parser)") {
      cur.records = pairs(value.replace(/\(encoded bytes (\d+)\)/, "XBZRLE_BYTES=$1"));
    } else if (key === "records per RAM block") {
      for (const m of value.matchAll(/`([^`]+)`: ([^;]+)/g)) cur.perBlock[m[1]] = pairs(m[2]);
    } else if (key === "block records") cur.blockRecords = pairs(value);
    else if (key === "sections") {
      cur.sections = pairs(value.split(";")[0]);
      const f = /footers=(\d+)/.exec(value);
      if (f) cur.sections.footers = Number(f[1]);
      const c = /configuration at offset (\d+)/.exec(value);
      if (c) cur.configurationOffset = Number(c[1]);
      const e = /QEMU_VM_EOF at offset (\d+)/.exec(value);
      if (e) cur.eofOffset = Number(e[1]);
      const v = /vmdescription JSON \((\d+) bytes\) at offset (\d+)/.exec(value);
      if (v) {
        cur.vmdescJsonLength = Number(v[1]);
        cur.vmdescOffset = Number(v[2]);
      }
    } else if (key === "RAM blocks (stream MEM_SIZE order)") {
      for (const m of value.matchAll(/`([^`]+)` (\d+)/g)) {
        cur.blocks.push({ name: m[1], size: Number(m[2]) });
      }
    } else {
      const f = /^`[^/`]+\/([^`]+)\.gz`/.exec(key);
      const sha = /`([0-9a-f]{64})`/.exec(cells[3] ?? "");
      if (f && sha) cur.sha256[f[1]] = sha[1];
    }
  }
  return map;
}

/** Parses a file or stream fully; returns the records' summary (and the error, if any). */
export async function summarize(
  input: string | ReadableStream<Uint8Array>,
  opts: ParseOptions = {},
): Promise<{ summary: Summary; error?: Error; records: number }> {
  const inp = await openInput(input);
  const sum = new Summarizer();
  let records = 0;
  let error: Error | undefined;
  try {
    for await (const rec of parseStream(inp.reader, { vmdesc: inp.vmdesc, ...opts })) {
      sum.add(rec);
      records++;
    }
  } catch (e) {
    error = e as Error;
  } finally {
    inp.close();
  }
  return { summary: sum.finish(), error, records };
}

/** Parses bytes in memory; returns all records (payloads copied) or throws. */
export async function parseBytes(bytes: Uint8Array, opts: ParseOptions = {}): Promise<MigRecord[]> {
  const out: MigRecord[] = [];
  for await (const rec of parseStream(new ByteReader(bytesSource(bytes), { chunk: 64 }), opts)) {
    if ((rec.kind === "ram" || rec.kind === "block") && rec.data) rec.data = rec.data.slice();
    out.push(rec);
  }
  return out;
}

/** Parses bytes and returns the error it raises (fails the test if none). */
export async function parseError(bytes: Uint8Array, opts: ParseOptions = {}): Promise<Error> {
  try {
    await parseBytes(bytes, opts);
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the parse to fail, but it succeeded");
}

/** A ReadableStream over a file, as stdin would deliver it (no seeking). */
export async function pipeOf(path: string): Promise<ReadableStream<Uint8Array>> {
  const f = await Deno.open(path);
  return f.readable;
}

/** hex string → bytes (spaces allowed). */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** sha256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  const data = await Deno.readFile(path);
  return sha256(data);
}

/** sha256 of bytes, hex. */
export async function sha256(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs the CLI in a subprocess; returns code, stdout, stderr. */
export async function runCli(
  args: string[],
  opts: { stdin?: Uint8Array | string; cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = fromFileUrl(new URL("../src/cli/main.ts", import.meta.url));
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--allow-run",
      "--allow-ffi",
      main,
      ...args,
    ],
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    cwd: opts.cwd,
    env: opts.env,
  });
  const child = cmd.spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    const data = typeof opts.stdin === "string" ? await Deno.readFile(opts.stdin) : opts.stdin;
    await w.write(data).catch(() => {});
    await w.close().catch(() => {});
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
