/**
 * migscope: parse, replay, verify and emit QEMU live-migration streams.
 *
 * The library never prints and never exits: it takes streams and returns records and results.
 *
 * @example Count the zero pages of a capture
 * ```ts
 * import { openInput, parseStream } from "./mod.ts";
 * const input = await openInput("samples/small-xbzrle.mig");
 * let zero = 0;
 * for await (const rec of parseStream(input.reader, { vmdesc: input.vmdesc })) {
 *   if (rec.kind === "ram" && rec.type === "zero") zero++;
 * }
 * input.close();
 * ```
 * @module
 */
export * from "./src/protocol/constants.ts";
export * from "./src/protocol/records.ts";
export { StreamError, type StreamLocation } from "./src/protocol/errors.ts";
export { ByteReader, EndOfStreamError } from "./src/wire/reader.ts";
export { type ByteSource, bytesSource, fileSource, streamSource } from "./src/wire/source.ts";
export { type ByteSink, ByteWriter } from "./src/wire/writer.ts";
export { isAllZero } from "./src/wire/zero.ts";
export { type ParseOptions, parseStream } from "./src/parse/stream.ts";
export { loadVmdesc, type OpenedInput, openInput, type OpenOptions } from "./src/parse/input.ts";
export { locateTrailer, parseVmdesc, readTrailerAt } from "./src/parse/trailer.ts";
export { decodeScalar, readDeviceBody } from "./src/parse/device.ts";
export { xbzrleDecode, type XbzrleFault, xbzrleValidate } from "./src/xbzrle/decode.ts";
export { XBZRLE_OVERFLOW, XBZRLE_UNCHANGED, xbzrleEncode } from "./src/xbzrle/encode.ts";
export { PageCache } from "./src/xbzrle/cache.ts";
export { Summarizer, type Summary, type TimelineRow } from "./src/report/summary.ts";
export {
  type Finding,
  ReplayError,
  type ReplayOptions,
  replayRecords,
  type ReplayResult,
  type ReplayTargets,
} from "./src/replay/engine.ts";
export { ImageTarget } from "./src/replay/target.ts";
export { diskFileName, ramFileName, safeName } from "./src/replay/names.ts";
export { compareImages, type CompareResult } from "./src/replay/verify.ts";
export {
  bytesImage,
  type EmitDisk,
  type EmitOptions,
  type EmitRamBlock,
  type EmitStats,
  emitStream,
  fileImage,
  type ImageSource,
} from "./src/emit/emitter.ts";
export { loadTemplate, type Template } from "./src/emit/template.ts";
export * as frame from "./src/emit/frame.ts";
export { bitmapBytes, bitSet, countSet, readBitmap } from "./src/parse/mapped_ram.ts";
export { type MultifdInit, type MultifdPacket, parseMultifdChannel } from "./src/parse/multifd.ts";
export { emitMappedRam, type MappedRamStats } from "./src/emit/mapped_ram.ts";
export { oneLine, printable } from "./src/protocol/errors.ts";
