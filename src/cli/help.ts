/**
 * What `migscope help [CMD]`, `migscope CMD --help` print, and how argument mistakes are told:
 * each command's options with examples; unknown options with "did you mean"; the argument
 * parser's own wording never reaches the user.
 * @module
 */

import { CHECK_HELP, DIFF_HELP, REPORT_HELP } from "./help_more.ts";

export { CHECK_HELP, DIFF_HELP, REPORT_HELP };

/** Commands and their one-line purpose, in the order `migscope help` lists them. */
export const COMMANDS: Record<string, string> = {
  inspect: "timeline and summary of a migration stream",
  replay: "apply a stream to RAM images and disks, as a QEMU destination does",
  verify: "replay and compare with expected images; exit 1 when any page differs",
  emit: "write a migration stream that QEMU loads, from RAM images, rounds and disks",
  info: "what a file is: libvirt save image, qcow2 snapshots, bare stream; and what is inside",
  extract: "the bare QEMU stream of a saved VM (libvirt image, qcow2 snapshot), decompressed",
  tap: "sit between a migration's source and destination: forward, watch live, record",
  diff: "compare two saved or migrated VMs: configuration, sections, devices, vmdesc, RAM",
  check: "will this stream load into that QEMU? the first error its loader would give",
  report: "one self-contained HTML page: timeline, dirty passes, RAM map, verify",
  help: "show help for a command",
};

const INSPECT = `usage: migscope inspect INPUT [options]

INPUT is a file — a bare stream, gzip, a libvirt save image (virsh save / managedsave, any
format), or a qcow2 image with internal snapshots (--snapshot) — '-' for stdin, or
tcp:[HOST:]PORT to receive a live migration (listens on 127.0.0.1 unless HOST is given).

options:
  --records               one row per RAM / block record (flags, block, page address, pass)
  --json                  one JSON document (summary + timeline)
  --ndjson                one JSON record per line, streamed, then the summary
  --device-state          decoded device fields as JSON
  --vmdesc FILE           vmdesc JSON (or another capture) for streams without a trailer
  --footers on|off|auto   section footers (default: detected)
  --hugepage-block NAME   block whose MEM_SIZE entry carries a page size (repeatable)
  --page-size SIZE        target page size of a stream that does not say it (no
                          target-page-bits and no trailer), e.g. 1K for ARM versatilepb
  --snapshot NAME|ID      qcow2 images: the internal snapshot whose VM state is read
  --channel FILE          another connection of the migration (multifd channel or
                          postcopy-preempt), read after INPUT with its page size and RAM
                          blocks: which is which, packets, pages, compression (repeatable)
  --block NAME            with --records: only records of this RAM block or disk (repeatable)
  --pass N                with --records: only records of this dirty pass (repeatable)
  --kind KIND             with --records: only this kind: zero, page, xbzrle, compressed,
                          eos, mem_size, … (repeatable; an unknown kind lists them)
  --section ID            with --records: only records of this section id (repeatable)
  --quiet                 no report: only an error line and the exit code
  --no-progress           no progress line on a terminal
  -h, --help              this help

examples:
  migscope inspect capture.bin
  migscope inspect --records capture.bin.gz | less
  migscope inspect --records --block pc.ram --kind xbzrle --pass 3 capture.bin
  migscope inspect --json capture.bin | jq .summary.ram
  qemu-system-x86_64 … -incoming defer & migscope inspect tcp:4444`;

const REPLAY = `usage: migscope replay CAPTURE --out DIR [options]

Writes each RAM block to DIR/<name>.ram and each block-migration device to DIR/<name>.disk,
as .partial files renamed only when the whole stream applied.

options:
  --out DIR               output directory (created if missing)
  --ram NAME=FILE         start RAM block NAME from this image (copied unless --in-place)
  --disk NAME=FILE        start disk NAME from this image (incremental block migration)
  --disk-size NAME=SIZE   size of a disk without a base image (default: end of its last chunk)
  --in-place              write into the --ram/--disk images themselves
  --expect NAME=FILE      compare the result with this image (as verify does)
  --channel FILE          a multifd or postcopy-preempt channel capture, replayed with the
                          main stream (repeatable; preempt pages apply after it)
  --strict-zero-fill      reject ZERO records with a non-zero fill byte (QEMU >= 8.2)
  --vmdesc FILE           vmdesc JSON (or another capture) for streams without a trailer
  --page-size SIZE        target page size of a stream that does not say it
  --snapshot NAME|ID      qcow2 images: the internal snapshot whose VM state is replayed
  --json                  the report as JSON
  --quiet                 no report and no progress: only an error line and the exit code
  --no-progress           no progress line on a terminal
  -h, --help              this help

examples:
  migscope replay capture.bin --out out/
  migscope replay delta.bin --ram pc.ram=before.img --out out/
  migscope replay main.bin --channel ch0.bin --channel ch1.bin --out out/`;

