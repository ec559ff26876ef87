/**
 * migscope: inspect, replay, verify and emit QEMU live-migration streams.
 *
 * The library never prints, exits or reads argv: it takes streams and returns records and
 * results. Entry points: {@link openInput} then {@link inspectStream}, {@link replayStream} or
 * {@link parseStream}; {@link emitStream} writes streams.
 *
 * @example Count the zero pages of a capture
 * ```ts
 * import { inspectStream, openInput } from "./mod.ts";
 * const input = await openInput("samples/small-xbzrle.mig");
 * const { summary } = await inspectStream(input, { vmdesc: input.vmdesc });
 * input.close();
 * console.log(summary.ram.zero, "zero pages of", summary.stream.pageSize, "bytes");
 * ```
 * @module
 */

// Opening inputs and parsing.
export { loadVmdesc, type OpenedInput, openInput, type OpenOptions } from "./src/parse/input.ts";
export {
  type ParseOptions,
  parseStream,
  parseStreamItems,
  type StreamItem,
} from "./src/parse/stream.ts";

// inspect.
export {
  type InspectResult,
  inspectStream,
  type InspectStreamOptions,
} from "./src/report/inspect_stream.ts";
export type {
  BlockDeviceSummary,
  PassSummary,
  RamBlockSummary,
  Summary,
  TimelineRow,
} from "./src/report/summary_types.ts";
export { summaryText, timelineTable } from "./src/report/inspect_text.ts";

// replay and verify.
export { replayStream, type ReplayStreamOptions } from "./src/replay/replay_stream.ts";
export { ReplayError, type ReplayOptions, type ReplayResult } from "./src/replay/engine.ts";
export type { DirectoryTargetOptions } from "./src/replay/targets.ts";
export type { TargetStats } from "./src/replay/slot.ts";
export {
  type Finding,
  FINDING_KINDS,
  type FindingKind,
  type Severity,
} from "./src/replay/findings.ts";
export {
  compareImages,
  type CompareResult,
  type PageDiff,
  verifyImages,
} from "./src/replay/verify.ts";
export { WRITER, WRITER_NAMES, type WriterKind, WriterMap } from "./src/replay/writers.ts";
export type { ChannelInput } from "./src/replay/multifd_scheduler.ts";

// emit.
export {
  type EmitDisk,
  type EmitOptions,
  type EmitRamBlock,
  type EmitStats,
  emitStream,
  type ImageSource,
} from "./src/emit/emitter.ts";
export { emitMappedRam, type MappedRamStats } from "./src/emit/mapped_ram.ts";
export { loadTemplate, type Template } from "./src/emit/template.ts";
export {
  libvirtSaveHead,
  type LibvirtSaveOptions,
  type LibvirtSaveStats,
  type LibvirtSaveWriter,
  libvirtSaveWriter,
  SAVE_COMPRESSIONS,
  type SaveCompression,
} from "./src/emit/libvirt_save.ts";

// Records, per-stream facts, errors.
export type * from "./src/protocol/records.ts";
export { RAM_CODE, RAM_CODE_KIND, type RamBatch, ramRecordAt } from "./src/protocol/ram_batch.ts";
export type { SectionType } from "./src/protocol/constants.ts";
export type { PageSizeSource, StreamInfo } from "./src/protocol/stream_info.ts";
export { StreamError, type StreamLocation } from "./src/protocol/errors.ts";

// Bytes: random access and the XBZRLE codec.
export {
  bytesAccess,
  fileAccess,
  type FileAccessOptions,
  type RandomAccess,
} from "./src/wire/random_access.ts";
export { ByteReader } from "./src/wire/reader.ts";
export type { ByteSink } from "./src/wire/writer.ts";
export { xbzrleDecode, type XbzrleFault } from "./src/xbzrle/decode.ts";
export { XBZRLE_OVERFLOW, XBZRLE_UNCHANGED, xbzrleEncode } from "./src/xbzrle/encode.ts";
