/* draw.js: the page's pictures, drawn in SVG at view time: shootdowns as arrows from the sender to the cores it interrupted, and each core's simulated time (the whole lesson, and the current step up close). */
'use strict';

var SVGNS = 'http://www.w3.org/2000/svg', TL_W = 1000, TL_ROW = 22, TL_CORES = 16;

MM.svg = function (tag, attrs, text) {
	var e = document.createElementNS(SVGNS, tag);
	Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
	if (text !== undefined) e.textContent = text;
	return e;
};

/* Where each kind of span sits in its row (a second cue beside the colour): top and height, as shares of the row. */
MM.kindBand = [[0.05, 0.9], [0.15, 0.7], [0.05, 0.35], [0.05, 0.9], [0.05, 0.9], [0.6, 0.35], [0.6, 0.35], [0.05, 0.9]];

/* ---- shootdowns ---- */

/* MM.shootdown: the step's IPIs as arrows from sender to targets, with their costs; null when there were none. */
MM.shootdown = function (run, st) {
	var ipis = MM.ipis(st);
	if (!ipis.length) return null;
	var fig = MM.el('figure', 'shoot'), row = 40, w = 640;
	fig.appendChild(MM.el('figcaption', null, 'Shootdown: IPIs from the core that changed the page table to the cores that may cache it'));
	var targets = [];
	ipis.forEach(function (p) { if (targets.indexOf(p.to) < 0) targets.push(p.to); });
	var senders = [];
	ipis.forEach(function (p) { if (senders.indexOf(p.from) < 0) senders.push(p.from); });
	var h = Math.max(targets.length, senders.length) * row + 10;
	var svg = MM.svg('svg', { viewBox: '0 0 ' + w + ' ' + h, role: 'img', class: 'shootsvg',
		'aria-label': ipis.length + ' IPIs from core ' + senders.join(', ') + ' to cores ' + targets.join(', ') });
	var y = function (k) { return 5 + k * row + row / 2; };
	senders.forEach(function (c, k) {
		var g = MM.svg('g', { class: 'sender' });
		g.appendChild(MM.svg('rect', { x: 4, y: y(k) - 14, width: 130, height: 28, rx: 5 }));
		g.appendChild(MM.svg('text', { x: 69, y: y(k) + 5, 'text-anchor': 'middle' }, 'core ' + c + ' sends'));
		svg.appendChild(g);
	});
	targets.forEach(function (c, k) {
		var g = MM.svg('g', { class: 'target' });
		g.appendChild(MM.svg('rect', { x: w - 300, y: y(k) - 14, width: 90, height: 28, rx: 5 }));
		g.appendChild(MM.svg('text', { x: w - 255, y: y(k) + 5, 'text-anchor': 'middle' }, 'core ' + c));
		svg.appendChild(g);
	});
	ipis.forEach(function (p) {
		var y0 = y(senders.indexOf(p.from)), y1 = y(targets.indexOf(p.to)), x0 = 136, x1 = w - 306;
		var g = MM.svg('g', { class: 'ipi' });
		g.dataset.from = p.from;
		g.dataset.to = p.to;
		g.dataset.work = p.work;
		g.appendChild(MM.svg('line', { x1: x0, y1: y0, x2: x1, y2: y1 }));
		var a = Math.atan2(y1 - y0, x1 - x0), s = 9;
		g.appendChild(MM.svg('polygon', { points: [x1 + 4, y1, x1 + 4 - s * Math.cos(a - 0.4), y1 - s * Math.sin(a - 0.4),
			x1 + 4 - s * Math.cos(a + 0.4), y1 - s * Math.sin(a + 0.4)].join(' ') }));
		g.appendChild(MM.svg('text', { x: w - 202, y: y1 + 5, 'text-anchor': 'start' },
			'handler ' + p.work + ' \u00b7 ack +' + (p.ack - p.sent) + ' cyc'));
		svg.appendChild(g);
	});
	fig.appendChild(svg);
	var ul = MM.el('ul', 'rows ipis');
	ipis.forEach(function (p) {
		ul.appendChild(MM.el('li', null, 'core ' + p.from + ' \u2192 core ' + p.to + ': sent at +' + (p.sent - st.t0) +
			', the handler runs +' + (p.start - st.t0) + '..+' + (p.start + p.work - st.t0) + ' (' + MM.cyc(p.work) +
			'), the ack arrives at +' + (p.ack - st.t0)));
	});
	senders.forEach(function (c) {
		var a = MM.act(st, c), wait = 0;
		(a ? a.spans : []).forEach(function (s) { if (s[0] === 3) wait += s[2] - s[1]; });
		if (wait) ul.appendChild(MM.el('li', 'sum', 'core ' + c + ' spent ' + MM.cyc(wait) + ' sending and waiting for the acks'));
	});
	fig.appendChild(ul);
	return fig;
};

