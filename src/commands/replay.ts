/**
 * `replay` and `verify`: apply a stream to images in an output directory, then (verify)
 * compare them with expected images and explain every difference.
 * @module
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { type OpenedInput, openInput } from "../parse/input.ts";
import { type MultifdInit, type MultifdPacket, parseMultifdChannel } from "../parse/multifd.ts";
import { parseStream } from "../parse/stream.ts";
import { DEFAULT_PAGE_SIZE } from "../protocol/constants.ts";
import { oneLine, StreamError } from "../protocol/errors.ts";
import type { RamBlockInfo } from "../protocol/records.ts";
import { stringifyJson } from "../report/json.ts";
import { formatBytes, hexOffset, renderTable } from "../report/table.ts";
import { ReplayError, replayRecords, type ReplayResult } from "../replay/engine.ts";
import { diskFileName, ramFileName } from "../replay/names.ts";
import { ImageTarget } from "../replay/target.ts";
import { compareImages, type CompareResult } from "../replay/verify.ts";
import type { CommandResult } from "./inspect.ts";
import type { TextOut } from "./io.ts";
import { openWithVmdesc } from "./open.ts";

/** Options of `replay` / `verify`. */
export interface ReplayCommandOptions {
  input: string | ReadableStream<Uint8Array>;
  /** Output directory; verify without it replays into a temporary directory. */
  out?: string;
  /** Base images for RAM blocks (the destination's memory before the load). */
  ram?: Map<string, string>;
  /** Base images for disks (incremental block migration). */
  disks?: Map<string, string>;
  /** Sizes of disks without a base image (otherwise the highest chunk end). */
  diskSizes?: Map<string, number>;
  /** Write into the base images instead of copies. */
  inPlace?: boolean;
  /** Expected images to compare with (verify). */
  expect?: Map<string, string>;
  json?: boolean;
  vmdesc?: string;
  strictZeroFill?: boolean;
  /** Multifd channel captures replayed with the main stream. */
  channels?: string[];
  onProgress?: (offset: number) => void;
}

interface Opened {
  target: ImageTarget;
  partial?: string;
  final: string;
}

/** Runs a replay (and a verification when `expect` is given). Never throws for bad input. */
export async function runReplay(opts: ReplayCommandOptions, out: TextOut): Promise<CommandResult> {
  const ram = opts.ram ?? new Map();
  const disks = opts.disks ?? new Map();
  for (const [name, path] of [...ram, ...disks]) {
    try {
      if (!fs.statSync(path).isFile()) {
        return { code: 2, error: `${name}=${path}: not a regular file` };
      }
    } catch (e) {
      return { code: 2, error: `${name}=${path}: ${(e as Error).message}` };
    }
  }
  let dir = opts.out;
  let tempDir = false;
  if (!dir) {
    if (!opts.expect?.size) return { code: 2, error: "replay needs --out DIR" };
    dir = await Deno.makeTempDir({ prefix: "migscope-verify-" });
    tempDir = true;
  }
  await Deno.mkdir(dir, { recursive: true });
  const o = await openWithVmdesc(opts.input, opts.vmdesc, {});
  if (!o.ok) return { code: 2, error: o.error };
  const input = o.input;
  const vmdesc = o.vmdesc;
  const channelInputs: OpenedInput[] = [];
  const channels: { name: string; packets: AsyncIterator<MultifdInit | MultifdPacket> }[] = [];
  for (const c of opts.channels ?? []) {
    try {
      const ci = await openInput(c, { readTrailer: false });
      channelInputs.push(ci);
      channels.push({ name: c, packets: parseMultifdChannel(ci.reader, c) });
    } catch (e) {
      input.close();
      for (const ci of channelInputs) ci.close();
      return { code: 2, error: `--channel ${c}: ${(e as Error).message}` };
    }
  }
  const opened: Opened[] = [];
  const outDir = dir;
  const used = new Set<string>();
  const place = (
    file: string,
    name: string,
    base: string | undefined,
    size: number | undefined,
  ): Opened => {
    if (used.has(file)) throw new ReplayError(0, `two targets map to the same file name '${file}'`);
    used.add(file);
    const final = join(outDir, file);
    if (base && opts.inPlace) {
      const target = ImageTarget.open(base);
      if (size !== undefined && target.size !== size) {
        target.close();
        throw new ReplayError(
          0,
          `${name}: image ${base} is ${target.size} bytes, the stream says ${size}`,
        );
      }
      return { target, final: base };
    }
    const partial = `${final}.partial`;
    if (base) {
      const baseSize = fs.statSync(base).size;
      if (size !== undefined && baseSize !== size) {
        throw new ReplayError(
          0,
          `${name}: image ${base} is ${baseSize} bytes, the stream says ${size}`,
        );
      }
      fs.copyFileSync(base, partial);
      return { target: ImageTarget.open(partial), partial, final };
    }
    const known = size ?? opts.diskSizes?.get(name);
    return { target: ImageTarget.create(partial, known ?? 0, known === undefined), partial, final };
  };
  let result: ReplayResult | undefined;
  let error: string | undefined;
  const pageSize = vmdesc?.page_size ?? DEFAULT_PAGE_SIZE;
  try {
    const records = parseStream(input.reader, { vmdesc });
    result = await replayRecords(records, {
      openRam(b: RamBlockInfo) {
        const o = place(ramFileName(b.name), b.name, ram.get(b.name), b.size);
        opened.push(o);
        return o.target;
      },
      openDisk(device: string) {
        const o = place(diskFileName(device), device, disks.get(device), undefined);
        opened.push(o);
        return o.target;
      },
    }, {
      trackWriters: (opts.expect?.size ?? 0) > 0,
      checkUnwritten: ram.size > 0,
      strictZeroFill: opts.strictZeroFill,
      readAt: input.reader.source.readAt,
      channels: channels.length ? channels : undefined,
      checkStaleSlots: (opts.expect?.size ?? 0) > 0,
      onProgress: opts.onProgress,
    });
  } catch (e) {
    if (e instanceof StreamError || e instanceof ReplayError) error = e.message;
    else error = (e as Error).message?.split("\n")[0] ?? String(e);
  } finally {
    input.close();
    for (const ci of channelInputs) ci.close();
  }
  for (const o of opened) o.target.close();
  if (error || !result) {
    // Never leave a half-written output looking complete.
    for (const o of opened) if (o.partial) fs.rmSync(o.partial, { force: true });
    if (tempDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    return { code: 2, error: error ? oneLine(error) : error };
  }
  for (const o of opened) if (o.partial) fs.renameSync(o.partial, o.final);
  for (const s of [...result.ram, ...result.disks]) {
    const o = opened.find((x) => x.target.path === s.path);
    if (o) {
      s.path = o.final;
      s.size = o.target.extent;
    }
  }

  let compares: CompareResult[] = [];
  let verifyError: string | undefined;
  if (opts.expect?.size) {
    for (const [name, file] of opts.expect) {
      const s = result.ram.find((x) => x.name === name) ??
        result.disks.find((x) => x.name === name);
      if (!s) {
        verifyError = `--expect ${name}: the stream has no RAM block or disk of that name`;
        break;
      }
      const writers = result.writers.get(name) ?? result.writers.get(`disk:${name}`);
      try {
        compares.push(compareImages(name, s.path, file, pageSize, writers));
      } catch (e) {
        verifyError = `--expect ${name}=${file}: ${(e as Error).message}`;
        break;
      }
    }
  }
  if (tempDir) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    for (const s of [...result.ram, ...result.disks]) s.path = "(temporary)";
    compares = compares.map((c) => ({ ...c, actual: "(temporary)" }));
  }
  const differ = compares.some((c) => c.different > 0);
  if (opts.json) {
    await out.write(
      stringifyJson({
        ram: result.ram,
        disks: result.disks,
        findings: result.findings,
        findingCounts: result.findingCounts,
        records: result.records,
        verify: opts.expect?.size ? { equal: !differ, images: compares } : undefined,
      }, 2) + "\n",
    );
  } else {
    await out.write(replayText(result, compares, opts.expect?.size ? !differ : undefined));
  }
  await out.flush();
  if (verifyError) return { code: 2, error: verifyError };
  return { code: differ ? 1 : 0 };
}

