/**
 * `inspect` option combinations it would not act on: each is exit 2 with one line on stderr
 * and nothing on stdout (before, the extra option was silently dropped and the exit was 0).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runCli } from "../_helpers.ts";
import { channelFile } from "../report/_inputs.ts";

const SAMPLE = fileURLToPath(new URL("../../samples/small-block.mig", import.meta.url));

async function rejected(args: string[], message: RegExp): Promise<void> {
  const r = await runCli(["inspect", ...args]);
  assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  assert.equal(r.stdout, "", args.join(" "));
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], message);
}

Deno.test("inspect: output options that exclude each other are exit 2 with one line", async () => {
  await rejected(["--json", "--records", SAMPLE], /^migscope: --records lists records as text/);
  await rejected(["--ndjson", "--records", SAMPLE], /^migscope: --ndjson already writes every/);
  await rejected(["--records", "--device-state", SAMPLE], /--device-state and --records/);
  await rejected(["--ndjson", "--device-state", SAMPLE], /--device-state writes one JSON/);
  await rejected(["--json", "--ndjson", SAMPLE], /--json and --ndjson exclude each other/);
});

Deno.test("inspect: options a multifd channel capture ignores are exit 2 naming the option", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ch = `${dir}/channel1.bin`;
    await Deno.writeFile(ch, channelFile().bytes);
    await rejected(
      ["--device-state", ch],
      /^migscope: offset 0 \(0x0\), file header: a multifd channel capture \(magic 0x11223344\): --device-state does not apply to it$/,
    );
    await rejected(["--vmdesc", SAMPLE, ch], /--vmdesc does not apply/);
    await rejected(["--footers", "on", ch], /--footers does not apply/);
    await rejected(["--hugepage-block", "pc.ram", ch], /--hugepage-block does not apply/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect --quiet: nothing on stdout, only the error line on stderr, the exit code", async () => {
  const ok = await runCli(["inspect", "--quiet", SAMPLE]);
  assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, "", ""]);
  const dir = await Deno.makeTempDir();
  try {
    const bytes = await Deno.readFile(SAMPLE);
    await Deno.writeFile(`${dir}/cut.mig`, bytes.subarray(0, 100_000));
    const bad = await runCli(["inspect", "--quiet", `${dir}/cut.mig`]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, /^migscope: offset \d+ \(0x[0-9a-f]+\), [^\n]*\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  for (const flag of ["--json", "--ndjson", "--records", "--device-state"]) {
    await rejected(
      ["--quiet", flag, SAMPLE],
      new RegExp(`^migscope: --quiet prints no report, ${flag} asks for one: give one of them`),
    );
  }
});