/* ---- timelines ---- */

/* A figure with core labels at the left and one stretched SVG of `rows` rows at the right. */
MM.strip = function (cls, caption, rows, label) {
	var fig = MM.el('figure', 'tl ' + cls);
	fig.appendChild(MM.el('figcaption', null, caption));
	var grid = MM.el('div', 'tlgrid'), labs = MM.el('div', 'tllabs');
	rows.forEach(function (c) { labs.appendChild(MM.el('span', null, 'core ' + c)); });
	grid.appendChild(labs);
	var svg = MM.svg('svg', { viewBox: '0 0 ' + TL_W + ' ' + rows.length * TL_ROW, preserveAspectRatio: 'none',
		role: 'img', 'aria-label': label, class: 'tlsvg' });
	svg.style.height = rows.length * TL_ROW + 'px';
	grid.appendChild(svg);
	fig.appendChild(grid);
	return { fig: fig, svg: svg };
};

MM.rect = function (svg, x0, x1, row, kind, title) {
	var b = MM.kindBand[kind] || MM.kindBand[0];
	var r = MM.svg('rect', { x: x0.toFixed(2), width: Math.max(0.8, x1 - x0).toFixed(2), y: (row + b[0]) * TL_ROW,
		height: b[1] * TL_ROW, class: 'k' + kind });
	r.appendChild(MM.svg('title', {}, title));
	svg.appendChild(r);
};

/* The whole lesson: one column per step (equal widths), each core's cell filled when it worked, the current step framed. */
MM.overview = function (run, i, rows) {
	var n = run.steps.length, s = MM.strip('over', 'Every step (one column each); this one framed', rows, 'the lesson, step by step');
	var w = TL_W / n;
	run.steps.forEach(function (st, k) {
		var ipis = MM.ipis(st);
		rows.forEach(function (c, r) {
			var a = MM.act(st, c), irq = ipis.some(function (p) { return p.to === c; });
			if (!a && !irq) return;
			var waited = a && a.spans.some(function (x) { return x[0] === 5 || x[0] === 6; });
			MM.rect(s.svg, k * w + 1, (k + 1) * w - 1, r, waited ? 5 : a ? 0 : 4,
				'step ' + (k + 1) + ', core ' + c + ': ' + (a ? 'ran' + (waited ? ', waited for a lock' : '') : 'interrupted'));
		});
	});
	s.svg.appendChild(MM.svg('rect', { x: i * w, y: 0, width: w, height: rows.length * TL_ROW, class: 'cur' }));
	return s.fig;
};

