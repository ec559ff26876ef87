/**
 * Drivers of a running capture (tools/capture.ts `drive`): what happens between `migrate` and
 * completion. `dirtyWhileMigrating` rewrites guest pages through the source's qtest socket until
 * several dirty syncs have passed; `postcopyFaults` switches to postcopy while pages remain and
 * makes the destination touch pages it does not have yet (qtest reads: no vCPU runs, so without
 * them nothing would fault), so they are requested over the return path and sent on the
 * postcopy preempt channel.
 * @module
 */
import type { Qmp } from "../qemu.ts";
import type { Qtest } from "./qtest.ts";

/** The source's (or destination's) `query-migrate` answer. */
export interface MigrateInfo {
  status?: string;
  "error-desc"?: string;
  ram?: Record<string, number>;
  [key: string]: unknown;
}

/** A migration under way, as a driver sees it. */
export interface Migration {
  src: Qmp;
  dst: Qmp;
  /** The qtest connections (captures with `qtest: true`). */
  srcQtest?: Qtest;
  dstQtest?: Qtest;
  /** Guest RAM size in bytes. */
  ramSize: number;
  deadline: number;
  /** The source's query-migrate (every status seen is recorded). */
  query(): Promise<MigrateInfo>;
  /** The destination's query-migrate (every status seen is recorded). */
  dstQuery(): Promise<MigrateInfo>;
}

