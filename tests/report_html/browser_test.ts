/**
 * The report in a real browser: Debian's Chromium, headless, driven over the DevTools
 * Protocol (tests/report_html/_cdp.ts). For a stream of markup names, a 64 GiB guest and real
 * captures: no console error, exception or CSP violation, no request but the file itself, no
 * dialog, no injected element; the charts drawn (timeline SVG, uPlot canvases, RAM map pixels);
 * wheel zoom and the map's colour toggle work; the numbers shown equal inspect --json. The open
 * time of the big report is printed (not asserted); a screenshot of a real capture's report is
 * saved (MIGSCOPE_SCREENSHOT=1 also writes it to docs/report.png). Skipped, saying so, without
 * Chromium (CI installs Debian's `chromium`).
 */
import assert from "node:assert/strict";
import { captureFile, captureNames } from "../_helpers.ts";
import { Chromium, findChromium, type Page } from "./_cdp.ts";
import { inspectJson, makeReport } from "./_report.ts";
import { bigGuestStream, HOSTILE, hostileStream } from "./_streams.ts";

const EXE = findChromium();
const SAMPLE = new URL("../../samples/small-xbzrle.mig", import.meta.url).pathname;
const DOCS_PNG = new URL("../../docs/report.png", import.meta.url).pathname;
const num = (s: string) => Number(s.replaceAll(",", ""));

/** What every report page must not do, and the charts it must draw. */
async function assertClean(page: Page, url: string) {
  const l = page.log;
  assert.deepEqual(l.exceptions, [], "no exception");
  assert.deepEqual(l.console.filter((c) => c.type === "error" || c.type === "assert"), []);
  assert.deepEqual(
    l.log.filter((e) => e.level === "error"),
    [],
    "no error (CSP violations land here)",
  );
  assert.deepEqual(l.requests, [url], "no request but the file itself");
  assert.deepEqual(l.dialogs, [], "no dialog");
  const r = await page.eval(`(() => {
    const size = (sel) => [...document.querySelectorAll(sel)].map((e) => {
      const b = e.getBoundingClientRect();
      return b.width > 0 && b.height > 0;
    });
    const painted = [...document.querySelectorAll('canvas[data-test^=ram-map-]')].map((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] && (d[i] < 250 || d[i + 1] < 250)) n++;
      return n;
    });
    return { timeline: size('svg[data-test=timeline]'), bands: document.querySelectorAll('rect[data-band]').length,
      charts: size('[data-test^=chart-] canvas'), maps: size('canvas[data-test^=ram-map-]'), painted,
      rendered: Number(document.body.getAttribute('data-rendered-ms')) };
  })()`);
  assert.deepEqual(r.timeline, [true], "the timeline is drawn");
  assert.ok(r.bands > 0, "with bands");
  assert.ok(r.charts.length >= 2 && r.charts.every(Boolean), "the pass charts are drawn");
  assert.ok(r.maps.length > 0 && r.maps.every(Boolean), "the RAM maps are drawn");
  assert.ok(r.painted.some((n: number) => n > 0), "with coloured cells");
  assert.ok(r.rendered > 0, "main() finished");
  return r;
}

/** The text of every [data-test] element, by its data-test value. */
async function shown(page: Page): Promise<Record<string, string>> {
  return await page.eval(
    "Object.fromEntries([...document.querySelectorAll('[data-test]')].map((e) => [e.getAttribute('data-test'), e.textContent]))",
  );
}

/** The numbers the page shows equal inspect --json's. */
// deno-lint-ignore no-explicit-any
function assertNumbers(t: Record<string, string>, doc: any) {
  const s = doc.summary;
  assert.deepEqual(
    ["stream-bytes", "ram-page", "ram-zero", "ram-xbzrle", "ram-compressed", "passes", "devices"]
      .map((k) => num(t[k])),
    [
      s.stream.bytes,
      s.ram.page,
      s.ram.zero,
      s.ram.xbzrle,
      s.ram.compressed,
      s.passes.length,
      s.devices.length,
    ],
  );
  for (const p of s.passes) {
    assert.equal(num(t[`pass-pages-${p.index}`]), p.pages);
    assert.equal(num(t[`pass-bytes-${p.index}`]), p.bytes);
  }
  s.devices.forEach((d: { name: string; size: number }, i: number) => {
    assert.equal(t[`device-name-${i}`], d.name);
    assert.equal(num(t[`device-size-${i}`]), d.size);
  });
  s.block.devices.forEach((d: { name: string; data: number; zero: number }, i: number) => {
    assert.deepEqual(
      [t[`block-device-${i}`], num(t[`block-data-${i}`]), num(t[`block-zero-${i}`])],
      [d.name, d.data, d.zero],
    );
  });
  if (s.ram.xbzrle) {
    assert.deepEqual(
      [num(t["xbzrle-pages"]), num(t["xbzrle-bytes"]), num(t["xbzrle-record-bytes"])],
      [s.ram.xbzrle, s.ram.xbzrleBytes, s.ram.xbzrleRecordBytes],
    );
    assert.equal(t["xbzrle-saving"], `${(s.ram.xbzrleSaving * 100).toFixed(1)}%`);
  }
  s.ram.blocks.forEach((b: { name: string }, i: number) =>
    assert.equal(t[`ram-block-name-${i}`], b.name)
  );
}