/* The current step up close: spans by kind on a linear scale, interrupts on their targets, IPIs as lines, and the sub-step marker. */
MM.zoom = function (run, st, rows) {
	var t0 = st.t0, t1 = st.t1, span = Math.max(1, t1 - t0), x = function (t) { return (t - t0) * TL_W / span; };
	var s = MM.strip('zoom', t1 > t0 ? 'This step up close: cycle ' + t0 + ' to ' + t1 + ' (' + MM.cyc(t1 - t0) + ')'
		: 'This step up close: no simulated time passed (at cycle ' + t0 + ')', rows, 'each core during the step');
	var names = run.log.kinds, used = {};
	rows.forEach(function (c, r) {
		var a = MM.act(st, c);
		if (a) {
			s.svg.appendChild(MM.svg('rect', { x: x(a.t0), y: r * TL_ROW + TL_ROW / 2 - 0.5, width: Math.max(0.5, x(a.t1) - x(a.t0)), height: 1, class: 'run' }));
			a.spans.forEach(function (sp) {
				used[sp[0]] = 1;
				MM.rect(s.svg, x(sp[1]), x(sp[2]), r, sp[0], names[sp[0]] + ': cycle ' + sp[1] + ' to ' + sp[2] + ' (' + (sp[2] - sp[1]) + ')');
			});
		}
	});
	MM.ipis(st).forEach(function (p) {
		var rf = rows.indexOf(p.from), rt = rows.indexOf(p.to);
		if (rt >= 0) {
			used[4] = 1;
			MM.rect(s.svg, x(p.start), x(p.start + p.work), rt, 4, names[4] + ' for core ' + p.from + ': cycle ' + p.start + ' to ' + (p.start + p.work));
		}
		if (rf >= 0 && rt >= 0) {
			var l = MM.svg('line', { x1: x(p.sent), y1: (rf + 0.5) * TL_ROW, x2: x(p.start), y2: (rt + 0.5) * TL_ROW, class: 'ipiline' });
			l.appendChild(MM.svg('title', {}, 'IPI core ' + p.from + ' \u2192 core ' + p.to));
			s.svg.appendChild(l);
		}
	});
	s.svg.appendChild(MM.svg('line', { x1: 0, x2: 0, y1: 0, y2: rows.length * TL_ROW, class: 'marker', visibility: 'hidden' }));
	var axis = MM.el('div', 'axis');
	axis.appendChild(MM.el('span', null, '+0'));
	axis.appendChild(MM.el('span', null, '+' + MM.cyc(t1 - t0)));
	s.fig.appendChild(axis);
	var legend = MM.el('ul', 'legend');
	Object.keys(used).forEach(function (k) {
		var li = MM.el('li');
		li.appendChild(MM.el('span', 'sw k' + k));
		li.appendChild(document.createTextNode(names[k]));
		legend.appendChild(li);
	});
	s.fig.appendChild(legend);
	s.fig.dataset.t0 = t0;
	s.fig.dataset.t1 = t1;
	return s.fig;
};

/* MM.timeline: the lesson overview and this step up close, for the cores that took part in the lesson. */
MM.timeline = function (run, i) {
	var st = run.steps[i], rows = [];
	for (var c = 0; c < run.cores && rows.length < TL_CORES; c++) {
		var part = run.steps.some(function (s) {
			return MM.act(s, c) || MM.ipis(s).some(function (p) { return p.to === c; });
		});
		if (part) rows.push(c);
	}
	if (!rows.length) rows.push(0);
	var box = MM.el('div', 'time');
	box.appendChild(MM.zoom(run, st, rows));
	box.appendChild(MM.overview(run, i, rows));
	return box;
};

/* MM.moveMarker: move a step's timeline marker to moment t (t < 0: hide it). */
MM.moveMarker = function (col, t) {
	var fig = col.querySelector('.tl.zoom'), m = fig && fig.querySelector('.marker');
	if (!m) return;
	var t0 = +fig.dataset.t0, t1 = +fig.dataset.t1;
	if (t < 0 || t1 <= t0) {
		m.setAttribute('visibility', 'hidden');
		return;
	}
	var xx = ((t - t0) * TL_W / (t1 - t0)).toFixed(2);
	m.setAttribute('x1', xx);
	m.setAttribute('x2', xx);
	m.setAttribute('visibility', 'visible');
};
