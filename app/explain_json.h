/* explain_json.h: the structured log's JSON encoders: changes of page tables, layouts and TLBs (runs of like entries in one record) and what each core did in a step. */
#ifndef MMSIM_EXPLAIN_JSON_H
#define MMSIM_EXPLAIN_JSON_H

#include "app/explain.h"

/* Page-table or layout lines that changed, in key order: '+' new, '-' gone. The lines belong to two live snapshots. */
struct xchanges {
	struct xchange {
		char sign;
		const struct xline *l;
	} *v;
	size_t n, cap;
};
void xchanges_add(struct xchanges *c, char sign, const struct xline *l);
void xchanges_free(struct xchanges *c);

/*
 * json_pt_changes: ,"pt":{"add":[...],"del":[...]} (nothing if none). An
 * added line is [pid, level, page, i, j, vpn, end_vpn, kind, pfn, bits,
 * status, n, dpfn]: n lines in a row (entries i.., pages vpn.. one entry
 * apart, frames pfn + k*dpfn), else n = 1. A removed one is [pid, level,
 * vpn, n]. Addresses are in 4 KiB pages (vpn), so they stay exact in
 * JavaScript's numbers.
 */
void json_pt_changes(struct jb *out, const struct xchanges *c);
/* json_lay_changes: ,"lay":{"add":[[pid, vpn, end_vpn, "rw-p", "anonymous"], ...],"del":[[pid, vpn], ...]}. */
void json_lay_changes(struct jb *out, const struct xchanges *c);

/* One core's TLB entries that came ('+') or went (why: 'f' flushed, 'e' evicted, 'r' the machine was rebuilt). */
struct xtlb_changes {
	struct xtlb_change {
		struct xtlb e;
		char why;
	} *v;
	size_t n, cap;
};
void xtlb_changes_add(struct xtlb_changes *c, const struct xtlb *e, char why);
void xtlb_changes_free(struct xtlb_changes *c);
/*
 * json_tlb_changes: {"c":core,"add":[[arr, vpn, n, pfn, dpfn, pcid, size,
 * allow], ...],"del":[[arr, vpn, n, pcid, size, why], ...],"occ":[live
 * entries per array]}: runs of n entries, pages one entry apart.
 */
void json_tlb_changes(struct jb *out, uint32_t core, const struct xtlb_changes *c, const uint32_t *occ, size_t narr);

/*
 * json_act: ,"act":[...]: for every core that ran in the step, {"c", "t0",
 * "t1", "op": its operation in words or null, "look": [[vpn, n, acc, out]], "locks": [[id, name, mode, requested,
 * granted, released (-1: not seen), spin, sleep, said_before_granted,
 * said_before_released (-1)]], "more": locks left out,
 * "ipis": [[to, sent, start, ack, work]], "spans": [[kind, start, end]]}.
 */
void json_act(struct jb *out, const struct xlog *log);

/* json_lines: ,"lines":[[kind, core, t, depth, text, seq], ...]. */
void json_lines(struct jb *out, const struct xl_step *st);

#endif
