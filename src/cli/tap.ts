/**
 * Arguments of `tap`, and where its output goes: on a terminal the live view on stderr and the
 * final report on stdout; otherwise (or with --json-events) one NDJSON event per line on
 * stdout, written as the events happen.
 * @module
 */
import { parseArgs } from "./parse_args.ts";
import { UsageError, userPath } from "./args.ts";
import { terminalWidth } from "./terminal.ts";
import { parsePageSize } from "./size.ts";
import { AddressError, formatAddress, parseAddress, type TapAddress } from "../tap/address.ts";
import type { TapEvent } from "../tap/events.ts";
import { runTap } from "../commands/tap.ts";
import { Interrupts, settled } from "../commands/interrupt.ts";
import { tapEventJson, TapView } from "../report/tap_view.ts";
import { refusedText } from "../report/tap_text.ts";

const enc = new TextEncoder();

/** Text written to stdout in order, without blocking the caller; a closed pipe ends it. */
class StdoutLines {
  #queue: string[] = [];
  #running?: Promise<void>;
  #closed = false;

  write(text: string): void {
    if (this.#closed) return;
    this.#queue.push(text);
    this.#running ??= this.#drain();
  }

  async #drain(): Promise<void> {
    while (this.#queue.length && !this.#closed) {
      let bytes = enc.encode(this.#queue.splice(0).join(""));
      try {
        while (bytes.length) bytes = bytes.subarray(await Deno.stdout.write(bytes));
      } catch {
        this.#closed = true; // nobody reads stdout any more: the tap forwards on
      }
    }
    this.#running = undefined;
  }

  /** Resolves once everything written so far is out. */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }
}

function address(text: string, role: "listen" | "to"): TapAddress {
  try {
    return parseAddress(text, role);
  } catch (e) {
    if (e instanceof AddressError) throw new UsageError(`--${role} ${e.message}`);
    throw e;
  }
}

/** `tap` entry point. */
export async function tapMain(args: string[], version: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      listen: { type: "string" },
      to: { type: "string" },
      record: { type: "string" },
      "json-events": { type: "boolean", default: false },
      "no-progress": { type: "boolean", default: false },
      "page-size": { type: "string" },
      vmdesc: { type: "string" },
    },
  });
  if (values["no-progress"] && values["json-events"]) {
    throw new UsageError("--no-progress is for the live view: --json-events has none");
  }
  const pageSize = parsePageSize(values["page-size"]);
  if (positionals.length) {
    throw new UsageError(`tap takes no INPUT ('${positionals[0]}'): use --listen and --to`);
  }
  if (!values.listen) throw new UsageError("tap needs --listen [HOST:]PORT|unix:PATH");
  if (!values.to) throw new UsageError("tap needs --to HOST:PORT|unix:PATH");
  const listen = address(values.listen, "listen");
  const to = address(values.to, "to");
  const out = new StdoutLines();
  const json = values["json-events"]! || !Deno.stdout.isTerminal();
  const width = terminalWidth();
  const live = !json && !values["no-progress"];
  const view = json ? undefined : new TapView(
    live ? (s) => void Deno.stderr.writeSync(enc.encode(s)) : () => {},
    { width },
  );
  let warned = false;
  const onEvent = (e: TapEvent) => {
    if (json) out.write(tapEventJson(e) + "\n");
    else view!.event(e); // the live view and the final text count refused connections
    if (json && e.type === "refused" && !warned) {
      warned = true; // once: a flood of connections must not flood stderr
      console.error(`migscope: ${refusedText(e)}`);
    }
  };
  const interrupt = new Interrupts();
  // Redraws the live view's clock while no event comes (waiting for the source, a quiet phase).
  const ticker = live ? setInterval(() => view!.tick(), 250) : undefined;
  try {
    const done = await runTap({
      listen,
      to,
      record: values.record ? userPath(values.record) : undefined,
      pageSize,
      vmdesc: values.vmdesc ? userPath(values.vmdesc) : undefined,
      version,
      onEvent,
      onListen: (a) =>
        console.error(
          `migscope: listening on ${formatAddress(a)}, forwarding to ${formatAddress(to)}`,
        ),
      interrupt,
      width,
    });
    const res = settled(done, interrupt);
    clearInterval(ticker);
    if (view) out.write(view.finish(done.summary));
    else if (done.outcome?.replay && ["complete", "unfollowed"].includes(done.outcome.end)) {
      console.error(`migscope: replay with: ${done.outcome.replay}`);
    }
    await out.flush();
    if (res.error) console.error(`migscope: ${res.error}`);
    return res.code;
  } finally {
    clearInterval(ticker);
    interrupt.dispose();
  }
}
