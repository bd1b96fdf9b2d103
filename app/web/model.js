/* model.js: the page's model: replays a run's per-step changes (the structured log of mmsim explain) into the machine's state after each step. */
'use strict';
var MM = {};

/* ---- numbers and words ---- */

/* MM.hex: a number as 0x...; MM.va: a page number (vpn) as the address of its first byte, exact beyond 2^53. */
MM.hex = function (n) { return '0x' + n.toString(16); };
MM.va = function (vpn) { return vpn ? '0x' + vpn.toString(16) + '000' : '0x0'; };
MM.cyc = function (n) { return n.toLocaleString('en-US') + ' cycles'; };
MM.el = function (tag, cls, text) {
	var e = document.createElement(tag);
	if (cls) e.className = cls;
	if (text !== undefined && text !== null) e.textContent = text;
	return e;
};
/* MM.size: bytes of n 4 KiB pages in words. */
MM.size = function (pages) {
	var kib = pages * 4;
	if (kib % 1048576 === 0) return kib / 1048576 + ' GiB';
	if (kib % 1024 === 0) return kib / 1024 + ' MiB';
	return kib + ' KiB';
};
MM.pageBytes = [1, 512, 262144]; /* pages of 4 KiB in a page of each TLB size class */
MM.levelPages = function (level) { return Math.pow(512, level - 1); };
MM.levelName = function (level) { return ['?', 'PT', 'PD', 'PDPT', 'PML4', 'PML5'][level] || '?'; };
MM.allow = function (a) {
	return ((a & 1) ? 'r' : '-') + ((a & 8) ? 'w' : '-') + ((a & 4) ? 'x' : '-') + ((a & 8) && !(a & 2) ? ' (clean)' : '');
};

/* ---- one run, replayed step by step ---- */

/*
 * MM.Run: the state of the machine of one run (one design), moved forward
 * one step at a time by apply(i). After apply(i): tlb[c] (Map key -> entry),
 * occ[c] (live entries per TLB array), pt and lay (Map key -> line), procs,
 * cur (pid per core), design; and what step i changed: tlbAdd[c] (Set of
 * keys), tlbDel[c] (entries that left, with why), ptAdd / layAdd (Sets),
 * ptDel / layDel (the lines that went).
 */
MM.Run = function (log, run) {
	this.log = log;
	this.run = run;
	this.steps = run.steps;
	this.cores = log.cores;
	this.design = run.design;
	this.tlb = [];
	this.occ = [];
	for (var c = 0; c < log.cores; c++) {
		this.tlb.push(new Map());
		this.occ.push(log.tlbs.map(function () { return 0; }));
	}
	this.pt = new Map();
	this.lay = new Map();
	this.procs = [];
	this.cur = [];
	for (c = 0; c < log.cores; c++) this.cur.push(1);
	this.at = -1;
};

MM.tlbKey = function (arr, pcid, size, vpn) { return arr + ':' + pcid + ':' + size + ':' + vpn; };
MM.ptKey = function (pid, level, vpn) { return pid + ':' + level + ':' + vpn; };

MM.Run.prototype.apply = function (i) {
	var st = this.steps[i], self = this, c;
	this.at = i;
	if (st.design) this.design = st.design;
	if (st.procs) this.procs = st.procs.map(function (p) { return { pid: p[0], root: p[1], pcid: p[2], vmas: !!p[3] }; });
	if (st.cur) this.cur = st.cur.slice();
	this.tlbAdd = [];
	this.tlbDel = [];
	for (c = 0; c < this.cores; c++) {
		this.tlbAdd.push(new Set());
		this.tlbDel.push([]);
	}
	(st.tlb || []).forEach(function (t) { self.applyTlb(t); });
	this.ptAdd = new Set();
	this.ptDel = [];
	if (st.pt) this.applyPt(st.pt);
	this.layAdd = new Set();
	this.layDel = [];
	if (st.lay) this.applyLay(st.lay);
};

