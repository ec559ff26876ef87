/**
 * The report page: one self-contained HTML file. Everything that came from the input (block,
 * device and section names, the machine type, file names) travels only inside one
 * `<script type="application/json">` element, with `<`, `>`, `&`, U+2028 and U+2029 written as
 * `\u` escapes so no byte sequence of the data can end that element or open another; the
 * page's own script reads it with JSON.parse and puts it into the document only as text nodes
 * and attribute values (never as markup). A Content-Security-Policy allows nothing but the
 * page's own inline scripts and styles, by their sha256: no network, no other script.
 * @module
 */
import { stringifyJson } from "../json.ts";
import { CLIENT_CORE } from "./client_core.ts";
import { CLIENT_MAP } from "./client_map.ts";
import { CLIENT_PASSES } from "./client_passes.ts";
import { CLIENT_TABLES } from "./client_tables.ts";
import { CLIENT_TIMELINE } from "./client_timeline.ts";
import { REPORT_CSS } from "./style.ts";
import type { ReportData } from "./data.ts";
import { UPLOT_CSS, UPLOT_JS } from "./vendor_uplot.ts";

const ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * JSON text made safe inside an HTML `<script>` element: the characters that HTML or old
 * JavaScript parsers act on become `\u` escapes, which JSON.parse reads back unchanged.
 *
 * @example
 * ```ts
 * import { scriptJson } from "./page.ts";
 * const name = "</script><script>alert(1)</script>";
 * const text = scriptJson({ name });
 * if (/[<>&]/.test(text) || JSON.parse(text).name !== name) throw new Error("escaped, same value");
 * ```
 */
export function scriptJson(value: unknown): string {
  return stringifyJson(value).replace(/[<>&\u2028\u2029]/g, (c) => ESCAPES[c]);
}

async function sha256Source(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(d)))}'`;
}

/** The page's script: its parts in order, run once the document is parsed. */
export const CLIENT_JS = [
  "(function () {\n'use strict';\n",
  CLIENT_CORE,
  CLIENT_TIMELINE,
  CLIENT_PASSES,
  CLIENT_MAP,
  CLIENT_TABLES,
  "main();\n})();\n",
].join("\n");

/**
 * The Content-Security-Policy of a page whose inline scripts and styles are exactly `scripts`
 * and `styles`: nothing else may load or run.
 */
export async function contentSecurityPolicy(scripts: string[], styles: string[]): Promise<string> {
  const s = await Promise.all(scripts.map(sha256Source));
  const c = await Promise.all(styles.map(sha256Source));
  return [
    "default-src 'none'",
    `script-src ${s.join(" ")}`,
    `style-src ${c.join(" ")}`,
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

/** The whole report page for `data`. */
export async function reportHtml(data: ReportData): Promise<string> {
  const scripts = [UPLOT_JS, CLIENT_JS];
  const styles = [UPLOT_CSS, REPORT_CSS];
  // The page's own code must not be able to end its element either (data is escaped above).
  if ([...scripts, ...styles].some((s) => /<\/(script|style)|<!--/i.test(s))) {
    throw new Error("an inline script or style would end its element early");
  }
  const csp = await contentSecurityPolicy(scripts, styles);
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    "<title>migscope report</title>",
    ...styles.map((s) => `<style>${s}</style>`),
    "</head>",
    "<body>",
    '<main id="report"><noscript>This report needs JavaScript to draw its charts.</noscript></main>',
    `<script type="application/json" id="migscope-data">${scriptJson(data)}</script>`,
    ...scripts.map((s) => `<script>${s}</script>`),
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
