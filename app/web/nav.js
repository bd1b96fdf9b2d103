/* nav.js: the page's start and navigation: every step is drawn once, then shown one at a time by buttons, arrow keys or #step=N (all of them with #all, and in print). */
'use strict';

MM.nav = { cur: 0, sub: -1, n: 0, runs: null };

MM.$ = function (id) { return document.getElementById(id); };

/* The sections of the steps, and the columns of the current one. */
MM.sections = function () { return document.querySelectorAll('section.step'); };
MM.cols = function () { return MM.sections()[MM.nav.cur].querySelectorAll('.col'); };

/* Sub-steps of the current step: the most any of its columns has. */
MM.subCount = function () {
	var n = 0;
	MM.cols().forEach(function (col) { n = Math.max(n, col.querySelectorAll('.ln[data-sub]').length); });
	return n;
};

MM.setHash = function () {
	var h = '#step=' + (MM.nav.cur + 1) + (MM.nav.sub >= 0 ? '&sub=' + (MM.nav.sub + 1) : '');
	if (document.body.classList.contains('all')) h = '#all';
	if (location.hash !== h) history.replaceState(null, '', h);
};

/* Select sub-step k of the current step in every column (k < 0: none): its line, each pane's moment, the timeline marker. */
MM.setSub = function (k) {
	var nav = MM.nav, n = MM.subCount();
	nav.sub = n ? Math.max(-1, Math.min(k, n - 1)) : -1;
	MM.cols().forEach(function (col) {
		var st = nav.runs[+col.dataset.run].steps[nav.cur], t = -1;
		col.querySelectorAll('.ln.cur').forEach(function (l) { l.classList.remove('cur'); });
		var line = nav.sub >= 0 ? col.querySelector('.ln[data-sub="' + nav.sub + '"]') : null;
		if (line) {
			line.classList.add('cur');
			t = +line.dataset.t;
			if (line.scrollIntoView) line.scrollIntoView({ block: 'nearest' });
		}
		col.querySelectorAll('section.core').forEach(function (p) { MM.now(p, st, line); });
		MM.moveMarker(col, t);
	});
	MM.$('subpos').textContent = n ? (nav.sub >= 0 ? 'sub-step ' + (nav.sub + 1) + ' of ' + n : n + ' sub-steps') : 'no sub-steps';
	MM.$('subprev').disabled = nav.sub < 0;
	MM.$('subnext').disabled = nav.sub >= n - 1;
	MM.setHash();
};

/* Show step i (0-based), with sub-step `sub` selected (-1: none). */
MM.go = function (i, sub) {
	var nav = MM.nav, secs = MM.sections();
	nav.cur = Math.max(0, Math.min(i, nav.n - 1));
	secs.forEach(function (s, k) { s.classList.toggle('cur', k === nav.cur); });
	MM.$('pick').value = String(nav.cur);
	MM.$('prev').disabled = MM.$('first').disabled = nav.cur === 0;
	MM.$('next').disabled = MM.$('last').disabled = nav.cur === nav.n - 1;
	var cmd = secs[nav.cur].dataset.cmd;
	MM.$('status').textContent = 'Step ' + (nav.cur + 1) + ' of ' + nav.n + (cmd ? ': ' + cmd : '');
	MM.setSub(sub === undefined ? -1 : sub);
};

/* Next or previous sub-step, moving on to the next or previous step at the ends. */
MM.stepSub = function (d) {
	var nav = MM.nav, n = MM.subCount();
	if (d > 0 && nav.sub < n - 1) return MM.setSub(nav.sub + 1);
	if (d < 0 && nav.sub > 0) return MM.setSub(nav.sub - 1);
	if (d > 0 && nav.cur < nav.n - 1) return MM.go(nav.cur + 1, 0);
	if (d < 0 && nav.sub === 0) return MM.setSub(-1);
	if (d < 0 && nav.cur > 0) {
		MM.go(nav.cur - 1);
		return MM.setSub(MM.subCount() - 1);
	}
};

MM.showAll = function (on) {
	document.body.classList.toggle('all', on);
	MM.$('all').setAttribute('aria-pressed', on ? 'true' : 'false');
	MM.setHash();
};

/* Read #step=N[&sub=K] or #all. */
MM.fromHash = function () {
	var h = location.hash.replace(/^#/, ''), m = /(?:^|&)step=(\d+)/.exec(h), s = /(?:^|&)sub=(\d+)/.exec(h);
	if (h === 'all') {
		MM.go(MM.nav.cur);
		return MM.showAll(true);
	}
	MM.go(m ? +m[1] - 1 : 0, s ? +s[1] - 1 : -1);
};

MM.keys = function (e) {
	var tag = (e.target && e.target.tagName) || '';
	if (e.altKey || e.ctrlKey || e.metaKey || tag === 'SELECT' || tag === 'INPUT' || tag === 'TEXTAREA') return;
	var nav = MM.nav;
	if (e.key === 'ArrowRight') e.shiftKey ? MM.stepSub(1) : MM.go(nav.cur + 1);
	else if (e.key === 'ArrowLeft') e.shiftKey ? MM.stepSub(-1) : MM.go(nav.cur - 1);
	else if (e.key === 'Home') MM.go(0);
	else if (e.key === 'End') MM.go(nav.n - 1);
	else return;
	e.preventDefault();
};

MM.wire = function () {
	var nav = MM.nav, pick = MM.$('pick');
	MM.sections().forEach(function (s, k) {
		var o = document.createElement('option');
		o.value = String(k);
		o.textContent = (k + 1) + ' / ' + nav.n + (s.dataset.cmd ? ': ' + s.dataset.cmd : '');
		pick.appendChild(o);
	});
	pick.addEventListener('change', function () { MM.go(+pick.value); });
	MM.$('first').addEventListener('click', function () { MM.go(0); });
	MM.$('prev').addEventListener('click', function () { MM.go(nav.cur - 1); });
	MM.$('next').addEventListener('click', function () { MM.go(nav.cur + 1); });
	MM.$('last').addEventListener('click', function () { MM.go(nav.n - 1); });
	MM.$('subprev').addEventListener('click', function () { MM.stepSub(-1); });
	MM.$('subnext').addEventListener('click', function () { MM.stepSub(1); });
	MM.$('all').addEventListener('click', function () { MM.showAll(!document.body.classList.contains('all')); });
	document.addEventListener('keydown', MM.keys);
	window.addEventListener('hashchange', MM.fromHash);
	/* A click on a line of narration selects that sub-step. */
	MM.$('steps').addEventListener('click', function (e) {
		var line = e.target.closest && e.target.closest('.ln[data-sub]');
		if (line && line.closest('section.step') === MM.sections()[nav.cur]) MM.setSub(+line.dataset.sub);
	});
};

/* MM.boot: draw every step of every run, then show the one the address names. */
MM.boot = function () {
	var log = JSON.parse(MM.$('mmsim-log').textContent), nav = MM.nav;
	nav.runs = log.runs.map(function (r) { return new MM.Run(log, r); });
	nav.n = nav.runs[0].steps.length;
	var main = MM.$('steps');
	if (nav.runs.length > 1) document.body.classList.add('two');
	for (var i = 0; i < nav.n; i++) {
		nav.runs.forEach(function (r) { r.apply(i); });
		main.appendChild(MM.section(nav.runs, i));
	}
	if (!nav.n) main.appendChild(MM.el('p', null, 'This script ran no commands.'));
	MM.wire();
	if (nav.n) MM.fromHash();
	document.documentElement.dataset.ready = '1';
	document.documentElement.dataset.steps = nav.n;
};

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', MM.boot);
else MM.boot();
