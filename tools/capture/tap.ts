/**
 * `migscope tap` as a capture's relay (tools/capture.ts `relay`): instead of the built-in
 * recording proxy, the source migrates through a `migscope tap --record DIR/rec --json-events`
 * child process, which forwards every connection to the destination in accept order and records
 * both directions. The recorded connections are classified by their first bytes as the proxy's
 * are (tools/capture/proxy.ts `classify`), independently of what the tap said; the tap's exit
 * code, NDJSON events, stderr (with its `replay with:` line) and manifest are kept for checks.
 * @module
 */
import { fileURLToPath } from "node:url";
import { classify, type Connection, type Relay } from "./proxy.ts";
import type { ChannelResult } from "../../src/tap/live_channel.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** One connection of a tap manifest (src/tap/connection.ts ConnectionInfo, as JSON). */
export interface TapManifestConnection {
  n: number;
  kind: string;
  channelId?: number;
  files?: { s2d: string; d2s: string };
  s2d: number;
  d2s: number;
  first?: string;
  error?: string;
  /** A multifd channel's live counts. */
  multifd?: ChannelResult;
}

/** What the tap left behind. */
export interface TapRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Its NDJSON events, in order. */
  events: Record<string, unknown>[];
  /** DIR/rec/manifest.json (absent without --record or when the tap wrote none). */
  manifest?: {
    outcome: string;
    complete: boolean;
    replay?: string;
    connections: TapManifestConnection[];
    [key: string]: unknown;
  };
  /** The recording directory (with `record`). */
  recDir?: string;
  /** The replay command of its `migscope: replay with:` line. */
  replay?: string;
}

/** Options of {@link TapRelay.start}. */
export interface TapRelayOptions {
  /** Record into `DIR/rec` (default true); without it the capture has no connection files. */
  record?: boolean;
  /** More tap arguments. */
  args?: string[];
  /** How long the tap may take to end after both QEMUs quit (default 20 s), then SIGTERM. */
  endMs?: number;
  /** How long it may take to listen (default 30 s), then it is killed and start throws. */
  startMs?: number;
}

/** A running `migscope tap` between a capture's source and destination. */
export class TapRelay implements Relay {
  readonly port: number;
  readonly child: Deno.ChildProcess;
  /** Set by {@link close}. */
  result?: TapRun;
  readonly #recDir?: string;
  readonly #stdout: Promise<string>;
  readonly #stderrDone: Promise<void>;
  readonly #stderr: { text: string };
  readonly #endMs: number;

  private constructor(
    child: Deno.ChildProcess,
    port: number,
    stdout: Promise<string>,
    stderr: { text: string },
    stderrDone: Promise<void>,
    recDir: string | undefined,
    endMs: number,
  ) {
    this.child = child;
    this.port = port;
    this.#stdout = stdout;
    this.#stderr = stderr;
    this.#stderrDone = stderrDone;
    this.#recDir = recDir;
    this.#endMs = endMs;
  }

  /**
   * Starts the tap on a free port of 127.0.0.1, forwarding to `127.0.0.1:dstPort`, and waits for
   * its `listening on` line (throws with its stderr when it exits first).
   */
  static async start(dir: string, dstPort: number, opts: TapRelayOptions = {}): Promise<TapRelay> {
    const recDir = opts.record ?? true ? `${dir}/rec` : undefined;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "tap",
        "--listen",
        "127.0.0.1:0",
        "--to",
        `127.0.0.1:${dstPort}`,
        "--json-events",
        ...(recDir ? ["--record", recDir] : []),
        ...(opts.args ?? []),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new Response(child.stdout).text();
    const stderr = { text: "" };
    const dec = new TextDecoder();
    const reader = child.stderr.getReader();
    const { promise: port, resolve: listening } = Promise.withResolvers<number>();
    const stderrDone = (async () => {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        stderr.text += dec.decode(r.value, { stream: true });
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr.text);
        if (m) listening(Number(m[1]));
      }
      listening(0);
    })();
    const slow = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
    }, opts.startMs ?? 30_000);
    const p = await port;
    clearTimeout(slow);
    if (!p) {
      await child.status;
      await stdout;
      throw new Error(`migscope tap did not listen: ${stderr.text.trim() || "killed"}`);
    }
    return new TapRelay(child, p, stdout, stderr, stderrDone, recDir, opts.endMs ?? 20_000);
  }

  /**
   * Waits for the tap to end (it ends once every connection has closed: after both QEMUs quit),
   * SIGTERM after `endMs`; returns the recorded connections in accept order (the source→
   * destination file of each, classified by its first bytes).
   */
  async close(): Promise<Connection[]> {
    const kill = (sig: Deno.Signal) => {
      try {
        this.child.kill(sig);
      } catch { /* exited */ }
    };
    const term = setTimeout(() => kill("SIGTERM"), this.#endMs);
    const hard = setTimeout(() => kill("SIGKILL"), this.#endMs + 10_000);
    const status = await this.child.status;
    clearTimeout(term);
    clearTimeout(hard);
    await this.#stderrDone;
    const stdout = await this.#stdout;
    const stderr = this.#stderr.text;
    const events = stdout.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
    const run: TapRun = { code: status.code, stdout, stderr, events };
    const replay = /^migscope: replay with: (.*)$/m.exec(stderr);
    if (replay) run.replay = replay[1];
    const conns: Connection[] = [];
    if (this.#recDir) {
      run.recDir = this.#recDir;
      try {
        run.manifest = JSON.parse(await Deno.readTextFile(`${this.#recDir}/manifest.json`));
      } catch { /* none written */ }
      for (const c of run.manifest?.connections ?? []) {
        if (c.files) conns.push(await classify(`${this.#recDir}/${c.files.s2d}`));
      }
    }
    this.result = run;
    return conns;
  }
}
