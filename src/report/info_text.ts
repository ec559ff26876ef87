/**
 * `info` output: the container report as text, and as the `migscope-info` JSON document.
 * @module
 */
import type { ContainerReport, StreamReport } from "../container/describe.ts";
import type { LibvirtImage } from "../container/libvirt.ts";
import type { Qcow2Header } from "../container/qcow2_header.ts";
import type { Qcow2Snapshot } from "../container/qcow2_snapshots.ts";
import { printable } from "../protocol/errors.ts";
import { errorObject, FORMAT_VERSION } from "./documents.ts";
import { formatBytes, hexOffset, plural } from "./table.ts";

/** The `format` of the JSON document. */
export const INFO_FORMAT = "migscope-info";

/** A snapshot's date as ISO 8601 UTC (whole seconds). */
export function snapshotDate(s: Qcow2Snapshot): string {
  return new Date(s.dateSec * 1000).toISOString().replace(".000Z", "Z");
}

/** A guest clock in nanoseconds as `HH:MM:SS.mmm` (as qemu-img prints it). */
export function vmClock(ns: number): string {
  const ms = Math.floor(ns / 1e6);
  const s = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.${
    String(ms % 1000).padStart(3, "0")
  }`;
}

function libvirtJson(v: LibvirtImage, r: ContainerReport) {
  const { xml: _x, cookie: _c, domain, ...fields } = v;
  const region = r.gzipWrapped ? {} : { streamRegionLength: r.fileSize - v.streamOffset };
  return { ...fields, ...region, domain };
}

function featureHex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function qcow2Json(h: Qcow2Header, snaps: Qcow2Snapshot[]) {
  const { size, incompatibleFeatures, compatibleFeatures, autoclearFeatures, ...rest } = h;
  return {
    ...rest,
    virtualSize: size,
    incompatibleFeatures: featureHex(incompatibleFeatures),
    compatibleFeatures: featureHex(compatibleFeatures),
    autoclearFeatures: featureHex(autoclearFeatures),
    snapshots: snaps.map((s) => ({ ...s, date: snapshotDate(s), vmClock: vmClock(s.vmClockNs) })),
  };
}

function streamJson(s: StreamReport) {
  const h = s.head;
  const { head: _h, error: _e, ...fields } = s;
  const parsed = h
    ? {
      streamVersion: h.version ?? null,
      machine: h.machine ?? null,
      capabilities: h.capabilities,
      pageSize: h.pageSize ?? null,
      targetPageBits: h.targetPageBits ?? null,
      uuid: h.uuid ?? null,
      mappedRam: h.mappedRam,
      totalRam: h.totalRam ?? null,
      blocks: h.blocks.map((b) => ({ name: b.name, size: b.size })),
      hints: h.hints,
    }
    : {};
  const err = s.error ?? h?.error;
  return { ...fields, ...parsed, error: err === undefined ? null : errorObject(err) };
}

/** The `migscope-info` JSON document of a report (or of the error that stopped it). */
export function infoJson(r: ContainerReport | undefined, error?: unknown): Record<string, unknown> {
  const body = r
    ? {
      file: { path: r.path, size: r.fileSize, sha256: r.sha256 ?? null },
      container: {
        kind: r.kind,
        describe: r.describe,
        gzipWrapped: r.gzipWrapped,
        ...(r.libvirt ? { libvirt: libvirtJson(r.libvirt, r) } : {}),
        ...(r.qcow2 ? { qcow2: qcow2Json(r.qcow2.header, r.qcow2.snapshots) } : {}),
      },
      streams: r.streams.map(streamJson),
    }
    : {};
  return {
    format: INFO_FORMAT,
    version: FORMAT_VERSION,
    ...body,
    ...(error !== undefined ? { error: errorObject(error) } : {}),
  };
}

function libvirtText(v: LibvirtImage, r: ContainerReport): string[] {
  const d = v.domain;
  const facts = [
    d.type,
    d.arch,
    d.machine && `machine ${d.machine}`,
    d.memoryBytes !== undefined && `memory ${formatBytes(d.memoryBytes)}`,
    d.vcpus !== undefined && plural(d.vcpus, "vCPU"),
  ].filter(Boolean);
  const state = v.complete
    ? "complete (LibvirtQemudSave)"
    : "INCOMPLETE (LibvirtQemudPart: the save never finished)";
  const region = r.gzipWrapped ? "" : `, ${r.fileSize - v.streamOffset} bytes`;
  return [
    `  save      ${state}, version ${v.version}, ${v.byteOrder}-endian`,
    `  format    ${v.format} (code ${v.formatCode})`,
    `  domain    ${printable(d.name ?? "?")}${facts.length ? ` (${facts.join(", ")})` : ""}`,
    `  running   ${v.wasRunning ? "yes" : "no"} (was_running ${v.wasRunning})`,
    `  data      data_len ${v.dataLen}: XML ${v.xmlLength} B, cookie ${v.cookieLength} B at ${v.cookieOffset}, padding ${v.paddingLength} B`,
    `  stream    at offset ${v.streamOffset} (${hexOffset(v.streamOffset)})${region}`,
  ];
}

function qcow2Text(h: Qcow2Header, snaps: Qcow2Snapshot[]): string[] {
  const flags = [h.extendedL2 && "extended L2", h.dirty && "dirty", h.corrupt && "CORRUPT"]
    .filter(Boolean);
  const lines = [
    `  qcow2     version ${h.version}, virtual size ${h.size} (${formatBytes(h.size)}), cluster ${
      formatBytes(h.clusterSize)
    }, compression ${h.compression}${flags.length ? `, ${flags.join(", ")}` : ""}`,
  ];
  if (h.backingFile) lines.push(`  backing   ${printable(h.backingFile)}`);
  lines.push(`  snapshots ${snaps.length}`);
  for (const s of snaps) {
    lines.push(
      `    ${printable(s.id, 20)} '${printable(s.name, 60)}'  ${snapshotDate(s)}  vm clock ${
        vmClock(s.vmClockNs)
      }  ` +
        `vm state ${s.vmStateSize} B${
          s.vmStateSize
            ? ` at virtual ${hexOffset(s.stateOffset)} (L1 at ${s.l1TableOffset})`
            : " (disk only)"
        }`,
    );
  }
  return lines;
}

function streamText(s: StreamReport): string[] {
  const lines = [`${s.label}`];
  const comp = s.compression ? `, ${s.compression}-compressed` : "";
  lines.push(
    `  at        offset ${s.offset} (${hexOffset(s.offset)})${comp}${
      s.size !== undefined ? `, ${s.size} bytes` : ""
    }`,
  );
  if (s.incomplete) lines.push("  INCOMPLETE: the container says this stream may end early");
  if (s.clusterKinds) {
    const k = s.clusterKinds;
    lines.push(
      `  clusters  ${k.data} data, ${k.compressed} compressed, ${k.zero} zero, ${k.unallocated} unallocated${
        k.mixed ? `, ${k.mixed} mixed` : ""
      }`,
    );
  }
  const h = s.head;
  if (h?.version !== undefined) {
    lines.push(
      `  stream    QEMU stream version ${h.version}, machine ${
        printable(h.machine ?? "?")
      }, page size ${h.pageSize ?? "?"}`,
    );
    lines.push(`  caps      ${h.capabilities.length ? h.capabilities.join(", ") : "none"}`);
    const total = h.blocks.reduce((a, b) => a + b.size, 0);
    lines.push(
      `  RAM       ${plural(h.blocks.length, "block")}, ${formatBytes(total)}${
        h.mappedRam ? ", mapped-ram" : ""
      }`,
    );
    for (const b of h.blocks) {
      lines.push(`    ${printable(b.name).padEnd(28)} ${formatBytes(b.size)}`);
    }
    for (const hint of h.hints) lines.push(`  hint      ${hint}`);
  }
  if (s.sha256) lines.push(`  sha256    ${s.sha256}`);
  const err = s.error ?? h?.error;
  if (err !== undefined) lines.push(`  error     ${errorObject(err).message}`);
  return lines;
}

/** The report as text. */
export function infoText(r: ContainerReport): string {
  const lines = [
    `migscope info ${printable(r.path, 200)}`,
    "",
    `file        ${r.fileSize} bytes (${formatBytes(r.fileSize)})${
      r.sha256 ? `  sha256 ${r.sha256}` : ""
    }`,
    `container   ${r.describe}`,
  ];
  if (r.libvirt) lines.push(...libvirtText(r.libvirt, r));
  if (r.qcow2) lines.push(...qcow2Text(r.qcow2.header, r.qcow2.snapshots));
  for (const s of r.streams) lines.push("", ...streamText(s));
  return lines.join("\n") + "\n";
}
