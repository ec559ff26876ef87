/**
 * Writers for every record of the wire format — the emitter's vocabulary, mirroring the parser.
 * @module
 */
import {
  BLK_FLAG,
  BLK_SECTOR_SIZE,
  CMD,
  FILE_MAGIC,
  FILE_VERSION,
  MAPPED_RAM,
  RAM_FLAG,
  VM,
  XBZRLE_ENCODING_FLAG,
} from "../protocol/constants.ts";
import type { RamBlockInfo } from "../protocol/records.ts";
import type { ByteWriter } from "../wire/writer.ts";

/** `QEVM` + version 3. */
export function writeHeader(w: ByteWriter): void {
  w.be32(FILE_MAGIC).be32(FILE_VERSION);
}

/** The CONFIGURATION section with optional subsections. */
export function writeConfiguration(
  w: ByteWriter,
  machine: string,
  opts: { capabilities?: string[]; targetPageBits?: number; uuid?: Uint8Array } = {},
): void {
  const name = new TextEncoder().encode(machine);
  w.u8(VM.CONFIGURATION).be32(name.length).bytes(name);
  if (opts.targetPageBits !== undefined) {
    w.u8(VM.SUBSECTION).counted("configuration/target-page-bits").be32(1).be32(opts.targetPageBits);
  }
  if (opts.capabilities?.length) {
    w.u8(VM.SUBSECTION).counted("configuration/capabilities").be32(1).be32(
      opts.capabilities.length,
    );
    for (const c of opts.capabilities) w.counted(c);
  }
  if (opts.uuid) w.u8(VM.SUBSECTION).counted("configuration/uuid").be32(1).bytes(opts.uuid);
}

/** START or FULL section header. */
export function writeSectionFull(
  w: ByteWriter,
  type: "START" | "FULL",
  id: number,
  idstr: string,
  instance: number,
  version: number,
): void {
  w.u8(type === "START" ? VM.SECTION_START : VM.SECTION_FULL).be32(id).counted(idstr).be32(instance)
    .be32(version);
}

/** PART or END section header. */
export function writeSectionShort(w: ByteWriter, type: "PART" | "END", id: number): void {
  w.u8(type === "PART" ? VM.SECTION_PART : VM.SECTION_END).be32(id);
}

/** Section footer. */
export function writeFooter(w: ByteWriter, id: number): void {
  w.u8(VM.SECTION_FOOTER).be32(id);
}

/** A COMMAND record with its payload (PACKAGED's nested bytes are written separately). */
export function writeCommand(
  w: ByteWriter,
  cmd: number,
  payload: Uint8Array = new Uint8Array(0),
): void {
  w.u8(VM.COMMAND).be16(cmd).be16(payload.length).bytes(payload);
}

/** PING with a value. */
export function writePing(w: ByteWriter, value: number): void {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setUint32(0, value);
  writeCommand(w, CMD.PING, p);
}

/** RAM record header: be64 (addr | flags), then the block name unless `block` is undefined (CONTINUE). */
export function writeRamHeader(w: ByteWriter, addr: number, flags: number, block?: string): void {
  w.be64(BigInt(addr) | BigInt(flags | (block === undefined ? RAM_FLAG.CONTINUE : 0)));
  if (block !== undefined) w.counted(block);
}

/** ZERO record. */
export function writeRamZero(w: ByteWriter, addr: number, block?: string, fill = 0): void {
  writeRamHeader(w, addr, RAM_FLAG.ZERO, block);
  w.u8(fill);
}

/** PAGE record. */
export function writeRamPage(w: ByteWriter, addr: number, data: Uint8Array, block?: string): void {
  writeRamHeader(w, addr, RAM_FLAG.PAGE, block);
  w.bytes(data);
}

/** XBZRLE record with an encoded delta. */
export function writeRamXbzrle(
  w: ByteWriter,
  addr: number,
  delta: Uint8Array,
  block?: string,
): void {
  writeRamHeader(w, addr, RAM_FLAG.XBZRLE, block);
  w.u8(XBZRLE_ENCODING_FLAG).be16(delta.length).bytes(delta);
}

/** COMPRESS_PAGE record with zlib bytes. */
export function writeRamCompressed(
  w: ByteWriter,
  addr: number,
  zlib: Uint8Array,
  block?: string,
): void {
  writeRamHeader(w, addr, RAM_FLAG.COMPRESS_PAGE, block);
  w.be32(zlib.length).bytes(zlib);
}

/** RAM EOS. */
export function writeRamEos(w: ByteWriter): void {
  w.be64(RAM_FLAG.EOS);
}

/**
 * MEM_SIZE and the block list, with the optional per-block fields (page size, address) the
 * capabilities call for. mapped-ram headers are written by the mapped-ram emitter.
 */
export function writeRamMemSize(w: ByteWriter, blocks: RamBlockInfo[]): void {
  const total = blocks.reduce((a, b) => a + b.size, 0);
  w.be64(BigInt(total) | BigInt(RAM_FLAG.MEM_SIZE));
  for (const b of blocks) {
    w.counted(b.name).be64(b.size);
    if (b.pageSize !== undefined) w.be64(b.pageSize);
    if (b.mrAddr !== undefined) w.be64(b.mrAddr);
    if (b.mappedRam) {
      const m = b.mappedRam;
      w.be32(m.version).be64(m.pageSize).be64(m.bitmapOffset).be64(m.pagesOffset);
    }
  }
}

/** Size of a mapped-ram header on the wire. */
export const MAPPED_RAM_HEADER_SIZE = MAPPED_RAM.HEADER_SIZE;

/** Block migration chunk: data (1 MiB) or, with `data` null, a ZERO_BLOCK. */
export function writeBlockChunk(
  w: ByteWriter,
  sector: number,
  device: string,
  data: Uint8Array | null,
): void {
  const flags = BLK_FLAG.DEVICE_BLOCK | (data ? 0 : BLK_FLAG.ZERO_BLOCK);
  w.be64(BigInt(sector) * BigInt(BLK_SECTOR_SIZE) | BigInt(flags)).counted(device);
  if (data) w.bytes(data);
}

/** Block migration PROGRESS. */
export function writeBlockProgress(w: ByteWriter, percent: number): void {
  w.be64(BigInt(percent) * BigInt(BLK_SECTOR_SIZE) | BigInt(BLK_FLAG.PROGRESS));
}

/** Block migration EOS. */
export function writeBlockEos(w: ByteWriter): void {
  w.be64(BLK_FLAG.EOS);
}

/** EOF. */
export function writeEof(w: ByteWriter): void {
  w.u8(VM.EOF);
}

/** VMDESCRIPTION trailer. */
export function writeVmdesc(w: ByteWriter, json: string | Uint8Array): void {
  const b = typeof json === "string" ? new TextEncoder().encode(json) : json;
  w.u8(VM.VMDESCRIPTION).be32(b.length).bytes(b);
}
