/**
 * The tap's buffers: a pipe reads into a bounded pool whose buffers a borrower (the live parser)
 * may hold past the write, so a parser that falls behind stops the reads at the pool's limit;
 * buffers grow while reads fill them; a lent chunk is given back once the parser took it all.
 */
import assert from "node:assert/strict";
import { type Endpoint, Pipe } from "../../src/tap/forward.ts";
import { PushSource } from "../../src/tap/push_source.ts";

/** A source of bytes (offset & 0xff), counting what it delivered and each read's size. */
function endless(total = Infinity) {
  const e = {
    given: 0,
    sizes: [] as number[],
    closed: false,
    read(p: Uint8Array): Promise<number | null> {
      if (e.closed) return Promise.reject(new Error("closed"));
      if (e.given >= total) return Promise.resolve(null);
      const n = Math.min(p.length, total - e.given);
      for (let i = 0; i < n; i++) p[i] = (e.given + i) & 0xff;
      e.given += n;
      e.sizes.push(p.length);
      return Promise.resolve(n);
    },
    write: () => new Promise<number>(() => {}),
    closeWrite: () => Promise.resolve(),
    close: () => void (e.closed = true),
  };
  return e;
}

/** A destination that keeps what it is written; it sends nothing back and ends once written to end. */
function sink() {
  let closed!: (v: null) => void;
  const end = new Promise<null>((r) => closed = r);
  const s = {
    got: [] as number[],
    read: () => end,
    write(p: Uint8Array): Promise<number> {
      for (const b of p) s.got.push(b);
      return Promise.resolve(p.length);
    },
    closeWrite: () => Promise.resolve(closed(null)),
    close: () => closed(null),
  };
  return s;
}

const tick = () => new Promise((r) => setTimeout(r, 20));

Deno.test("a borrower that holds every buffer stops the reads at the pool's limit; given back, the bytes flow on in order", async () => {
  const src = endless(64 << 10);
  const dst = sink();
  const held: (() => void)[] = [];
  const chunk = 4096;
  const limit = 4 * chunk;
  const pipe = new Pipe(
    src as Endpoint,
    dst as Endpoint,
    {
      borrow: (dir) => dir === "s2d" ? new Promise<void>((r) => held.push(r)) : undefined,
    },
    chunk,
    limit,
  );
  await tick();
  assert.ok(src.given <= limit, `read ${src.given} bytes past a ${limit}-byte pool`);
  assert.ok(src.given >= chunk);
  for (let i = 0; i < 200 && src.given < 64 << 10; i++) {
    held.splice(0).forEach((free) => free());
    await tick();
  }
  assert.equal(src.given, 64 << 10);
  assert.equal(dst.got.length, 64 << 10);
  assert.ok(dst.got.every((b, i) => b === (i & 0xff)), "bytes in order");
  held.splice(0).forEach((free) => free());
  await pipe.done;
});

Deno.test("aborted while a borrower holds every buffer: the pipe still ends", async () => {
  const src = endless();
  const pipe = new Pipe(
    src as Endpoint,
    sink() as Endpoint,
    {
      borrow: (dir) => dir === "s2d" ? new Promise<void>(() => {}) : undefined,
    },
    4096,
    4 * 4096,
  );
  await tick();
  assert.ok(src.given <= 4 * 4096);
  pipe.abort();
  await pipe.done;
  assert.equal(pipe.first, "tap");
});

Deno.test("reads start in small buffers and grow while they come back full, up to the chunk size", async () => {
  const src = endless(8 << 20);
  const dst = sink();
  const pipe = new Pipe(src as Endpoint, dst as Endpoint, {}, 1 << 20);
  for (let i = 0; i < 100 && dst.got.length < 8 << 20; i++) await tick();
  assert.equal(dst.got.length, 8 << 20);
  assert.equal(src.sizes[0], 64 << 10);
  assert.equal(Math.max(...src.sizes), 1 << 20);
  assert.deepEqual(src.sizes.slice(0, 5), [64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20]);
  pipe.abort();
  await pipe.done;
});

Deno.test("a lent chunk is given back once the reader took all of it (or the source closed), and read in place", async () => {
  const s = new PushSource();
  const chunk = new Uint8Array([1, 2, 3, 4, 5]);
  let back = false;
  const lent = s.lend(chunk)!.then(() => back = true);
  const buf = new Uint8Array(3);
  assert.equal(await s.read(buf), 3);
  await tick();
  assert.equal(back, false);
  chunk[3] = 9; // read in place: the reader sees the lender's buffer, not a copy
  assert.equal(await s.read(buf), 2);
  assert.deepEqual([...buf.subarray(0, 2)], [9, 5]);
  await lent;
  const other = new PushSource();
  const pending = other.lend(new Uint8Array(10))!;
  other.close();
  await pending;
  assert.equal(other.lend(new Uint8Array(1)), undefined);
});

Deno.test("a skip that empties the queue lets a producer waiting for room go on before it waits for more bytes", async () => {
  const s = new PushSource(4);
  assert.equal(s.push(new Uint8Array(4)), undefined);
  const waiting = s.push(new Uint8Array(4))!; // past the limit: waits for room
  const skipped = s.skip(12); // the 8 queued, then 4 the producer sends once it may
  await waiting;
  s.push(new Uint8Array(4));
  const late = new Promise((r) => setTimeout(() => r("stuck"), 2000));
  assert.equal(await Promise.race([skipped.then(() => "done"), late]), "done");
  s.end();
});
