/**
 * Choosing the snapshot of a qcow2 image whose VM state is read: `--snapshot` by id, else by
 * name; without it, the only snapshot with VM state. Anything else is an error listing them.
 * @module
 */
import { printable } from "../protocol/errors.ts";
import type { Qcow2Snapshot } from "./qcow2_snapshots.ts";

/** No snapshot could be chosen; `snapshots` lists them for the user. */
export class SnapshotChoiceError extends Error {
  constructor(readonly snapshots: Qcow2Snapshot[], message: string) {
    super(message);
    this.name = "SnapshotChoiceError";
  }
}

/** `1 'snapA', 2 'snapB'` (at most 20, then a count). */
export function snapshotList(snaps: Qcow2Snapshot[]): string {
  const shown = snaps.slice(0, 20).map((s) => `${printable(s.id, 20)} '${printable(s.name, 40)}'`);
  if (snaps.length > 20) shown.push(`and ${snaps.length - 20} more`);
  return shown.join(", ");
}

/**
 * The snapshot `want` names (id first, then name), or the only one with VM state.
 *
 * @example
 * ```ts
 * import { chooseSnapshot } from "./snapshot_choice.ts";
 * const snap = (id: string, name: string) =>
 *   ({ id, name, vmStateSize: 1 }) as Parameters<typeof chooseSnapshot>[0][0];
 * const both = [snap("1", "snapA"), snap("2", "snapB")];
 * if (chooseSnapshot(both, "snapB").id !== "2" || chooseSnapshot(both, "1").name !== "snapA") {
 *   throw new Error("by name or by id");
 * }
 * ```
 */
export function chooseSnapshot(snaps: Qcow2Snapshot[], want?: string): Qcow2Snapshot {
  if (snaps.length === 0) {
    throw new SnapshotChoiceError(
      snaps,
      "the qcow2 image has no internal snapshots: no VM state to read",
    );
  }
  if (want !== undefined) {
    const byId = snaps.find((s) => s.id === want);
    if (byId) return byId;
    const byName = snaps.filter((s) => s.name === want);
    if (byName.length === 1) return byName[0];
    const what = byName.length
      ? `several snapshots are named '${printable(want)}'`
      : `no snapshot '${printable(want)}'`;
    throw new SnapshotChoiceError(snaps, `${what}; the image has: ${snapshotList(snaps)}`);
  }
  const withState = snaps.filter((s) => s.vmStateSize > 0);
  if (withState.length === 1) return withState[0];
  if (withState.length === 0) {
    throw new SnapshotChoiceError(
      snaps,
      `no snapshot has VM state (disk-only snapshots: ${snapshotList(snaps)})`,
    );
  }
  throw new SnapshotChoiceError(
    withState,
    `${withState.length} snapshots have VM state; choose one with --snapshot NAME|ID: ${
      snapshotList(withState)
    }`,
  );
}
