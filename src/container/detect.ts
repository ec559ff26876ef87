/**
 * What a file is, from its first bytes: a bare QEMU migration stream, a gzip file, a libvirt
 * save image (complete or not), a qcow2 image, a multifd channel, or something else.
 * @module
 */
import { FILE_MAGIC, MULTIFD_MAGIC } from "../protocol/constants.ts";

/** The kinds of file {@link detectKind} tells apart. */
export type ContainerKind =
  | "qemu-stream"
  | "gzip"
  | "libvirt-save"
  | "qcow2"
  | "multifd-channel"
  | "other";

/** Bytes {@link detectKind} looks at (the longest magic: libvirt's 16). */
export const SNIFF_BYTES = 16;

/** `LibvirtQemudSave`: a finished libvirt save image. */
export const LIBVIRT_MAGIC = "LibvirtQemudSave";
/** `LibvirtQemudPart`: a libvirt save image whose save never finished. */
export const LIBVIRT_PARTIAL_MAGIC = "LibvirtQemudPart";
/** `QFI\xfb`: first four bytes of a qcow2 image. */
export const QCOW2_MAGIC = 0x514649fb;

function be32(b: Uint8Array): number {
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/** The 16-byte libvirt magic at the start of `head`, if any. */
export function libvirtMagic(head: Uint8Array): "complete" | "partial" | undefined {
  if (head.length < 16) return undefined;
  const s = String.fromCharCode(...head.subarray(0, 16));
  if (s === LIBVIRT_MAGIC) return "complete";
  if (s === LIBVIRT_PARTIAL_MAGIC) return "partial";
  return undefined;
}

/**
 * The kind of a file from its first bytes (up to {@link SNIFF_BYTES}; fewer is fine).
 *
 * @example
 * ```ts
 * import { detectKind } from "./detect.ts";
 * const kind = detectKind(new TextEncoder().encode("LibvirtQemudPart"));
 * if (kind !== "libvirt-save") throw new Error("an unfinished save is still a save image");
 * ```
 */
export function detectKind(head: Uint8Array): ContainerKind {
  if (libvirtMagic(head)) return "libvirt-save";
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length < 4) return "other";
  const m = be32(head);
  if (m === FILE_MAGIC) return "qemu-stream";
  if (m === QCOW2_MAGIC) return "qcow2";
  if (m === MULTIFD_MAGIC) return "multifd-channel";
  return "other";
}
