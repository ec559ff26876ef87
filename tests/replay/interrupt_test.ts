/**
 * Ctrl-C and SIGTERM during a replay: every `.partial` output is removed, images written in
 * place are restored, and the process exits 130 / 143 with one line. The real CLI, signalled
 * while it reads a real capture from a pipe, or while it replays a large (sparse) file.
 */
import assert from "node:assert/strict";
import { captureFile, sha256File } from "../_helpers.ts";
import {
  assertInterrupted,
  entries,
  sizeOf,
  sparseDiskStream,
  spawnCli,
  until,
} from "./_signal.ts";

/** Feeds the first `bytes` of `file` to the child's stdin and leaves the pipe open. */
async function feedPart(child: Deno.ChildProcess, file: string, bytes: number) {
  const data = (await Deno.readFile(file)).subarray(0, bytes);
  const w = child.stdin.getWriter();
  await w.write(data);
  return w;
}

Deno.test("SIGINT while replay waits for more of a piped capture: partial images removed, exit 130", async () => {
  const cap = await captureFile("b_xbzrle");
  const dir = await Deno.makeTempDir();
  const child = spawnCli(["replay", "-", "--out", `${dir}/out`], { stdin: true });
  const w = await feedPart(child, cap, 12_000_000);
  await until(() => sizeOf(`${dir}/out/pc.ram.ram.partial`) > 0, "the partial image");
  child.kill("SIGINT");
  await assertInterrupted(child, 130);
  await w.close().catch(() => {});
  assert.deepEqual(entries(`${dir}/out`), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("SIGTERM during the replay of a large file: partial images removed, exit 143", async () => {
  const dir = await Deno.makeTempDir();
  await sparseDiskStream(`${dir}/big.mig`, 3 * 2 ** 30);
  const child = spawnCli(["replay", `${dir}/big.mig`, "--out", `${dir}/out`]);
  await until(() => sizeOf(`${dir}/out/disk0.disk.partial`) >= 0, "the partial disk");
  child.kill("SIGTERM");
  await assertInterrupted(child, 143);
  assert.deepEqual(entries(`${dir}/out`), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("SIGTERM during an --in-place replay: the image is restored byte for byte, exit 143", async () => {
  const cap = await captureFile("a_precopy_idle");
  const oracle = await captureFile("a_precopy_idle", "oracle.pc.ram");
  const dir = await Deno.makeTempDir();
  const tmp = `${dir}/tmp`;
  await Deno.mkdir(tmp);
  await Deno.copyFile(oracle, `${dir}/base.ram`);
  const f = await Deno.open(`${dir}/base.ram`, { write: true });
  await f.write(new Uint8Array(4096).fill(0x77)); // page 0: the bulk pass rewrites it
  f.close();
  const before = await sha256File(`${dir}/base.ram`);
  const mtime = () => Deno.statSync(`${dir}/base.ram`).mtime?.getTime();
  const untouched = mtime();
  const child = spawnCli([
    "replay",
    "-",
    "--out",
    `${dir}/out`,
    "--ram",
    `pc.ram=${dir}/base.ram`,
    "--in-place",
  ], { stdin: true, env: { TMPDIR: tmp } });
  const w = await feedPart(child, cap, 7_000_000);
  // The journal exists once the replay is about to overwrite something in the image.
  await until(() => entries(tmp).length > 0 || mtime() !== untouched, "a write to the image");
  child.kill("SIGTERM");
  await assertInterrupted(child, 143);
  await w.close().catch(() => {});
  assert.equal(await sha256File(`${dir}/base.ram`), before, "the in-place image is restored");
  assert.deepEqual(entries(`${dir}/out`), []);
  assert.deepEqual(entries(tmp), [], "the journal is deleted");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("SIGINT during verify of a piped capture: its temporary directory is removed, exit 130", async () => {
  const cap = await captureFile("b_xbzrle");
  const oracle = await captureFile("b_xbzrle", "oracle.pc.ram");
  const tmp = await Deno.makeTempDir();
  const child = spawnCli(["verify", "-", "--expect", `pc.ram=${oracle}`], {
    stdin: true,
    env: { TMPDIR: tmp },
  });
  const w = await feedPart(child, cap, 12_000_000);
  await until(
    () => entries(tmp).length > 0 && entries(`${tmp}/${entries(tmp)[0]}`).length > 0,
    "outputs",
  );
  child.kill("SIGINT");
  await assertInterrupted(child, 130);
  await w.close().catch(() => {});
  assert.deepEqual(entries(tmp), [], "no migscope-verify-* folder is left");
  await Deno.remove(tmp, { recursive: true });
});
