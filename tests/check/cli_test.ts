/**
 * `migscope check` arguments and bad input: one line on stderr, exit 2, and the help.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runCheckCli } from "./_run.ts";

const SAMPLE = fileURLToPath(new URL("../../samples/small-block.mig", import.meta.url));
const DUMP = fileURLToPath(new URL("./data/vmstate-7.2.22-pc-i440fx-7.2.json.gz", import.meta.url));
const SEE = " (see migscope help check)";

const USAGE: [string[], string][] = [
  [
    [SAMPLE],
    "migscope: check needs a destination: --qemu PATH, --against DUMP.json or --destination FILE",
  ],
  [
    [SAMPLE, "--against", DUMP, "--destination", DUMP],
    "migscope: --against and --destination exclude each other: give one destination",
  ],
  [
    [SAMPLE, "--destination", DUMP, "--save-destination", "x.json"],
    "migscope: --save-destination goes with --qemu: it saves what QEMU said",
  ],
  [
    [SAMPLE, "--qemu", "q", "--against", DUMP],
    "migscope: --qemu and --against exclude each other: give one destination",
  ],
  [
    [SAMPLE, "--against", DUMP, "--machine", "pc"],
    "migscope: --machine goes with --qemu: a dump is made for one machine type",
  ],
  [
    [SAMPLE, "--against", DUMP, "--", "-m", "1G"],
    "migscope: a destination command line after -- goes with --qemu",
  ],
  [[SAMPLE, "--qemu", "q", "--", "-M", "q35"], "migscope: -M after --: use --machine"],
  [
    [SAMPLE, "--qemu", "q", "--", "-incoming", "defer"],
    "migscope: -incoming after --: check never loads the stream",
  ],
  [
    [SAMPLE, "--qemu", "q", "--", "--incoming", "defer"],
    "migscope: --incoming after --: check never loads the stream",
  ],
  [["--qemu", "q"], "migscope: check takes exactly one INPUT"],
];

for (const [args, line] of USAGE) {
  Deno.test(`usage: ${args.slice(1).join(" ") || "(no destination)"} → exit 2, one line`, async () => {
    const r = await runCheckCli(args);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, line + SEE + "\n");
  });
}

Deno.test("usage: an unknown option says which was meant", async () => {
  const r = await runCheckCli([SAMPLE, "--agianst", DUMP]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    "migscope: check: unknown option '--agianst' (did you mean --against?) (see migscope help check)\n",
  );
});

Deno.test("bad input is one line and exit 2: missing input, a dump that is not one, no QEMU", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/x.json`, "[1]");
  const missing = await runCheckCli([`${dir}/none.mig`, "--against", DUMP]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^migscope: check: cannot open .*none\.mig: .*\n$/);
  const notDump = await runCheckCli([SAMPLE, "--against", `${dir}/x.json`]);
  assert.equal(notDump.code, 2);
  assert.equal(
    notDump.stderr,
    `migscope: check: --against ${dir}/x.json: no 'vmschkmachine' key: not the output of QEMU's -dump-vmstate\n`,
  );
  const noQemu = await runCheckCli([SAMPLE, "--qemu", `${dir}/qemu-none`]);
  assert.equal(noQemu.code, 2);
  assert.match(noQemu.stderr, /^migscope: check: cannot run QEMU '.*qemu-none': .*\n$/);
  const json = await runCheckCli([SAMPLE, "--against", `${dir}/x.json`, "--json"]);
  assert.equal(json.code, 2);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.format, "migscope-check");
  assert.match(doc.error.message, /no 'vmschkmachine' key/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a truncated stream is bad input: the parser's one line with its offset", async () => {
  const dir = await Deno.makeTempDir();
  const bytes = await Deno.readFile(SAMPLE);
  await Deno.writeFile(`${dir}/cut.mig`, bytes.subarray(0, 200));
  const r = await runCheckCli([`${dir}/cut.mig`, "--against", DUMP]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^migscope: check: offset \d+ \(0x[0-9a-f]+\), .*truncated.*\n$/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--help prints the help (exit 0), also with other arguments", async () => {
  const r = await runCheckCli([SAMPLE, "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^usage: migscope check INPUT --qemu PATH/);
  assert.match(r.stdout, /--against DUMP\.json/);
});
