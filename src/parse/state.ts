/**
 * The parser's state, shared by the record-family readers: the reader, the stream's facts
 * ({@link StreamInfo}), open sections, PACKAGED frames, and where the parser is (for errors).
 * @module
 */
import { printable, StreamError } from "../protocol/errors.ts";
import type { RamBlockInfo, VmDesc, VmdescDevice } from "../protocol/records.ts";
import { initialStreamInfo, type StreamInfo } from "../protocol/stream_info.ts";
import type { ByteReader } from "../wire/reader.ts";
import { type DeviceWork, indexVmdesc } from "./device.ts";
import { checkVmdesc } from "./vmdesc_shape.ts";

/** How to read a stream. Everything is optional; defaults follow what QEMU sends. */
export interface ParseOptions {
  /** The vmdesc JSON, when known up front (read from a seekable file's end, or `--vmdesc`). */
  vmdesc?: VmDesc;
  /** Decode device fields into `DeviceRecord.fields` (otherwise bodies are only delimited). */
  decodeDevices?: boolean;
  /** Section footers: detected after the first section (`auto`), or forced. */
  footers?: "auto" | "on" | "off";
  /**
   * Target page size. Default: `configuration/target-page-bits`, else the vmdesc's
   * `page_size`, else 4096.
   */
  pageSize?: number;
  /**
   * RAM blocks whose MEM_SIZE entry carries a page size (postcopy-ram with hugepage-backed
   * blocks). When omitted it is inferred from POSTCOPY_ADVISE.
   */
  hugePageBlocks?: string[];
  /** Most bytes buffered from a pipe to find the trailer that delimits device sections. */
  maxDeviceTail?: number;
  /** The stream starts with no header (bare records, e.g. a PACKAGED payload on its own). */
  headerless?: boolean;
  /**
   * Materialise `data` views of page and chunk payloads (default true). Consumers that only
   * count records (inspect) turn it off to save an allocation per record.
   */
  payloads?: boolean;
}

/** A section opened by START or FULL. */
export interface SectionInfo {
  idstr: string;
  instanceId: number;
  version: number;
  handler: "ram" | "block" | "device";
}

/** An open PACKAGED payload. */
export interface PackageFrame {
  end: number;
  offset: number;
}

/** Mutable parse state. */
export class ParseState {
  readonly r: ByteReader;
  readonly opts: ParseOptions;
  readonly info: StreamInfo;
  readonly sections = new Map<number, SectionInfo>();
  readonly blockIndex = new Map<string, number>();
  /** Block named most recently on the main channel (for CONTINUE), -1 before any. */
  lastBlock = -1;
  /** Position of the last page record, to detect where a pass wraps. */
  lastPosBlock = -1;
  lastPosAddr = -1;
  pass = 0;
  vmdesc?: VmDesc;
  vmdescIndex?: Map<string, VmdescDevice>;
  readonly packages: PackageFrame[] = [];
  /** Work done reading device bodies (bounded by the bytes read, see device.ts). */
  readonly deviceWork: DeviceWork = { idle: 0 };
  /** End of the innermost PACKAGED payload (Infinity outside one). */
  limit = Infinity;
  section?: string;
  record?: string;

  constructor(r: ByteReader, opts: ParseOptions) {
    this.r = r;
    this.opts = opts;
    this.info = initialStreamInfo(opts.pageSize, opts.vmdesc?.page_size);
    if (opts.footers === "on") this.info.footers = true;
    if (opts.footers === "off") this.info.footers = false;
    if (opts.vmdesc) this.setVmdesc(opts.vmdesc);
  }

  /**
   * POSTCOPY_RUN: the pages after it (the background sweep and the pages the destination
   * requested, in no address order) are one pass, the next one: it starts here, and
   * readRamBatch counts no wraps after it.
   */
  startPostcopy(): void {
    if (this.info.postcopyPass === undefined) this.pass = this.info.postcopyPass = this.pass + 1;
  }

  get pageSize(): number {
    return this.info.pageSize;
  }

  get blocks(): RamBlockInfo[] {
    return this.info.blocks;
  }

  get mappedRam(): boolean {
    return this.info.capabilities.includes("mapped-ram");
  }

  get ignoreShared(): boolean {
    return this.info.capabilities.includes("x-ignore-shared");
  }

  /**
   * Takes a vmdesc (checked: one given as an object may not have come through parseVmdesc); a
   * page size it contradicts is an error unless an option set it.
   */
  setVmdesc(d: VmDesc, at = this.r.pos): void {
    try {
      checkVmdesc(d);
    } catch (e) {
      this.fail((e as Error).message, at);
    }
    const ps = d.page_size;
    if (typeof ps === "number" && ps !== this.info.pageSize) {
      if (this.info.pageSizeFrom === "default") {
        this.fail(
          `the vmdesc JSON says page_size ${ps}, but the stream was read with ${this.info.pageSize}-byte ` +
            `pages (it has no target-page-bits); pass --page-size ${ps}`,
          at,
        );
      }
      if (this.info.pageSizeFrom !== "vmdesc") {
        const from = this.info.pageSizeFrom === "option" ? "--page-size" : "target-page-bits";
        this.fail(`the vmdesc JSON says page_size ${ps}, ${from} says ${this.info.pageSize}`, at);
      }
    }
    this.vmdesc = d;
    this.vmdescIndex = indexVmdesc(d.devices);
  }

  /**
   * For RAM errors when the page size was only assumed: how to give the right one. Empty for
   * x86 machine types (4096 is their only target page).
   */
  get pageSizeHint(): string {
    if (this.info.pageSizeFrom !== "default") return "";
    if (/^(pc|q35|microvm|isapc|xenfv|xenpv)\b/.test(this.info.machine ?? "")) return "";
    return ` (the stream names no page size and ${this.info.pageSize} was assumed; ` +
      "if its target pages are smaller, e.g. 1024 on ARM versatilepb, pass --page-size)";
  }

  /** Throws a {@link StreamError} at `offset` naming the current section and record. */
  fail(detail: string, offset = this.r.pos): never {
    throw new StreamError({ offset, section: this.section, record: this.record }, detail);
  }

  /** Ensures `n` bytes are buffered and inside the current PACKAGED payload. */
  async need(n: number, what: string): Promise<void> {
    if (this.r.pos + n > this.limit) {
      this.fail(`${what} runs past the end of the PACKAGED payload at offset ${this.limit}`);
    }
    if (!this.r.has(n)) await this.r.fill(n);
  }
}

const utf8 = new TextDecoder();

/** Decodes a name from the stream (UTF-8, as QEMU's idstrs are bytes; invalid bytes → U+FFFD). */
export function decodeName(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Reads a counted string (u8 length + bytes). */
export async function countedString(st: ParseState, what: string): Promise<string> {
  await st.need(1, what);
  const len = st.r.peekU8();
  await st.need(1 + len, what);
  st.r.advance(1);
  return decodeName(st.r.bytes(len));
}

/** A section's label for messages. */
export function sectionLabel(type: string, id: number, idstr: string, offset: number): string {
  return `section ${id} '${printable(idstr)}' ${type} at ${offset}`;
}
