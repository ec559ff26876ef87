/**
 * Where one of the tap's parsers stopped, as one phrase (the final text, the live view and the
 * multifd channel table all say it the same way).
 * @module
 */
import type { ParseErrorEvent } from "../tap/events.ts";
import { hexOffset } from "./table.ts";

/**
 * Where parsing stopped and why: the event's message (the parser's one-line error, which
 * starts with the offset, section and record it names) preceded by whichever of those the
 * message does not already hold, e.g. `offset 9000 (0x2328), section 2 'ram' PART at 8000,
 * PAGE record at 8990: unknown RAM flags 0x400`.
 */
export function stopText(e: Omit<ParseErrorEvent, "type" | "t">): string {
  const at = [
    e.offset === null ? "" : `offset ${e.offset} (${hexOffset(e.offset)})`,
    e.section ?? "",
    e.record ?? "",
  ].filter((p) => p && !e.message.includes(p));
  return at.length ? `${at.join(", ")}: ${e.message}` : e.message;
}
