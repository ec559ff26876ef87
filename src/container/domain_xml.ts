/**
 * A few facts from a libvirt domain XML (name, uuid, memory, vCPUs, architecture, machine type)
 * by a small scanner: tags, attributes, comments, CDATA and entities, with element paths tracked
 * on a bounded stack. No XML library: the text is untrusted and only these fields are wanted, so
 * malformed markup never throws, it just yields fewer facts.
 * @module
 */

/** What {@link scanDomainXml} finds. */
export interface DomainSummary {
  /** `<domain type=…>` (kvm, qemu, …). */
  type?: string;
  name?: string;
  uuid?: string;
  /** `<memory>` in bytes. */
  memoryBytes?: number;
  /** `<currentMemory>` in bytes. */
  currentMemoryBytes?: number;
  vcpus?: number;
  /** `<os><type arch=…>`. */
  arch?: string;
  /** `<os><type machine=…>`. */
  machine?: string;
  /** `<os><type>` text (hvm, …). */
  osType?: string;
}

/** Elements deeper than this are skipped (their text is not collected). */
const MAX_DEPTH = 64;
/** Longest text kept for one field. */
const MAX_TEXT = 4096;

const UNITS: Record<string, number> = {
  b: 1,
  bytes: 1,
  kb: 1e3,
  k: 1024,
  kib: 1024,
  mb: 1e6,
  m: 2 ** 20,
  mib: 2 ** 20,
  gb: 1e9,
  g: 2 ** 30,
  gib: 2 ** 30,
  tb: 1e12,
  t: 2 ** 40,
  tib: 2 ** 40,
  pb: 1e15,
  p: 2 ** 50,
  pib: 2 ** 50,
};

/** Bytes of a libvirt scaled integer (`unit` defaults to KiB), or undefined. */
export function scaledBytes(text: string, unit: string | undefined): number | undefined {
  const t = text.trim();
  if (!/^\d{1,18}$/.test(t)) return undefined;
  const scale = UNITS[(unit ?? "KiB").trim().toLowerCase()];
  if (scale === undefined) return undefined;
  const n = Number(t) * scale;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Decodes the five predefined entities and numeric references; others stay as written. */
export function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|lt|gt|amp|quot|apos);/g, (m, e: string) => {
    if (e[0] === "#") {
      const c = e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return c > 0 && c <= 0x10ffff ? String.fromCodePoint(c) : m;
    }
    return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[e]!;
  });
}

/** The attributes of a start tag's inside (`name a='1' b="2"`). */
function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([A-Za-z_:][-\w.:]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  for (let m = re.exec(tag); m; m = re.exec(tag)) {
    if (!out.has(m[1])) out.set(m[1], decodeEntities(m[2] ?? m[3]));
  }
  return out;
}

/** Index of the `>` closing a tag that starts at `from`, skipping quoted values; -1 if none. */
function tagEnd(xml: string, from: number): number {
  let quote = "";
  for (let i = from; i < xml.length; i++) {
    const c = xml[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") return i;
  }
  return -1;
}

const TEXT_PATHS = new Set([
  "domain/name",
  "domain/uuid",
  "domain/memory",
  "domain/currentMemory",
  "domain/vcpu",
  "domain/os/type",
]);

interface ScanState {
  stack: string[];
  /** Open elements past {@link MAX_DEPTH}, not on the stack. */
  over: number;
  texts: Map<string, string>;
  attrs: Map<string, Map<string, string>>;
}

function addText(st: ScanState, text: string) {
  if (st.over) return;
  const path = st.stack.join("/");
  if (!TEXT_PATHS.has(path)) return;
  const prev = st.texts.get(path) ?? "";
  if (prev.length < MAX_TEXT) st.texts.set(path, (prev + text).slice(0, MAX_TEXT));
}

function openTag(st: ScanState, inner: string) {
  const selfClosing = inner.endsWith("/");
  if (st.over) {
    if (!selfClosing) st.over++;
    return;
  }
  const body = selfClosing ? inner.slice(0, -1) : inner;
  const name = /^[^\s/>]+/.exec(body)?.[0] ?? "";
  const path = [...st.stack, name].join("/");
  if (
    (path === "domain" || path === "domain/memory" || path === "domain/currentMemory" ||
      path === "domain/os/type") && !st.attrs.has(path)
  ) {
    st.attrs.set(path, attributes(body.slice(name.length)));
  }
  if (selfClosing) return;
  if (st.stack.length >= MAX_DEPTH) st.over++;
  else st.stack.push(name);
}

function closeTag(st: ScanState, name: string) {
  if (st.over) {
    st.over--;
    return;
  }
  const at = st.stack.lastIndexOf(name);
  if (at >= 0) st.stack.length = at;
}

/** Walks `xml`, collecting the texts and attributes of the paths of interest. */
function scan(xml: string): ScanState {
  const st: ScanState = { stack: [], over: 0, texts: new Map(), attrs: new Map() };
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    addText(st, decodeEntities(xml.slice(i, lt < 0 ? xml.length : lt)));
    if (lt < 0) break;
    let end: number;
    if (xml.startsWith("<!--", lt)) {
      end = xml.indexOf("-->", lt + 4);
      i = end < 0 ? xml.length : end + 3;
      continue;
    }
    if (xml.startsWith("<![CDATA[", lt)) {
      end = xml.indexOf("]]>", lt + 9);
      addText(st, xml.slice(lt + 9, end < 0 ? xml.length : end));
      i = end < 0 ? xml.length : end + 3;
      continue;
    }
    end = tagEnd(xml, lt + 1);
    if (end < 0) break;
    const inner = xml.slice(lt + 1, end).trim();
    if (inner[0] === "/") closeTag(st, inner.slice(1).trim());
    else if (inner[0] !== "?" && inner[0] !== "!") openTag(st, inner);
    i = end + 1;
  }
  return st;
}

/**
 * The facts of a domain XML; fields it cannot find are left out.
 *
 * @example
 * ```ts
 * import { scanDomainXml } from "./domain_xml.ts";
 * const d = scanDomainXml(
 *   "<domain type='kvm'><name>vm&amp;1</name><memory unit='MiB'>64</memory>" +
 *     "<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os></domain>",
 * );
 * if (d.name !== "vm&1" || d.memoryBytes !== 64 << 20 || d.machine !== "pc-i440fx-7.2") {
 *   throw new Error("name, memory in bytes, machine");
 * }
 * ```
 */
export function scanDomainXml(xml: string): DomainSummary {
  const st = scan(xml);
  const text = (p: string) => {
    const t = st.texts.get(p)?.trim();
    return t ? t : undefined;
  };
  const attr = (p: string, a: string) => st.attrs.get(p)?.get(a);
  const out: DomainSummary = {};
  const set = <K extends keyof DomainSummary>(k: K, v: DomainSummary[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set("type", attr("domain", "type"));
  set("name", text("domain/name"));
  set("uuid", text("domain/uuid"));
  const mem = text("domain/memory");
  if (mem) set("memoryBytes", scaledBytes(mem, attr("domain/memory", "unit")));
  const cur = text("domain/currentMemory");
  if (cur) set("currentMemoryBytes", scaledBytes(cur, attr("domain/currentMemory", "unit")));
  const vcpu = text("domain/vcpu");
  if (vcpu && /^\d{1,6}$/.test(vcpu)) out.vcpus = Number(vcpu);
  set("arch", attr("domain/os/type", "arch"));
  set("machine", attr("domain/os/type", "machine"));
  set("osType", text("domain/os/type"));
  return out;
}
