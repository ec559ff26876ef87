/**
 * The README's tap transcript: a recording made by `migscope tap --record` (e.g. by
 * `deno run -A tools/capture.ts --mode precopy --dirty --tap --out DIR`) is sent again through a
 * fresh `migscope tap --json-events` to a sink at about 2 MB/s, and the events it reports are
 * rendered by the live view (src/report/tap_view.ts) at the third dirty pass and at the end.
 *
 *   deno run -A tools/tap_transcript.ts DIR/rec
 */
import { TapView } from "../src/report/tap_view.ts";
import type { TapEvent } from "../src/tap/events.ts";

const REC = Deno.args[0] ?? "rec";
/** Terminal control sequences (cursor moves, line clears) of a live-view frame. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");
const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;
const sink = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const sinkPort = (sink.addr as Deno.NetAddr).port;
(async () => {
  for await (const c of sink) {
    (async () => {
      const b = new Uint8Array(1 << 16);
      try {
        while ((await c.read(b)) !== null) { /* discard */ }
      } catch { /* closed */ }
      try {
        c.close();
      } catch { /* closed */ }
    })();
  }
})();
const tap = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    MAIN,
    "tap",
    "--listen",
    "127.0.0.1:0",
    "--to",
    `127.0.0.1:${sinkPort}`,
    "--json-events",
  ],
  stdout: "piped",
  stderr: "piped",
}).spawn();
const errR = tap.stderr.pipeThrough(new TextDecoderStream()).getReader();
let port = 0, errText = "";
while (!port) {
  const { value, done } = await errR.read();
  if (done) break;
  errText += value;
  const m = /listening on 127\.0\.0\.1:(\d+)/.exec(errText);
  if (m) port = Number(m[1]);
}
const outP = new Response(tap.stdout).text();
async function send(file: string, delayMs: number, before?: Promise<unknown>) {
  await new Promise((r) => setTimeout(r, delayMs));
  const data = await Deno.readFile(file);
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  const step = 16 << 10;
  for (let i = 0; i < data.length; i += step) {
    if (before && i + step >= data.length) await before;
    let w = 0;
    const b = data.subarray(i, i + step);
    while (w < b.length) w += await c.write(b.subarray(w));
    await new Promise((r) => setTimeout(r, 8));
  }
  c.closeWrite();
  const b = new Uint8Array(100);
  try {
    while ((await c.read(b)) !== null) { /* discard */ }
  } catch { /* closed */ }
  c.close();
}
const files = [...Deno.readDirSync(REC)].map((e) => e.name).filter((n) => n.endsWith(".s2d.bin"))
  .sort();
const chans = Promise.all(files.slice(1).map((f, i) => send(`${REC}/${f}`, 30 + i * 10)));
await Promise.all([send(`${REC}/${files[0]}`, 0, chans), chans]);
await tap.status;
const events: TapEvent[] = (await outP).trim().split("\n").map((l) => JSON.parse(l));
sink.close();
let now = 0;
const frames: string[] = [];
const view = new TapView((s) => frames.push(s), { width: 100, now: () => now });
const mid = events.filter((e) => e.type === "pass").length > 2
  ? events.filter((e) => e.type === "pass")[2].t
  : events[Math.floor(events.length / 2)].t;
let last = "";
for (const e of events) {
  now = e.t;
  view.event(e);
  if (e.t >= mid && !last) {
    view.tick();
    last = frames.at(-1) ?? "";
  }
}
console.log("----FRAME----\n" + last.replace(ANSI, "").replace(/\r/g, ""));
console.log("----FINISH----\n" + view.finish());
