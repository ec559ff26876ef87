/**
 * Golden tests of `inspect`'s text output (timeline + summary, and `--records`): the real CLI
 * in a subprocess, stdout compared byte for byte with tests/golden/<case>.txt, exit code 0 and
 * an empty stderr. The only normalisation is the temporary directory in the title line, shown
 * as `<TMP>` (tests/report/_golden.ts `normalise`). Regenerate: `deno run -A tools/golden.ts`.
 *
 * Each golden file was read and its numbers checked against a source migscope did not compute;
 * the same checks run in every test (tests/report/_cases.ts), so a golden file cannot drift
 * from them. What was checked, per test, is in the comment above it.
 */
import { golden } from "./_cases.ts";

// samples/small-xbzrle.mig, against the images tools/samples.ts emitted it from and the
// independent walker (tests/report/_walk.ts, which replays it to pc.ram.3 exactly):
// - passes 1-4: 2048 / 360 / 365 / 364 pages = the pages that changed in each round;
//   ZERO 1429 / 7 / 24 / 8 = changed pages that are all-zero afterwards; NORMAL 619/353/38/36
//   and XBZRLE 0/0/303/320 per the walker; pass FROM offsets and BYTES per the walker;
// - totals 1046 normal, 1468 zero, 623 XBZRLE, 5 EOS, 1 MEM_SIZE, 1 named + 3136 CONTINUE;
//   XBZRLE 4222 encoded bytes, 11075 with headers, 623 * 4096 = 2551808 full, 99.6 %;
// - every timeline row (offset, hex, kind, id, name, instance, version, bytes, per-kind
//   counts), pc.ram 8388608 bytes = 2048 pages, EOF at 4317229, trailer 36 bytes (JSON 31).
Deno.test("inspect text: samples/small-xbzrle.mig", () => golden("inspect_small_xbzrle.txt"));

// samples/small-block.mig, against small.ram / disk0.raw of tools/samples.ts and the walker
// (which replays it to both exactly): 303 PAGE = the non-zero pages of small.ram, 721 ZERO,
// 1024 pages in one pass; disk0: 4 data chunks = the non-zero MiB of disk0.raw, 4 zero
// chunks, 9 PROGRESS (last 100 %), 3 block EOS, extent 8388608; every timeline row.
Deno.test("inspect text: samples/small-block.mig", () => golden("inspect_small_block.txt"));

// a_precopy_idle, against ../shared/captures/README.md: 14770892 bytes; PAGE=3533,
// ZERO=17117, XBZRLE=0, EOS=3, MEM_SIZE=1, 9 named + 20641 CONTINUE headers; the 8 RAM blocks
// with their sizes and per-block page/zero counts (pc.ram 3457/12951 …); START 1, PART 1,
// END 1, FULL 33 timeline rows (and 33 device sections); configuration at 8, EOF at 14668869,
// VMDESCRIPTION at 14668870 with JSON 102017 bytes; timeline PAGE/ZERO column sums and the
// passes' NORMAL/ZERO sums equal the totals.
Deno.test("inspect text: shared capture a_precopy_idle", () =>
  golden("inspect_a_precopy_idle.txt"));

// c_block_zero_blocks, against the README: 22284801 bytes; PAGE=3563, ZERO=17090, EOS=106,
// MEM_SIZE=1, 9 named + 20644 CONTINUE; per-block counts (pc.ram 3487/12924 …); START 2,
// PART 208, END 2, FULL 34; block records data_block=7, zero_block=57, progress=65, eos=106
// (summary line and the timeline's BLK/BLK0 column sums); EOF at 22182617, VMDESCRIPTION at
// 22182618 with JSON 102178 bytes.
Deno.test("inspect text: shared capture c_block_zero_blocks", () =>
  golden("inspect_c_block_zero_blocks.txt"));

// The real ARM capture (tests/data/arm_versatilepb_1k), against its expect.json (the numbers
// of its README, counted by tools/arm_capture.ts's own counter and by QEMU's query-migrate):
// 4314227 bytes, target page 1024, machine versatilepb; PAGE=3435, ZERO=78485, EOS=3,
// MEM_SIZE=1, 2 named + 81918 CONTINUE; versatile.flash 67108864 0/65536, ram0 16777216
// 3435/12949; START 1, PART 1, END 1, FULL 39; the 39 devices in vmdesc order (timeline and
// device table).
Deno.test("inspect text: the real ARM capture with 1 KiB target pages", () =>
  golden("inspect_arm_versatilepb_1k.txt"));

