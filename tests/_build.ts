/**
 * Small hand-built streams for byte-level tests, written with the emitter's record writers.
 */
import { ByteWriter } from "../src/wire/writer.ts";
import * as F from "../src/emit/frame.ts";
import type { VmDesc } from "../src/protocol/records.ts";

/** A page filled with `byte`. */
export function page(byte: number, size = 4096): Uint8Array {
  return new Uint8Array(size).fill(byte);
}

/** A vmdesc with one tiny device `dev0` (a u32, a be16 array of 2, and subsection `dev0/sub`). */
export const TINY_VMDESC: VmDesc = {
  page_size: 4096,
  devices: [{
    name: "dev0",
    instance_id: 0,
    vmsd_name: "dev0",
    version: 1,
    fields: [
      { name: "a", type: "uint32", size: 4 },
      { name: "arr", type: "uint16", size: 2, array_len: 2 },
      { name: "le", type: "int32 le", size: 4 },
      {
        name: "s",
        type: "struct",
        size: 3,
        struct: {
          vmsd_name: "s",
          version: 1,
          fields: [{ name: "x", type: "uint8", size: 1 }, { name: "y", type: "int16", size: 2 }],
        },
      },
    ],
    subsections: [{
      vmsd_name: "dev0/sub",
      version: 1,
      fields: [{ name: "flag", type: "bool", size: 1 }],
    }],
  }],
};

/** Writes dev0's body matching {@link TINY_VMDESC}. */
export function writeTinyDeviceBody(w: ByteWriter): void {
  w.be32(0xdeadbeef).be16(1).be16(2);
  w.bytes(Uint8Array.of(0xfe, 0xff, 0xff, 0xff)); // int32 le = -2
  w.u8(7).be16(0xfffd); // struct: x=7, y=-3
  w.u8(0x05).counted("dev0/sub").be32(1).u8(1);
}

/** Options of {@link miniStream}. */
export interface MiniOptions {
  footers?: boolean;
  configuration?: boolean;
  capabilities?: string[];
  /** Bytes inserted right after the configuration (commands, …). */
  preamble?: (w: ByteWriter) => void;
  /** Extra per-block MEM_SIZE fields. */
  mrAddr?: boolean;
  device?: boolean;
  trailer?: boolean;
}

/**
 * A complete small stream: two RAM blocks, a START with MEM_SIZE, a PART with a named PAGE, a
 * CONTINUE ZERO, an XBZRLE and a page in the second block, an END, optionally a device, EOF
 * and a vmdesc trailer.
 */
export function miniStream(o: MiniOptions = {}): Uint8Array {
  const footers = o.footers ?? true;
  const w = new ByteWriter();
  F.writeHeader(w);
  if (o.configuration ?? true) {
    F.writeConfiguration(w, "pc-i440fx-7.2", { capabilities: o.capabilities });
  }
  o.preamble?.(w);
  const foot = (id: number) => footers && F.writeFooter(w, id);
  F.writeSectionFull(w, "START", 2, "ram", 0, 4);
  F.writeRamMemSize(w, [
    { name: "pc.ram", size: 8 * 4096, mrAddr: o.mrAddr ? 0 : undefined },
    { name: "pc.rom", size: 2 * 4096, mrAddr: o.mrAddr ? 0xfffc0000 : undefined },
  ]);
  F.writeRamEos(w);
  foot(2);
  F.writeSectionShort(w, "PART", 2);
  F.writeRamPage(w, 0x1000, page(0xaa), "pc.ram");
  F.writeRamZero(w, 0x2000);
  F.writeRamXbzrle(w, 0x1000, Uint8Array.of(0xff, 0x1f, 0x01, 0x01));
  F.writeRamPage(w, 0x1000, page(0xbb), "pc.rom");
  F.writeRamEos(w);
  foot(2);
  F.writeSectionShort(w, "END", 2);
  F.writeRamZero(w, 0x0, "pc.ram");
  F.writeRamEos(w);
  foot(2);
  if (o.device) {
    F.writeSectionFull(w, "FULL", 3, "dev0", 0, 1);
    writeTinyDeviceBody(w);
    foot(3);
  }
  F.writeEof(w);
  if (o.trailer ?? o.device) F.writeVmdesc(w, JSON.stringify(TINY_VMDESC));
  return w.result();
}
