/**
 * The report page's script, part 1: DOM helpers that only ever put data into the document as
 * text nodes and attribute values, number formats, and `main`, which reads the embedded JSON
 * and draws each part. (Browser JavaScript kept as a string: it runs in the page, not in Deno;
 * the browser test runs it.)
 * @module
 */

/** Helpers, the overview and main(). */
export const CLIENT_CORE = String.raw`
var DATA = null;
var ROOT = null;
var SVGNS = 'http://www.w3.org/2000/svg';
var KINDS = ['page', 'zero', 'xbzrle', 'compressed'];
var KIND_LABEL = { page: 'normal', zero: 'zero', xbzrle: 'XBZRLE', compressed: 'compressed' };
var COLORS = {
  page: '#2f6fbf', zero: '#b8c4ce', xbzrle: '#e8890c', compressed: '#8e44ad', unsent: '#ffffff',
  ram: '#2f6fbf', block: '#2e9d5b', device: '#c0392b', other: '#7f8c8d', diff: '#d62728',
  marker: '#222222'
};

function setAttrs(e, attrs) {
  if (!attrs) return;
  for (var k in attrs) {
    if (Object.prototype.hasOwnProperty.call(attrs, k) && attrs[k] !== undefined && attrs[k] !== null) {
      e.setAttribute(k, String(attrs[k]));
    }
  }
}

function append(e, kids) {
  if (kids === undefined || kids === null) return;
  if (!Array.isArray(kids)) kids = [kids];
  for (var i = 0; i < kids.length; i++) {
    var k = kids[i];
    if (k === undefined || k === null || k === false) continue;
    e.appendChild(typeof k === 'object' ? k : document.createTextNode(String(k)));
  }
}

function el(tag, attrs, kids) {
  var e = document.createElement(tag);
  setAttrs(e, attrs);
  append(e, kids);
  return e;
}

function svg(tag, attrs, kids) {
  var e = document.createElementNS(SVGNS, tag);
  setAttrs(e, attrs);
  append(e, kids);
  return e;
}

function int(n) {
  if (n === undefined || n === null) return '';
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function bytes(n) {
  var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  var i = 0;
  var v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : 1)) + ' ' + units[i];
}

function hex(n) { return '0x' + Math.round(n).toString(16); }
function pct(x) { return (x * 100).toFixed(1) + '%'; }
function sum(a) { var s = 0; for (var i = 0; i < a.length; i++) s += a[i]; return s; }

function section(id, title) {
  var s = el('section', { id: id }, el('h2', null, title));
  ROOT.appendChild(s);
  return s;
}

function note(parent, text) { parent.appendChild(el('p', { 'class': 'note' }, text)); }

function fact(dl, label, value, test) {
  dl.appendChild(el('dt', null, label));
  dl.appendChild(el('dd', test ? { 'data-test': test } : null, value));
}

function card(parent, label, value, test) {
  parent.appendChild(el('div', { 'class': 'card' }, [
    el('div', test ? { 'class': 'v', 'data-test': test } : { 'class': 'v' }, value),
    el('div', { 'class': 'k' }, label)
  ]));
}

// A table: heads are strings (a leading '#' marks a numeric column); a cell is a value or
// {v, test} (data-test on the cell).
function table(heads, rows) {
  var num = heads.map(function (h) { return h.charAt(0) === '#'; });
  var tr = el('tr', null, heads.map(function (h, i) {
    return el('th', num[i] ? { 'class': 'n' } : null, num[i] ? h.slice(1) : h);
  }));
  var body = rows.map(function (r) {
    return el('tr', null, r.map(function (c, i) {
      var cell = c !== null && typeof c === 'object' && !(c instanceof Node) ? c : { v: c };
      var attrs = { 'class': num[i] ? 'n' : (i === 0 ? 'name' : null), 'data-test': cell.test };
      return el('td', attrs, cell.v);
    }));
  });
  return el('table', null, [el('thead', null, tr), el('tbody', null, body)]);
}

function swatch(color) {
  return svg('svg', { width: 12, height: 12 },
    svg('rect', { width: 12, height: 12, fill: color, stroke: '#889', 'stroke-width': 0.5 }));
}

function legend(items) {
  return el('div', { 'class': 'legend' }, items.map(function (it) {
    return el('span', null, [swatch(it[1]), it[0]]);
  }));
}

function header() {
  var inp = DATA.input;
  ROOT.appendChild(el('h1', null, 'migscope report'));
  var what = inp.container || (inp.gzip ? 'gzip' : 'migration stream');
  ROOT.appendChild(el('p', { 'class': 'sub', 'data-test': 'input-name' }, inp.name));
  ROOT.appendChild(el('p', { 'class': 'sub' }, what + (inp.incomplete ? ' (incomplete)' : '')));
  if (DATA.error) {
    ROOT.appendChild(el('p', { 'class': 'error', 'data-test': 'error' }, 'stopped: ' + DATA.error.message));
  }
  var links = [['overview', 'Overview'], ['timeline', 'Timeline'], ['passes', 'Dirty passes'],
    ['ram', 'RAM map'], ['xbzrle', 'XBZRLE'], ['block', 'Block migration'], ['devices', 'Devices'],
    ['channels', 'Channels'], ['verify', 'Verify'], ['commands', 'Commands']];
  ROOT.appendChild(el('nav', null, links.map(function (l) {
    return el('a', { href: '#' + l[0] }, l[1]);
  })));
}

function overview() {
  var s = DATA.summary;
  var sec = section('overview', 'Overview');
  var cards = el('div', { 'class': 'cards' });
  card(cards, 'stream bytes', int(s.stream.bytes), 'stream-bytes');
  card(cards, 'normal pages', int(s.ram.page), 'ram-page');
  card(cards, 'zero pages', int(s.ram.zero), 'ram-zero');
  card(cards, 'XBZRLE pages', int(s.ram.xbzrle), 'ram-xbzrle');
  card(cards, 'compressed pages', int(s.ram.compressed), 'ram-compressed');
  card(cards, 'dirty passes', int(s.passes.length), 'passes');
  card(cards, 'device sections', int(s.devices.length), 'devices');
  sec.appendChild(cards);
  var dl = el('dl', { 'class': 'facts' });
  fact(dl, 'stream', bytes(s.stream.bytes) + ', QEVM v' + (s.stream.version === undefined ? '?' : s.stream.version) +
    ', footers ' + (s.stream.footers ? 'on' : 'off'));
  fact(dl, 'target page', int(s.stream.pageSize) + ' bytes', 'page-size');
  fact(dl, 'machine', s.configuration.machine || '(no configuration section)', 'machine');
  fact(dl, 'capabilities', s.configuration.capabilities.join(', ') || 'none');
  fact(dl, 'RAM page records', bytes(s.ram.totalBytes) + ' in ' + int(s.ram.page + s.ram.zero + s.ram.xbzrle + s.ram.compressed) + ' records', 'ram-bytes');
  fact(dl, 'sections', 'START ' + int(s.sections.START) + ', PART ' + int(s.sections.PART) + ', END ' +
    int(s.sections.END) + ', FULL ' + int(s.sections.FULL) + ', COMMAND ' + int(s.sections.COMMAND), 'sections');
  fact(dl, 'EOF', s.eof ? 'at ' + int(s.eof.offset) : 'not reached', 'eof');
  if (s.trailer) fact(dl, 'VMDESCRIPTION', 'at ' + int(s.trailer.offset) + ', ' + int(s.trailer.devices) + ' devices');
  sec.appendChild(dl);
}

function main() {
  DATA = JSON.parse(document.getElementById('migscope-data').textContent);
  ROOT = document.getElementById('report');
  while (ROOT.firstChild) ROOT.removeChild(ROOT.firstChild);
  document.title = 'migscope report: ' + DATA.input.name;
  header();
  overview();
  renderTimeline();
  renderPasses();
  renderMap();
  renderXbzrle();
  renderBlock();
  renderDevices();
  renderChannels();
  renderVerify();
  renderCommands();
  document.body.setAttribute('data-rendered-ms', String(Math.round(performance.now())));
}
`;
