/* panes.js: one pane per core for a step: what it did, its TLB lookups (hit or miss, in words and symbols), the TLB entries it holds, gained and lost with each level's occupancy, and its locks. */
'use strict';

var TLB_CHANGED_ROWS = 12, TLB_HELD_ROWS = 8, LOOK_ROWS = 8;

MM.outcomes = [
	{ cls: 'hit', sym: '\u2713', text: 'L1 TLB hit' },
	{ cls: 'hit', sym: '\u2713', text: 'L1 miss, STLB hit' },
	{ cls: 'miss', sym: '\u2717', text: 'TLB miss: page walk, TLBs filled' },
	{ cls: 'miss', sym: '\u2717', text: 'TLB miss: walk, page fault, retried' },
	{ cls: 'miss', sym: '\u2717', text: 'TLB miss: fault, the access failed' }
];
MM.accs = ['read', 'write', 'execute'];
MM.whys = { f: 'flushed', e: 'evicted', r: 'gone with the old machine' };

/* What core c did in step st, in a few words. */
MM.doing = function (st, c) {
	var a = MM.act(st, c);
	if (a && a.op !== null) return a.op + '  [' + MM.cyc(a.t1 - a.t0) + ']';
	if (a) return 'ran for ' + MM.cyc(a.t1 - a.t0) + (a.t1 > a.t0 ? ' (idle: its scheduler ticks ran)' : '');
	var irq = MM.ipis(st).filter(function (p) { return p.to === c; });
	if (irq.length) return 'interrupted by core ' + irq.map(function (p) { return p.from; }).join(', ') +
		': the shootdown IPI handler ran for ' + MM.cyc(irq[0].work);
	return 'idle';
};

/* ---- TLB ---- */

/* The rows of core c's TLB after the step: entries by page (with the arrays holding them), runs of pages in a row merged. */
MM.tlbRows = function (run, c) {
	var pages = new Map(), names = run.log.tlbs;
	var put = function (e, state) {
		var key = state + ':' + e.pcid + ':' + e.size + ':' + e.vpn, p = pages.get(key);
		if (!p) pages.set(key, p = { vpn: e.vpn, pcid: e.pcid, size: e.size, pfn: e.pfn, allow: e.allow, arrs: [], state: state });
		if (p.arrs.indexOf(names[e.arr][0]) < 0) p.arrs.push(names[e.arr][0]);
	};
	run.tlb[c].forEach(function (e, key) { put(e, run.tlbAdd[c].has(key) ? 'add' : 'keep'); });
	run.tlbDel[c].forEach(function (e) { put(e, 'del:' + e.why); });
	var list = Array.from(pages.values()).sort(function (a, b) { return a.vpn - b.vpn || (a.state < b.state ? -1 : 1); });
	var rows = [];
	list.forEach(function (p) {
		var r = rows.length ? rows[rows.length - 1] : null, step = MM.pageBytes[p.size];
		if (r && r.state === p.state && r.pcid === p.pcid && r.size === p.size && r.allow === p.allow &&
			r.arrs.join() === p.arrs.join() && p.vpn === r.last.vpn + step) {
			if (r.n > 1 && p.pfn - r.last.pfn !== r.dpfn) r.even = false;
			r.dpfn = p.pfn - r.last.pfn;
			r.last = p;
			r.n++;
		} else {
			rows.push({ first: p, last: p, n: 1, dpfn: 0, even: true, state: p.state, pcid: p.pcid, size: p.size, allow: p.allow, arrs: p.arrs });
		}
	});
	return rows;
};

