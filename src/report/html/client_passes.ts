/**
 * The report page's script, part 3: the convergence picture — per dirty pass, pages and
 * bytes stacked by kind (uPlot bar charts) with the re-send ratio (pages sent again ÷ pages
 * of the first pass), and the same numbers as a table.
 * @module
 */

/** renderPasses(). */
export const CLIENT_PASSES = String.raw`
var STACK = ['page', 'zero', 'xbzrle', 'compressed'];

function compact(v) {
  var a = Math.abs(v);
  if (a >= 1e9) return +(v / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return +(v / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return +(v / 1e3).toFixed(1) + 'k';
  return int(v);
}

// Stacked bars in uPlot: series k holds the sum of kinds k..3 from the top, drawn tallest first,
// so each visible segment is one kind; the legend shows the kind's own value.
function stackedSeries(passes, field) {
  var raw = {};
  STACK.forEach(function (k) { raw[k] = passes.map(function (p) { return p.kinds[k][field]; }); });
  var data = [];
  var series = [];
  for (var top = STACK.length - 1; top >= 0; top--) {
    var kind = STACK[top];
    data.push(passes.map(function (p, i) {
      var s = 0;
      for (var k = 0; k <= top; k++) s += raw[STACK[k]][i];
      return s;
    }));
    series.push({
      label: KIND_LABEL[kind], fill: COLORS[kind], stroke: COLORS[kind], width: 0,
      paths: uPlot.paths.bars({ size: [0.6, 64] }), points: { show: false },
      value: (function (kk) {
        return function (u, v, si, i) { return i === null || i === undefined ? '' : int(raw[kk][i]); };
      })(kind)
    });
  }
  return { data: data, series: series };
}

function passChart(parent, title, passes, field, ratio, test) {
  var st = stackedSeries(passes, field);
  var xs = passes.map(function (p) { return p.index; });
  var data = [xs].concat(st.data);
  var series = [{ label: 'pass' }].concat(st.series);
  var axes = [{ label: 'dirty pass', splits: function () { return xs; }, values: function (u, vals) { return vals.map(function (v) { return Number.isInteger(v) ? String(v) : ''; }); } },
    { label: field === 'bytes' ? 'bytes' : 'pages', size: 70, values: function (u, vals) { return vals.map(function (v) { return field === 'bytes' ? bytes(v) : compact(v); }); } }];
  var scales = { x: { time: false, range: function (u, lo, hi) { return [lo - 0.5, hi + 0.5]; } },
    y: { range: function (u, lo, hi) { return [0, hi > 0 ? hi * 1.05 : 1]; } } };
  if (ratio) {
    data.push(passes.map(function (p) { return p.resendRatio; }));
    series.push({ label: 're-send ratio', scale: 'ratio', stroke: '#111', width: 2,
      points: { show: true, size: 6 }, value: function (u, v) { return v === null || v === undefined ? '' : v.toFixed(3); } });
    scales.ratio = { range: function (u, lo, hi) { return [0, Math.max(1, hi * 1.1)]; } };
    axes.push({ side: 1, scale: 'ratio', label: 're-send ratio', grid: { show: false }, size: 50 });
  }
  var box = el('div', { 'class': 'chart', 'data-test': test });
  parent.appendChild(box);
  var width = Math.max(500, parent.clientWidth || 1100);
  return new uPlot({ title: title, width: width, height: 260, series: series, axes: axes, scales: scales,
    cursor: { drag: { x: false, y: false } }, legend: { live: true } }, data, box);
}

function renderPasses() {
  var passes = DATA.passes;
  var sec = section('passes', 'Dirty passes (convergence)');
  if (!passes.length) {
    note(sec, 'No RAM page records in the main stream' +
      (DATA.channels && DATA.channels.length ? ' (the pages travelled on the channels: see Channels).' : '.'));
    return;
  }
  note(sec, 'A pass ends where page addresses wrap back to the start of RAM. The re-send ratio of a pass is ' +
    'the pages it sent again (pages an earlier record had sent) divided by the pages of the first pass: ' +
    'a migration converges when it falls.' + (passes.some(function (p) { return p.postcopy; })
    ? ' Every page sent after POSTCOPY_RUN is one postcopy pass (the background sweep and the pages the ' +
      'destination asked for, in no address order).' : ''));
  passChart(sec, 'Pages per pass, by kind', passes, 'pages', true, 'chart-pages');
  passChart(sec, 'Bytes of page records per pass, by kind', passes, 'bytes', false, 'chart-bytes');
  var rows = passes.map(function (p) {
    return [{ v: int(p.index) + (p.postcopy ? ' postcopy' : '') }, { v: int(p.offset) }, { v: int(p.pages), test: 'pass-pages-' + p.index },
      int(p.kinds.page.pages), int(p.kinds.zero.pages), int(p.kinds.xbzrle.pages), int(p.kinds.compressed.pages),
      { v: int(p.bytes), test: 'pass-bytes-' + p.index }, int(p.resent), p.resendRatio.toFixed(3)];
  });
  sec.appendChild(table(['#PASS', '#OFFSET', '#PAGES', '#NORMAL', '#ZERO', '#XBZRLE', '#COMPRESSED', '#BYTES',
    '#RE-SENT', '#RATIO'], rows));
}
`;
