/**
 * Golden tests of `inspect --json` and `inspect --ndjson`: the real CLI in a subprocess,
 * stdout compared byte for byte with tests/golden/inspect_json_tiny.json and
 * inspect_ndjson_tiny.ndjson, exit code 0, empty stderr. No normalisation is needed (the
 * documents hold no paths). Regenerate: `deno run -A tools/golden.ts`.
 *
 * The input is the hand-built stream of tests/report/_inputs.ts `tinyStream` (8639 bytes:
 * two RAM blocks, PAGE / ZERO / XBZRLE records, a command, a device section, a trailer).
 */
import { golden } from "./_cases.ts";

// Checked against the builder's offsets and the walker (tests/report/_walk.ts): stream bytes
// 8639, page size 4096, footers, version 3; configuration pc-i440fx-7.2 at 8; RAM counters
// (2 page, 3 zero, 1 XBZRLE, 3 EOS, 1 MEM_SIZE, 3 named + 3 CONTINUE, 4 XBZRLE bytes, 15 with
// headers, 8271 bytes of page records) and per-block counts; sections START/PART/END/FULL 1,
// COMMAND 1, FOOTER 4; SWITCHOVER_START at 8358; dev0 body of 8 bytes at 8424; the 3 passes;
// EOF at 8437; trailer at 8438 (201 bytes, JSON 196, 1 device); every timeline row's offset,
// kind, bytes and per-kind counts.
Deno.test("inspect --json: a hand-built stream", () => golden("inspect_json_tiny.json"));

// Checked against the builder and the walker: every line's offset, kind and length (header,
// configuration, section headers, records, footers, command, device body, EOF, trailer), the
// flags, block, address and pass of each page record, and the final summary line as above.
Deno.test("inspect --ndjson: a hand-built stream", () => golden("inspect_ndjson_tiny.ndjson"));