MM.tlbRow = function (r) {
	var del = r.state.indexOf('del') === 0, state = del ? 'del' : r.state, why = del ? r.state.slice(4) : '';
	var sizes = ['4 KiB', '2 MiB', '1 GiB'];
	var where = r.n === 1 ? MM.va(r.first.vpn) + ' \u2192 frame ' + MM.hex(r.first.pfn)
		: MM.va(r.first.vpn) + '\u2026 (' + r.n + ' pages) \u2192 frames ' + MM.frames(r);
	var text = where + '  ' + (r.size ? sizes[r.size] + ' ' : '') + MM.allow(r.allow) + '  ' + r.arrs.join(' + ') +
		(del ? '  (' + MM.whys[why] + ')' : '');
	var li = MM.row(state, text);
	li.classList.add('tlbe');
	li.dataset.va = MM.va(r.first.vpn);
	li.dataset.n = r.n;
	li.dataset.pcid = r.pcid;
	if (del) li.dataset.state = { f: 'flushed', e: 'evicted', r: 'rebuilt' }[why];
	return li;
};

MM.tlbList = function (run, c) {
	var rows = MM.tlbRows(run, c), ul = MM.el('ul', 'rows tlb');
	var changed = rows.filter(function (r) { return r.state !== 'keep'; }), held = rows.filter(function (r) { return r.state === 'keep'; });
	changed.slice(0, TLB_CHANGED_ROWS).forEach(function (r) { ul.appendChild(MM.tlbRow(r)); });
	held.slice(0, TLB_HELD_ROWS).forEach(function (r) { ul.appendChild(MM.tlbRow(r)); });
	var more = Math.max(0, changed.length - TLB_CHANGED_ROWS) + Math.max(0, held.length - TLB_HELD_ROWS);
	if (more) ul.appendChild(MM.el('li', 'more', '\u2026 and ' + more + ' more rows'));
	if (!rows.length) ul.appendChild(MM.el('li', 'more', 'no live entries'));
	return ul;
};

/* Each TLB array's live entries out of its size, as a bar and in numbers. */
MM.occupancy = function (run, c) {
	var box = MM.el('div', 'occ');
	run.log.tlbs.forEach(function (t, k) {
		if (!t[1]) return;
		var n = run.occ[c][k], row = MM.el('div', 'occrow');
		row.appendChild(MM.el('span', 'occname', t[0]));
		var bar = MM.el('span', 'bar');
		bar.setAttribute('role', 'img');
		bar.setAttribute('aria-label', n + ' of ' + t[1] + ' entries live');
		var fill = MM.el('span', 'fill');
		fill.style.width = Math.min(100, n * 100 / t[1]).toFixed(1) + '%';
		bar.appendChild(fill);
		row.appendChild(bar);
		row.appendChild(MM.el('span', 'occn', n + '/' + t[1]));
		box.appendChild(row);
	});
	return box;
};

/* ---- lookups and locks ---- */

MM.lookups = function (a) {
	var ul = MM.el('ul', 'rows look');
	a.look.slice(0, LOOK_ROWS).forEach(function (l) {
		var o = MM.outcomes[l[3]], li = MM.el('li', 'lk ' + o.cls);
		li.dataset.out = o.cls;
		li.dataset.va = MM.va(l[0]);
		li.appendChild(MM.el('span', 'sym', o.sym + ' ' + (o.cls === 'hit' ? 'hit' : 'miss')));
		li.appendChild(MM.el('span', 'txt', MM.accs[l[2]] + ' ' + MM.va(l[0]) + (l[1] > 1 ? ' and ' + (l[1] - 1) + ' pages after' : '') + ': ' + o.text));
		ul.appendChild(li);
	});
	if (a.look.length > LOOK_ROWS) ul.appendChild(MM.el('li', 'more', '\u2026 and ' + (a.look.length - LOOK_ROWS) + ' more runs of pages'));
	return ul;
};

