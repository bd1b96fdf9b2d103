/* view.js: the page's step sections: the transcript of a step (the terminal's words), the page tables as trees with their changes marked, and the design's metadata. */
'use strict';

/* ---- the transcript ---- */

/* MM.transcript: one element per line, exactly the terminal's text; sub-steps carry their number, core and moment. */
MM.transcript = function (lines) {
	var box = MM.el('div', 'say');
	lines.forEach(function (l) {
		var d = MM.el('div', 'ln k-' + l.kind, l.text);
		if (l.sub >= 0) {
			d.dataset.sub = l.sub;
			d.dataset.core = l.core;
			d.dataset.t = l.t;
			d.dataset.seq = l.seq;
			d.title = 'sub-step ' + (l.sub + 1) + ': core ' + l.core + ' at cycle ' + l.t;
		} else if (l.core >= 0) {
			d.dataset.core = l.core;
		}
		box.appendChild(d);
	});
	return box;
};

/* ---- marks of change ---- */

MM.mark = function (state) {
	var m = MM.el('span', 'mk', state === 'add' ? '+' : state === 'del' ? '\u2212' : '\u00a0');
	m.setAttribute('aria-label', state === 'add' ? 'new' : state === 'del' ? 'gone' : 'unchanged');
	return m;
};

MM.row = function (state, text) {
	var li = MM.el('li', 'row ' + state);
	li.dataset.state = state === 'add' ? 'added' : state === 'del' ? 'removed' : 'held';
	li.appendChild(MM.mark(state));
	li.appendChild(MM.el('span', 'txt', text));
	return li;
};

/* ---- page tables ---- */

var PT_ROWS = 40; /* rows shown per PT page; the rest are counted */

/* The frames of a run of pages: "0x3e…0x2f" when they follow each other, else the first and the number of them. */
MM.frames = function (g) {
	return g.even ? MM.hex(g.first.pfn) + '\u2026' + MM.hex(g.last.pfn) : 'from ' + MM.hex(g.first.pfn) + ' (not in one sequence)';
};

/* Rows of one PT page: runs of like pages in a row (one row whatever their frames) become one row. */
MM.ptRows = function (rows) {
	rows.sort(function (a, b) { return a.l.i - b.l.i || (a.state === 'del' ? -1 : 1); });
	var out = [];
	rows.forEach(function (r) {
		var p = out.length ? out[out.length - 1] : null, l = r.l;
		if (p && p.state === r.state && l.kind === 1 && p.first.kind === 1 && l.i === p.last.i + 1 && l.i === l.j &&
			p.last.i === p.last.j && l.bits === p.first.bits && l.status === p.first.status && l.level === p.first.level) {
			if (p.n > 1 && l.pfn - p.last.pfn !== p.dpfn) p.even = false;
			p.dpfn = l.pfn - p.last.pfn;
			p.last = l;
			p.n++;
		} else {
			out.push({ state: r.state, first: l, last: l, n: 1, dpfn: 0, even: true });
		}
	});
	return out;
};

MM.ptText = function (g) {
	var l = g.first, name = MM.levelName(l.level), sizes = { 1: '4 KiB', 2: '2 MiB', 3: '1 GiB' };
	var idx = '[' + l.i + (g.last.j !== l.i ? '..' + g.last.j : '') + ']';
	var status = l.status ? '  | status: ' + l.status : '';
	if (l.kind === 0) return name + ' ' + idx + ' ' + MM.va(l.vpn) + '  \u2192 ' + MM.levelName(l.level - 1) + ' page ' + MM.hex(l.pfn) + '  [' + l.bits + ']';
	if (l.kind === 2) return name + ' ' + idx + ' ' + MM.va(l.vpn) + '\u2013' + MM.va(g.last.end) + '  not present, status: ' + l.status;
	if (g.n === 1) return name + ' ' + idx + ' ' + MM.va(l.vpn) + '  ' + sizes[l.level] + ' page, frame ' + MM.hex(l.pfn) + '  [' + l.bits + ']' + status;
	return name + ' ' + idx + ' ' + MM.va(l.vpn) + '\u2013' + MM.va(g.last.end) + '  ' + g.n + ' \u00d7 ' + sizes[l.level] +
		' pages, frames ' + MM.frames(g) + '  [' + l.bits + ']' + status;
};

