/**
 * The report page's script, part 2: the section timeline, an SVG of bands in four lanes (RAM,
 * block, devices, other) along the stream's byte offsets with the commands as markers;
 * zoomed with the wheel, panned by dragging, or set with the two range inputs.
 * @module
 */

/** renderTimeline(). */
export const CLIENT_TIMELINE = String.raw`
var LANES = [['ram', 'RAM'], ['block', 'block'], ['device', 'devices'], ['other', 'other']];
var TL = { W: 1100, LANE: 26, TOP: 46, AXIS: 22, LEFT: 64 };

function bandTitle(b) {
  var name = b.name || (b.names + ' sections');
  var t = name + ' ' + b.kind + (b.rows > 1 ? ' (+' + (b.rows - 1) + ' rows)' : '') +
    '\noffset ' + int(b.offset) + ' (' + hex(b.offset) + ') to ' + int(b.end) + ', ' + bytes(b.bytes);
  var pages = b.page + b.zero + b.xbzrle + b.compressed;
  if (pages) {
    t += '\npages: ' + int(b.page) + ' normal, ' + int(b.zero) + ' zero, ' + int(b.xbzrle) +
      ' XBZRLE, ' + int(b.compressed) + ' compressed';
  }
  if (b.blockData + b.blockZero) t += '\nblock chunks: ' + int(b.blockData) + ' data, ' + int(b.blockZero) + ' zero';
  return t;
}

function timelineAxis(g, v0, v1, width, y) {
  g.appendChild(svg('line', { x1: TL.LEFT, x2: TL.LEFT + width, y1: y, y2: y, stroke: '#889' }));
  for (var i = 0; i <= 6; i++) {
    var o = v0 + (v1 - v0) * i / 6;
    var x = TL.LEFT + width * i / 6;
    g.appendChild(svg('line', { x1: x, x2: x, y1: y, y2: y + 4, stroke: '#889' }));
    g.appendChild(svg('text', { x: x, y: y + 15, 'font-size': 10, 'text-anchor': i === 0 ? 'start' : i === 6 ? 'end' : 'middle', fill: '#5f6b76' }, bytes(Math.round(o))));
  }
}

function drawTimeline(state) {
  var t = DATA.timeline;
  var g = state.g;
  while (g.firstChild) g.removeChild(g.firstChild);
  var width = state.width - TL.LEFT - 8;
  var v0 = state.v0, v1 = state.v1, span = Math.max(1, v1 - v0);
  var x = function (o) { return TL.LEFT + (o - v0) / span * width; };
  LANES.forEach(function (l, i) {
    var y = TL.TOP + i * TL.LANE;
    g.appendChild(svg('rect', { x: TL.LEFT, y: y, width: width, height: TL.LANE - 4, fill: '#f6f8fa' }));
    g.appendChild(svg('text', { x: 4, y: y + 16, 'font-size': 11, fill: '#5f6b76' }, l[1]));
  });
  var shown = 0;
  for (var i = 0; i < t.bands.length; i++) {
    var b = t.bands[i];
    if (b.end < v0 || b.offset > v1) continue;
    var lane = LANES.findIndex(function (l) { return l[0] === b.lane; });
    var x0 = Math.max(TL.LEFT, x(b.offset)), x1 = Math.min(TL.LEFT + width, x(b.end));
    var r = svg('rect', { x: x0, y: TL.TOP + lane * TL.LANE + 2 + b.depth * 3, width: Math.max(1, x1 - x0),
      height: TL.LANE - 8 - b.depth * 3, fill: COLORS[b.lane], 'fill-opacity': b.depth ? 0.6 : 0.85,
      'data-band': i }, svg('title', null, bandTitle(b)));
    g.appendChild(r);
    shown++;
  }
  drawMarkers(g, x, v0, v1);
  timelineAxis(g, v0, v1, width, TL.TOP + LANES.length * TL.LANE + 2);
  state.svg.setAttribute('data-bands-shown', String(shown));
}

function drawMarkers(g, x, v0, v1) {
  var lastLabel = -1e9;
  var bottom = TL.TOP + LANES.length * TL.LANE;
  DATA.timeline.markers.forEach(function (m) {
    if (m.offset < v0 || m.offset > v1) return;
    var mx = x(m.offset);
    var line = svg('line', { x1: mx, x2: mx, y1: 14, y2: bottom, stroke: m.name === 'EOF' ? '#000' : '#c0392b',
      'stroke-width': 1.2, 'stroke-dasharray': m.depth ? '2,2' : null },
      svg('title', null, m.name + ' at ' + int(m.offset) + (m.detail ? '\n' + m.detail : '')));
    g.appendChild(line);
    if (mx - lastLabel > 90) {
      var right = mx > x(v1) - 100;
      g.appendChild(svg('text', { x: right ? mx - 2 : mx + 2, y: 12 + (m.depth ? 14 : 0), 'font-size': 10,
        fill: '#222', 'text-anchor': right ? 'end' : 'start' }, m.name));
      lastLabel = mx;
    }
  });
}

function timelineControls(state, redraw) {
  var total = state.total;
  var from = el('input', { type: 'range', min: 0, max: 1000, value: 0, 'aria-label': 'from' });
  var to = el('input', { type: 'range', min: 0, max: 1000, value: 1000, 'aria-label': 'to' });
  var label = el('span', { 'data-test': 'timeline-view' });
  var reset = el('button', { type: 'button' }, 'reset zoom');
  state.sync = function () {
    from.value = String(Math.round(state.v0 / total * 1000));
    to.value = String(Math.round(state.v1 / total * 1000));
    label.textContent = int(state.v0) + ' to ' + int(state.v1) + ' (' + bytes(state.v1 - state.v0) + ')';
  };
  var onRange = function () {
    var a = Number(from.value), b = Number(to.value);
    if (b - a < 1) { if (this === from) a = b - 1; else b = a + 1; }
    state.v0 = Math.max(0, a / 1000 * total);
    state.v1 = Math.min(total, b / 1000 * total);
    redraw();
  };
  from.addEventListener('input', onRange);
  to.addEventListener('input', onRange);
  reset.addEventListener('click', function () { state.v0 = 0; state.v1 = total; redraw(); });
  return el('div', { 'class': 'controls' }, [el('label', null, ['from ', from]), el('label', null, ['to ', to]), reset, label]);
}

function timelineMouse(state, box, redraw) {
  var width = function () { return state.width - TL.LEFT - 8; };
  var clamp = function () {
    var span = Math.min(state.total, Math.max(16, state.v1 - state.v0));
    if (state.v0 < 0) state.v0 = 0;
    state.v1 = state.v0 + span;
    if (state.v1 > state.total) { state.v1 = state.total; state.v0 = state.total - span; }
  };
  box.addEventListener('wheel', function (e) {
    e.preventDefault();
    var rect = box.getBoundingClientRect();
    var f = Math.min(1, Math.max(0, (e.clientX - rect.left - TL.LEFT) / width()));
    var at = state.v0 + (state.v1 - state.v0) * f;
    var k = e.deltaY < 0 ? 0.8 : 1.25;
    state.v0 = at - (at - state.v0) * k;
    state.v1 = at + (state.v1 - at) * k;
    clamp();
    redraw();
  }, { passive: false });
  var drag = null;
  box.addEventListener('mousedown', function (e) { drag = { x: e.clientX, v0: state.v0, v1: state.v1 }; });
  window.addEventListener('mouseup', function () { drag = null; });
  window.addEventListener('mousemove', function (e) {
    if (!drag) return;
    var d = (e.clientX - drag.x) / width() * (drag.v1 - drag.v0);
    state.v0 = drag.v0 - d;
    state.v1 = drag.v1 - d;
    clamp();
    redraw();
  });
}

function renderTimeline() {
  var t = DATA.timeline;
  var sec = section('timeline', 'Section timeline');
  var total = Math.max(1, DATA.summary.stream.bytes);
  var width = Math.max(600, (sec.clientWidth || 1100) - 2);
  var height = TL.TOP + LANES.length * TL.LANE + TL.AXIS + 6;
  var root = svg('svg', { width: width, height: height, 'data-test': 'timeline', role: 'img',
    'aria-label': 'section timeline', 'data-bands': t.bands.length });
  var state = { v0: 0, v1: total, total: total, width: width, g: svg('g'), svg: root };
  root.appendChild(state.g);
  var redraw = function () { drawTimeline(state); state.sync(); };
  sec.appendChild(timelineControls(state, redraw));
  var box = el('div', { 'class': 'timeline-box' }, root);
  sec.appendChild(box);
  sec.appendChild(legend([['RAM sections', COLORS.ram], ['block migration', COLORS.block],
    ['device sections', COLORS.device], ['header, configuration, trailer', COLORS.other],
    ['command (dashed: inside PACKAGED)', '#c0392b'], ['EOF', '#000']]));
  note(sec, int(t.rows) + ' timeline rows as ' + int(t.bands.length) + ' bands' +
    (t.bucket ? ' (rows of a lane merged per ' + bytes(t.bucket) + ' of stream)' : '') + ', ' +
    int(t.markers.length) + ' markers' + (t.markersOmitted ? ' (' + int(t.markersOmitted) + ' more not shown)' : '') +
    '. Wheel to zoom, drag to pan; hover a band for its sections.');
  timelineMouse(state, box, redraw);
  redraw();
}
`;
