/**
 * Ctrl-C and SIGTERM while diff replays: the replays stop, their temporary directory goes,
 * one line (`migscope: interrupted`) and exit 130 / 143, as for every command.
 */
import assert from "node:assert/strict";
import { sparseDiskStream, until } from "../replay/_signal.ts";
import { MIGSCOPE } from "./_run.ts";

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${signal} during diff's replays: their temporary directory is removed, exit ${code}`, async () => {
    const dir = await Deno.makeTempDir();
    const tmp = `${dir}/tmp`;
    await Deno.mkdir(tmp);
    try {
      await sparseDiskStream(`${dir}/big.mig`, 2 * 2 ** 30);
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MIGSCOPE, "diff", `${dir}/big.mig`, `${dir}/big.mig`],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { TMPDIR: tmp },
      }).spawn();
      const replaying = () => {
        try {
          const [d] = [...Deno.readDirSync(tmp)];
          return d !== undefined && [...Deno.readDirSync(`${tmp}/${d.name}/a`)].length > 0;
        } catch {
          return false; // not made yet
        }
      };
      await until(replaying, "a replay under way");
      child.kill(signal);
      const out = await child.output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.signal, null, `the process exits by itself (${stderr})`);
      assert.equal(out.code, code, stderr);
      assert.equal(stderr, "migscope: interrupted\n");
      assert.deepEqual([...Deno.readDirSync(tmp)], []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
