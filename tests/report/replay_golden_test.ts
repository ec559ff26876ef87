/**
 * Golden tests of `replay` and `verify`: the real CLI in a subprocess, stdout compared byte
 * for byte with tests/golden/<case>, the exit code (0, or 1 when verify finds differences)
 * and an empty stderr. Normalisation (tests/report/_golden.ts `normalise`): the temporary
 * directory becomes `<TMP>`, and the rule under a table's last column that held such a path
 * (FILE, EXPECTED) is re-drawn to the normalised width. Regenerate: `deno run -A tools/golden.ts`.
 *
 * Each golden file was read and checked against a source migscope did not compute (the checks
 * run in every test): the replay counts and findings against the independent walker of
 * tests/report/_walk.ts, the verify verdicts against the walker's own replay compared page by
 * page with the expected image, and the "last written by" lines against the walker's record
 * of the last writer of each page.
 */
import { golden } from "./_cases.ts";

// samples/small-block.mig: pc.ram 4.0 MiB with 303 PAGE / 721 ZERO (the walker; 303 = the
// non-zero pages of small.ram), disk0 8.0 MiB with 4 data / 4 zero chunks (the non-zero MiB
// of disk0.raw); output files <TMP>/out/pc.ram.ram and disk0.disk (the XBZRLE, COMP and
// DISCARD columns, all 0, hidden); no findings; "Replayed 1024 page records and 8 block chunks
// (of 1064 records in the stream)": 303 + 721 page records and 4 + 4 chunks (the walker), of
// every item of the stream (10 markers and sections, 6 footers, 1048 records).
Deno.test("replay text: samples/small-block.mig", () => golden("replay_small_block.txt"));

// The same replay as JSON: names, paths, sizes and per-kind counts as above; no findings.
Deno.test("replay --json: samples/small-block.mig", () => golden("replay_small_block.json"));

// samples/small-xbzrle.mig against pc.ram.3 of tools/samples.ts (the image its last round was
// emitted from): 2048 pages, all equal, exit 0; 1046 PAGE / 1468 ZERO / 623 XBZRLE; 39
// zero-after-data findings (walker: ZERO records whose page was last written by PAGE or
// XBZRLE), of which the table shows the first 20 in stream order, then "… 19 more
// zero-after-data findings (the first 20 of 39 are shown)".
Deno.test("verify text, equal: samples/small-xbzrle.mig (exit 0)", () =>
  golden("verify_small_xbzrle_equal.txt"));

// The same stream against pc.ram.3 with one byte changed in 4 pages: 2044 equal, 4 different,
// exit 1; the walker's last writers of those pages: XBZRLE at 4163743 (page 0x0), PAGE at
// 763183 (0x265000), ZERO at 4316938 (0x7ca000), XBZRLE at 4317021 (0x7d1000).
Deno.test("verify text, differences: samples/small-xbzrle.mig (exit 1)", () =>
  golden("verify_small_xbzrle_diff.txt"));

// The hand-built findings stream of tests/report/_inputs.ts on its base image, with --expect:
// zero-after-data at 4195 (page 0x1000), zero-fill at 4204 (0x2000, fill 0x5a),
// unwritten-nonzero for pages 0x5000 and 0x6000 (the base's non-zero pages no record wrote);
// 2 PAGE / 2 ZERO / 1 XBZRLE; verify: 6 equal, 2 different, exit 1: page 0x3000 last written
// by the XBZRLE record at 8317, page 0x6000 written by no record.
Deno.test("replay text with findings and --expect (exit 1)", () => golden("replay_findings.txt"));

// The same as JSON: targets, the four findings (kind, offset, target, address), the verify
// verdict and the two differences with their writers.
Deno.test("replay --json with findings and --expect (exit 1)", () =>
  golden("replay_findings.json"));
