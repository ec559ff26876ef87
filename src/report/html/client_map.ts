/**
 * The report page's script, part 4: the RAM map — per block a canvas of cells (each a run of
 * pages) coloured by the kind of record that wrote its pages last, by the most times one of
 * its pages was sent, or (with --expect) by the pages that differ from the expected image;
 * hovering a cell tells its pages and counts.
 * @module
 */

/** renderMap(). */
export const CLIENT_MAP = String.raw`
var SENDS = ['#ffffff', '#dbe9f6', '#b3d3ee', '#7fb2e0', '#4a8fcf', '#2468b3', '#174a8a', '#0e2f5f', '#061a38'];

function dominant(counts) {
  var best = null, n = 0;
  for (var k in counts) if (counts[k] > n) { n = counts[k]; best = k; }
  return best;
}

function cellInfo(b, c) {
  var pages = Math.min(b.cellPages, b.pages - c * b.cellPages);
  var rec = {}, last = null;
  KINDS.forEach(function (k) { rec[k] = b.records[k][c]; });
  if (b.last) {
    last = { unsent: b.unsent[c] };
    KINDS.forEach(function (k) { last[k] = b.last[k][c]; });
  }
  return { pages: pages, first: c * b.cellPages, rec: rec, last: last,
    maxSends: b.maxSends ? b.maxSends[c] : null, diff: b.diff ? b.diff[c] : null };
}

function cellColor(b, c, mode) {
  var info = cellInfo(b, c);
  var sent = sum(KINDS.map(function (k) { return info.rec[k]; }));
  if (mode === 'diff') {
    if (info.diff) return COLORS.diff;
    return sent ? '#e4e8ec' : COLORS.unsent;
  }
  if (mode === 'sends') {
    var m = info.maxSends !== null ? info.maxSends : Math.ceil(sent / info.pages);
    return SENDS[Math.min(SENDS.length - 1, m)];
  }
  if (!sent) return COLORS.unsent;
  var k = dominant(info.last || info.rec);
  return COLORS[k] || COLORS.unsent;
}

function drawGrid(canvas, b, mode, px, cols) {
  var ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (var c = 0; c < b.cells; c++) {
    ctx.fillStyle = cellColor(b, c, mode);
    ctx.fillRect((c % cols) * px, Math.floor(c / cols) * px, px, px);
  }
}

function cellText(b, c) {
  var i = cellInfo(b, c);
  var ps = DATA.ram.pageSize;
  var t = 'pages ' + int(i.first) + (i.pages > 1 ? '-' + int(i.first + i.pages - 1) : '') + ' (' +
    hex(i.first * ps) + '-' + hex((i.first + i.pages) * ps - 1) + '): records ' +
    KINDS.map(function (k) { return int(i.rec[k]) + ' ' + KIND_LABEL[k]; }).join(', ');
  if (i.last) {
    t += '; last written by ' + KINDS.map(function (k) { return int(i.last[k]) + ' ' + KIND_LABEL[k]; }).join(', ') +
      ', ' + int(i.last.unsent) + ' never sent; most sends of one page ' + (i.maxSends >= 63 ? '63+' : int(i.maxSends));
  }
  if (i.diff !== null) t += '; differing from --expect: ' + int(i.diff);
  return t;
}

function mapBlock(sec, b, idx, state) {
  var cols = Math.min(64, b.cells);
  var rows = Math.ceil(b.cells / cols);
  var px = Math.max(2, Math.min(12, Math.floor(448 / cols)));
  var dpr = window.devicePixelRatio || 1;
  var canvas = el('canvas', { 'class': 'grid', width: cols * px * dpr, height: rows * px * dpr,
    'data-test': 'ram-map-' + idx, 'data-cells': b.cells, 'aria-label': 'RAM map' });
  canvas.style.width = (cols * px) + 'px';
  canvas.style.height = (rows * px) + 'px';
  var recs = KINDS.map(function (k) { return sum(b.records[k]); });
  var fig = el('figure', { 'class': 'block' });
  sec.appendChild(fig);
  fig.appendChild(el('h3', { 'data-test': 'ram-block-name-' + idx }, b.name));
  fig.appendChild(el('p', { 'class': 'note' }, bytes(b.size) + ', ' + int(b.pages) + ' pages, ' + int(b.cells) +
    ' cells of ' + int(b.cellPages) + ' page' + (b.cellPages > 1 ? 's' : '') + '; records: ' +
    KINDS.map(function (k, i) { return int(recs[i]) + ' ' + KIND_LABEL[k]; }).join(', ') +
    (b.source === 'mapped-ram' ? ' (from the mapped-ram bitmap: set bits as normal pages, clear bits as zero pages)' : '') +
    (b.diff ? '; ' + int(sum(b.diff)) + ' pages differ from --expect' : '')));
  var tip = el('div', { 'class': 'tip', 'data-test': 'ram-tip-' + idx }, 'hover a cell');
  fig.appendChild(el('div', { 'class': 'grid-wrap' }, canvas));
  fig.appendChild(tip);
  canvas.addEventListener('mousemove', function (e) {
    var r = canvas.getBoundingClientRect();
    var c = Math.floor((e.clientY - r.top) / px) * cols + Math.floor((e.clientX - r.left) / px);
    if (c >= 0 && c < b.cells) tip.textContent = cellText(b, c);
  });
  var draw = function () {
    var ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawGrid(canvas, b, state.mode, px, cols);
  };
  state.redraw.push(draw);
  draw();
}

function mapModes(sec, state) {
  var modes = [['kind', 'last record kind'], ['sends', 'times sent']];
  if (DATA.verify) modes.push(['diff', 'differs from --expect']);
  var box = el('div', { 'class': 'controls', role: 'radiogroup' }, 'colour by:');
  modes.forEach(function (m) {
    var input = el('input', { type: 'radio', name: 'map-mode', value: m[0], 'data-test': 'map-mode-' + m[0] });
    input.checked = state.mode === m[0];
    input.addEventListener('change', function () {
      state.mode = m[0];
      state.redraw.forEach(function (f) { f(); });
    });
    box.appendChild(el('label', null, [input, ' ' + m[1]]));
  });
  sec.appendChild(box);
  sec.appendChild(legend([['normal', COLORS.page], ['zero', COLORS.zero], ['XBZRLE', COLORS.xbzrle],
    ['compressed', COLORS.compressed], ['never sent', COLORS.unsent]]));
  sec.appendChild(legend([['sent once', SENDS[1]], ['2', SENDS[2]], ['4', SENDS[4]], ['8 or more times', SENDS[8]]]
    .concat(DATA.verify ? [['differs from --expect', COLORS.diff]] : [])));
}

function renderMap() {
  var sec = section('ram', 'RAM map');
  var blocks = DATA.ram.blocks;
  if (!blocks.length) { note(sec, 'The stream sized no RAM block.'); return; }
  note(sec, 'One cell per run of pages (at most ' + int(DATA.ram.maxCells) + ' cells per block), in address order, ' +
    '64 cells a row. Pages of the channels are included.' +
    (DATA.ram.unmapped ? ' ' + int(DATA.ram.unmapped) + ' page records named no known page.' : ''));
  var state = { mode: DATA.verify && !DATA.verify.equal ? 'diff' : 'kind', redraw: [] };
  mapModes(sec, state);
  var grid = el('div', { 'class': 'blocks' });
  sec.appendChild(grid);
  blocks.forEach(function (b, i) { mapBlock(grid, b, i, state); });
}
`;
