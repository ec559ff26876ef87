/**
 * Test containers made around real streams: libvirt save images (a header written here, the
 * stream compressed by the real tools as libvirt pipes it: `gzip -c`, `bzip2 -c`, `xz -c -3`,
 * `lzop -c`, `zstd -c`), incomplete and hostile variants; qcow2 helpers live in
 * tools/qcow2_images.ts.
 */

/** The compression commands libvirt runs, by format. */
export const COMPRESSORS: Record<string, string[]> = {
  gzip: ["gzip", "-c"],
  bzip2: ["bzip2", "-c"],
  xz: ["xz", "-c", "-3"],
  lzop: ["lzop", "-c"],
  zstd: ["zstd", "-c", "-q"],
};

/** Format codes of the libvirt header. */
export const FORMAT_CODES: Record<string, number> = {
  raw: 0,
  gzip: 1,
  bzip2: 2,
  xz: 3,
  lzop: 4,
  zstd: 5,
  sparse: 6,
};

/** True when `tool` runs (`tool --version` exits 0). */
export function haveTool(tool: string): boolean {
  try {
    return new Deno.Command(tool, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Fields of a libvirt header to write. */
export interface HeaderFields {
  complete?: boolean;
  version?: number;
  dataLen: number;
  wasRunning?: number;
  format: number;
  cookieOffset?: number;
  bigEndian?: boolean;
  /** Write only the version byte-swapped (a mixed-endian, hostile header). */
  swapVersionOnly?: boolean;
}

/** The 92-byte libvirt save header. */
export function libvirtHeader(f: HeaderFields): Uint8Array {
  const b = new Uint8Array(92);
  b.set(new TextEncoder().encode(f.complete === false ? "LibvirtQemudPart" : "LibvirtQemudSave"));
  const dv = new DataView(b.buffer);
  const le = !f.bigEndian;
  dv.setUint32(16, f.version ?? 2, f.swapVersionOnly ? !le : le);
  dv.setUint32(20, f.dataLen, le);
  dv.setUint32(24, f.wasRunning ?? 1, le);
  dv.setUint32(28, f.format, le);
  dv.setUint32(32, f.cookieOffset ?? 0, le);
  return b;
}

/** The data region: XML, NUL, optional cookie and NUL, zero padding. */
export function libvirtData(
  xml: string,
  cookie?: string,
  padding = 0,
): { data: Uint8Array; cookieOffset: number } {
  const enc = new TextEncoder();
  const x = enc.encode(xml);
  const c = cookie === undefined ? undefined : enc.encode(cookie);
  const len = x.length + 1 + (c ? c.length + 1 : 0) + padding;
  const data = new Uint8Array(len);
  data.set(x);
  if (c) data.set(c, x.length + 1);
  return { data, cookieOffset: c ? x.length + 1 : 0 };
}

/** A small domain XML. */
export function domainXml(name: string, memoryMiB = 8, machine = "pc-i440fx-7.2"): string {
  return `<domain type='qemu'>\n  <name>${name}</name>\n  <uuid>5eed1ab0-7a1e-4c0d-9e3a-0000000000ff</uuid>\n` +
    `  <memory unit='MiB'>${memoryMiB}</memory>\n  <vcpu placement='static'>1</vcpu>\n` +
    `  <os>\n    <type arch='x86_64' machine='${machine}'>hvm</type>\n  </os>\n</domain>\n`;
}

/** Options of {@link writeLibvirtImage}. */
export interface ImageOptions {
  xml: string;
  format: string;
  complete?: boolean;
  cookie?: string;
  padding?: number;
  bigEndian?: boolean;
  /** Cut the file to this many bytes of stream part (an interrupted save). */
  streamBytes?: number;
}

/** Compresses `input` with the format's real tool; returns the compressed bytes. */
export async function compress(format: string, input: string): Promise<Uint8Array> {
  const [tool, ...args] = COMPRESSORS[format];
  const f = await Deno.open(input);
  const child = new Deno.Command(tool, { args, stdin: "piped", stdout: "piped" }).spawn();
  const [, out] = await Promise.all([f.readable.pipeTo(child.stdin), child.output()]);
  if (!out.success) throw new Error(`${tool} failed`);
  return out.stdout;
}

/** Writes a libvirt save image of `stream` (a bare stream file) to `out`. */
export async function writeLibvirtImage(
  out: string,
  stream: string,
  o: ImageOptions,
): Promise<void> {
  const { data, cookieOffset } = libvirtData(o.xml, o.cookie, o.padding ?? 4096);
  const header = libvirtHeader({
    complete: o.complete,
    dataLen: data.length,
    format: FORMAT_CODES[o.format],
    cookieOffset,
    bigEndian: o.bigEndian,
  });
  let body = o.format === "raw" ? await Deno.readFile(stream) : await compress(o.format, stream);
  if (o.streamBytes !== undefined) body = body.subarray(0, o.streamBytes);
  const all = new Uint8Array(92 + data.length + body.length);
  all.set(header);
  all.set(data, 92);
  all.set(body, 92 + data.length);
  await Deno.writeFile(out, all);
}

/** mapped-ram's file offset alignment (slots start at a multiple of it). */
const MAPPED_RAM_ALIGN = 1 << 20;

/**
 * A libvirt `sparse` save image of a mapped-ram stream (offsets from 0, as QEMU writes to a
 * file of its own): the stream is placed at a 1 MiB multiple past the header and XML, and each
 * block's bitmap and pages offsets are moved by as much — absolute file offsets, as in an image
 * libvirt 10+ writes. `headerOffsets` are the blocks' 28-byte mapped-ram headers in `stream`.
 */
export async function writeSparseImage(
  out: string,
  stream: string,
  xml: string,
  headerOffsets: number[],
): Promise<number> {
  const { data: xmlData } = libvirtData(xml);
  const at = Math.ceil((92 + xmlData.length) / MAPPED_RAM_ALIGN) * MAPPED_RAM_ALIGN;
  const data = new Uint8Array(at - 92);
  data.set(xmlData);
  const header = libvirtHeader({ dataLen: data.length, format: FORMAT_CODES.sparse });
  const body = await Deno.readFile(stream);
  const dv = new DataView(body.buffer);
  for (const h of headerOffsets) {
    for (const field of [h + 12, h + 20]) {
      dv.setBigUint64(field, dv.getBigUint64(field) + BigInt(at));
    }
  }
  const f = await Deno.open(out, { write: true, create: true, truncate: true });
  await f.write(header);
  await f.write(data);
  for (let done = 0; done < body.length;) done += await f.write(body.subarray(done));
  f.close();
  return at;
}
