/**
 * emit refuses, before any work, with one line and exit 2: options it would not act on
 * (--zero-blocks without --disk, --machine/--no-footers with --template, XBZRLE or
 * --no-footers with --mapped-ram), cache sizes QEMU rejects, and outputs it cannot write
 * (-o DIR, -o in a missing directory, -o onto one of its inputs). Nothing is left behind.
 */
import assert from "node:assert/strict";
import { captureFile, runCli, sha256File } from "../_helpers.ts";

function oneLineError(r: { code: number; stdout: string; stderr: string }, re: RegExp) {
  assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^migscope: /);
  assert.match(lines[0], re);
}

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

async function images() {
  const dir = await Deno.makeTempDir();
  const ram = new Uint8Array(64 * 4096);
  for (let i = 0; i < ram.length; i += 4096) ram[i + (i >> 12)] = 1 + (i >> 12);
  await Deno.writeFile(`${dir}/ram.img`, ram);
  await Deno.writeFile(`${dir}/disk.img`, new Uint8Array(1 << 20));
  return dir;
}

Deno.test("emit: options nothing would act on are exit 2 with one line, and no output", async () => {
  const dir = await images();
  const tpl = await captureFile("a_precopy_idle");
  const base = ["emit", "--ram", `pc.ram=${dir}/ram.img`, "-o", `${dir}/out.mig`];
  const cases: [string[], RegExp][] = [
    [["--zero-blocks"], /--zero-blocks .* needs --disk/],
    [["--template", tpl, "--machine", "pc-q35-7.2"], /--machine: the template's configuration/],
    [["--template", tpl, "--no-footers"], /--no-footers: the template decides/],
    [["--mapped-ram", "--xbzrle"], /--mapped-ram .*--xbzrle/],
    [["--mapped-ram", "--xbzrle-cache", "1M"], /--mapped-ram .*--xbzrle/],
    [["--mapped-ram", "--no-footers"], /--mapped-ram streams always have section footers/],
  ];
  for (const [extra, re] of cases) oneLineError(await runCli([...base, ...extra]), re);
  assert.deepEqual(entries(dir), ["disk.img", "ram.img"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("emit --xbzrle-cache: sizes QEMU rejects (0, not a power of two, under a page) are exit 2; 4K is taken", async () => {
  const dir = await images();
  const base = ["emit", "--ram", `pc.ram=${dir}/ram.img`, "-o", `${dir}/out.mig`, "--xbzrle"];
  for (const size of ["0", "3M", "2048", "100000"]) {
    oneLineError(
      await runCli([...base, "--xbzrle-cache", size]),
      new RegExp(`--xbzrle-cache ${size}: .*power of two`),
    );
  }
  assert.deepEqual(entries(dir), ["disk.img", "ram.img"]);
  const ok = await runCli([...base, "--xbzrle-cache", "4K", "--stats"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout)["xbzrle-cache"]["cache-size"], 4096);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("emit -o DIR, -o in a missing directory, -o onto an input: exit 2 naming the path, inputs unchanged", async () => {
  const dir = await images();
  const ram = `${dir}/ram.img`;
  const before = await sha256File(ram);
  oneLineError(
    await runCli(["emit", "--ram", `pc.ram=${ram}`, "-o", dir]),
    new RegExp(`-o ${dir}: is a directory`),
  );
  oneLineError(
    await runCli(["emit", "--ram", `pc.ram=${ram}`, "-o", `${dir}/no/such/out.mig`]),
    new RegExp(`-o ${dir}/no/such/out.mig: directory ${dir}/no/such does not exist`),
  );
  oneLineError(
    await runCli(["emit", "--ram", `pc.ram=${ram}`, "-o", ram]),
    /the output would overwrite an input \(--ram pc\.ram=/,
  );
  oneLineError(
    await runCli([
      "emit",
      "--ram",
      `pc.ram=${ram}`,
      "--disk",
      `d=${dir}/disk.img`,
      "-o",
      `${dir}/disk.img`,
    ]),
    /the output would overwrite an input \(--disk d=/,
  );
  assert.equal(await sha256File(ram), before);
  assert.deepEqual(entries(dir), ["disk.img", "ram.img"]);
  await Deno.remove(dir, { recursive: true });
});
