/**
 * The error a replay stops with where a QEMU destination would fail too.
 * @module
 */
import { oneLine } from "../protocol/errors.ts";

/** A replay that cannot continue; names the stream offset. */
export class ReplayError extends Error {
  constructor(readonly offset: number, message: string) {
    super(oneLine(`offset ${offset} (0x${offset.toString(16)}): ${message}`));
    this.name = "ReplayError";
  }
}

/**
 * Opens a target for the record at `offset`; a failure (a base image of the wrong size, a
 * name clash, an OS error) becomes a ReplayError naming that record.
 */
export function openTarget<T>(offset: number, open: () => T): T {
  try {
    return open();
  } catch (e) {
    throw new ReplayError(offset, (e as Error).message.split("\n")[0]);
  }
}