function replayText(
  r: ReplayResult,
  compares: CompareResult[],
  allEqual: boolean | undefined,
): string {
  const out: string[] = [];
  out.push(`Replayed ${r.records} records`);
  out.push(renderTable(
    [
      { header: "TARGET" },
      { header: "SIZE", align: "right" },
      { header: "PAGE", align: "right" },
      { header: "ZERO", align: "right" },
      { header: "XBZRLE", align: "right" },
      { header: "COMP", align: "right" },
      { header: "DISCARD", align: "right" },
      { header: "BLK", align: "right" },
      { header: "BLK0", align: "right" },
      { header: "FILE" },
    ],
    [...r.ram, ...r.disks].map((s) => [
      s.name,
      formatBytes(s.size),
      String(s.page),
      String(s.zero),
      String(s.xbzrle),
      String(s.compressed),
      String(s.discarded),
      String(s.data),
      String(s.zeroBlocks),
      s.path,
    ]),
  ));
  const kinds = Object.entries(r.findingCounts);
  if (kinds.length) {
    out.push("Findings");
    for (const [k, n] of kinds) out.push(`  ${k}: ${n}`);
    out.push(renderTable(
      [{ header: "OFFSET", align: "right" }, { header: "KIND" }, { header: "TARGET" }, {
        header: "ADDR",
        align: "right",
      }, { header: "DETAIL" }],
      r.findings.map((
        f,
      ) => [f.offset < 0 ? "-" : String(f.offset), f.kind, f.target, hexOffset(f.addr), f.detail]),
    ));
  }
  if (compares.length) {
    out.push(`Verify: ${allEqual ? "all images equal" : "DIFFERENCES FOUND"}`);
    out.push(renderTable(
      [
        { header: "TARGET" },
        { header: "PAGES", align: "right" },
        { header: "EQUAL", align: "right" },
        { header: "DIFFERENT", align: "right" },
        { header: "EXPECTED" },
      ],
      compares.map((
        c,
      ) => [c.name, String(c.pages), String(c.equal), String(c.different), c.expected]),
    ));
    for (const c of compares) {
      if (c.actualSize !== c.expectedSize) {
        out.push(
          `  ${c.name}: replayed image is ${c.actualSize} bytes, expected ${c.expectedSize}`,
        );
      }
      for (const d of c.diffs) {
        out.push(
          `  ${c.name} page ${hexOffset(d.addr)}: ` +
            (d.writer
              ? `last written by ${d.writer.kind} at offset ${d.writer.offset}`
              : "no record wrote this page (the target kept its previous content)"),
        );
      }
      if (c.different > c.diffs.length) {
        out.push(`  ${c.name}: … ${c.different - c.diffs.length} more differing pages`);
      }
    }
  }
  return out.join("\n") + "\n";
}
