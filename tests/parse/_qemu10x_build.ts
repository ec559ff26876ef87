/**
 * Hand-built QEMU 10.1 / 10.2 / 11.0-development streams for qemu10x_additions_test.ts, written
 * byte by byte with tests/report/_inputs.ts `Bytes` (no src/ writer), in the order QEMU's source
 * writes them:
 *
 * - {@link postcopyStream}: migration/migration.c `postcopy_start` — since 10.1 a `ram` PART
 *   from `save_postcopy_prepare` (migration/savevm.c `qemu_savevm_state_postcopy_prepare`;
 *   ram.c writes a multifd flush, i.e. MULTIFD_FLUSH on the main stream, then EOS) before the
 *   VM stops, then SWITCHOVER_START, RAM_DISCARD, PING 2, PACKAGED (LISTEN, device sections,
 *   PING 3, since 10.2 PING 0x42 `QEMU_VM_PING_PACKAGED_LOADED`, RUN), PING 4, and the RAM
 *   pages of postcopy on the main stream. With multifd (allowed with postcopy since 10.1) the
 *   precopy pages travel in {@link postcopyChannel} and the main stream has MULTIFD_FLUSH.
 * - {@link mappedRamFile}: a mapped-ram file (x-ignore-shared) whose second block, shared, is
 *   skipped: migration/ram.c `mapped_ram_setup_ramblock` after 10.2 writes its header with
 *   bitmap and pages offsets 0 and leaves no hole.
 */
import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";
import { Bytes, channelFile } from "../report/_inputs.ts";

export const PAGE = 4096;
const MIB = 1 << 20;
const RAM = { ZERO: 0x02, MEM_SIZE: 0x04, PAGE: 0x08, EOS: 0x10, CONTINUE: 0x20, FLUSH: 0x200 };
const CMD = {
  OPEN_RETURN_PATH: 1,
  PING: 2,
  ADVISE: 3,
  LISTEN: 4,
  RUN: 5,
  DISCARD: 6,
  PACKAGED: 7,
  SWITCHOVER_START: 11,
};
const enc = new TextEncoder();

function header(w: Bytes, capabilities: string[] = []) {
  const machine = "pc-i440fx-10.2";
  w.be32(0x5145564d).be32(3).u8(0x07).be32(machine.length).bytes(enc.encode(machine));
  if (!capabilities.length) return;
  w.u8(0x05).counted("configuration/capabilities").be32(1).be32(capabilities.length);
  for (const c of capabilities) w.counted(c);
}
function command(w: Bytes, cmd: number, payload: Uint8Array = new Uint8Array()) {
  w.u8(0x08).be16(cmd).be16(payload.length).bytes(payload);
}
function ping(w: Bytes, value: number) {
  w.u8(0x08).be16(CMD.PING).be16(4).be32(value);
}
function page(w: Bytes, n: number, fill: number, named: boolean) {
  w.be64(n * PAGE + RAM.PAGE + (named ? 0 : RAM.CONTINUE));
  if (named) w.counted("pc.ram");
  w.bytes(new Uint8Array(PAGE).fill(fill));
}

/** Which QEMU wrote {@link postcopyStream}. */
export interface PostcopyOptions {
  /** multifd + postcopy (10.1+): pages in the channel, MULTIFD_FLUSH on the main stream. */
  multifd: boolean;
  /** The 10.1+ `save_postcopy_prepare` PART. */
  prepare: boolean;
  /** PING 0x42 in the package (10.2+). */
  ping42: boolean;
  /** Section footers (default on). */
  footers?: boolean;
}

/**
 * A postcopy stream of one 16-page `pc.ram`. Precopy: pages 0-2 (0x10, 0x11, 0x12), page 3
 * zero, page 4 (0x30) — in the main stream, or with multifd in {@link postcopyChannel}. Then a
 * discard of page 2, the package with one device `dev0` (tests/report/_inputs.ts TINY_VMDESC),
 * and postcopy: page 8 (0x77), a ZERO for page 1, page 9 (0x78). `at` holds the offsets.
 */
export function postcopyStream(
  o: PostcopyOptions,
): { bytes: Uint8Array; at: Record<string, number> } {
  const w = new Bytes();
  const footer = () => {
    if (o.footers ?? true) w.u8(0x7e).be32(2);
  };
  const flush = () => {
    if (o.multifd) w.be64(RAM.FLUSH);
  };
  header(w);
  command(w, CMD.OPEN_RETURN_PATH);
  ping(w, 1);
  command(w, CMD.ADVISE, new Bytes().be64(PAGE).be64(PAGE).result());
  w.mark("start").u8(0x01).be32(2).counted("ram").be32(0).be32(4);
  w.be64(16 * PAGE + RAM.MEM_SIZE).counted("pc.ram").be64(16 * PAGE);
  flush();
  w.be64(RAM.EOS);
  footer();
  w.mark("part").u8(0x02).be32(2);
  if (o.multifd) flush();
  else {
    [0x10, 0x11, 0x12].forEach((fill, n) => page(w, n, fill, n === 0));
    w.be64(3 * PAGE + RAM.ZERO + RAM.CONTINUE).u8(0);
    page(w, 4, 0x30, false);
  }
  w.be64(RAM.EOS);
  footer();
  if (o.prepare) {
    w.mark("prepare").u8(0x02).be32(2);
    flush();
    w.be64(RAM.EOS);
    footer();
  }
  w.mark("switchover");
  command(w, CMD.SWITCHOVER_START);
  w.mark("discard");
  command(
    w,
    CMD.DISCARD,
    new Bytes().u8(0).counted("pc.ram").u8(0).be64(2 * PAGE).be64(PAGE).result(),
  );
  w.mark("ping2");
  ping(w, 2);
  const pkg = new Bytes();
  command(pkg, CMD.LISTEN);
  pkg.mark("device").u8(0x04).be32(3).counted("dev0").be32(0).be32(1);
  pkg.be32(0xdeadbeef).be16(1).be16(2);
  if (o.footers ?? true) pkg.u8(0x7e).be32(3);
  pkg.mark("ping3");
  ping(pkg, 3);
  if (o.ping42) ping(pkg.mark("ping42"), 0x42);
  pkg.mark("run");
  command(pkg, CMD.RUN);
  const payload = pkg.result();
  w.mark("packaged");
  command(w, CMD.PACKAGED, new Bytes().be32(payload.length).result());
  const base = w.offset;
  w.bytes(payload);
  for (const [k, v] of Object.entries(pkg.at)) w.at[k] = base + v;
  w.mark("ping4");
  ping(w, 4);
  w.mark("post").u8(0x02).be32(2);
  page(w, 8, 0x77, true);
  w.be64(1 * PAGE + RAM.ZERO + RAM.CONTINUE).u8(0);
  w.be64(RAM.EOS);
  footer();
  w.mark("end").u8(0x03).be32(2);
  page(w, 9, 0x78, false);
  w.be64(RAM.EOS);
  footer();
  w.mark("eof").u8(0x00);
  return { bytes: w.result(), at: w.at };
}

