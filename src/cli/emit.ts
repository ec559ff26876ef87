/**
 * Arguments of `emit`.
 * @module
 */
import { parseArgs } from "./parse_args.ts";
import { stderrProgress } from "./terminal.ts";
import { type EmitCommandOptions, runEmit } from "../commands/emit.ts";
import { textOut } from "../commands/io.ts";
import { Interrupts, settled } from "../commands/interrupt.ts";
import { UsageError, userPath } from "./args.ts";
import { parseSize } from "./size.ts";
import { SAVE_COMPRESSIONS, type SaveCompression } from "../emit/libvirt_save.ts";

function pair(item: string, flag: string): [string, string] {
  const i = item.indexOf("=");
  if (i <= 0 || i === item.length - 1) {
    throw new UsageError(`${flag} takes NAME=FILE, got '${item}'`);
  }
  return [item.slice(0, i), userPath(item.slice(i + 1))];
}

/** Options that contradict each other or that nothing would act on (exit 2, one line). */
function checkConflicts(v: Record<string, unknown>) {
  const disk = (v.disk as string[] | undefined)?.length;
  const xbzrle = v.xbzrle || v["xbzrle-cache"] !== undefined;
  const rules: [unknown, string][] = [
    [v["zero-blocks"] && !disk, "--zero-blocks applies to block migration: it needs --disk"],
    [
      v.template && v.machine,
      "--machine: the template's configuration section names the machine (give one of them)",
    ],
    [v.template && v["no-footers"], "--no-footers: the template decides the section footers"],
    [
      v["mapped-ram"] && xbzrle,
      "--mapped-ram writes every page into its slot: --xbzrle/--xbzrle-cache do not apply",
    ],
    [v["mapped-ram"] && v["no-footers"], "--mapped-ram streams always have section footers"],
    ...["xml", "compress", "running"].map((o): [unknown, string] => [
      v[o] !== undefined && v[o] !== false && !v["libvirt-save"],
      `--${o} applies to a libvirt save image: it needs --libvirt-save`,
    ]),
    [
      v["libvirt-save"] && v.xml === undefined,
      "--libvirt-save needs --xml DOMAIN.xml (the domain XML the image carries, e.g. from virsh dumpxml)",
    ],
  ];
  for (const [bad, message] of rules) if (bad) throw new UsageError(message);
}

/**
 * `--xbzrle-cache`: QEMU takes a cache size that is a power of two no less than the target page
 * size (migrate_params_check: "a power of two no less than the target page size"; cache_init
 * then has size / page size slots). emit writes 4 KiB pages.
 */
function cacheSize(s: string): number {
  const n = parseSize(s);
  if (n < 4096 || !Number.isInteger(Math.log2(n))) {
    throw new UsageError(
      `--xbzrle-cache ${s}: QEMU takes a power of two no less than the 4K page (e.g. 1M, 64M)`,
    );
  }
  return n;
}

/** `--compress`: one of the compressions the image is written with. */
function compression(s: string | undefined): SaveCompression | undefined {
  if (s === undefined) return undefined;
  if ((SAVE_COMPRESSIONS as readonly string[]).includes(s)) return s as SaveCompression;
  throw new UsageError(`--compress ${s}: one of ${SAVE_COMPRESSIONS.join(", ")}`);
}

/** `emit` entry point. */
export async function emitMain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: false,
    options: {
      "no-progress": { type: "boolean", default: false },
      ram: { type: "string", multiple: true },
      round: { type: "string", multiple: true },
      disk: { type: "string", multiple: true },
      output: { type: "string", short: "o" },
      machine: { type: "string" },
      "no-footers": { type: "boolean", default: false },
      xbzrle: { type: "boolean", default: false },
      "xbzrle-cache": { type: "string" },
      "zero-blocks": { type: "boolean", default: false },
      template: { type: "string" },
      stats: { type: "boolean", default: false },
      "mapped-ram": { type: "boolean", default: false },
      "libvirt-save": { type: "boolean", default: false },
      xml: { type: "string" },
      compress: { type: "string" },
      running: { type: "boolean", default: false },
    },
  });
  void positionals;
  if (!values.ram?.length) throw new UsageError("emit needs at least one --ram NAME=FILE");
  checkConflicts(values);
  const ram = values.ram.map((r) => pair(r, "--ram"));
  const rounds = (values.round ?? []).map((r) => r.split(",").map((x) => pair(x, "--round")));
  const disks = (values.disk ?? []).map((d) => pair(d, "--disk"));
  const output = values.output ? (values.output === "-" ? "-" : userPath(values.output)) : "-";
  if (output === "-" && Deno.stdout.isTerminal()) {
    throw new UsageError("refusing to write a binary stream to a terminal: use -o FILE");
  }
  let cache: number | undefined;
  if (values.xbzrle || values["xbzrle-cache"] !== undefined) {
    cache = cacheSize(values["xbzrle-cache"] ?? "64M");
  }
  const opts: EmitCommandOptions = {
    ram,
    rounds,
    disks,
    output,
    machine: values.machine,
    footers: !values["no-footers"],
    xbzrleCacheSize: cache,
    zeroBlocks: values["zero-blocks"],
    template: values.template ? userPath(values.template) : undefined,
    stats: values.stats,
    mappedRam: values["mapped-ram"],
    libvirtSave: values["libvirt-save"] && values.xml !== undefined
      ? {
        xml: userPath(values.xml),
        compress: compression(values.compress),
        running: values.running,
      }
      : undefined,
  };
  const line = values["no-progress"] || !Deno.stderr.isTerminal()
    ? undefined
    : stderrProgress("emit");
  if (line) opts.onProgress = (done, total) => line.update(done, total);
  const interrupt = new Interrupts();
  try {
    const report = textOut(output === "-" ? Deno.stderr : Deno.stdout);
    const res = settled(await runEmit({ ...opts, interrupt }, report), interrupt);
    line?.clear();
    if (res.error) console.error(`migscope: ${res.error}`);
    return res.code;
  } finally {
    interrupt.dispose();
  }
}