MM.lockRows = function (a) {
	var ul = MM.el('ul', 'rows locks');
	a.locks.forEach(function (l) {
		var waited = l[6] + l[7] > 0, li = MM.el('li', 'lock' + (waited ? ' waited' : ''));
		li.dataset.lock = l[0];
		var wait = waited ? '\u2026 waited ' + (l[6] ? l[6] + ' cycles spinning' : '') + (l[6] && l[7] ? ', ' : '') + (l[7] ? l[7] + ' cycles asleep' : '')
			: '\u2713 free, no wait';
		var held = l[5] < 0 ? 'held to the end of the step' : 'held ' + MM.cyc(l[5] - l[4]);
		li.appendChild(MM.el('span', 'sym', wait));
		li.appendChild(MM.el('span', 'txt', (l[1] || 'a ' + l[2] + ' lock') + ' (' + l[2] + '), ' + held));
		ul.appendChild(li);
	});
	if (a.more) ul.appendChild(MM.el('li', 'more', '\u2026 and ' + a.more + ' more lock holdings'));
	return ul;
};

/* ---- the panes ---- */

MM.pane = function (run, st, c) {
	var a = MM.act(st, c), pane = MM.el('section', 'core');
	pane.dataset.core = c;
	var h = MM.el('h4', null, 'core ' + c);
	h.appendChild(MM.el('small', null, ' process ' + run.cur[c]));
	pane.appendChild(h);
	pane.appendChild(MM.el('p', 'doing', MM.doing(st, c)));
	pane.appendChild(MM.el('p', 'now'));
	if (a && a.look.length) {
		pane.appendChild(MM.el('h5', null, 'TLB lookups'));
		pane.appendChild(MM.lookups(a));
	}
	if (a && (a.locks.length || a.more)) {
		pane.appendChild(MM.el('h5', null, 'locks'));
		pane.appendChild(MM.lockRows(a));
	}
	pane.appendChild(MM.el('h5', null, 'TLB entries'));
	pane.appendChild(MM.tlbList(run, c));
	pane.appendChild(MM.occupancy(run, c));
	return pane;
};

/* MM.panes: the cores that did something in the step or hold translations; the others in one line. */
MM.panes = function (run, st) {
	var box = MM.el('div', 'cores'), idle = [], ipis = MM.ipis(st);
	for (var c = 0; c < run.cores; c++) {
		var busy = MM.act(st, c) || ipis.some(function (p) { return p.to === c; }) || run.tlbDel[c].length || run.tlbAdd[c].size;
		if (!busy && !run.tlb[c].size) {
			idle.push(c);
			continue;
		}
		box.appendChild(MM.pane(run, st, c));
	}
	if (idle.length) box.appendChild(MM.el('p', 'idle', (idle.length > 1 ? 'cores ' : 'core ') + idle.join(', ') +
		': idle, with no translations cached'));
	return box;
};

/*
 * MM.now: fill a pane's "at this moment" line for the sub-step `line` of
 * step st (null: clear it): the moment of that line, in the order of its
 * core's events when the pane is that core's.
 */
MM.now = function (pane, st, line) {
	var c = +pane.dataset.core, p = pane.querySelector('.now');
	if (!line) {
		p.textContent = '';
		return;
	}
	var t = +line.dataset.t, s = MM.locksAt(st, c, t, +line.dataset.core === c ? +line.dataset.seq : -1), words = [];
	s.holds.forEach(function (l) { words.push('holds ' + (l[1] || 'a lock')); });
	s.waits.forEach(function (l) {
		var who = MM.holder(st, l[0], c, t);
		words.push('waits for ' + (l[1] || 'a lock') + (who >= 0 ? ' (held by core ' + who + ')' : ''));
	});
	MM.ipis(st).forEach(function (q) {
		if (q.to === c && q.start <= t && t < q.start + q.work) words.push('in the IPI handler (from core ' + q.from + ')');
		if (q.from === c && q.sent <= t && t < q.ack) words.push('waiting for core ' + q.to + '\u2019s ack');
	});
	p.textContent = 'At cycle ' + t + ': ' + (words.length ? words.join('; ') : 'no lock held, no interrupt');
};
