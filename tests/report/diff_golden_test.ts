/**
 * Golden tests of `migscope diff`: the real CLI in a subprocess (src/cli/main.ts diff), stdout compared byte for byte with tests/golden/<case>, the
 * exit code (0 equal, 1 different) and an empty stderr; the temporary directory becomes `<TMP>`.
 * Regenerate: `deno run -A tests/report/_diff_cases.ts`.
 *
 * Each golden file was read and checked against sources migscope's diff did not compute (the
 * checks run in every test, tests/report/_diff_cases.ts and tests/diff/_checks.ts):
 */
import { DIFF_CASES, diffGolden, missing } from "./_diff_cases.ts";

const test = (name: string) => {
  const c = DIFF_CASES.find((x) => x.name === name)!;
  const why = missing(c);
  Deno.test({
    name: c.title + (why ? ` (needs ${why})` : ""),
    ignore: !!why,
    fn: () => diffGolden(name),
  });
};

// a_precopy_idle's capture.bin.gz against the same stream decompressed: every line of the report
// from the captures' README (8 RAM blocks and their sizes: 20626 pages; 1 START + 33 FULL
// sections; machine pc-i440fx-7.2) and the configuration section's bytes (no subsections:
// capabilities none, target-page-bits and uuid not sent); "Result: equal", exit 0.
test("diff_self_gzip.txt");

// A copy of a_precopy_idle with one byte of i8254's channels[1].count (int32 at body + 36, the
// body found by its section header's bytes) XORed with 0x5a: exactly that field, both values
// read from the two files' bytes in hex; every other aspect equal as in the case above; exit 1.
test("diff_field_flip.txt");

// The same as JSON: devices.devices is that one field with both values, every other aspect's
// `equal` true, the RAM blocks compared are the README's 8.
test("diff_field_flip.json");

// Two paused QEMU 7.2 guests with the same prefilled RAM, B with -device virtio-rng-pci:
// sections against the headers found by byte pattern (exactly the virtio-rng FULL section
// added, at its position), device state against the bodies between header and footer (none
// differs), vmdesc against the two trailers' JSON (the virtio-rng device added, its vmsd,
// version and field count), RAM content against both captures replayed by `migscope replay`
// and compared here byte by byte (the ACPI ROM blocks differ: their tables list the device).
test("diff_device_added.txt");

// The same guest saved by QEMU 7.2 and 10.0 (machine pc-i440fx-7.2 on both): sections moved as
// many as the common sections minus their longest common subsequence (computed here by dynamic
// programming), each at the positions its header is found; devices listed exactly where the
// bodies or the descriptions differ; vmdesc devices listed exactly where their JSON differs;
// RAM content as the replays compared here say, pc.ram equal and equal to the prefilled image.
test("diff_qemu72_qemu10.txt");

// The qcow2 image's two snapshots: pc.ram's differing pages and runs as many as between the two
// oracles (the guest's RAM when each snapshot was taken), snapA's replay equal to its oracle,
// the other blocks as the replays say; both inputs named with their snapshot.
test("diff_qcow2_snapshots.txt");
