/**
 * `emit`: write a migration stream from RAM images, rounds and disks.
 * @module
 */
import {
  type EmitDisk,
  type EmitRamBlock,
  type EmitStats,
  emitStream,
  type ImageSource,
} from "../emit/emitter.ts";
import { fileAccess } from "../wire/random_access.ts";
import { loadTemplate, type Template } from "../emit/template.ts";
import { emitMappedRam } from "../emit/mapped_ram.ts";
import { domainXmlProblem, libvirtSaveWriter, type SaveCompression } from "../emit/libvirt_save.ts";
import { oneLine } from "../protocol/errors.ts";
import { stringifyJson } from "../report/json.ts";
import { type Interruptible, interruption } from "./interrupt.ts";
import type { CommandResult, TextOut } from "./io.ts";
import { checkOutputFile, osMessage } from "./paths.ts";

/** Options of `emit`. */
export interface EmitCommandOptions {
  ram: [string, string][];
  /** Each round: block name → image file. */
  rounds: [string, string][][];
  disks: [string, string][];
  output: string | "-";
  machine?: string;
  footers?: boolean;
  xbzrleCacheSize?: number;
  zeroBlocks?: boolean;
  template?: string;
  stats?: boolean;
  /** Write a mapped-ram file (needs a file output). */
  mappedRam?: boolean;
  /** Wrap the stream in a libvirt save image (`virsh save` format) with this domain XML file. */
  libvirtSave?: { xml: string; compress?: SaveCompression; running?: boolean };
  /** Ctrl-C / SIGTERM: the emission stops and `OUTPUT.partial` is removed. */
  interrupt?: Interruptible;
  /** Progress of the RAM passes: bytes read, of the total. */
  onProgress?: (done: number, total: number) => void;
}

/** query-migrate-shaped statistics of an emission. */
export function statsJson(s: EmitStats, cacheSize?: number): Record<string, unknown> {
  return {
    ram: {
      normal: s.normal,
      duplicate: s.duplicate,
      "normal-bytes": s.normal * 4096,
      transferred: s.ramBytes,
      "dirty-sync-count": s.dirtySyncCount,
    },
    ...(s.xbzrle
      ? {
        "xbzrle-cache": {
          "cache-size": cacheSize,
          bytes: s.xbzrle.bytes,
          pages: s.xbzrle.pages,
          "cache-miss": s.xbzrle.cacheMiss,
          overflow: s.xbzrle.overflow,
        },
      }
      : {}),
    migscope: {
      "stream-bytes": s.streamBytes,
      passes: s.passes,
      "xbzrle-records": s.xbzrle?.records,
      "xbzrle-skipped-unchanged": s.xbzrle?.skipped,
      block: s.block,
    },
  };
}

/** Writes whole buffers to `f` (a file or stdout). */
function writerSink(f: { write(b: Uint8Array): Promise<number> }) {
  return async (b: Uint8Array) => {
    let done = 0;
    while (done < b.length) done += await f.write(b.subarray(done));
  };
}

/** The output file while it is written, and what stops a compressor still running. */
interface Holder {
  out?: Deno.FsFile;
  abort?: () => void;
}

/** The images and the template, opened, and the domain XML of `--libvirt-save`. */
interface Inputs {
  ram: EmitRamBlock[];
  disks: EmitDisk[];
  template?: Template;
  xml?: Uint8Array;
}

/** Reads and checks `--xml FILE`; a one-line error when it cannot be the image's domain XML. */
async function readDomainXml(path: string): Promise<Uint8Array | { error: string }> {
  let xml: Uint8Array;
  try {
    xml = await Deno.readFile(path);
  } catch (e) {
    return { error: `--xml ${path}: ${osMessage(e)}` };
  }
  const problem = domainXmlProblem(xml);
  return problem ? { error: `--xml ${path}: ${problem}` } : xml;
}

/** Every file emit reads, with the option that names it. */
function inputsOf(opts: EmitCommandOptions): [string, string][] {
  const named = (flag: string) => ([n, p]: [string, string]): [string, string] => [
    `${flag} ${n}=${p}`,
    p,
  ];
  return [
    ...opts.ram.map(named("--ram")),
    ...opts.rounds.flat().map(named("--round")),
    ...opts.disks.map(named("--disk")),
    ...(opts.template ? [[`--template ${opts.template}`, opts.template] as [string, string]] : []),
    ...(opts.libvirtSave
      ? [[`--xml ${opts.libvirtSave.xml}`, opts.libvirtSave.xml] as [string, string]]
      : []),
  ];
}

