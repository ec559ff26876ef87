/**
 * What the diff tests check migscope's diff against, computed without src/diff: the vmdesc
 * JSON cut from a stream's last bytes, the START/FULL section headers found by their byte
 * patterns, RAM images from `migscope replay` compared here byte by byte and by sha256, and a
 * longest common subsequence by dynamic programming (diff finds its moved sections another way).
 */
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { sha256 } from "../_helpers.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** The vmdesc JSON: `0x06, be32 length, JSON` as the stream's last bytes. */
// deno-lint-ignore no-explicit-any
export function trailerJson(bytes: Uint8Array): { offset: number; json: any } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = bytes.length - 6; at >= Math.max(0, bytes.length - (64 << 20)); at--) {
    if (bytes[at] !== 0x06 || dv.getUint32(at + 1) !== bytes.length - at - 5) continue;
    const json = JSON.parse(new TextDecoder().decode(bytes.subarray(at + 5)));
    return { offset: at, json };
  }
  throw new Error("no VMDESCRIPTION trailer at the end");
}

/** A START or FULL section header found in the bytes. */
export interface FoundSection {
  type: "START" | "FULL";
  offset: number;
  id: number;
  name: string;
  instance: number;
  version: number;
}

/**
 * The START section of `ram` and the FULL section of every device the vmdesc lists, by their
 * header bytes (`type, be32 id, u8 length, idstr, be32 instance, be32 version`), in stream
 * order. The last match before the trailer is taken (page data could hold the pattern too).
 */
export function sectionsByPattern(bytes: Uint8Array): FoundSection[] {
  const { offset: end, json } = trailerJson(bytes);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, end);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wanted: [number, string, number][] = [[0x01, "ram", 0]];
  for (const d of json.devices) wanted.push([0x04, d.name, d.instance_id]);
  return wanted.map(([type, name, instance]): FoundSection => {
    const idstr = new TextEncoder().encode(name);
    const pattern = new Uint8Array(1 + idstr.length + 4);
    pattern[0] = idstr.length;
    pattern.set(idstr, 1);
    new DataView(pattern.buffer).setUint32(1 + idstr.length, instance);
    let at = buf.lastIndexOf(pattern);
    while (at >= 5 && bytes[at - 5] !== type) at = buf.lastIndexOf(pattern, at - 1);
    if (at < 5) throw new Error(`no section header for ${name} #${instance}`);
    return {
      type: type === 0x01 ? "START" : "FULL",
      offset: at - 5,
      id: dv.getUint32(at - 4),
      name,
      instance,
      version: dv.getUint32(at + pattern.length),
    };
  }).sort((x, y) => x.offset - y.offset);
}

/**
 * Each FULL section's body, by `name#instance`: from its header's end to its footer
 * (`0x7e, be32 id`, checked), the FULL sections following each other up to QEMU_VM_EOF.
 */
export function deviceBodies(bytes: Uint8Array): Map<string, Uint8Array> {
  const { offset: trailer } = trailerJson(bytes);
  const full = sectionsByPattern(bytes).filter((s) => s.type === "FULL");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, Uint8Array>();
  full.forEach((s, i) => {
    const start = s.offset + 14 + new TextEncoder().encode(s.name).length;
    const end = (i + 1 < full.length ? full[i + 1].offset : trailer - 1) - 5;
    if (bytes[end] !== 0x7e || dv.getUint32(end + 1) !== s.id) {
      throw new Error(`${s.name} #${s.instance}: no footer where the next section starts`);
    }
    out.set(`${s.name}#${s.instance}`, bytes.subarray(start, end));
  });
  return out;
}

/** The length of a longest common subsequence of two key lists (dynamic programming). */
export function lcsLength(a: string[], b: string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const row = [0];
    for (let j = 1; j <= b.length; j++) {
      row[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], row[j - 1]);
    }
    prev = row;
  }
  return prev[b.length];
}

/** Runs `migscope replay CAPTURE --out DIR` (the CLI, in a subprocess); throws unless exit 0. */
export async function replayCli(capture: string, out: string, extra: string[] = []) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPO}src/cli/main.ts`, "replay", capture, "--out", out, ...extra],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`replay ${capture}: ${new TextDecoder().decode(r.stderr)}`);
}

/** The images a replay wrote to `dir`, by RAM block name (file names are percent-encoded). */
export async function replayImages(dir: string): Promise<Map<string, Uint8Array>> {
  const m = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.endsWith(".ram")) continue;
    m.set(decodeURIComponent(e.name.slice(0, -4)), await Deno.readFile(`${dir}/${e.name}`));
  }
  return m;
}

/** Per block both replays have: sha256 equal, differing 4 KiB pages, runs of them. */
export interface BlockTruth {
  name: string;
  /** sha256 of A's image. */
  shaA: string;
  equal: boolean;
  different: number;
  runs: number;
  pages: number;
}

/** Replays both captures with the CLI and compares each block's images here. */
export async function ramTruth(
  a: string,
  b: string,
  extraA: string[] = [],
  extraB: string[] = [],
): Promise<BlockTruth[]> {
  const dir = await Deno.makeTempDir({ prefix: "migscope-diff-truth-" });
  try {
    await replayCli(a, `${dir}/a`, extraA);
    await replayCli(b, `${dir}/b`, extraB);
    const ia = await replayImages(`${dir}/a`);
    const ib = await replayImages(`${dir}/b`);
    const out: BlockTruth[] = [];
    for (const [name, x] of ia) {
      const y = ib.get(name);
      if (!y) continue;
      const shaA = await sha256(x);
      out.push({ name, shaA, equal: shaA === (await sha256(y)), ...pageDiff(x, y) });
    }
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Differing 4 KiB pages of two images (over the shorter), and the runs they form. */
export function pageDiff(x: Uint8Array, y: Uint8Array): {
  different: number;
  runs: number;
  pages: number;
} {
  const pages = Math.ceil(Math.min(x.length, y.length) / 4096);
  let different = 0;
  let runs = 0;
  let last = -2;
  for (let p = 0; p < pages; p++) {
    const a = Buffer.from(x.buffer, x.byteOffset + p * 4096, Math.min(4096, x.length - p * 4096));
    const b = Buffer.from(y.buffer, y.byteOffset + p * 4096, Math.min(4096, y.length - p * 4096));
    if (a.equals(b)) continue;
    different++;
    if (p !== last + 1) runs++;
    last = p;
  }
  return { different, runs, pages };
}
