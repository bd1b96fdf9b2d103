/* explain_ops.c: teaching mode's machine operations: mm calls, touches and fork, parsed from words, run on a core and explained. */
#include "app/explain_ops.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ("as buf") ---- */

uint64_t *xs_name_slot(struct xs_names *nm, const char *name, bool create)
{
	for (uint32_t i = 0; i < nm->n; i++)
		if (!strcmp(nm->name[i], name))
			return &nm->val[i];
	if (!create || nm->n == XS_MAX_NAMES)
		return NULL;
	snprintf(nm->name[nm->n], sizeof(nm->name[0]), "%s", name);
	nm->val[nm->n] = 0;
	return &nm->val[nm->n++];
}

/* A plain number: decimal or 0x hex, with an optional K/M/G/T (binary) suffix. */
static bool plain_num(const char *w, uint64_t *out)
{
	if (!isdigit((unsigned char)w[0]))
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(w, &end, 0);
	if (errno)
		return false;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

int xs_value(struct xs *s, struct xs_names *nm, const char *w, uint64_t *out)
{
	if (plain_num(w, out))
		return 0;
	char name[XS_NAME_LEN];
	size_t k = strcspn(w, "+-");
	if (k == 0 || k >= sizeof(name))
		return xs_err(s, "'%s' is not a number or a name", w);
	memcpy(name, w, k);
	name[k] = 0;
	uint64_t *v = xs_name_slot(nm, name, false);
	if (!v)
		return xs_err(s, "no name '%s' (give one with 'as NAME' on an mmap)", name);
	uint64_t off = 0;
	if (w[k] && !plain_num(w + k + 1, &off))
		return xs_err(s, "bad offset in '%s'", w);
	*out = w[k] == '-' ? *v - off : *v + off;
	return 0;
}

int xs_prot(const char *w)
{
	if (!strcmp(w, "none"))
		return VM_PROT_NONE;
	int p = 0;
	if (!*w || strspn(w, "rwx-") != strlen(w) || strlen(w) > 3)
		return -1;
	for (const char *c = w; *c; c++)
		p |= *c == 'r' ? VM_PROT_READ : *c == 'w' ? VM_PROT_WRITE : *c == 'x' ? VM_PROT_EXEC : 0;
	return p;
}

static const struct {
	const char *name;
	int advice;
} advices[] = { { "normal", VM_MADV_NORMAL },	  { "random", VM_MADV_RANDOM },	   { "sequential", VM_MADV_SEQUENTIAL },
		{ "willneed", VM_MADV_WILLNEED },  { "dontneed", VM_MADV_DONTNEED }, { "free", VM_MADV_FREE },
		{ "hugepage", VM_MADV_HUGEPAGE }, { "nohugepage", VM_MADV_NOHUGEPAGE } };

/* ---- parsing ---- */

static int need(struct xs *s, const struct xcmd *c, int n, const char *usage)
{
	if (c->argc < n)
		return xs_err(s, "%s: usage: %s", c->argv[0], usage);
	return 0;
}

static int parse_mmap(struct xs *s, struct xs_names *nm, const struct xcmd *c, struct xop *op)
{
	const char *usage = "mmap LEN [at ADDR] [PROT] [shared] [fixed] [populate] [stack] [file ID [off N]] [as NAME]";
	if (need(s, c, 2, usage) || xs_value(s, nm, c->argv[1], &op->len))
		return -1;
	op->prot = VM_PROT_READ | VM_PROT_WRITE;
	op->flags = VM_MAP_PRIVATE | VM_MAP_ANONYMOUS;
	for (int i = 2; i < c->argc; i++) {
		const char *w = c->argv[i];
		int p;
		if (!strcmp(w, "at") && i + 1 < c->argc) {
			if (xs_value(s, nm, c->argv[++i], &op->addr))
				return -1;
		} else if (!strcmp(w, "as") && i + 1 < c->argc) {
			op->name = c->argv[++i];
			if (plain_num(op->name, &(uint64_t){ 0 }) || strcspn(op->name, "+-") != strlen(op->name) ||
			    strlen(op->name) >= XS_NAME_LEN)
				return xs_err(s, "mmap: '%s' cannot be a name (a word without + or -, not a number)", op->name);
		} else if (!strcmp(w, "file") && i + 1 < c->argc) {
			uint64_t id;
			if (!plain_num(c->argv[++i], &id) || id == 0 || id > XS_MAX_FILES)
				return xs_err(s, "mmap: file ids are 1 to %d, not '%s'", XS_MAX_FILES, c->argv[i]);
			op->file = (uint32_t)id;
			op->flags &= ~VM_MAP_ANONYMOUS;
		} else if (!strcmp(w, "off") && i + 1 < c->argc) {
			if (xs_value(s, nm, c->argv[++i], &op->off))
				return -1;
		} else if (!strcmp(w, "shared")) {
			op->flags = (op->flags & ~VM_MAP_TYPE) | VM_MAP_SHARED;
		} else if (!strcmp(w, "fixed")) {
			op->flags |= VM_MAP_FIXED;
		} else if (!strcmp(w, "populate")) {
			op->flags |= VM_MAP_POPULATE;
		} else if (!strcmp(w, "stack")) {
			op->flags |= VM_MAP_STACK | VM_MAP_GROWSDOWN;
		} else if ((p = xs_prot(w)) >= 0) {
			op->prot = p;
		} else {
			return xs_err(s, "mmap: unknown word '%s' (usage: %s)", w, usage);
		}
	}
	return 0;
}

int xs_parse_op(struct xs *s, struct xs_names *nm, const struct xcmd *c, struct xop *op)
{
	memset(op, 0, sizeof(*op));
	const char *w = c->argv[0];
	if (!strcmp(w, "mmap")) {
		op->kind = X_MMAP;
		return parse_mmap(s, nm, c, op);
	}
	if (!strcmp(w, "munmap")) {
		op->kind = X_MUNMAP;
		if (need(s, c, 3, "munmap ADDR LEN") || xs_value(s, nm, c->argv[1], &op->addr) ||
		    xs_value(s, nm, c->argv[2], &op->len))
			return -1;
		return c->argc > 3 ? xs_err(s, "munmap: unexpected '%s'", c->argv[3]) : 0;
	}
	if (!strcmp(w, "mprotect")) {
		op->kind = X_MPROTECT;
		if (need(s, c, 4, "mprotect ADDR LEN PROT") || xs_value(s, nm, c->argv[1], &op->addr) ||
		    xs_value(s, nm, c->argv[2], &op->len))
			return -1;
		if ((op->prot = xs_prot(c->argv[3])) < 0)
			return xs_err(s, "mprotect: '%s' is not a protection (like rw, r-x, none)", c->argv[3]);
		return 0;
	}
	if (!strcmp(w, "madvise")) {
		op->kind = X_MADVISE;
		if (need(s, c, 4, "madvise ADDR LEN ADVICE") || xs_value(s, nm, c->argv[1], &op->addr) ||
		    xs_value(s, nm, c->argv[2], &op->len))
			return -1;
		for (size_t i = 0; i < ARRAY_SIZE(advices); i++)
			if (!strcmp(c->argv[3], advices[i].name)) {
				op->advice = advices[i].advice;
				return 0;
			}
		return xs_err(s, "madvise: unknown advice '%s' (normal, random, sequential, willneed, dontneed, free, "
				 "hugepage, nohugepage)", c->argv[3]);
	}
	if (!strcmp(w, "brk")) {
		op->kind = X_BRK;
		if (c->argc == 1)
			return 0;
		const char *a = c->argv[1];
		op->rel = a[0] == '+' ? 1 : a[0] == '-' ? -1 : 0;
		return xs_value(s, nm, op->rel ? a + 1 : a, &op->addr);
	}
	if (!strcmp(w, "fork")) {
		op->kind = X_FORK;
		return c->argc > 1 ? xs_err(s, "fork: unexpected '%s'", c->argv[1]) : 0;
	}
	if (!strcmp(w, "touch")) {
		op->kind = X_TOUCH;
		if (need(s, c, 2, "touch ADDR [LEN] [r|w|x]") || xs_value(s, nm, c->argv[1], &op->addr))
			return -1;
		op->len = PAGE_SIZE;
		op->single = true;
		for (int i = 2; i < c->argc; i++) {
			const char *a = c->argv[i];
			if (!strcmp(a, "r") || !strcmp(a, "w") || !strcmp(a, "x"))
				op->acc = a[0] == 'r' ? ACC_R : a[0] == 'w' ? ACC_W : ACC_X;
			else if (xs_value(s, nm, a, &op->len))
				return -1;
			else
				op->single = false;
		}
		if (!op->len)
			return xs_err(s, "touch: the length must not be 0");
		return 0;
	}
	return xs_err(s, "unknown command '%s' (try 'help')", w);
}

/* ---- running ---- */

/* Record one page's lookup in j's runs (a run grows while pages follow each other with one outcome). */
static void look_add(struct xjob *j, uint64_t va, int acc, enum xl_out out)
{
	va &= ~(PAGE_SIZE - 1);
	if (j->nlook) {
		struct xl_look *l = &j->look[j->nlook - 1];
		if (l->out == out && l->acc == acc && va == l->va + l->n * PAGE_SIZE) {
			l->n++;
			return;
		}
	}
	j->look = xrealloc(j->look, (j->nlook + 1) * sizeof(*j->look));
	j->look[j->nlook++] = (struct xl_look){ va, 1, (uint8_t)acc, (uint8_t)out };
}

/* How one access went, from the core's counters before (a) and after (b) it. */
static enum xl_out outcome(const struct mmu_cpu_stats *a, const struct mmu_cpu_stats *b, enum vm_fault r)
{
	if (r != VM_FAULT_OK)
		return XO_FAIL;
	if (b->faults != a->faults)
		return XO_FAULT;
	if (b->walks != a->walks)
		return XO_WALK;
	return b->l2_hits != a->l2_hits ? XO_L2 : XO_L1;
}

static void run_touch(struct xop *op, struct xjob *j, struct vm_as *as, struct mmu_cpu *cpu)
{
	uint64_t first = op->addr & ~(PAGE_SIZE - 1), last = (op->addr + op->len - 1) & ~(PAGE_SIZE - 1);
	for (uint64_t va = first;; va += PAGE_SIZE) {
		uint64_t at = va == first ? op->addr : va;
		struct mmu_cpu_stats before = cpu->st;
		enum vm_fault r = vm_access(as, cpu, at, (enum mmu_acc)op->acc);
		look_add(j, at, op->acc, outcome(&before, &cpu->st, r));
		op->pages++;
		if (r != VM_FAULT_OK) {
			op->result = r;
			op->fail_at = at;
			return;
		}
		if (va == last)
			return;
	}
}

void xs_op_job(struct xs *s, struct xjob *j, struct mmu_cpu *cpu)
{
	struct xop *op = j->arg;
	struct vm_as *as = xs_as(s, cpu->core->id);
	struct vm_file *f = NULL;
	switch (op->kind) {
	case X_MMAP:
		if (op->file)
			f = xs_file(s, op->file, op->off + op->len);
		j->result = vm_mmap(as, cpu, op->addr, op->len, op->prot, op->flags, f, op->off);
		break;
	case X_MUNMAP: j->result = vm_munmap(as, cpu, op->addr, op->len); break;
	case X_MPROTECT: j->result = vm_mprotect(as, cpu, op->addr, op->len, op->prot); break;
	case X_MADVISE: j->result = vm_madvise(as, cpu, op->addr, op->len, op->advice); break;
	case X_BRK: {
		uint64_t b = op->rel > 0 ? as->brk + op->addr : op->rel < 0 ? as->brk - op->addr : op->addr;
		j->result = vm_brk(as, cpu, b);
		break;
	}
	case X_FORK: op->child = vm_fork(as, cpu); break;
	case X_TOUCH: run_touch(op, j, as, cpu); break;
	}
}
