/**
 * The report page's script, part 5: XBZRLE savings, block-migration progress per device,
 * device sections by size, the channels, the verify verdict and the commands.
 * @module
 */

/** renderXbzrle(), renderBlock(), renderDevices(), renderChannels(), renderVerify(), renderCommands(). */
export const CLIENT_TABLES = String.raw`
function hbar(parts, width) {
  var total = sum(parts.map(function (p) { return p[0]; }));
  var s = svg('svg', { width: width, height: 12, 'class': 'hbar' });
  var x = 0;
  parts.forEach(function (p) {
    var w = total ? p[0] / total * width : 0;
    if (w > 0) s.appendChild(svg('rect', { x: x, y: 0, width: Math.max(1, w), height: 12, fill: p[1] }));
    x += w;
  });
  if (!total) s.appendChild(svg('rect', { x: 0, y: 0, width: width, height: 12, fill: '#eef1f4' }));
  return s;
}

function renderXbzrle() {
  var r = DATA.summary.ram;
  var sec = section('xbzrle', 'XBZRLE');
  if (!r.xbzrle) { note(sec, 'No XBZRLE pages.'); return; }
  var full = r.xbzrle * DATA.summary.stream.pageSize;
  var cards = el('div', { 'class': 'cards' });
  card(cards, 'XBZRLE pages', int(r.xbzrle), 'xbzrle-pages');
  card(cards, 'encoded bytes', int(r.xbzrleBytes), 'xbzrle-bytes');
  card(cards, 'record bytes', int(r.xbzrleRecordBytes), 'xbzrle-record-bytes');
  card(cards, 'as full pages', bytes(full));
  card(cards, 'saving', pct(r.xbzrleSaving), 'xbzrle-saving');
  sec.appendChild(cards);
  sec.appendChild(el('p', null, [hbar([[r.xbzrleRecordBytes, COLORS.xbzrle], [Math.max(0, full - r.xbzrleRecordBytes), '#e4e8ec']], 400),
    ' records (orange) of the bytes the pages would have taken whole']));
}

function renderBlock() {
  var b = DATA.summary.block;
  var sec = section('block', 'Block migration');
  if (!b.devices.length && !b.progress) { note(sec, 'No block migration.'); return; }
  note(sec, int(b.data) + ' data chunks, ' + int(b.zero) + ' zero chunks, ' + int(b.progress) + ' PROGRESS records' +
    (b.lastPercent !== undefined ? ' (last: ' + b.lastPercent + '%)' : '') + '. A chunk is 1 MiB; the device extent is the end of its highest chunk.');
  sec.appendChild(table(['DEVICE', '#DATA CHUNKS', '#ZERO CHUNKS', '#EXTENT', '#COVERED', 'DATA / ZERO'],
    b.devices.map(function (d, i) {
      var chunks = Math.ceil(d.extent / 1048576);
      return [{ v: d.name, test: 'block-device-' + i }, { v: int(d.data), test: 'block-data-' + i },
        { v: int(d.zero), test: 'block-zero-' + i }, bytes(d.extent),
        chunks ? pct(Math.min(1, (d.data + d.zero) / chunks)) : '',
        hbar([[d.data, COLORS.block], [d.zero, COLORS.zero]], 200)];
    })));
}

function renderDevices() {
  var s = DATA.summary;
  var sec = section('devices', 'Device sections');
  if (!s.devices.length) { note(sec, 'No device (FULL) sections.'); return; }
  var max = Math.max.apply(null, s.devices.map(function (d) { return d.size; }));
  note(sec, int(s.devices.length) + ' device sections, ' + bytes(sum(s.devices.map(function (d) { return d.size; }))) + ' of state.');
  sec.appendChild(table(['DEVICE', '#INSTANCE', '#VERSION', '#OFFSET', '#BYTES', ''], s.devices.map(function (d, i) {
    return [{ v: d.name, test: 'device-name-' + i }, int(d.instance), int(d.version), int(d.offset),
      { v: int(d.size), test: 'device-size-' + i }, hbar([[d.size, COLORS.device], [max - d.size, '#f1f3f5']], 160)];
  })));
}

function channelRow(c, i) {
  var m = c.multifd;
  if (m) {
    var ratio = m.payloadBytes && m.compression && m.compression !== 'none' ? (m.pageBytes / m.payloadBytes).toFixed(2) : '';
    return [{ v: c.file, test: 'channel-file-' + i }, 'multifd ' + (m.compression || ''), m.id === undefined ? '' : int(m.id),
      { v: int(m.packets), test: 'channel-packets-' + i }, int(m.syncs), { v: int(m.normalPages), test: 'channel-normal-' + i },
      { v: int(m.zeroPages), test: 'channel-zero-' + i }, int(m.payloadBytes), ratio];
  }
  var p = c.preempt;
  return [{ v: c.file, test: 'channel-file-' + i }, 'postcopy-preempt', '', '', int(p.eos),
    { v: int(p.page), test: 'channel-normal-' + i }, { v: int(p.zero), test: 'channel-zero-' + i }, int(p.bytes), ''];
}

function renderChannels() {
  var sec = section('channels', 'Channels');
  var ch = DATA.channels;
  if (!ch || !ch.length) { note(sec, 'No --channel given: the main stream only.'); return; }
  sec.appendChild(table(['FILE', 'KIND', '#ID', '#PACKETS', '#SYNC/EOS', '#NORMAL', '#ZERO', '#BYTES', '#RATIO'], ch.map(channelRow)));
  var normal = DATA.summary.ram.page, zero = DATA.summary.ram.zero;
  ch.forEach(function (c) {
    normal += c.multifd ? c.multifd.normalPages : c.preempt.page;
    zero += c.multifd ? c.multifd.zeroPages : c.preempt.zero;
  });
  sec.appendChild(el('p', { 'data-test': 'channels-total' }, 'all connections: ' + int(normal) + ' normal pages, ' + int(zero) + ' zero pages'));
}

function renderVerify() {
  var sec = section('verify', 'Verify');
  var v = DATA.verify;
  if (!v) { note(sec, 'No --expect given: the replay was not compared.'); return; }
  sec.appendChild(el('p', { 'data-test': 'verify-verdict', 'class': v.equal ? null : 'error' },
    v.equal ? 'every page equals the expected images' : 'pages differ from the expected images (red on the RAM map)'));
  sec.appendChild(table(['IMAGE', 'EXPECTED', '#PAGES', '#EQUAL', '#DIFFERENT'], v.images.map(function (c, i) {
    return [c.name, c.expected, int(c.pages), int(c.equal), { v: int(c.different), test: 'verify-different-' + i }];
  })));
  v.images.forEach(function (c) {
    if (!c.diffs.length) return;
    sec.appendChild(el('h3', null, c.name + ': first differing pages'));
    sec.appendChild(table(['#ADDRESS', 'LAST WRITTEN BY'], c.diffs.map(function (d) {
      return [hex(d.addr), d.writer ? d.writer.kind + ' record at ' + int(d.writer.offset) : 'no record'];
    })));
  });
}

function renderCommands() {
  var sec = section('commands', 'Commands');
  var cmds = DATA.summary.commands;
  if (!cmds.length) { note(sec, 'No commands.'); return; }
  sec.appendChild(table(['COMMAND', '#OFFSET', '#DEPTH', 'DETAIL'], cmds.map(function (c) {
    return [c.name, int(c.offset), int(c.depth), c.detail || ''];
  })));
  if (DATA.commandsTotal > cmds.length) note(sec, int(DATA.commandsTotal - cmds.length) + ' more commands not listed.');
}
`;
