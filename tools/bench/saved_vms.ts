/**
 * Inputs of target 8 (saved VMs in containers, issue 13), built in a scratch directory from one
 * guest RAM image ({@link writeGuestRam}):
 *
 * - the bare stream `migscope emit --ram pc.ram=RAM` (one pass: zero pages as ZERO records,
 *   the rest as PAGE records, EOF and vmdesc);
 * - that stream compressed by the real `gzip -c` / `zstd -c -q` (tools/containers.ts's
 *   COMPRESSORS, the commands libvirt pipes a save through), kept as `.gz` / `.zst` for the
 *   baselines and wrapped as libvirt save images (tools/containers.ts's header and XML before
 *   the very same compressed bytes);
 * - a qcow2 image (qemu-img) with an internal snapshot taken by QEMU 7.2's `savevm` of a paused
 *   guest whose file-backed RAM is the same image (tools/qcow2_images.ts's PausedVm), and its VM
 *   state extracted to a bare file by `migscope extract --snapshot`.
 * @module
 */
import * as fs from "node:fs";
import {
  COMPRESSORS,
  domainXml,
  FORMAT_CODES,
  haveTool,
  libvirtData,
  libvirtHeader,
} from "../containers.ts";
import { haveQemu } from "../qemu.ts";
import { PausedVm, run as runTool } from "../qcow2_images.ts";
import { writeGuestRam } from "./guest_ram.ts";
import { MiB, migscope, sh } from "./util.ts";

/** A libvirt save image and the compressed bytes inside it as a file of their own. */
export interface CompressedImage {
  format: "gzip" | "zstd";
  /** The libvirt save image. */
  image: string;
  /** The compressed stream alone (what zcat / zstdcat read). */
  bare: string;
  bytes: number;
}

/** The inputs of 8a and 8b. */
export interface SavedVmInputs {
  ram: string;
  ramBytes: number;
  stream: string;
  streamBytes: number;
  gzip?: CompressedImage;
  zstd?: CompressedImage;
  /** Why a format was not built (its tool is missing). */
  skipped: Record<string, string>;
}

/** Shell quoting of one word. */
const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * A libvirt save image of `compressed` (the stream compressed by the format's tool): the
 * 92-byte header, the domain XML and 4 KiB of padding, then the compressed bytes.
 */
export async function wrapLibvirt(
  out: string,
  compressed: string,
  format: "gzip" | "zstd",
  ramMiB: number,
): Promise<void> {
  const { data, cookieOffset } = libvirtData(domainXml("bench", ramMiB), undefined, 4096);
  const header = libvirtHeader({
    dataLen: data.length,
    format: FORMAT_CODES[format],
    cookieOffset,
  });
  const f = await Deno.open(out, { write: true, create: true, truncate: true });
  await f.write(header);
  for (let done = 0; done < data.length;) done += await f.write(data.subarray(done));
  const src = await Deno.open(compressed);
  await src.readable.pipeTo(f.writable); // closes both
}

/**
 * `stream` compressed by the format's tool into `STREAM.gz` / `STREAM.zst` and wrapped as the
 * libvirt save image `dir/NAME.FORMAT.save`; undefined when the tool is missing.
 */
export async function compressedImage(
  dir: string,
  stream: string,
  format: "gzip" | "zstd",
  ramMiB: number,
  name: string,
): Promise<CompressedImage | undefined> {
  const [tool, ...args] = COMPRESSORS[format];
  if (!haveTool(tool)) return undefined;
  const bare = `${stream}.${format === "gzip" ? "gz" : "zst"}`;
  const c = await sh(`${[tool, ...args].map(q).join(" ")} ${q(stream)} > ${q(bare)}`);
  if (c.code !== 0) throw new Error(`${tool} failed: ${c.stderr}`);
  const image = `${dir}/${name}.${format}.save`;
  await wrapLibvirt(image, bare, format, ramMiB);
  return { format, image, bare, bytes: fs.statSync(bare).size };
}

/**
 * Builds the RAM image (`ramBytes`), the bare stream and the gzip and zstd libvirt save images
 * in `dir`; a format whose tool is missing is skipped with the reason.
 */
export async function buildSavedVmInputs(
  dir: string,
  ramBytes: number,
  log: (s: string) => void,
): Promise<SavedVmInputs> {
  const ram = `${dir}/saved.pc.ram`;
  const stream = `${dir}/saved.mig`;
  log(`saved VMs: ${ramBytes / MiB} MiB guest RAM image`);
  writeGuestRam(ram, ramBytes, 13);
  const e = await migscope(["emit", "--ram", `pc.ram=${ram}`, "-o", stream]);
  if (e.code !== 0) throw new Error(`emit failed: ${e.stderr}`);
  const streamBytes = fs.statSync(stream).size;
  const inputs: SavedVmInputs = { ram, ramBytes, stream, streamBytes, skipped: {} };
  for (const format of ["gzip", "zstd"] as const) {
    const tool = COMPRESSORS[format].join(" ");
    log(`saved VMs: ${tool} of the ${(streamBytes / MiB).toFixed(0)} MiB stream`);
    const img = await compressedImage(dir, stream, format, ramBytes / MiB, "saved");
    if (img) inputs[format] = img;
    else inputs.skipped[format] = `\`${COMPRESSORS[format][0]}\` is not installed`;
  }
  return inputs;
}

/** The input of 8c: a qcow2 with a savevm snapshot and its state extracted to a file. */
export interface Qcow2Inputs {
  image: string;
  snapshot: string;
  /** The snapshot's VM state, extracted (a bare stream). */
  state: string;
  stateBytes: number;
  qemuVersion: string;
}

/**
 * `savevm` of a paused QEMU 7.2 whose guest RAM is the file `ram` (`ramBytes`) onto a fresh
 * qcow2 in `dir`, then `migscope extract` of that snapshot. A string says why it could not
 * be built (no QEMU or qemu-img).
 */
export async function buildQcow2Snapshot(
  dir: string,
  ram: string,
  ramBytes: number,
  log: (s: string) => void,
): Promise<Qcow2Inputs | string> {
  if (!haveQemu()) return "qemu-system-x86_64 (QEMU 7.2) is not installed";
  if (!haveTool("qemu-img")) return "qemu-img is not installed";
  const image = `${dir}/saved.qcow2`;
  const snapshot = "bench";
  const state = `${dir}/saved.qcow2.state`;
  runTool("qemu-img", ["create", "-q", "-f", "qcow2", image, "1M"]);
  log(`saved VMs: QEMU savevm of the ${ramBytes / MiB} MiB guest into ${image}`);
  // The guest's RAM is the file itself (memory-backend-file, share=on): savevm saves its pages.
  const vm = await PausedVm.start(dir, image, ram, ramBytes / MiB);
  let version = "?";
  try {
    const v = await vm.qmp.cmd("query-version");
    const qv = (v.return as { qemu?: { major: number; minor: number; micro: number } }).qemu;
    if (qv) version = `${qv.major}.${qv.minor}.${qv.micro}`;
    await vm.hmp(`savevm ${snapshot}`);
  } finally {
    await vm.quit();
  }
  const x = await migscope(["extract", image, "--snapshot", snapshot, "-o", state, "--quiet"]);
  if (x.code !== 0) throw new Error(`extract failed: ${x.stderr}`);
  return { image, snapshot, state, stateBytes: fs.statSync(state).size, qemuVersion: version };
}
