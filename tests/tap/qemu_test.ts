/**
 * Real QEMU precopy migrations through `migscope tap` (ignored without QEMU): the migration
 * completes, the recording replays to exactly the destination's RAM, the NDJSON events tell the
 * connection, the sections, the commands (none on 7.2, SWITCHOVER_START on 10.0) and a complete
 * end; a destination with another RAM size refuses the stream and the tap exits 1 naming where
 * the stream stopped and that the destination closed first.
 */
import assert from "node:assert/strict";
import { qemu10, qemu72, type QemuBinary } from "../../tools/qemu.ts";
import { runCli, sha256File } from "../_helpers.ts";
import { migrateThroughTap, patternedRam } from "./_qemu.ts";

const QEMUS: [string, QemuBinary | undefined, string[]][] = [
  ["7.2", qemu72(), []],
  ["10.0", qemu10(), ["SWITCHOVER_START"]],
];

for (const [name, qemu, commands] of QEMUS) {
  Deno.test({
    name:
      `QEMU ${name} precopy through migscope tap --record: completes, exit 0, the recording replays to the destination's RAM, events tell connection, sections, commands and end`,
    ignore: !qemu,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "migscope-tap-qemu-" });
      const r = await migrateThroughTap({
        qemu: qemu!,
        dir,
        ram: patternedRam(64),
        tapArgs: ["--record", `${dir}/rec`],
      });
      assert.equal(r.srcStatus, "completed", r.tap.stderr);
      assert.equal(r.dstStatus, "completed", r.tap.stderr);
      assert.equal(r.tap.code, 0, r.tap.stderr);
      const replay = /migscope: replay with: migscope replay (\S+) --out OUT/.exec(r.tap.stderr);
      assert.equal(replay?.[1], `${dir}/rec/0-main.s2d.bin`);
      const rr = await runCli(["replay", replay![1], "--out", `${dir}/out`]);
      assert.equal(rr.code, 0, rr.stderr);
      assert.equal(await sha256File(`${dir}/out/pc.ram.ram`), await sha256File(r.dstRam));
      const ev = r.events;
      assert.deepEqual(
        ev.filter((e) => e.type === "connection").map((e) => [e.n, e.kind]),
        [[0, "main"]],
      );
      const sections = ev.filter((e) => e.type === "section");
      assert.ok(sections.some((e) => e.idstr === "ram" && e.section === "START"));
      assert.ok(sections.some((e) => e.idstr === "ram" && e.section === "END"));
      assert.ok(sections.some((e) => e.section === "FULL"), "device sections");
      assert.deepEqual(ev.filter((e) => e.type === "command").map((e) => e.name), commands);
      assert.ok(ev.some((e) => e.type === "pass"));
      assert.ok(ev.some((e) => e.type === "close" && e.n === 0));
      assert.deepEqual(ev.filter((e) => e.type === "parse-error"), []);
      const end = ev.at(-1)!;
      assert.deepEqual([end.type, end.complete], ["end", true]);
      const m = JSON.parse(await Deno.readTextFile(`${dir}/rec/manifest.json`));
      assert.equal(m.outcome, "complete");
      await Deno.remove(dir, { recursive: true });
    },
  });
}

Deno.test({
  name:
    "QEMU 7.2: a destination with another RAM size rejects the migration; the tap exits 1 naming where the stream stopped and that the destination closed first",
  ignore: !qemu72(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "migscope-tap-qemu-" });
    const r = await migrateThroughTap({
      qemu: qemu72()!,
      dir,
      ram: patternedRam(64),
      dstMiB: 128,
    });
    assert.equal(r.srcStatus, "failed");
    assert.equal(r.tap.code, 1, r.tap.stderr);
    const line = r.tap.stderr.trimEnd().split("\n").at(-1)!;
    assert.match(
      line,
      /^migscope: migration incomplete: the main stream stopped at offset \d+ \(0x[0-9a-f]+\), section 2 'ram' .*; the destination closed the main connection first$/,
    );
    const end = r.events.at(-1)!;
    assert.deepEqual([end.type, end.complete, end.firstClose], ["end", false, "destination"]);
    await Deno.remove(dir, { recursive: true });
  },
});
