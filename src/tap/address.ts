/**
 * The tap's two addresses: where it listens (`[HOST:]PORT`, `[V6]:PORT`, `unix:PATH`) and
 * where it forwards (`HOST:PORT`, `unix:PATH`). A `tcp:` prefix, as in QEMU's migration URIs,
 * is accepted and ignored.
 * @module
 */
import { resolve } from "node:path";

/** A TCP or unix-socket address. */
export type TapAddress =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** An address that cannot be parsed; the message is one line naming what was given. */
export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AddressError";
  }
}

/**
 * Parses an address. `listen` addresses may omit the host (127.0.0.1) and take port 0 (any
 * free port); destination addresses need both.
 *
 * @example
 * ```ts
 * import { formatAddress, parseAddress } from "./address.ts";
 * const a = parseAddress("4444", "listen");
 * if (formatAddress(a) !== "127.0.0.1:4444") throw new Error(formatAddress(a));
 * const b = parseAddress("tcp:[::1]:5555", "to");
 * if (b.transport !== "tcp" || b.hostname !== "::1" || b.port !== 5555) throw new Error();
 * if (parseAddress("unix:/run/x.sock", "to").transport !== "unix") throw new Error();
 * ```
 */
export function parseAddress(text: string, role: "listen" | "to"): TapAddress {
  const want = role === "listen" ? "[HOST:]PORT or unix:PATH" : "HOST:PORT or unix:PATH";
  if (text.startsWith("unix:")) {
    const path = text.slice(5);
    if (!path) throw new AddressError(`'${text}': unix: needs a PATH (${want})`);
    return { transport: "unix", path };
  }
  const s = text.startsWith("tcp:") ? text.slice(4) : text;
  const m = /^(?:(\[[^\]]+\]|[^:\[\]]*):)?(\d+)$/.exec(s);
  if (!m || (role === "to" && !m[1])) throw new AddressError(`'${text}' is not ${want}`);
  const port = Number(m[2]);
  if (port > 65535 || (role === "to" && port === 0)) {
    const range = role === "listen" ? "0-65535" : "1-65535";
    throw new AddressError(`'${text}': port ${port} is out of range (${range})`);
  }
  const hostname = (m[1] || "127.0.0.1").replace(/^\[|\]$/g, "");
  return { transport: "tcp", hostname, port };
}

/** The address as the tap's messages and manifest write it (`[::1]:4444`, `unix:/p`). */
export function formatAddress(a: TapAddress): string {
  if (a.transport === "unix") return `unix:${a.path}`;
  const host = a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname;
  return `${host}:${a.port}`;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/i;
const WILDCARD = new Set(["0.0.0.0", "::", ""]);

/**
 * True when connecting to `to` would reach the tap listening on `listen` (it would forward to
 * itself): the same unix path, or the same TCP port on the same host (a loopback name for a
 * loopback address, any host for a tap listening on every address).
 *
 * @example
 * ```ts
 * import { parseAddress, reachesItself } from "./address.ts";
 * const l = parseAddress("4444", "listen");
 * if (!reachesItself(l, parseAddress("localhost:4444", "to"))) throw new Error();
 * if (reachesItself(l, parseAddress("127.0.0.1:4445", "to"))) throw new Error();
 * ```
 */
export function reachesItself(listen: TapAddress, to: TapAddress): boolean {
  if (listen.transport === "unix" || to.transport === "unix") {
    return listen.transport === "unix" && to.transport === "unix" &&
      resolve(listen.path) === resolve(to.path);
  }
  if (listen.port !== to.port) return false;
  const [l, t] = [listen.hostname.toLowerCase(), to.hostname.toLowerCase()];
  return l === t || WILDCARD.has(l) || (LOOPBACK.test(l) && LOOPBACK.test(t));
}