/** Wheel over the timeline zooms it; hovering a map cell tells it; the colour toggle redraws. */
async function interact(page: Page) {
  const center = async (sel: string) =>
    await page.eval(`(() => { const e = document.querySelector(${JSON.stringify(sel)});
      e.scrollIntoView({ block: 'center' }); const b = e.getBoundingClientRect();
      return [b.left + b.width / 2, b.top + b.height / 2]; })()`);
  const view = () => page.eval("document.querySelector('[data-test=timeline-view]').textContent");
  const before = await view();
  const [x, y] = await center("svg[data-test=timeline]");
  await page.browser.send("Input.dispatchMouseEvent", {
    type: "mouseWheel",
    x,
    y,
    deltaX: 0,
    deltaY: -400,
  }, page.session);
  await new Promise((r) => setTimeout(r, 100));
  assert.notEqual(await view(), before, "the wheel zoomed the timeline");
  const [mx, my] = await center("canvas[data-test=ram-map-0]");
  await page.browser.send(
    "Input.dispatchMouseEvent",
    { type: "mouseMoved", x: mx, y: my },
    page.session,
  );
  assert.match(
    await page.eval("document.querySelector('[data-test=ram-tip-0]').textContent"),
    /^pages \d/,
  );
  const pixels = "(() => { const c = document.querySelector('canvas[data-test=ram-map-0]'); " +
    "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data).join(); })()";
  const kinds = await page.eval(pixels);
  const [rx, ry] = await center("[data-test=map-mode-sends]");
  for (const type of ["mousePressed", "mouseReleased"]) {
    await page.browser.send("Input.dispatchMouseEvent", {
      type,
      x: rx,
      y: ry,
      button: "left",
      clickCount: 1,
    }, page.session);
  }
  assert.notEqual(await page.eval(pixels), kinds, "colouring by sends redraws the map");
}

async function open(browser: Chromium, path: string): Promise<Page> {
  const page = await browser.open(`file://${path}`);
  return page;
}

Deno.test("report in Chromium: hostile names, a 64 GiB guest, real captures", async (t) => {
  if (!EXE) {
    console.log("skipped: no Chromium (/usr/bin/chromium); CI installs Debian's chromium");
    return;
  }
  const browser = await Chromium.launch(EXE);
  const tmp = await Deno.makeTempDir({ prefix: "migscope-browser-" });
  try {
    await t.step("markup names render as text; nothing injected, no dialog", async () => {
      const input = `${tmp}/${HOSTILE.img}.mig`;
      await Deno.writeFile(input, hostileStream());
      const { path } = await makeReport({ input });
      const page = await open(browser, path);
      await assertClean(page, `file://${path}`);
      const r = await page.eval(`(() => ({
        imgs: document.querySelectorAll('img').length,
        scripts: document.querySelectorAll('script').length,
        handlers: [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name))
          .filter((n) => n.startsWith('on')).length,
        names: [0, 1].map((i) => document.querySelector('[data-test=ram-block-name-' + i + ']').textContent),
        device: document.querySelector('[data-test=device-name-0]').textContent,
        machine: document.querySelector('[data-test=machine]').textContent,
        file: document.querySelector('[data-test=input-name]').textContent,
        title: document.title,
      }))()`);
      assert.deepEqual([r.imgs, r.scripts, r.handlers], [0, 3, 0], "no injected element");
      assert.deepEqual(r.names, [HOSTILE.img, HOSTILE.script], "the names as text");
      assert.deepEqual([r.device, r.machine, r.file], [HOSTILE.device, HOSTILE.machine, input]);
      assert.ok(r.title.endsWith(input));
      await new Promise((res) => setTimeout(res, 300));
      assert.deepEqual(page.log.dialogs, [], "no dialog, even later");
      await page.close();
    });
    await t.step("a 64 GiB guest's report opens (time printed)", async () => {
      const { path, data } = await makeReport({ input: bigGuestStream() });
      const t0 = performance.now();
      const page = await open(browser, path);
      const wall = performance.now() - t0;
      const r = await assertClean(page, `file://${path}`);
      const size = (await Deno.stat(path)).size;
      console.log(
        `64 GiB guest: ${size} bytes of HTML rendered ${r.rendered} ms after navigation (load event after ${
          wall.toFixed(0)
        } ms)`,
      );
      const cells = await page.eval(
        "document.querySelector('canvas[data-test=ram-map-0]').getAttribute('data-cells')",
      );
      assert.equal(Number(cells), data.ram.blocks[0].cells);
      await page.close();
    });
    const captures = captureNames();
    const inputs = [
      ...["b_xbzrle", "c_block_zero_blocks"].filter((c) => captures.includes(c)).map((c) =>
        captureFile(c)
      ),
      Promise.resolve(SAMPLE),
    ];
    for (const [i, p] of inputs.entries()) {
      const input = await p;
      await t.step(
        `numbers shown equal inspect --json: ${input.split("/").slice(-2).join("/")}`,
        async () => {
          const { path } = await makeReport({ input });
          const page = await open(browser, path);
          await assertClean(page, `file://${path}`);
          assertNumbers(await shown(page), await inspectJson([input]));
          if (i === 0) {
            const png = await page.screenshot(2400);
            const out = `${Deno.env.get("TMPDIR") ?? "/tmp"}/migscope-report-test.png`;
            await Deno.writeFile(out, png);
            console.log(`screenshot: ${out} (${png.length} bytes)`);
            if (Deno.env.get("MIGSCOPE_SCREENSHOT")) await Deno.writeFile(DOCS_PNG, png);
            await interact(page);
            assert.deepEqual(page.log.exceptions, []);
          }
          await page.close();
        },
      );
    }
  } finally {
    await browser.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
