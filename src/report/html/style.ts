/**
 * The report page's stylesheet.
 * @module
 */

/** Colours of the page kinds and lanes (the script uses the same values). */
export const REPORT_CSS = `
:root { --fg: #1d2329; --muted: #5f6b76; --line: #d8dee4; --bg: #fff; --panel: #f6f8fa;
  --normal: #2f6fbf; --zero: #b8c4ce; --xbzrle: #e8890c; --compressed: #8e44ad; --unsent: #ffffff;
  --ram: #2f6fbf; --block: #2e9d5b; --device: #c0392b; --other: #7f8c8d; --diff: #d62728; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 2px; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 4px; word-break: break-all; }
.sub { color: var(--muted); margin: 0 0 8px; word-break: break-all; }
.note { color: var(--muted); font-size: 12px; margin: 4px 0; }
.error { background: #fdecea; border: 1px solid #f5c2bc; padding: 8px 12px; border-radius: 4px;
  word-break: break-word; }
nav a { margin-right: 12px; color: var(--normal); text-decoration: none; font-size: 13px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; font-variant-numeric: tabular-nums; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px;
  min-width: 150px; }
.card .v { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .k { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 500; border-bottom: 1px solid var(--line); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.name { word-break: break-all; max-width: 420px; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; margin: 6px 0; font-size: 13px; }
.controls input[type=range] { width: 220px; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12px; color: var(--muted); margin: 4px 0; }
.legend svg { vertical-align: middle; margin-right: 4px; }
.timeline-box { border: 1px solid var(--line); border-radius: 4px; cursor: grab; user-select: none; }
.timeline-box svg { display: block; }
.blocks { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
figure.block { margin: 0; width: 452px; }
figure.block .note { min-height: 3em; }
.grid-wrap { display: inline-block; border: 1px solid var(--line); line-height: 0; }
canvas.grid { image-rendering: pixelated; cursor: crosshair; }
.tip { min-height: 1.5em; font-size: 12px; color: var(--fg); background: var(--panel);
  border: 1px solid var(--line); padding: 3px 8px; border-radius: 3px; margin: 4px 0;
  font-variant-numeric: tabular-nums; word-break: break-all; }
.chart { margin: 8px 0 16px; }
button { font: inherit; font-size: 12px; padding: 2px 10px; }
`;
