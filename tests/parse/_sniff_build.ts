/**
 * A few crafted bytes of files that are not migration streams (for the sniff tests).
 */

export const enc = new TextEncoder();

/** A libvirt virQEMUSaveHeader (little-endian) followed by `xmlLen` bytes of XML. */
export function libvirtHeader(magic: string, format: number, xmlLen: number): Uint8Array {
  const b = new Uint8Array(92 + 16);
  b.set(enc.encode(magic));
  const dv = new DataView(b.buffer);
  dv.setUint32(16, 2, true); // version
  dv.setUint32(20, xmlLen, true); // data_len
  dv.setUint32(24, 1, true); // was_running
  dv.setUint32(28, format, true); // compressed
  b.set(enc.encode("<domain type="), 92);
  return b;
}

/** An ELF header of `type` (4: core), 64-bit, little- or big-endian. */
export function elfHeader(type: number, bigEndian = false): Uint8Array {
  const b = new Uint8Array(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, bigEndian ? 2 : 1, 1]);
  if (bigEndian) b[17] = type;
  else b[16] = type;
  return b;
}

/** A qcow2 header: version and number of internal snapshots. */
export function qcow2Header(version: number, snapshots: number): Uint8Array {
  const b = new Uint8Array(112);
  const dv = new DataView(b.buffer);
  b.set([0x51, 0x46, 0x49, 0xfb]);
  dv.setUint32(4, version);
  dv.setUint32(60, snapshots);
  return b;
}
