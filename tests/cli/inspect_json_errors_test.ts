/**
 * One error shape in every JSON output of `inspect`: `{offset, section, record, message}`,
 * with `format` and `version` at the top of every document (before: `--json` had
 * `{message, offset}`, `--ndjson` and `--device-state` a bare string, and no format field).
 */
import assert from "node:assert/strict";
import { captureFile, runCli } from "../_helpers.ts";
import { channelFile } from "../report/_inputs.ts";

async function cutCapture(dir: string): Promise<string> {
  const full = await Deno.readFile(await captureFile("a_precopy_idle"));
  await Deno.writeFile(`${dir}/cut.bin`, full.subarray(0, 5_000_003));
  return `${dir}/cut.bin`;
}

/** The stderr line without `migscope: `. */
function stderrLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, stderr);
  return lines[0].replace(/^migscope: /, "");
}

Deno.test("inspect --json, --ndjson, --device-state: the same error object, format and version first", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cut = await cutCapture(dir);
    const j = await runCli(["inspect", "--json", cut]);
    assert.equal(j.code, 2);
    const doc = JSON.parse(j.stdout);
    assert.deepEqual(Object.keys(doc), ["format", "version", "summary", "timeline", "error"]);
    assert.deepEqual([doc.format, doc.version], ["migscope-inspect", 1]);
    const error = doc.error;
    assert.deepEqual(Object.keys(error), ["offset", "section", "record", "message"]);
    assert.equal(error.message, stderrLine(j.stderr));
    assert.match(error.section, /^section 2 'ram' (PART|END) at \d+$/);
    assert.match(error.record, /^(PAGE|ZERO|RAM) record at \d+$/);
    assert.ok(error.message.startsWith(`offset ${error.offset} (0x${error.offset.toString(16)})`));

    const n = await runCli(["inspect", "--ndjson", cut]);
    assert.equal(n.code, 2);
    const lines = n.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines[0], { kind: "format", format: "migscope-inspect-ndjson", version: 1 });
    assert.equal(lines.at(-2).kind, "summary");
    assert.equal("error" in lines.at(-2), false, "the summary line holds no error");
    assert.deepEqual(lines.at(-1), { kind: "error", error });

    const d = await runCli(["inspect", "--device-state", cut]);
    assert.equal(d.code, 2);
    const dev = JSON.parse(d.stdout);
    assert.deepEqual(Object.keys(dev), ["format", "version", "devices", "error"]);
    assert.equal(dev.format, "migscope-device-state");
    assert.deepEqual(dev.error, error);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect --json of a file that is not a stream: format, version and the error only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/empty.bin`, new Uint8Array(0));
    const r = await runCli(["inspect", "--json", `${dir}/empty.bin`]);
    assert.equal(r.code, 2);
    const message = "offset 0 (0x0), file header: not a QEMU migration stream: the input is empty";
    assert.equal(stderrLine(r.stderr), message);
    assert.deepEqual(JSON.parse(r.stdout), {
      format: "migscope-inspect",
      version: 1,
      error: { offset: 0, section: null, record: "file header", message },
    });
    const n = await runCli(["inspect", "--ndjson", `${dir}/empty.bin`]);
    assert.deepEqual(n.stdout.trimEnd().split("\n").map((l) => JSON.parse(l)), [
      { kind: "format", format: "migscope-inspect-ndjson", version: 1 },
      { kind: "error", error: { offset: 0, section: null, record: "file header", message } },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect --json of a multifd channel: format and version, the same error object", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = channelFile().bytes;
    await Deno.writeFile(`${dir}/ch.bin`, bytes.subarray(0, bytes.length - 100));
    const r = await runCli(["inspect", "--json", `${dir}/ch.bin`]);
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(doc), ["format", "version", "channel", "error"]);
    assert.equal(doc.format, "migscope-channel");
    assert.deepEqual(Object.keys(doc.error), ["offset", "section", "record", "message"]);
    assert.equal(doc.error.message, stderrLine(r.stderr));
    assert.equal(typeof doc.error.offset, "number");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
