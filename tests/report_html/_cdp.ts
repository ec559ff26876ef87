/**
 * A headless Chromium driven over the Chrome DevTools Protocol with Deno's own WebSocket: start
 * it (`--remote-debugging-port=0`, the DevTools URL read from its stderr), open a page in a
 * fresh target, and record what the page did — console messages, exceptions, log entries
 * (CSP violations land there), every network request, every JavaScript dialog.
 */

/** The Chromium executable, or undefined when none is installed. */
export function findChromium(): string | undefined {
  const env = Deno.env.get("CHROMIUM");
  const candidates = [
    env,
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch { /* not there */ }
  }
  return undefined;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** What a page did while it was open. */
export interface PageLog {
  console: { type: string; text: string }[];
  exceptions: string[];
  log: { level: string; text: string; source: string }[];
  requests: string[];
  dialogs: string[];
}

/** A running headless Chromium and one CDP connection to it. */
export class Chromium {
  #proc: Deno.ChildProcess;
  #ws: WebSocket;
  #dir: string;
  #id = 0;
  #pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  #listeners: ((m: Json) => void)[] = [];

  private constructor(proc: Deno.ChildProcess, ws: WebSocket, dir: string) {
    this.#proc = proc;
    this.#ws = ws;
    this.#dir = dir;
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data as string);
      if (m.id !== undefined) {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.error) p?.reject(new Error(`${m.error.message} (${m.error.code})`));
        else p?.resolve(m.result);
      } else for (const l of this.#listeners) l(m);
    };
  }

  /** Starts Chromium headless; resolves once the DevTools socket is open. */
  static async launch(exe: string): Promise<Chromium> {
    const dir = await Deno.makeTempDir({ prefix: "migscope-chromium-" });
    const proc = new Deno.Command(exe, {
      args: [
        "--headless=new",
        "--remote-debugging-port=0",
        `--user-data-dir=${dir}`,
        "--no-sandbox",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-gpu",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--mute-audio",
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const url = await devtoolsUrl(proc.stderr);
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    return new Chromium(proc, ws, dir);
  }

  /** Sends a CDP command (to a page session when `session` is given). */
  send(method: string, params: Json = {}, session?: string): Promise<Json> {
    const id = ++this.#id;
    const msg: Json = { id, method, params };
    if (session) msg.sessionId = session;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify(msg));
    });
  }

  /** Calls `fn` with every CDP event; returns the function that stops it. */
  on(fn: (m: Json) => void): () => void {
    this.#listeners.push(fn);
    return () => (this.#listeners = this.#listeners.filter((l) => l !== fn));
  }

  /**
   * Opens `url` in a new target (viewport `width` × `height`) with the page's console, log,
   * network and dialogs recorded from the start; resolves once the load event fired.
   */
  async open(url: string, width = 1280, height = 900): Promise<Page> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    const page = new Page(this, sessionId, targetId);
    for (const d of ["Runtime", "Log", "Page", "Network"]) {
      await this.send(`${d}.enable`, {}, sessionId);
    }
    await this.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    }, sessionId);
    const loaded = page.event("Page.loadEventFired");
    await this.send("Page.navigate", { url }, sessionId);
    await loaded;
    return page;
  }

  /** Closes the browser and removes its profile directory. */
  async close(): Promise<void> {
    try {
      await Promise.race([this.send("Browser.close"), new Promise((r) => setTimeout(r, 2000))]);
    } catch { /* already gone */ }
    try {
      this.#ws.close();
    } catch { /* closed */ }
    try {
      this.#proc.kill("SIGKILL");
    } catch { /* exited */ }
    await this.#proc.status;
    await this.#proc.stderr.cancel().catch(() => {});
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/** Reads Chromium's stderr up to the `DevTools listening on ws://…` line. */
async function devtoolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.getReader();
  const dec = new TextDecoder();
  let text = "";
  const deadline = setTimeout(() => reader.cancel().catch(() => {}), 30_000);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`chromium exited before DevTools listened: ${text.slice(-500)}`);
      text += dec.decode(value, { stream: true });
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (m) return m[1];
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
}

/** One open page and what it did. */
export class Page {
  readonly log: PageLog = { console: [], exceptions: [], log: [], requests: [], dialogs: [] };

  constructor(readonly browser: Chromium, readonly session: string, readonly targetId: string) {
    browser.on((m) => {
      if (m.sessionId !== session) return;
      const p = m.params;
      switch (m.method) {
        case "Runtime.consoleAPICalled":
          this.log.console.push({
            type: p.type,
            text: p.args.map((a: Json) => a.value ?? a.description ?? "").join(" "),
          });
          break;
        case "Runtime.exceptionThrown":
          this.log.exceptions.push(
            p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text,
          );
          break;
        case "Log.entryAdded":
          this.log.log.push({ level: p.entry.level, text: p.entry.text, source: p.entry.source });
          break;
        case "Network.requestWillBeSent":
          this.log.requests.push(p.request.url);
          break;
        case "Page.javascriptDialogOpening":
          this.log.dialogs.push(`${p.type}: ${p.message}`);
          // Dismissed, so that a dialog cannot block the test.
          void browser.send("Page.handleJavaScriptDialog", { accept: false }, session).catch(
            () => {},
          );
          break;
      }
    });
  }

  /** Resolves with the params of the next `method` event of this page. */
  event(method: string, timeoutMs = 30_000): Promise<Json> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.browser.on((m) => {
        if (m.sessionId !== this.session || m.method !== method) return;
        clearTimeout(timer);
        off();
        resolve(m.params);
      });
    });
  }

  /** The value of `expression` evaluated in the page (by value; promises awaited). */
  async eval(expression: string): Promise<Json> {
    const r = await this.browser.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    }, this.session);
    if (r.exceptionDetails) {
      throw new Error(
        `${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`,
      );
    }
    return r.result.value;
  }

  /** A PNG of the page from its top, `maxHeight` pixels at most (beyond the viewport). */
  async screenshot(maxHeight = Infinity): Promise<Uint8Array> {
    await this.eval("window.scrollTo(0, 0)");
    const [width, height] = await this.eval(
      "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]",
    );
    const r = await this.browser.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width, height: Math.min(height, maxHeight), scale: 1 },
    }, this.session);
    return Uint8Array.from(atob(r.data), (c) => c.charCodeAt(0));
  }

  async close(): Promise<void> {
    await this.browser.send("Target.closeTarget", { targetId: this.targetId }).catch(() => {});
  }
}