MM.Run.prototype.applyTlb = function (t) {
	var map = this.tlb[t.c], add = this.tlbAdd[t.c], del = this.tlbDel[t.c];
	t.del.forEach(function (d) {
		var step = MM.pageBytes[d[4]];
		for (var k = 0; k < d[2]; k++) {
			var key = MM.tlbKey(d[0], d[3], d[4], d[1] + k * step), e = map.get(key);
			if (!e) continue;
			map.delete(key);
			del.push({ arr: e.arr, vpn: e.vpn, pfn: e.pfn, pcid: e.pcid, size: e.size, allow: e.allow, why: d[5] });
		}
	});
	t.add.forEach(function (a) {
		var step = MM.pageBytes[a[6]];
		for (var k = 0; k < a[2]; k++) {
			var e = { arr: a[0], vpn: a[1] + k * step, pfn: a[3] + k * a[4], pcid: a[5], size: a[6], allow: a[7] };
			var key = MM.tlbKey(e.arr, e.pcid, e.size, e.vpn);
			map.set(key, e);
			add.add(key);
		}
	});
	this.occ[t.c] = t.occ;
};

MM.Run.prototype.applyPt = function (pt) {
	var map = this.pt, add = this.ptAdd, del = this.ptDel;
	pt.del.forEach(function (d) {
		var step = MM.levelPages(d[1]);
		for (var k = 0; k < d[3]; k++) {
			var key = MM.ptKey(d[0], d[1], d[2] + k * step), l = map.get(key);
			if (!l) continue;
			map.delete(key);
			del.push(l);
		}
	});
	pt.add.forEach(function (a) {
		var step = MM.levelPages(a[1]);
		for (var k = 0; k < a[11]; k++) {
			var l = { pid: a[0], level: a[1], page: a[2], i: a[3] + k, j: a[4] + k, vpn: a[5] + k * step,
				end: a[11] > 1 ? a[5] + (k + 1) * step : a[6], kind: a[7], pfn: a[8] + k * a[12], bits: a[9], status: a[10] };
			var key = MM.ptKey(l.pid, l.level, l.vpn);
			map.set(key, l);
			add.add(key);
		}
	});
};

MM.Run.prototype.applyLay = function (lay) {
	var map = this.lay, add = this.layAdd, del = this.layDel;
	lay.del.forEach(function (d) {
		var key = d[0] + ':' + d[1], l = map.get(key);
		if (l) {
			map.delete(key);
			del.push(l);
		}
	});
	lay.add.forEach(function (a) {
		var key = a[0] + ':' + a[1];
		map.set(key, { pid: a[0], vpn: a[1], end: a[2], perm: a[3], what: a[4] });
		add.add(key);
	});
};

/* ---- what happened during a step ---- */

/* MM.act: the activity record of core c in step st, or null if it did not run. */
MM.act = function (st, c) {
	var a = (st.act || []).filter(function (x) { return x.c === c; });
	return a.length ? a[0] : null;
};

/* MM.ipis: every IPI of step st as {from, to, sent, start, ack, work}. */
MM.ipis = function (st) {
	var out = [];
	(st.act || []).forEach(function (a) {
		a.ipis.forEach(function (p) { out.push({ from: a.c, to: p[0], sent: p[1], start: p[2], ack: p[3], work: p[4] }); });
	});
	return out;
};

/* MM.lines: the step's lines as objects; sub-steps (narration, with a moment) get their index in `sub`. */
MM.lines = function (st) {
	var n = 0;
	return st.lines.map(function (l) {
		var o = { kind: l[0], core: l[1], t: l[2], depth: l[3], text: l[4], seq: l[5], sub: -1 };
		if (o.kind === 'n' || o.kind === 'l') o.sub = n++;
		return o;
	});
};

/*
 * MM.locksAt: what core c holds and waits for at moment t of step st:
 * {holds: [...], waits: [...]}. With seq >= 0 (the moment is c's own
 * seq-th line of narration) the order of c's events decides, not the clock.
 */
MM.locksAt = function (st, c, t, seq) {
	var a = MM.act(st, c), out = { holds: [], waits: [] };
	if (!a) return out;
	a.locks.forEach(function (l) {
		var rel = l[5] < 0 ? Infinity : l[5], relSeq = l[9] < 0 ? Infinity : l[9];
		if (seq >= 0 ? l[8] <= seq && seq < relSeq : l[4] <= t && t < rel) out.holds.push(l);
		else if (seq < 0 && l[3] <= t && t < l[4] && l[6] + l[7] > 0) out.waits.push(l);
	});
	return out;
};

/* MM.holder: the core that holds lock `id` at moment t of step st (other than c), or -1. */
MM.holder = function (st, id, c, t) {
	var who = -1;
	(st.act || []).forEach(function (a) {
		if (a.c === c) return;
		a.locks.forEach(function (l) {
			if (l[0] === id && l[4] <= t && t < (l[5] < 0 ? Infinity : l[5])) who = a.c;
		});
	});
	return who;
};