/* One PT page and, under its table entries, the pages they point to. */
MM.ptPage = function (pages, pfn, level, seen) {
	var li = MM.el('li', 'ptp'), p = pages.get(pfn);
	li.appendChild(MM.el('span', 'ptn', MM.levelName(level) + ' page ' + MM.hex(pfn)));
	if (!p || seen.has(pfn)) return li;
	seen.add(pfn);
	var ul = MM.el('ul', 'rows'), groups = MM.ptRows(p);
	groups.slice(0, PT_ROWS).forEach(function (g) {
		var row = MM.row(g.state, MM.ptText(g));
		row.dataset.va = MM.va(g.first.vpn);
		if (g.first.kind === 0 && pages.has(g.first.pfn)) {
			var sub = MM.el('ul', 'tree');
			sub.appendChild(MM.ptPage(pages, g.first.pfn, level - 1, seen));
			row.appendChild(sub);
		}
		ul.appendChild(row);
	});
	if (groups.length > PT_ROWS) ul.appendChild(MM.el('li', 'more', '\u2026 and ' + (groups.length - PT_ROWS) + ' more rows'));
	li.appendChild(ul);
	return li;
};

/* MM.ptTrees: every process's page table after the step, with the step's new and removed entries marked. */
MM.ptTrees = function (run) {
	var box = MM.el('div', 'mem');
	run.procs.forEach(function (proc) {
		var pages = new Map(), add = function (l, state) {
			if (l.pid !== proc.pid) return;
			if (!pages.has(l.page)) pages.set(l.page, []);
			pages.get(l.page).push({ l: l, state: state });
		};
		run.pt.forEach(function (l, key) { add(l, run.ptAdd.has(key) ? 'add' : 'keep'); });
		run.ptDel.forEach(function (l) { add(l, 'del'); });
		var sec = MM.el('section', 'proc');
		sec.dataset.pid = proc.pid;
		sec.appendChild(MM.el('h4', null, 'process ' + proc.pid + ': page table (CR3 \u2192 ' +
			MM.levelName(run.log.levels) + ' page ' + MM.hex(proc.root) + ', PCID ' + proc.pcid + ')'));
		var tree = MM.el('ul', 'tree pt');
		tree.appendChild(MM.ptPage(pages, proc.root, run.log.levels, new Set()));
		sec.appendChild(tree);
		sec.appendChild(MM.layout(run, proc));
		box.appendChild(sec);
	});
	return box;
};

/* ---- the design's metadata ---- */

MM.layout = function (run, proc) {
	var box = MM.el('div', 'meta'), rows = [];
	run.lay.forEach(function (l, key) { if (l.pid === proc.pid) rows.push({ l: l, state: run.layAdd.has(key) ? 'add' : 'keep' }); });
	run.layDel.forEach(function (l) { if (l.pid === proc.pid) rows.push({ l: l, state: 'del' }); });
	rows.sort(function (a, b) { return a.l.vpn - b.l.vpn || (a.state === 'del' ? -1 : 1); });
	box.appendChild(MM.el('h5', null, proc.vmas ? 'VMAs (the design\'s list of mappings)' :
		'Mappings derived from the per-PTE statuses (this design keeps no VMAs: the statuses beside the PTEs above are the only record)'));
	var ul = MM.el('ul', 'rows');
	rows.forEach(function (r) {
		var l = r.l, li = MM.row(r.state, MM.va(l.vpn) + '\u2013' + MM.va(l.end) + '  ' + l.perm + '  ' + MM.size(l.end - l.vpn) + '  ' + l.what);
		li.dataset.va = MM.va(l.vpn);
		ul.appendChild(li);
	});
	if (!rows.length) ul.appendChild(MM.el('li', 'more', 'nothing mapped'));
	box.appendChild(ul);
	return box;
};

/* ---- a step ---- */

/* MM.column: what one run shows for its current step (the transcript, the cores, pictures and memory). */
MM.column = function (run, i, side) {
	var st = run.steps[i], col = MM.el('div', 'col');
	col.dataset.run = side;
	var lines = MM.lines(st);
	col.appendChild(MM.el('h3', 'design', run.design));
	col.appendChild(MM.transcript(lines));
	if (st.cmd !== null) {
		col.appendChild(MM.panes(run, st));
		var shoot = MM.shootdown(run, st);
		if (shoot) col.appendChild(shoot);
		col.appendChild(MM.timeline(run, i));
		col.appendChild(MM.ptTrees(run));
	}
	return col;
};

/* MM.section: step i of every run, after their state moved to it. */
MM.section = function (runs, i) {
	var st = runs[0].steps[i], sec = MM.el('section', 'step');
	sec.id = 'step-' + (i + 1);
	sec.dataset.step = i + 1;
	if (st.cmd !== null) sec.dataset.cmd = st.cmd;
	sec.setAttribute('aria-label', 'step ' + (i + 1));
	var head = MM.el('header', 'step-head');
	head.appendChild(MM.el('span', 'num', 'Step ' + (i + 1) + ' of ' + runs[0].steps.length));
	head.appendChild(MM.el('code', 'cmd', st.cmd !== null ? st.cmd : '(closing words)'));
	sec.appendChild(head);
	var cols = MM.el('div', 'cols' + (runs.length > 1 ? ' two' : ''));
	runs.forEach(function (run, k) { cols.appendChild(MM.column(run, i, k)); });
	sec.appendChild(cols);
	return sec;
};
