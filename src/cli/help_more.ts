/**
 * The help texts of the commands that answer questions about streams (diff, check, report),
 * kept apart from help.ts's to keep each file short; help.ts lists them with the others.
 * @module
 */

/** What `migscope help diff` and `migscope diff --help` print. */
export const DIFF_HELP = `usage: migscope diff A B [options]

Compares two saved or migrated VMs, each a file of any kind inspect reads — a bare stream,
gzip, a libvirt save image, or a qcow2 image with internal snapshots (--snapshot-a/-b):
  configuration   machine type, capabilities, target page size, target-page-bits, uuid
  sections        START/FULL sections by idstr and instance: added, removed, moved, version
  RAM blocks      MEM_SIZE blocks: added, removed, resized
  device state    every field, decoded with each stream's own vmdesc (numbers in hex)
  vmdesc          per device: fields and subsections added, removed, resized
  RAM content     both replayed into a temporary directory and compared page by page (not
                  for a multifd or postcopy main stream, or one without page data: the
                  report says why)
Exit 0 when equal, 1 when anything differs, 2 for bad input or usage (one line).

options:
  --json                  one JSON document (format migscope-diff) with every difference
  --no-ram                skip the replays and the RAM content comparison
  --snapshot-a NAME|ID    A is a qcow2 image: the internal snapshot to compare
  --snapshot-b NAME|ID    the same for B
  --vmdesc-a FILE         vmdesc JSON (or another capture) for A, for streams without a
                          trailer; it is also A's side of the vmdesc comparison
  --vmdesc-b FILE         the same for B
  -h, --help              this help

examples:
  migscope diff before.mig after.mig
  migscope diff guest.save disk.qcow2 --snapshot-b snapA --no-ram
  migscope diff a.mig b.mig --json | jq '.devices.devices[].fields'`;

/** What `migscope help check` and `migscope check --help` print. */
export const CHECK_HELP =
  `usage: migscope check INPUT --qemu PATH [--machine TYPE] [--json] [-- DESTINATION ARGS]
       migscope check INPUT --against DUMP.json [--json]
       migscope check INPUT --destination FILE [--json]

Predicts whether a destination QEMU will load INPUT and, if not, the first error it will give,
checking in the order QEMU's loader does: the machine type, the CONFIGURATION section
(capabilities, target page size), then each section in stream order — idstr and instance
known, version within the destination's minimum and current version, the RAM block list
(names, sizes), each device's subsections — and last what the destination has that the
stream lacks (notes: QEMU loads without them). INPUT is any file inspect reads.
Exit 0 when it loads, 1 when it will not, 2 for bad input or usage (one line).

options:
  --qemu PATH             the destination's QEMU binary: runs PATH -M help, PATH -M TYPE
                          -dump-vmstate, and a paused PATH -S -M TYPE -m SIZE -nodefaults
                          (SIZE: the stream's pc.ram) for its RAM blocks (info ramblock),
                          capabilities and registered sections
  --machine TYPE          the destination's machine type (default: the stream's)
  -- ARGS                 with --qemu, after everything else: the destination's own command
                          line (-m, -device, -nic, …). It is started with these instead of
                          -nodefaults, and a section it does not create is an error. Without
                          them, devices the machine type does not create are taken to be on the
                          destination's command line (a note each)
  --against DUMP.json     the schema of an existing -dump-vmstate (gzip too) instead of a QEMU:
                          machine type, section versions and subsections only (no RAM blocks,
                          capabilities, page size or device set)
  --save-destination FILE with --qemu: also write what the QEMU said (machine types,
                          schema, sections, RAM blocks, capabilities) to FILE
  --destination FILE      a file written by --save-destination, instead of a QEMU: check
                          streams where that QEMU is not installed
  --json                  one JSON document (format migscope-check)
  --vmdesc FILE           vmdesc JSON (or another capture) for a stream without a trailer
  --snapshot NAME|ID      qcow2 images: the internal snapshot whose VM state is checked
  -h, --help              this help

examples:
  migscope check guest.mig --qemu qemu-system-x86_64
  migscope check guest.mig --qemu /opt/qemu-10/bin/qemu-system-x86_64 --machine pc-i440fx-7.2
  migscope check guest.mig --qemu qemu-system-x86_64 -- -m 128M -nic none
  migscope check guest.mig --qemu qemu-system-x86_64 --save-destination dst.json
  migscope check guest.save --against dst-vmstate.json --json | jq .findings`;

/** What `migscope help report` and `migscope report --help` print. */
export const REPORT_HELP = `usage: migscope report INPUT -o REPORT.html [options]

Writes one self-contained HTML file (no network: scripts and styles inline) about a migration:
  timeline        every section as a band along the stream's byte offsets (RAM, block,
                  devices), commands as markers (SWITCHOVER_START, POSTCOPY_*, PACKAGED, EOF);
                  zoom with the wheel or the range inputs, drag to pan
  dirty passes    pages and bytes per pass stacked by kind (normal, zero, XBZRLE, compressed)
                  and the re-send ratio (pages sent again / pages of the first pass)
  RAM map         per block a grid of at most 4096 cells (runs of pages) coloured by the kind
                  of record that wrote them last, or by how many times they were sent
  XBZRLE savings, block-migration chunks per device, device sections by size, the channels
  --expect        replays INPUT, compares with the expected images and shows differing pages
                  on the map
INPUT is any file inspect reads: a bare stream, gzip, a libvirt save image, a qcow2 image with
internal snapshots (--snapshot), '-' or tcp:PORT (not with --expect). The file is written as
REPORT.html.partial and renamed when complete; nothing is left on an error or Ctrl-C.
Exit 0 when written, 2 for bad input or usage (one line).

options:
  -o, --output FILE      the HTML file to write (required)
  --channel FILE         another connection of the migration (multifd or postcopy-preempt
                         channel capture); repeatable
  --snapshot NAME|ID     INPUT is a qcow2 image: the internal snapshot to report
  --vmdesc FILE          vmdesc JSON (or another capture) for streams without a trailer
  --page-size SIZE       target page size of a stream that does not say it (1K, 4K, 64K)
  --expect NAME=FILE     expected image of a RAM block or disk (verify); repeatable
  --quiet                no line on success
  -h, --help             this help

examples:
  migscope report capture.bin -o report.html
  migscope report main.bin --channel ch1.bin --channel ch2.bin -o multifd.html
  migscope report disk.qcow2 --snapshot snapA -o snapA.html
  migscope report capture.bin --expect pc.ram=dest.pc.ram -o verify.html`;
