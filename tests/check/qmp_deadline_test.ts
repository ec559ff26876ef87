/**
 * QMP exchanges have a deadline (src/check/qmp.ts): a fake QMP server on a unix socket that
 * greets and then never answers makes the command fail in time with one line (a paused QEMU
 * that stops answering used to hang check), and an abort ends the wait at once.
 */
import assert from "node:assert/strict";
import { QmpClient, QmpTimeout } from "../../src/check/qmp.ts";

const GREETING = '{"QMP": {"version": {}, "capabilities": []}}\n';

/** A server that greets, answers the first `answers` commands with `{}`, then reads forever. */
function fakeQmp(path: string, answers: number): { close(): Promise<void> } {
  const listener = Deno.listen({ transport: "unix", path });
  const conns: Deno.Conn[] = [];
  const served = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        await conn.write(new TextEncoder().encode(GREETING));
        const buf = new Uint8Array(4096);
        let left = answers;
        try {
          while ((await conn.read(buf)) !== null) {
            if (left-- > 0) await conn.write(new TextEncoder().encode('{"return": {}}\n'));
          }
        } catch { /* closed */ }
      })();
    }
  })().catch(() => {});
  return {
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await served;
    },
  };
}

Deno.test("QMP: a server that greets and never answers: connect fails in time", async () => {
  const dir = await Deno.makeTempDir();
  const server = fakeQmp(`${dir}/qmp.sock`, 0);
  try {
    const t0 = Date.now();
    const e = await QmpClient.connect(`${dir}/qmp.sock`, Date.now() + 5000, () => true, {
      answerMs: 300,
    }).then(() => undefined, (e) => e);
    assert.ok(e instanceof QmpTimeout, String(e));
    assert.equal(e.message, "qmp_capabilities: QEMU gave no answer within 0.3 s");
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("QMP: a command left unanswered fails at the deadline; an abort ends it at once", async () => {
  const dir = await Deno.makeTempDir();
  const server = fakeQmp(`${dir}/qmp.sock`, 1);
  try {
    const q = await QmpClient.connect(`${dir}/qmp.sock`, Date.now() + 5000, () => true, {
      answerMs: 300,
    });
    await assert.rejects(q.cmd("query-migrate"), (e) => {
      assert.ok(e instanceof QmpTimeout);
      assert.equal(e.message, "query-migrate: QEMU gave no answer within 0.3 s");
      return true;
    });
    const ac = new AbortController();
    const q2 = await QmpClient.connect(`${dir}/qmp.sock`, Date.now() + 5000, () => true, {
      answerMs: 60_000,
      signal: ac.signal,
    }).catch((e) => e);
    // The server answers only one command per connection: qmp_capabilities took it.
    assert.ok(q2 instanceof QmpClient, String(q2));
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(
      q2.cmd("query-status"),
      (e) => e instanceof QmpTimeout && e.message === "query-status: interrupted",
    );
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
