/**
 * Untrusted names in the page: a stream whose RAM blocks, device section and machine type are
 * markup, in a file whose name is markup. None of it appears in the HTML as written; the
 * embedded JSON gives every name back exactly; the page has exactly its own three script
 * elements and a Content-Security-Policy that allows only them (by sha256) and nothing from
 * the network. (tests/report_html/browser_test.ts opens the same page in Chromium.)
 */
import assert from "node:assert/strict";
import { contentSecurityPolicy, scriptJson } from "../../src/report/html/page.ts";
import { HOSTILE, hostileStream } from "./_streams.ts";
import { makeReport } from "./_report.ts";

const SAMPLE = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;

/** Writes the hostile stream under a hostile file name; resolves its path. */
export async function hostileFile(dir: string): Promise<string> {
  const path = `${dir}/${HOSTILE.img}.mig`;
  await Deno.writeFile(path, hostileStream());
  return path;
}

Deno.test("report escaping: markup names travel only as escaped JSON and come back exactly", async () => {
  const src = await Deno.makeTempDir();
  const input = await hostileFile(src);
  const { html, data, dir } = await makeReport({ input });
  try {
    for (const s of Object.values(HOSTILE)) {
      assert.ok(!html.includes(s), `${JSON.stringify(s)} is not in the HTML as written`);
    }
    assert.ok(!/<img|<svg onload|<b>/i.test(html), "no markup of the data");
    assert.deepEqual(data.ram.blocks.map((b) => b.name), [HOSTILE.img, HOSTILE.script]);
    assert.equal(data.summary.devices[0].name, HOSTILE.device);
    assert.equal(data.summary.configuration.machine, HOSTILE.machine);
    assert.equal(data.input.name, input);
    assert.equal((html.match(/<script/g) ?? []).length, 3, "the JSON and the page's two scripts");
    assert.equal((html.match(/<\/script>/g) ?? []).length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(src, { recursive: true });
  }
});

Deno.test("report escaping: the CSP allows exactly the page's inline scripts and styles, no network", async () => {
  const { html, dir } = await makeReport({ input: SAMPLE });
  await Deno.remove(dir, { recursive: true });
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
  assert.ok(csp);
  assert.ok(html.indexOf(csp) < html.indexOf("<script"), "the policy comes before any script");
  const body = (tag: string) =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => m[1]);
  const scripts = body("script");
  const styles = body("style");
  assert.equal(scripts.length, 2);
  assert.equal(styles.length, 2);
  assert.equal(csp, await contentSecurityPolicy(scripts, styles));
  const directives = Object.fromEntries(csp.split("; ").map((d) => [d.split(" ")[0], d]));
  assert.equal(directives["default-src"], "default-src 'none'");
  assert.match(
    directives["script-src"],
    /^script-src 'sha256-[A-Za-z0-9+/=]+' 'sha256-[A-Za-z0-9+/=]+'$/,
  );
  assert.ok(
    !csp.includes("unsafe-inline") && !csp.includes("unsafe-eval") && !csp.includes("http"),
  );
  assert.ok(!/\b(src|href)=["']?(https?:)?\/\//i.test(html), "nothing loaded from elsewhere");
});

Deno.test("scriptJson: <, >, &, U+2028 and U+2029 escaped; JSON.parse gives the value back", () => {
  const value = { a: "</script><!--<script>", b: "&amp;\u2028\u2029", c: [1, "x"] };
  const text = scriptJson(value);
  assert.ok(!/[<>&\u2028\u2029]/.test(text), text);
  assert.deepEqual(JSON.parse(text), value);
  assert.ok(text.includes("\\u003c/script\\u003e"));
});