// m1b_mapped_ram_single, against m1b_mapped_ram_single/mapped-ram-layout.json and the README:
// 92396308 bytes; machine pc-i440fx-10.2 with capability mapped-ram; for all 8 blocks the
// mapped-ram header offset, bitmap offset, pages offset, set bits (PRESENT: pc.ram 5519 …) and
// pages minus set bits (ZERO), and used_length; RAM START at 74; the START section ends at the
// stream resume offset 0x5801000 + EOS + footer; SWITCHOVER_START just before the RAM END.
Deno.test("inspect text: mapped-ram capture m1b_mapped_ram_single", () =>
  golden("inspect_m1b_mapped_ram_single.txt"));

// The hand-built stream of tests/report/_inputs.ts `tinyStream`, against its builder and the
// walker: every timeline row, 2 normal / 3 zero / 1 XBZRLE (4 encoded bytes, 15 with headers),
// 3 passes, the SWITCHOVER_START command at its offset, device dev0 (8-byte body at its
// offset), EOF and trailer offsets.
Deno.test("inspect text: a hand-built stream with a command and a device section", () =>
  golden("inspect_tiny.txt"));

// The same stream with stdout on a 110-column terminal (script(1)): no line is longer than
// 110 characters, the VMDESCRIPTION note and the RAM records line are wrapped, and joined back
// (a line starting with 15 or more spaces continues the one above) the text passes every check
// of the piped report above.
Deno.test("inspect text on a 110-column terminal: wrapped to fit", () =>
  golden("inspect_tiny_terminal.txt"));

// The hand-built multifd channel of tests/report/_inputs.ts `channelFile`, against the packets
// it was built from: channel id 1 and UUID; per packet its offset, number, SYNC flag, block,
// normal and zero page counts and lowest…highest page offset (0x0…0x5000 for packet 1,
// whose normal pages come first on the wire: the range, not first…last); 5 packets (2 SYNC), 4 normal and
// 3 zero pages, 23168 bytes (the file's length), pc.ram 6 + pc.rom 1 pages.
Deno.test("inspect text: a hand-built multifd channel", () =>
  golden("inspect_multifd_channel.txt"));

// A hand-built channel of 250 packets (SYNC at 0, 110 and 220): the table shows the first 200
// packets and the SYNC packet 220, then "… 49 more packets not shown"; the golden file keeps
// the first 30 and last 12 lines, the test checks every row.
Deno.test("inspect text: a multifd channel longer than the packet table", () =>
  golden("inspect_multifd_channel_long.txt"));

// inspect --records on samples/small-xbzrle.mig: the golden file keeps the first 40 and the
// last 60 lines (and the count of those left out); the test checks all 3149 record rows
// (3137 page records, 5 EOS, the MEM_SIZE, 5 section rows and EOF) against the walker
// (offset, flags, block, address, pass, fill, XBZRLE length and covered bytes), plus everything
// the plain inspect test checks.
Deno.test("inspect --records: samples/small-xbzrle.mig", () =>
  golden("inspect_records_small_xbzrle.txt"));

// inspect --records on samples/small-block.mig: every one of the 1055 rows (RAM and block
// records: DEVICE_BLOCK, DEVICE_BLOCK|ZERO_BLOCK, PROGRESS, EOS) against the walker, in fixed
// columns under the header line, none with trailing spaces; the golden file keeps the first 40
// and the last 60 lines.
Deno.test("inspect --records: samples/small-block.mig (block-migration rows)", () =>
  golden("inspect_records_small_block.txt"));

// inspect --records with filters: the rows are exactly the walker's rows that match them
// (pass 4 ZERO records of pc.ram: 8, the changed pages of round 3 that are zero afterwards;
// disk0's data and ZERO_BLOCK chunks: 4 + 4, the non-zero and zero MiB of disk0.raw), then
// "N of M records match …" with the options in the order block, pass, kind, section.
Deno.test("inspect --records --block --pass --kind: samples/small-xbzrle.mig", () =>
  golden("inspect_records_filter_small_xbzrle.txt"));
Deno.test("inspect --records --kind --block: samples/small-block.mig", () =>
  golden("inspect_records_filter_small_block.txt"));

// inspect --records on the hand-built stream: every row against the walker and the builder
// (including the COMMAND row and the device body row).
Deno.test("inspect --records: a hand-built stream (commands and device bodies)", () =>
  golden("inspect_records_tiny.txt"));
