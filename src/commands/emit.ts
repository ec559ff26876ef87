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
import { stringifyJson } from "../report/json.ts";
import type { CommandResult, TextOut } from "./io.ts";

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

/** Runs `emit`; the stream goes to `opts.output` (a file, or stdout for "-"). */
export async function runEmit(opts: EmitCommandOptions, report: TextOut): Promise<CommandResult> {
  const closers: (() => void)[] = [];
  const open = (path: string): Promise<ImageSource> => {
    const img = fileAccess(path);
    closers.push(() => img.close());
    return Promise.resolve(img);
  };
  let out: Deno.FsFile | undefined;
  const tmp = opts.output === "-" ? undefined : `${opts.output}.partial`;
  try {
    let template: Template | undefined;
    if (opts.template) {
      try {
        template = await loadTemplate(opts.template);
      } catch (e) {
        return { code: 2, error: `--template ${opts.template}: ${(e as Error).message}` };
      }
    }
    const ram: EmitRamBlock[] = [];
    for (const [name, path] of opts.ram) ram.push({ name, image: await open(path), rounds: [] });
    for (const [k, round] of opts.rounds.entries()) {
      for (const [name, path] of round) {
        const b = ram.find((x) => x.name === name);
        if (!b) return { code: 2, error: `--round ${k + 1}: block '${name}' has no --ram image` };
        b.rounds![k] = await open(path);
      }
    }
    for (const b of ram) b.rounds!.length = opts.rounds.length;
    const disks: EmitDisk[] = [];
    for (const [name, path] of opts.disks) disks.push({ name, image: await open(path) });
    if (opts.mappedRam) {
      if (!tmp) {
        return { code: 2, error: "--mapped-ram writes at fixed file offsets: give -o FILE" };
      }
      if (disks.length) return { code: 2, error: "--mapped-ram has no block migration (--disk)" };
      const st = await emitMappedRam(ram, tmp, { template, machine: opts.machine });
      await Deno.rename(tmp, opts.output);
      if (opts.stats) {
        await report.write(stringifyJson({ "mapped-ram": st }, 2) + "\n");
        await report.flush();
      }
      return { code: 0 };
    }
    if (tmp) out = await Deno.open(tmp, { write: true, create: true, truncate: true });
    const sink = writerSink(out ?? Deno.stdout);
    const stats = await emitStream(ram, disks, sink, {
      machine: opts.machine,
      footers: opts.footers,
      xbzrleCacheSize: opts.xbzrleCacheSize,
      zeroBlocks: opts.zeroBlocks,
      template,
    });
    if (out) {
      out.close();
      out = undefined;
      await Deno.rename(tmp!, opts.output);
    }
    if (opts.stats) {
      await report.write(stringifyJson(statsJson(stats, opts.xbzrleCacheSize), 2) + "\n");
      await report.flush();
    }
    return { code: 0 };
  } catch (e) {
    if (tmp) await Deno.remove(tmp).catch(() => {});
    return { code: 2, error: (e as Error).message.split("\n")[0] };
  } finally {
    out?.close();
    for (const c of closers) c();
  }
}
