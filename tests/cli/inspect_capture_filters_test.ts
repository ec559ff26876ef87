/**
 * Record filters (--block, --kind, --pass, --section) on a multifd channel capture or a
 * cpr-transfer capture, and --records on a cpr capture: neither acts on them, so each is
 * exit 2 with one line naming the option (before, exit 0 with every row shown).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runCli } from "../_helpers.ts";
import { channelFile } from "../report/_inputs.ts";

const CPR = fileURLToPath(new URL("../data/cpr/cpr.bin", import.meta.url));

async function rejected(args: string[], message: RegExp): Promise<void> {
  const r = await runCli(["inspect", ...args]);
  assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  assert.equal(r.stdout, "", args.join(" "));
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], message);
}

Deno.test("inspect: record filters on a multifd channel capture are exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ch = `${dir}/channel1.bin`;
    await Deno.writeFile(ch, channelFile().bytes);
    const magic = /multifd channel capture \(magic 0x11223344\): /;
    await rejected([ch, "--records", "--block", "nosuch", "--kind", "xbzrle"], magic);
    await rejected([ch, "--records", "--block", "nosuch"], /--block does not apply to it$/);
    await rejected([ch, "--records", "--kind", "xbzrle"], /--kind does not apply to it$/);
    await rejected([ch, "--records", "--pass", "2"], /--pass does not apply to it$/);
    await rejected([ch, "--records", "--section", "3"], /--section does not apply to it$/);
    // Without a filter --records still lists the channel's packets.
    const ok = await runCli(["inspect", ch, "--records"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.notEqual(ok.stdout, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect: --records and record filters on a cpr capture are exit 2", async () => {
  const magic = /cpr-transfer channel capture \(magic QCPR\): /;
  await rejected([CPR, "--records"], magic);
  await rejected([CPR, "--records"], /--records does not apply to it$/);
  await rejected([CPR, "--records", "--block", "nosuch"], /--records does not apply to it$/);
  const ok = await runCli(["inspect", CPR]);
  assert.equal(ok.code, 0, ok.stderr);
});
