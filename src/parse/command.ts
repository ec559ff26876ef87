/**
 * COMMAND records (`QEMU_VM_COMMAND`): number, length, and the payloads that carry data
 * (PING value, POSTCOPY_ADVISE page sizes, RAM_DISCARD ranges, PACKAGED length, RECV_BITMAP).
 * @module
 */
import { CMD, COMMANDS } from "../protocol/constants.ts";
import { printable } from "../protocol/errors.ts";
import type { CommandRecord } from "../protocol/records.ts";
import { decodeName, type ParseState } from "./state.ts";

function discard(st: ParseState, rec: CommandRecord, p: Uint8Array, dv: DataView) {
  const len = p.length;
  const offset = rec.offset;
  if (len < 4 + 16) st.fail(`POSTCOPY_RAM_DISCARD payload of ${len} bytes is too short`);
  if (p[0] !== 0) st.fail(`POSTCOPY_RAM_DISCARD version ${p[0]} is not 0`, offset + 5);
  const nameLen = p[1];
  if (3 + nameLen > len) st.fail("POSTCOPY_RAM_DISCARD block name runs past the payload");
  rec.block = decodeName(p.subarray(2, 2 + nameLen));
  if (p[2 + nameLen] !== 0) {
    st.fail("POSTCOPY_RAM_DISCARD byte after the block name is not 0", offset + 7 + nameLen);
  }
  const rest = len - 3 - nameLen;
  if (rest % 16 !== 0 || rest === 0) {
    st.fail(`POSTCOPY_RAM_DISCARD ranges take ${rest} bytes, not a positive multiple of 16`);
  }
  rec.ranges = [];
  for (let at = 3 + nameLen; at < len; at += 16) {
    rec.ranges.push({
      start: Number(dv.getBigUint64(at)),
      length: Number(dv.getBigUint64(at + 8)),
    });
  }
  checkDiscardTarget(st, rec, offset + 8 + nameLen);
}

/**
 * Once MEM_SIZE has announced the block table, a discard must name one of its blocks and stay
 * inside it in whole target pages — what replay (and QEMU's destination) require. Before any
 * block is known (a PACKAGED payload parsed on its own) the command is only decoded.
 */
function checkDiscardTarget(st: ParseState, rec: CommandRecord, rangesAt: number) {
  if (st.blocks.length === 0) return;
  const name = rec.block!;
  const idx = st.blockIndex.get(name);
  if (idx === undefined) {
    st.fail(
      `POSTCOPY_RAM_DISCARD names RAM block '${printable(name)}', which MEM_SIZE did not announce`,
      rec.offset + 7,
    );
  }
  const size = st.blocks[idx].size;
  const ps = st.pageSize;
  rec.ranges!.forEach((r, k) => {
    if (r.start % ps || r.length % ps || r.start + r.length > size) {
      st.fail(
        `POSTCOPY_RAM_DISCARD range 0x${r.start.toString(16)}+0x${
          r.length.toString(16)
        } is outside '${printable(name)}' (${size} bytes) or not in whole ${ps}-byte pages`,
        rangesAt + 16 * k,
      );
    }
  });
}

function advise(st: ParseState, rec: CommandRecord, dv: DataView) {
  const len = dv.byteLength;
  if (len !== 0 && len !== 16) st.fail(`POSTCOPY_ADVISE payload must be 0 or 16 bytes, not ${len}`);
  if (len !== 16) return;
  rec.hostPageSizes = Number(dv.getBigUint64(0));
  rec.targetPageSize = Number(dv.getBigUint64(8));
  if (rec.targetPageSize !== st.pageSize) {
    st.fail(`POSTCOPY_ADVISE target page size ${rec.targetPageSize} != ${st.pageSize}`);
  }
  st.info.postcopyHostPageSizes = rec.hostPageSizes;
}

/** Reads one COMMAND record at nesting `depth`. */
export async function readCommand(st: ParseState, depth: number): Promise<CommandRecord> {
  const offset = st.r.pos;
  st.record = `COMMAND at ${offset}`;
  await st.need(5, "command header");
  st.r.advance(1);
  const cmd = st.r.be16();
  const len = st.r.be16();
  const def = COMMANDS.find((c) => c.cmd === cmd);
  if (!def) st.fail(`unknown command ${cmd}`, offset + 1);
  st.record = `COMMAND ${def.name} at ${offset}`;
  const rec: CommandRecord = {
    kind: "command",
    offset,
    length: 5 + len,
    depth,
    cmd,
    name: def.name,
  };
  if (def.len >= 0 && len !== def.len) {
    st.fail(`${def.name} payload must be ${def.len} bytes, not ${len}`, offset + 3);
  }
  await st.need(len, `${def.name} payload`);
  const p = st.r.bytes(len);
  const dv = new DataView(p.buffer, p.byteOffset, p.length);
  switch (cmd) {
    case CMD.PING:
      rec.value = dv.getUint32(0);
      break;
    case CMD.POSTCOPY_ADVISE:
      advise(st, rec, dv);
      break;
    case CMD.POSTCOPY_RAM_DISCARD:
      discard(st, rec, p, dv);
      break;
    case CMD.PACKAGED:
      rec.packageLength = dv.getUint32(0);
      break;
    case CMD.POSTCOPY_RUN:
      st.startPostcopy();
      break;
    case CMD.RECV_BITMAP:
      if (len < 1 || p[0] + 1 !== len) st.fail("RECV_BITMAP length does not match its block name");
      rec.block = decodeName(p.subarray(1));
      break;
  }
  return rec;
}