/**
 * The multifd channel of {@link postcopyStream}: SYNC, pages 0-2 (0x10 + k) and zero page 3,
 * SYNC, page 4 (0x30), SYNC — one SYNC per MULTIFD_FLUSH of the main stream.
 */
export function postcopyChannel(): Uint8Array {
  const sync = { sync: true, block: "", normal: [], zero: [] };
  return channelFile([
    sync,
    { sync: false, block: "pc.ram", normal: [0, PAGE, 2 * PAGE], zero: [3 * PAGE] },
    sync,
    { sync: false, block: "pc.ram", normal: [4 * PAGE], zero: [] },
    sync,
  ]).bytes;
}

/** What the destination's pc.ram holds after {@link postcopyStream}. */
export function postcopyRam(): Uint8Array {
  const ram = new Uint8Array(16 * PAGE);
  for (const [n, fill] of [[0, 0x10], [4, 0x30], [8, 0x77], [9, 0x78]]) {
    ram.fill(fill, n * PAGE, (n + 1) * PAGE);
  }
  return ram;
}

/**
 * A mapped-ram file: `pc.ram` (16 pages; bitmap bits 0 and 3; slots 0x11 and 0x33) with its
 * bitmap and 1 MiB-aligned slots, then `shared.mem` (8 pages) whose header carries `shared`
 * (default 0/0: skipped) and no hole; with x-ignore-shared each entry has its mr_addr. `at`:
 * `sharedHeader` (its 28-byte header), `end` (the END section), `eof`.
 */
export function mappedRamFile(
  capabilities: string[],
  shared: [number, number] = [0, 0],
): { bytes: Uint8Array; at: Record<string, number> } {
  const pieces: [number, Uint8Array][] = [];
  const at: Record<string, number> = {};
  let w = new Bytes();
  let base = 0;
  const addr = capabilities.includes("x-ignore-shared");
  header(w, capabilities);
  w.u8(0x01).be32(2).counted("ram").be32(0).be32(4).be64(24 * PAGE + RAM.MEM_SIZE);
  w.counted("pc.ram").be64(16 * PAGE);
  if (addr) w.be64(0);
  const bitmap = base + w.offset + 28;
  const slots = Math.ceil((bitmap + 8) / MIB) * MIB;
  w.be32(1).be64(PAGE).be64(bitmap).be64(slots);
  pieces.push([base, w.result()]);
  pieces.push([bitmap, Uint8Array.of(0b1001, 0, 0, 0, 0, 0, 0, 0)]);
  pieces.push([slots, new Uint8Array(PAGE).fill(0x11)]);
  pieces.push([slots + 3 * PAGE, new Uint8Array(PAGE).fill(0x33)]);
  base = slots + 16 * PAGE;
  w = new Bytes();
  w.counted("shared.mem").be64(8 * PAGE);
  if (addr) w.be64(0x100000000);
  at.sharedHeader = base + w.offset;
  w.be32(1).be64(PAGE).be64(shared[0]).be64(shared[1]);
  w.be64(RAM.EOS).u8(0x7e).be32(2);
  at.end = base + w.offset;
  w.u8(0x03).be32(2).be64(RAM.EOS).u8(0x7e).be32(2);
  at.eof = base + w.offset;
  w.u8(0x00);
  pieces.push([base, w.result()]);
  const bytes = new Uint8Array(base + w.offset);
  for (const [o, b] of pieces) bytes.set(b, o);
  return { bytes, at };
}

/** What replay writes for `pc.ram` of {@link mappedRamFile}. */
export function mappedRamPcRam(): Uint8Array {
  const ram = new Uint8Array(16 * PAGE);
  ram.fill(0x11, 0, PAGE);
  ram.fill(0x33, 3 * PAGE, 4 * PAGE);
  return ram;
}

/**
 * Runs `migscope verify DIR/STREAM ...extra --out DIR/v --expect pc.ram=DIR/expected.ram`
 * (also used by postcopy_undelimited_test.ts), asserts it passes, then removes `dir`.
 */
export async function verifyPcRam(dir: string, stream: string, extra: string[] = []) {
  const v = await runCli([
    "verify",
    `${dir}/${stream}`,
    ...extra,
    "--out",
    `${dir}/v`,
    "--expect",
    `pc.ram=${dir}/expected.ram`,
  ]);
  assert.equal(v.code, 0, v.stderr + v.stdout);
  await Deno.remove(dir, { recursive: true });
}
