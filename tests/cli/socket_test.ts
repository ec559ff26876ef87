/**
 * `inspect tcp:PORT` receives a live migration: the stream arrives over a socket, as from
 * `migrate tcp:HOST:PORT`, and gives the same summary as the file.
 */
import assert from "node:assert/strict";
import { runInspect } from "../../src/commands/inspect.ts";
import { memoryOut } from "../../src/commands/io.ts";
import { captureFile, summarize } from "../_helpers.ts";

Deno.test("inspect tcp:0 listens, receives a capture over the socket and summarises it like the file", async () => {
  const path = await captureFile("b_xbzrle");
  const out = memoryOut();
  let sent: Promise<void> | undefined;
  const res = await runInspect({
    input: "tcp:127.0.0.1:0",
    format: "json",
    records: false,
    deviceState: false,
    onListen(port) {
      sent = (async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        const f = await Deno.open(path);
        await f.readable.pipeTo(conn.writable);
      })();
    },
  }, out);
  await sent;
  assert.equal(res.code, 0, res.error);
  const fromFile = await summarize(path);
  assert.deepEqual(JSON.parse(out.text()).summary, JSON.parse(JSON.stringify(fromFile.summary)));
});
