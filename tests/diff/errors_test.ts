/**
 * Bad input and bad usage of `migscope diff`: exit 2, nothing on stdout (or, with --json, the
 * error document), and one line on stderr naming the side (A or B) and what is wrong.
 */
import assert from "node:assert/strict";
import { captureFile, CAPTURES_DIR } from "../_helpers.ts";
import { savedVmFile } from "../container/_saved_vms.ts";
import { channelFile } from "../report/_inputs.ts";
import { DIFF_HELP } from "../../src/cli/diff.ts";
import { runDiffCli } from "./_run.ts";

async function inputs(dir: string) {
  const capture = await captureFile("a_precopy_idle");
  const bytes = await Deno.readFile(capture);
  await Deno.writeFile(`${dir}/cut.bin`, bytes.subarray(0, 1_000_000));
  await Deno.writeTextFile(`${dir}/notes.txt`, "hello\n");
  await Deno.writeFile(`${dir}/channel.bin`, channelFile().bytes);
  await Deno.writeTextFile(`${dir}/other.json`, JSON.stringify({ page_size: 4096, devices: [] }));
  return { capture, gz: `${CAPTURES_DIR}/a_precopy_idle/capture.bin.gz` };
}

/** [arguments, the stderr line (exact, or a pattern)] for each mistake. */
function cases(
  dir: string,
  capture: string,
  gz: string,
  qcow2: string,
): [string[], string | RegExp][] {
  const see = "(see migscope help diff)";
  return [
    [[capture], `migscope: diff takes two inputs A and B, got 1 ${see}`],
    [[capture, capture, capture], `migscope: diff takes two inputs A and B, got 3 ${see}`],
    [
      ["--no-rma", capture, capture],
      `migscope: diff: unknown option '--no-rma' (did you mean --no-ram?) ${see}`,
    ],
    [
      ["--snapshot", "x", capture, capture],
      /^migscope: diff: unknown option '--snapshot' \(did you mean --snapshot-[ab]\?\)/,
    ],
    [[capture, capture, "--vmdesc-a"], `migscope: diff: --vmdesc-a needs a value ${see}`],
    [["-", capture], `migscope: diff reads each input twice: A must be a file, not '-' ${see}`],
    [
      [capture, "tcp:4444"],
      `migscope: diff reads each input twice: B must be a file, not 'tcp:4444' ${see}`,
    ],
    [
      [capture, `${dir}/missing.bin`],
      `migscope: diff: B: cannot open ${dir}/missing.bin: No such file or directory (os error 2)`,
    ],
    [
      [dir, capture],
      `migscope: diff: A: ${dir} is not a regular file (diff reads each input twice)`,
    ],
    [
      [capture, `${dir}/notes.txt`],
      `migscope: diff: B: ${dir}/notes.txt: not a QEMU migration stream: text ("hello")`,
    ],
    [
      [`${dir}/channel.bin`, capture],
      /^migscope: diff: A: .*channel\.bin: not a QEMU migration stream: .*multifd/,
    ],
    [
      [`${dir}/cut.bin`, gz],
      /^migscope: diff: A: offset 1000000 \(0xf4240\), section 2 'ram' PART at 255, RAM record at \d+: truncated/,
    ],
    [
      [gz, `${dir}/cut.bin`, "--no-ram"],
      /^migscope: diff: B: offset 1000000 \(0xf4240\), .*truncated/,
    ],
    [
      [capture, capture, "--snapshot-b", "snapA"],
      `migscope: diff: B: cannot open ${capture}: --snapshot-b applies to qcow2 images, not to a bare stream`,
    ],
    [
      [gz, capture, "--snapshot-a", "snapA"],
      `migscope: diff: A: cannot open ${gz}: --snapshot-a applies to qcow2 images, not to a gzip file`,
    ],
    [
      [qcow2, capture, "--snapshot-a", "snapC"],
      /^migscope: diff: A: cannot open .*container\.qcow2: .*snapC.*snapA.*snapB/,
    ],
    [
      [capture, capture, "--vmdesc-b", `${dir}/nope.json`],
      /^migscope: diff: B: --vmdesc-b .*nope\.json: No such file/,
    ],
    [
      [capture, capture, "--vmdesc-a", `${dir}/other.json`],
      /^migscope: diff: A: offset \d+ .*device 'timer' instance 0 is not described in the vmdesc JSON/,
    ],
  ];
}

Deno.test("diff: bad input and usage are one line on stderr, nothing on stdout, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { capture, gz } = await inputs(dir);
    const qcow2 = await savedVmFile("q1_qcow2_savevm", "container.qcow2");
    for (const [args, expected] of cases(dir, capture, gz, qcow2)) {
      const r = await runDiffCli(args);
      const what = args.join(" ");
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.equal(r.stdout, "", what);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
      if (typeof expected === "string") assert.equal(lines[0], expected, what);
      else assert.match(lines[0], expected, what);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diff --json: bad input is the error document (offset, section, record, message) and the line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { gz } = await inputs(dir);
    const r = await runDiffCli(["--json", gz, `${dir}/cut.bin`]);
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(doc), ["format", "version", "error"]);
    assert.equal(doc.format, "migscope-diff");
    assert.equal(doc.error.offset, 1_000_000);
    assert.equal(doc.error.section, "section 2 'ram' PART at 255");
    assert.match(doc.error.record, /^RAM record at \d+$/);
    assert.equal(`migscope: diff: ${doc.error.message}\n`, r.stderr);
    assert.match(doc.error.message, /^B: offset 1000000 /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diff --help and -h print the help, exit 0", async () => {
  for (const flag of ["--help", "-h"]) {
    const r = await runDiffCli([flag]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, DIFF_HELP + "\n");
  }
  assert.match(DIFF_HELP, /\nexamples:\n/);
});