/** What a capture runs while its migration is under way. */
export interface Driver {
  /** migrate-set-parameters on the source before `migrate`. */
  sourceParameters?: Record<string, unknown>;
  /** Runs after `migrate`; the capture then waits for completion. */
  run(m: Migration): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `q` until `ok` holds; throws on failure, an unexpected end or the deadline. */
export async function waitFor(
  q: () => Promise<MigrateInfo>,
  ok: (i: MigrateInfo) => boolean,
  deadline: number,
  what: string,
): Promise<MigrateInfo> {
  for (;;) {
    const i = await q();
    if (ok(i)) return i;
    if (i.status === "failed" || i.status === "cancelled" || i.status === "completed") {
      throw new Error(`${what}: migration ${i.status} first ${i["error-desc"] ?? ""}`.trim());
    }
    if (Date.now() > deadline) throw new Error(`${what}: timed out in ${i.status}`);
    await sleep(10);
  }
}

/** The byte every dirtied page holds after write round `round` (never 0; 255 values). */
export function dirtyValue(round: number): number {
  return 1 + ((round * 37) % 255);
}

/** Options of `dirtyWhileMigrating`. */
export interface DirtyOptions {
  /** Keep rewriting until the source's dirty-sync-count reaches this (default 5). */
  syncs?: number;
  /** The rewritten range: `pages` pages (default 512) from page `firstPage` (default 2048). */
  pages?: number;
  firstPage?: number;
  /** Bandwidth while dirtying (bytes/s, default 4 MiB/s): a pass of the range outlasts a round. */
  bandwidth?: number;
  /**
   * Bytes rewritten at the start of each page of the range (default: the whole page, one
   * memset of the range per round). Fewer leave the rest of each page as it was, so a page
   * re-sent from the XBZRLE cache differs from its cached copy in those bytes only: with up to
   * about half a page, QEMU sends it as an XBZRLE delta (a whole changed page overflows).
   * Each round is then one memset per page, sent in one write.
   */
  bytes?: number;
}

/**
 * Rewrites a range of guest pages through the source's qtest socket, round after round, while
 * the migration iterates: every pass sends the range again with new content. Each round is one
 * qtest `memset` of the whole range with `dirtyValue(round)` (under a millisecond; a dirty sync
 * runs under the BQL like qtest, so it sees the whole range dirty or none of it). A pass of the
 * range (2 MiB by default) takes ≥ 500 ms at 4 MiB/s, so with the downtime limit at 1 ms the
 * migration cannot converge unless the writer stalls for a whole pass. Once dirty-sync-count
 * reaches `syncs`, writing stops and bandwidth and downtime are raised so it completes. The
 * source's RAM file at completion holds the last round's content. With `bytes` (XBZRLE), each
 * round sets only the first `bytes` of every page (a memset per page, all sent in one write);
 * a pass then carries the deltas, about `bytes` per page (≈250 ms for 512 pages of 2 KiB).
 */
export function dirtyWhileMigrating(opts: DirtyOptions = {}): Driver & { rounds: () => number } {
  const syncs = opts.syncs ?? 5;
  const pages = opts.pages ?? 512;
  const first = opts.firstPage ?? 2048;
  let rounds = 0;
  return {
    sourceParameters: { "max-bandwidth": opts.bandwidth ?? 4 << 20, "downtime-limit": 1 },
    rounds: () => rounds,
    async run(m) {
      const qt = m.srcQtest;
      if (!qt) throw new Error("dirtyWhileMigrating needs a qtest capture (qtest: true)");
      if ((first + pages) * 4096 > m.ramSize) throw new Error("dirtied pages beyond guest RAM");
      const part = opts.bytes ?? 4096;
      if (part < 1 || part > 4096) throw new Error(`dirtying: bytes ${part} is not 1…4096`);
      for (let round = 1;; round++) {
        if (part === 4096) await qt.memset(first * 4096, pages * 4096, dirtyValue(round));
        else {
          const v = dirtyValue(round).toString(16);
          const size = part.toString(16);
          await qt.cmds(
            Array.from(
              { length: pages },
              (_, k) => `memset 0x${((first + k) * 4096).toString(16)} 0x${size} 0x${v}`,
            ),
          );
        }
        rounds = round;
        const i = await m.query();
        if (i.status !== "setup" && i.status !== "active") {
          throw new Error(
            `dirtying: migration ${i.status} after ${round} rounds, ` +
              `dirty-sync-count ${i.ram?.["dirty-sync-count"]} ${i["error-desc"] ?? ""}`.trim(),
          );
        }
        if ((i.ram?.["dirty-sync-count"] ?? 0) >= syncs) break;
        if (Date.now() > m.deadline) throw new Error("dirtying: timed out");
        await sleep(10);
      }
      await m.src.cmd("migrate-set-parameters", {
        "max-bandwidth": 1 << 30,
        "downtime-limit": 300,
      });
    },
  };
}

/** Options of `postcopyFaults`. */
export interface PostcopyFaultOptions {
  /** Precopy time before migrate-start-postcopy (default 300 ms). */
  afterMs?: number;
  /** Pages the destination reads after the switch (default 64), from the top of RAM down. */
  pages?: number;
  stride?: number;
  /** Background postcopy bandwidth while faulting (default 4 MiB/s). */
  postcopyBandwidth?: number;
}

/**
 * Precopy at 16 MiB/s, then `migrate-start-postcopy` while pages remain; once both sides are
 * postcopy-active the destination reads `pages` pages from the top of RAM down through its qtest
 * socket (the background transfer, 4 MiB/s, goes upwards from where precopy stopped): each read
 * faults (userfaultfd), the page is requested over the return path and sent on the preempt
 * channel. Then the background bandwidth is raised so it completes. The destination stays
 * paused (-S): a vCPU started from the source's reset state would run the BIOS and write RAM,
 * and the destination's RAM would no longer be the source's.
 */
export function postcopyFaults(opts: PostcopyFaultOptions = {}): Driver & { reads: () => number } {
  let reads = 0;
  return {
    sourceParameters: {
      "max-bandwidth": 16 << 20,
      "max-postcopy-bandwidth": opts.postcopyBandwidth ?? 4 << 20,
    },
    reads: () => reads,
    async run(m) {
      const qt = m.dstQtest;
      if (!qt) throw new Error("postcopyFaults needs a qtest capture (qtest: true)");
      await waitFor(m.query, (i) => i.status === "active", m.deadline, "precopy");
      await sleep(opts.afterMs ?? 300);
      const before = await m.query();
      if (before.status !== "active") throw new Error(`before postcopy: ${before.status}`);
      await m.src.cmd("migrate-start-postcopy");
      await waitFor(m.query, (i) => i.status === "postcopy-active", m.deadline, "source postcopy");
      await waitFor(m.dstQuery, (i) => i.status === "postcopy-active", m.deadline, "dst postcopy");
      const n = opts.pages ?? 64;
      const stride = opts.stride ?? 61;
      const top = m.ramSize / 4096 - 1;
      for (let k = 0; k < n; k++) {
        await qt.read((top - k * stride) * 4096, 8);
        reads++;
      }
      await m.src.cmd("migrate-set-parameters", { "max-postcopy-bandwidth": 1 << 30 });
    },
  };
}
