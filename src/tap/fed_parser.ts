/**
 * What the tap's live parsers share: a bounded {@link PushSource} the forwarded bytes of a
 * connection's source→destination direction are fed into — pushed (copied), or lent in place
 * from the forwarding buffers — and the calls that end it.
 * @module
 */
import { PUSH_LIMIT, PushSource } from "./push_source.ts";

/** A parser fed with a connection's forwarded bytes. */
export abstract class FedParser {
  /** What the parser reads. */
  protected readonly source: PushSource;

  constructor(limit = PUSH_LIMIT) {
    this.source = new PushSource(limit);
  }

  /** A forwarded chunk (kept: pass a copy). Resolves when the parser has room again. */
  push(chunk: Uint8Array): Promise<void> | undefined {
    return this.source.push(chunk);
  }

  /**
   * A forwarded chunk read in place: its buffer must stay untouched until the returned promise
   * resolves (see {@link PushSource.lend}).
   */
  lend(chunk: Uint8Array): Promise<void> | undefined {
    return this.source.lend(chunk);
  }

  /** The connection's source→destination direction ended. */
  end(): void {
    this.source.end();
  }

  /** Stops parsing now (the tap is interrupted); `done` still resolves. */
  abort(): void {
    this.source.close();
  }
}
