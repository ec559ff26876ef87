/**
 * The command line as users meet it: --version, help for every command, argument mistakes told
 * in one line of our own words with "did you mean", and every option the help lists accepted.
 */
import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";
import { HELP, optionsOf } from "../../src/cli/help.ts";
import { VERSION } from "../../src/cli/main.ts";

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, stderr);
  return lines[0];
}

Deno.test("--version prints the version and exits 0", async () => {
  const r = await runCli(["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, new RegExp(`^migscope ${VERSION.replaceAll(".", "\\.")} \\(deno `));
});

Deno.test("help, help CMD, CMD --help and CMD -h print the command's own options", async () => {
  const top = await runCli(["help"]);
  assert.equal(top.code, 0);
  for (const cmd of ["inspect", "replay", "verify", "emit"]) {
    assert.match(top.stdout, new RegExp(`\\n  ${cmd} `));
  }
  assert.match(top.stdout, /exit codes: 0 success · 1 differences found/);
  for (const cmd of Object.keys(HELP)) {
    for (const args of [["help", cmd], [cmd, "--help"], [cmd, "-h"]]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, HELP[cmd] + "\n", args.join(" "));
      assert.match(r.stdout, /\nexamples:\n/);
    }
  }
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^migscope .*\n\nusage: migscope <command>/);
});

Deno.test("argument mistakes: one line, our words, did you mean, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["inspect", "--recrods", "x"],
      /^migscope: inspect: unknown option '--recrods' \(did you mean --records\?\)/,
    ],
    [["replay", "--chanel", "a", "x"], /unknown option '--chanel' \(did you mean --channel\?\)/],
    [["emit", "--tempate", "x"], /unknown option '--tempate' \(did you mean --template\?\)/],
    [["emit", "--libvirt-sav", "--xml", "x"], /'--libvirt-sav' \(did you mean --libvirt-save\?\)/],
    [["inspct", "x"], /^migscope: unknown command 'inspct' \(did you mean inspect\?\)/],
    [["replay", "x", "--out"], /^migscope: replay: --out needs a value/],
    [["emit", "stray", "--ram", "a=b"], /^migscope: emit: unexpected argument 'stray'/],
    [["help", "inspekt"], /^migscope: no help for 'inspekt' \(did you mean inspect\?\)/],
    [["inspect", "--json", "--ndjson", "x"], /exclude each other \(see migscope help inspect\)$/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const line = oneLine(r.stderr);
    assert.match(line, re);
    assert.doesNotMatch(line, /To specify a positional argument|ERR_PARSE_ARGS|internal error/);
  }
});

Deno.test("every option a command's help lists is one its parser accepts", async () => {
  for (const cmd of Object.keys(HELP)) {
    for (const opt of optionsOf(cmd)) {
      if (opt === "--help") continue;
      const r = await runCli([cmd, opt, "x"]);
      assert.doesNotMatch(r.stderr, /unknown option/, `${cmd} ${opt}: ${r.stderr}`);
    }
  }
});
