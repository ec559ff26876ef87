/**
 * The beginning of a container's stream, parsed just far enough to say what it holds: the
 * header version, the CONFIGURATION section (machine type, capabilities, page size) and the
 * RAM block table of the first MEM_SIZE record — then parsing stops.
 * @module
 */
import { parseStreamItems } from "../parse/stream.ts";
import type { RamBlockInfo } from "../protocol/records.ts";
import { ByteReader } from "../wire/reader.ts";
import type { ByteSource } from "../wire/source.ts";

/** What the head of a stream says. */
export interface StreamHead {
  /** Stream version from the header (3). */
  version?: number;
  machine?: string;
  capabilities: string[];
  targetPageBits?: number;
  uuid?: string;
  /** Target page size the parser settled on. */
  pageSize?: number;
  /** RAM blocks of the first MEM_SIZE record. */
  blocks: RamBlockInfo[];
  /** Total RAM announced by MEM_SIZE. */
  totalRam?: number;
  /** The stream uses mapped-ram (RAM pages in fixed slots of the file). */
  mappedRam: boolean;
  /** What the head suggests about the QEMU that wrote it. */
  hints: string[];
  /** Where parsing stopped when the head is malformed. */
  error?: unknown;
}

/** Hints about the saving QEMU that follow from the head alone. */
export function versionHints(head: StreamHead): string[] {
  const hints: string[] = [];
  const m = /^(?:pc-(?:i440fx|q35)|virt|pseries|s390-ccw-virtio)-(\d+)\.(\d+)$/.exec(
    head.machine ?? "",
  );
  if (m) hints.push(`machine type ${head.machine}: saved by QEMU ${m[1]}.${m[2]} or later`);
  if (head.mappedRam) hints.push("mapped-ram: saved by QEMU 9.0 or later");
  if (head.machine !== undefined && head.capabilities.length) {
    hints.push(`capabilities announced: ${head.capabilities.join(", ")}`);
  }
  return hints;
}

/**
 * Parses the head of the stream in `src` (the reader's offsets start at `baseOffset`) up to
 * and including the first MEM_SIZE record. Never throws for a malformed stream: the error is
 * returned in `error`.
 */
export async function readStreamHead(src: ByteSource, baseOffset = 0): Promise<StreamHead> {
  const head: StreamHead = { capabilities: [], blocks: [], mappedRam: false, hints: [] };
  const r = new ByteReader(src, { baseOffset, chunk: 256 << 10 });
  try {
    for await (const item of parseStreamItems(r, { payloads: false })) {
      if (item.kind === "header") head.version = item.version;
      else if (item.kind === "configuration") {
        head.machine = item.machine;
        head.capabilities = item.capabilities;
        head.targetPageBits = item.targetPageBits;
        head.uuid = item.uuid;
      } else if (item.kind === "ram" && item.type === "mem_size") {
        head.blocks = item.blocks ?? [];
        head.totalRam = item.total;
        head.pageSize = item.pageSize;
        head.mappedRam = head.blocks.some((b) => b.mappedRam !== undefined);
        break;
      } else if (item.kind === "eof") break;
    }
  } catch (e) {
    head.error = e;
  }
  head.hints = versionHints(head);
  return head;
}