/** Opens the images, the template and the XML; a one-line error for any that cannot be used. */
async function loadInputs(
  opts: EmitCommandOptions,
  closers: (() => void)[],
): Promise<Inputs | { error: string }> {
  const open = (flag: string, name: string, path: string): ImageSource => {
    try {
      const img = fileAccess(path);
      closers.push(() => img.close());
      return img;
    } catch (e) {
      throw new Error(`${flag} ${name}=${path}: ${osMessage(e)}`);
    }
  };
  let xml: Uint8Array | undefined;
  if (opts.libvirtSave) {
    const read = await readDomainXml(opts.libvirtSave.xml);
    if ("error" in read) return read;
    xml = read;
  }
  let template: Template | undefined;
  if (opts.template) {
    try {
      template = await loadTemplate(opts.template);
    } catch (e) {
      return { error: `--template ${opts.template}: ${(e as Error).message}` };
    }
  }
  try {
    const ram: EmitRamBlock[] = opts.ram.map(([n, p]) => ({
      name: n,
      image: open("--ram", n, p),
      rounds: [],
    }));
    for (const [k, round] of opts.rounds.entries()) {
      for (const [name, path] of round) {
        const b = ram.find((x) => x.name === name);
        if (!b) return { error: `--round ${k + 1}: block '${name}' has no --ram image` };
        b.rounds![k] = open("--round", name, path);
      }
    }
    for (const b of ram) b.rounds!.length = opts.rounds.length;
    const disks = opts.disks.map(([n, p]) => ({ name: n, image: open("--disk", n, p) }));
    return { ram, disks, template, xml };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Writes the stream (or the mapped-ram file) into `tmp`, or to stdout when there is none. */
async function emitTo(
  opts: EmitCommandOptions,
  tmp: string | undefined,
  inputs: Inputs,
  holder: Holder,
): Promise<Record<string, unknown>> {
  const { ram, disks, template, xml } = inputs;
  const signal = opts.interrupt?.signal;
  if (opts.mappedRam) {
    const st = await emitMappedRam(ram, tmp!, { template, machine: opts.machine, signal });
    return { "mapped-ram": st };
  }
  const file = writerSink(holder.out ?? Deno.stdout);
  const lv = opts.libvirtSave;
  const wrap = xml && lv ? await libvirtSaveWriter(file, xml, lv) : undefined;
  holder.abort = wrap?.abort;
  const stats = await emitStream(ram, disks, wrap?.write ?? file, {
    machine: opts.machine,
    footers: opts.footers,
    xbzrleCacheSize: opts.xbzrleCacheSize,
    zeroBlocks: opts.zeroBlocks,
    template,
    signal,
    onProgress: opts.onProgress,
  });
  const saved = await wrap?.finish();
  holder.abort = undefined;
  const json = statsJson(stats, opts.xbzrleCacheSize);
  return saved ? { ...json, "libvirt-save": saved } : json;
}

/** The checks made before any work; the one-line error of the first that fails. */
function checkUsage(opts: EmitCommandOptions): string | undefined {
  const file = opts.output !== "-";
  if (opts.mappedRam && !file) return "--mapped-ram writes at fixed file offsets: give -o FILE";
  if (opts.mappedRam && opts.disks.length) return "--mapped-ram has no block migration (--disk)";
  if (opts.mappedRam && opts.libvirtSave) {
    return "--libvirt-save cannot wrap --mapped-ram: its pages sit at absolute file offsets (libvirt's sparse format is not written)";
  }
  return file ? checkOutputFile(opts.output, inputsOf(opts)) : undefined;
}

/** Runs `emit`; the stream goes to `opts.output` (a file, or stdout for "-"). */
export async function runEmit(opts: EmitCommandOptions, report: TextOut): Promise<CommandResult> {
  const bad = checkUsage(opts);
  if (bad) return { code: 2, error: oneLine(bad) };
  const tmp = opts.output === "-" ? undefined : `${opts.output}.partial`;
  const holder: Holder = {};
  const closers: (() => void)[] = [];
  let done = false;
  const removeTmp = () => {
    holder.abort?.();
    try {
      holder.out?.close();
    } catch { /* closed already */ }
    holder.out = undefined;
    if (tmp && !done) Deno.removeSync(tmp);
  };
  if (tmp) {
    try {
      holder.out = await Deno.open(tmp, { write: true, create: true, truncate: true });
    } catch (e) {
      return { code: 2, error: oneLine(`-o ${opts.output}: cannot write ${tmp}: ${osMessage(e)}`) };
    }
  }
  const unguard = tmp ? opts.interrupt?.guard(() => removeTmp()) : undefined;
  try {
    const inputs = await loadInputs(opts, closers);
    if ("error" in inputs) return { code: 2, error: oneLine(inputs.error) };
    if (opts.mappedRam) { // emitMappedRam writes it with positional access of its own
      holder.out?.close();
      holder.out = undefined;
    }
    const stats = await emitTo(opts, tmp, inputs, holder);
    if (tmp) {
      holder.out?.close();
      holder.out = undefined;
      await Deno.rename(tmp, opts.output);
      done = true;
    }
    if (opts.stats) {
      await report.write(stringifyJson(stats, 2) + "\n");
      await report.flush();
    }
    return { code: 0 };
  } catch (e) {
    return interruption(opts.interrupt) ??
      { code: 2, error: oneLine((e as Error).message.split("\n")[0]) };
  } finally {
    holder.abort?.();
    try {
      if (tmp && !done) removeTmp();
    } catch { /* never created, or gone */ }
    for (const c of closers) c();
    unguard?.();
  }
}