const VERIFY = `usage: migscope verify CAPTURE --expect NAME=FILE ... [options]

Replays CAPTURE (into --out DIR, or a temporary directory) and compares each NAME with FILE page
by page; every differing page names the record that last wrote it. Exit 1 when any page differs.

options: those of replay (see migscope help replay), and
  --expect NAME=FILE      an expected image (repeatable; at least one)

examples:
  migscope verify capture.bin --expect pc.ram=destination-pc.ram
  migscope verify capture.bin --expect pc.ram=dst.ram --expect disk0=dst-disk.raw --json`;

const EMIT = `usage: migscope emit --ram NAME=FILE ... -o FILE [options]

options:
  --ram NAME=FILE         a RAM block's image (repeatable)
  --round NAME=FILE[,NAME=FILE]   a later dirty round (repeatable, in order): pages that
                          changed since the previous round are sent again
  --disk NAME=FILE        block migration of this disk (1 MiB chunks, PROGRESS records)
  --zero-blocks           all-zero chunks as ZERO_BLOCK
  --xbzrle                XBZRLE after the first pass, with QEMU's cache rules
  --xbzrle-cache SIZE     XBZRLE cache size (default 64M)
  --template CAPTURE      configuration, device sections and trailer from a real capture
  --machine TYPE          machine type without a template (pc-i440fx-7.2)
  --no-footers            no section footers (pc-2.3-era streams)
  --mapped-ram            write a mapped-ram file (QEMU 9.0+ file: migration)
  --libvirt-save          wrap the stream in a libvirt save image (virsh restore; the
                          stream starts at a 4 KiB boundary after the XML and padding)
  --xml DOMAIN.xml        the domain XML the image carries (needed by --libvirt-save)
  --compress FORMAT       compress the image's stream: gzip, zstd or xz (the system's xz,
                          Debian package xz-utils)
  --running               mark the guest as running: virsh restore resumes it
  --stats                 query-migrate-style counters (stdout, or stderr with -o -)
  --no-progress           no progress line on a terminal
  -o, --output FILE       the stream ('-': stdout, not a terminal)
  -h, --help              this help

examples:
  migscope emit --ram pc.ram=ram.img --template capture.bin -o out.mig
  migscope emit --ram pc.ram=r0.img --round pc.ram=r1.img --xbzrle -o out.mig --stats
  migscope emit --ram pc.ram=ram.img --template capture.bin --libvirt-save \\
    --xml guest.xml --compress zstd --running -o guest.save`;

const INFO = `usage: migscope info FILE [options]

What FILE is and what is inside: a libvirt save image (virsh save / managedsave: complete or
partial, format, was_running, domain name, memory and machine from the XML, where the stream
starts), a qcow2 image (virtual size, cluster size, internal snapshots with id, name, date, VM
clock, VM state size and where it lives), a bare stream, gzip; then each stream's machine type,
RAM blocks, capabilities, and sha256 of the container and of the stream.

options:
  --snapshot NAME|ID      qcow2: only this snapshot
  --json                  one JSON document (format migscope-info)
  --xml                   print the libvirt domain XML
  --no-digests            skip the sha256 digests (they read every byte)
  -h, --help              this help

examples:
  migscope info /var/lib/libvirt/qemu/save/guest.save
  migscope info disk.qcow2 --json | jq '.container.snapshots'`;

const EXTRACT = `usage: migscope extract FILE -o STREAM [options]

Writes the bare QEMU stream inside a saved VM (decompressed), which
qemu-system-x86_64 -incoming 'exec:cat STREAM' loads. The output appears complete or not at all.

options:
  -o, --output STREAM     where the stream goes
  --snapshot NAME|ID      qcow2: the snapshot whose VM state is extracted
  --quiet                 no summary line
  -h, --help              this help

examples:
  migscope extract guest.save -o guest.mig
  migscope extract disk.qcow2 --snapshot snapA -o snapA.mig`;

