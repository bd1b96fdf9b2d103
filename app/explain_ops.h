/* explain_ops.h: teaching mode's operations on the simulated machine (mm calls, touches, fork), parsed from a command's words. */
#ifndef MMSIM_EXPLAIN_OPS_H
#define MMSIM_EXPLAIN_OPS_H

#include "app/explain.h"

enum xop_kind { X_MMAP, X_MUNMAP, X_MPROTECT, X_MADVISE, X_BRK, X_FORK, X_TOUCH };

/* One operation, parsed on the host and run by xs_op_job on its core. */
struct xop {
	enum xop_kind kind;
	uint64_t addr, len, off;
	int prot, flags, advice, acc;
	int rel; /* brk: +1 grow by addr, -1 shrink by addr, 0 absolute */
	uint32_t file;
	const char *name; /* mmap: bind the result to this name */
	bool single;	  /* touch: one page, narrated */
	/* results */
	struct vm_as *child; /* fork */
	uint64_t pages;	     /* touch: pages accessed */
	int result;	     /* touch: enum vm_fault of the last access */
	uint64_t fail_at;
};

/* xs_parse_op: parse c into op; 0, or -1 after printing a one-line error. */
int xs_parse_op(struct xs *s, struct xs_names *nm, const struct xcmd *c, struct xop *op);
/* xs_op_job: the xjob function that runs an xop (j->arg) on its core. */
void xs_op_job(struct xs *s, struct xjob *j, struct mmu_cpu *cpu);

/* xs_value: a number (0x.., K/M/G suffixes) or NAME[+-OFFSET]; 0, or -1 with an error printed. */
int xs_value(struct xs *s, struct xs_names *nm, const char *w, uint64_t *out);
/* xs_name_slot: the value slot of `name`, created if asked (NULL when absent or full). */
uint64_t *xs_name_slot(struct xs_names *nm, const char *name, bool create);
/* xs_prot: "rw", "r-x", "none", ... as VM_PROT_* bits, or -1. */
int xs_prot(const char *w);

#endif
