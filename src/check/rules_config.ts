/**
 * The CONFIGURATION section's checks, in the order QEMU's loader makes them: capability names
 * while its subsections load, then (after the section) the machine type, the target page bits
 * and the set of validated capabilities.
 * @module
 */
import { printable } from "../protocol/errors.ts";
import { type DestinationFacts, type Finding, finding, type StreamFacts } from "./types.ts";

const CONFIG = "configuration";

/** `pc-i440fx-7.2` → `pc-i440fx-`: the family of versioned machine types. */
function family(machine: string): string | undefined {
  return /^(.*-)\d+\.\d+$/.exec(machine)?.[1];
}

/** Version numbers `a.b` compared numerically. */
function byVersion(a: string, b: string): number {
  const va = /(\d+)\.(\d+)$/.exec(a);
  const vb = /(\d+)\.(\d+)$/.exec(b);
  if (!va || !vb) return a < b ? -1 : a > b ? 1 : 0;
  return Number(va[1]) - Number(vb[1]) || Number(va[2]) - Number(vb[2]);
}

/** What to say of the machine types the destination does have. */
export function machineHint(requested: string, known: string[]): string {
  const fam = family(requested);
  const same = fam ? known.filter((m) => family(m) === fam).sort(byVersion) : [];
  if (same.length === 0) return `it has ${known.length} machine types (-M help), none like it`;
  const range = same.length === 1 ? same[0] : `${same[0]} … ${same[same.length - 1]}`;
  return `of this family it has ${range}: the source must run one of them to migrate here`;
}

/** A machine type the destination's QEMU does not have: it cannot even start. */
export function unknownMachine(s: StreamFacts, d: DestinationFacts): Finding {
  const qemu = d.qemuVersion ? `QEMU ${d.qemuVersion}` : "the destination's QEMU";
  return finding(
    "machine-unknown",
    { section: CONFIG, offset: s.configurationOffset ?? null },
    `machine type '${printable(d.requested)}' is not supported by ${qemu}`,
    `QEMU stops at start with "unsupported machine type"; ${
      machineHint(d.requested, d.unknownMachine ?? [])
    }`,
  );
}

function capabilityFindings(s: StreamFacts, d: DestinationFacts, known: boolean): Finding[] {
  const at = { section: CONFIG, offset: s.configurationOffset ?? null };
  if (!d.capabilities) return [];
  const qemu = `QEMU ${d.qemuVersion ?? "(this version)"}`;
  return s.capabilities
    .filter((c) => d.capabilities!.includes(c) === known)
    .map((c) =>
      known
        ? finding(
          "capability-off",
          at,
          `Capability ${printable(c)} is off, but received capability is on`,
          `turn it on at the destination (migrate-set-capabilities) before migrate-incoming: ` +
            "its setup, not its version",
        )
        : finding(
          "capability-unknown",
          at,
          `Received unknown capability ${printable(c)}`,
          `${qemu} does not have this capability, which the stream says the source used`,
        )
    );
}

function pageBits(bits: number | undefined, size: number | undefined): number | undefined {
  if (bits !== undefined) return bits;
  return size ? Math.log2(size) : undefined;
}

/** The CONFIGURATION section's findings (none when the destination has no such machine). */
export function configurationFindings(s: StreamFacts, d: DestinationFacts): Finding[] {
  const out = capabilityFindings(s, d, false);
  const at = { section: CONFIG, offset: s.configurationOffset ?? null };
  if (s.machine === undefined) {
    out.push(finding(
      "no-configuration",
      { offset: 8 },
      "the stream has no CONFIGURATION section (pc-2.3-era machine types, Xen): QEMU does not " +
        "compare machine types",
    ));
  } else if (!d.machine.startsWith(s.machine)) {
    out.push(finding(
      "machine-mismatch",
      at,
      `Machine type received is '${printable(s.machine)}' and local is '${printable(d.machine)}'`,
      d.origin === "dump"
        ? `the dump describes ${printable(d.machine)}: make one with -M ${printable(s.machine)}`
        : !d.machines || d.machines.includes(s.machine)
        ? `start the destination with -M ${printable(s.machine)}`
        : `this QEMU has no ${printable(s.machine)}; ${machineHint(s.machine, d.machines)}`,
    ));
  }
  const theirs = pageBits(s.targetPageBits, s.pageSize);
  const ours = pageBits(d.targetPageBits, d.pageSize);
  if (d.origin === "qemu" && theirs !== undefined && ours !== undefined && theirs !== ours) {
    out.push(finding(
      "page-size",
      at,
      `target page bits ${theirs} (${2 ** theirs}-byte pages) in the stream, ${ours} ` +
        `(${2 ** ours}-byte pages) on the destination`,
    ));
  }
  out.push(...capabilityFindings(s, d, true));
  return out;
}