const TAP = `usage: migscope tap --listen [HOST:]PORT|unix:PATH --to HOST:PORT|unix:PATH [options]

Sits between a migration source and its destination: point the source's migrate at --listen
(the destination listens on --to). Every connection the source opens (main channel, multifd
channels, postcopy-preempt) is forwarded byte for byte to a connection of its own to --to,
opened in the same order; the main channel is parsed as it passes. The tap ends when every
connection has closed. It listens on 127.0.0.1 unless HOST is given; port 0 picks a free port
(printed on stderr as 'migscope: listening on HOST:PORT, …').

options:
  --listen ADDR           where the source connects: [HOST:]PORT, [V6]:PORT or unix:PATH
                          (a unix socket is created with your umask and removed at the end)
  --to ADDR               the destination's incoming address: HOST:PORT or unix:PATH
  --record DIR            record each connection's two directions to DIR/<n>-<kind>.s2d.bin
                          and .d2s.bin (mode 0600: guest memory; DIR created 0700), and
                          DIR/manifest.json; also after a failure or Ctrl-C (what passed)
  --json-events           one JSON event per line on stdout (the default without a terminal)
  --no-progress           no live view on a terminal: only the final report
  --page-size SIZE        target page size for the live parse (as inspect's; e.g. 1K on ARM)
  --vmdesc FILE           vmdesc JSON (or a capture with one) for a stream without a trailer
  -h, --help              this help

At most 64 connections are open at once (one more is closed at once, with a warning); the
live parse holds at most 64 MiB to find a trailer for device sections.

exit codes: 0 the main stream reached its EOF, or every byte passed and the source closed
normally but the tap could not follow the stream (said in one line) · 1 the migration stopped
before EOF (where, and which side closed first) or a multifd channel is invalid · 2 bad usage,
cannot listen, destination unreachable · 130 Ctrl-C

examples:
  migscope tap --listen 4444 --to 127.0.0.1:4445 --record rec/
  (destination: migrate-incoming tcp:127.0.0.1:4445; source: migrate tcp:127.0.0.1:4444)
  migscope replay rec/0-main.s2d.bin --channel rec/1-multifd.s2d.bin --out out/
  migscope tap --listen unix:/run/mig.sock --to 10.0.0.2:4444 --json-events | jq .type`;

/** Each command's help text. */
export const HELP: Record<string, string> = {
  inspect: INSPECT,
  replay: REPLAY,
  verify: VERIFY + "\n\n" + REPLAY.slice(REPLAY.indexOf("options:")),
  emit: EMIT,
  info: INFO,
  extract: EXTRACT,
  tap: TAP,
  diff: DIFF_HELP,
  check: CHECK_HELP,
  report: REPORT_HELP,
};

/** The overview `migscope --help` prints. */
export function overview(version: string): string {
  const cmds = Object.entries(COMMANDS).map(([c, what]) => `  ${c.padEnd(9)}${what}`);
  return `migscope ${version}: inspect, replay, verify and emit QEMU live-migration streams

usage: migscope <command> [options]   (migscope help <command> for its options)

commands:
${cmds.join("\n")}

  --version, -V  print the version
  --help, -h     this help

exit codes: 0 success · 1 differences found (verify, diff), will not load (check) or the
migration failed (tap) · 2 bad input or usage (one line on
stderr) · 130 / 143 interrupted (Ctrl-C / SIGTERM)`;
}

/** The options a command's help lists. */
export function optionsOf(cmd: string): string[] {
  const text = HELP[cmd] ?? "";
  // Options named in the examples may be other commands' (tap's example runs replay).
  const cut = text.indexOf("\nexamples:");
  return [...new Set((cut < 0 ? text : text.slice(0, cut)).match(/--[a-z][a-z-]*/g) ?? [])];
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
    }
  }
  return d[a.length][b.length];
}

/** The closest of `choices` to `word`, when it is close enough to be a typo. */
export function didYouMean(word: string, choices: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of choices) {
    const dist = c.startsWith(word) && word.length >= 3 ? 1 : distance(word, c);
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Rewrites an error of node:util's parseArgs into one line of our own words. */
export function argumentError(cmd: string, e: Error & { code?: string }): string {
  const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? "";
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const opt = quoted.split("=")[0];
      const near = didYouMean(opt, optionsOf(cmd));
      return `${cmd}: unknown option '${opt}'` + (near ? ` (did you mean ${near}?)` : "") +
        ` (see migscope help ${cmd})`;
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const opt = /'(-[^ ']+)/.exec(e.message)?.[1] ?? "the option";
      return /argument missing/.test(e.message)
        ? `${cmd}: ${opt} needs a value (see migscope help ${cmd})`
        : `${cmd}: ${opt} takes no value (see migscope help ${cmd})`;
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `${cmd}: unexpected argument '${quoted}' (see migscope help ${cmd})`;
  }
  return `${cmd}: ${e.message.split("\n")[0]}`;
}
