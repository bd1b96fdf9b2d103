/* describe.c: CortenMM's per-PTE statuses in words, for teaching mode. */
#include "cortenmm/cm.h"

#include <stdio.h>

void cm_meta_describe(const struct cm_meta *m, char *buf, size_t n)
{
	char prot[4] = { (m->flags & VM_PROT_READ) ? 'r' : '-', (m->flags & VM_PROT_WRITE) ? 'w' : '-',
			 (m->flags & VM_PROT_EXEC) ? 'x' : '-', 0 };
	const char *kind = m->kind == CM_ANON ? "anon" : m->kind == CM_FILE ? "file" : "invalid";
	int k = snprintf(buf, n, "%s %s %s", kind, prot, (m->flags & VR_SHARED) ? "shared" : "private");
	if (k < 0 || (size_t)k >= n)
		return;
	size_t len = (size_t)k;
	if (m->kind == CM_FILE)
		len += (size_t)snprintf(buf + len, n - len, ", file %u page %llu", m->file ? m->file->id : 0,
					(unsigned long long)m->pgoff);
	if (len < n && m->av == CM_AV_FORKED)
		len += (size_t)snprintf(buf + len, n - len, ", anon_vma inherited through fork");
	else if (len < n && m->av)
		len += (size_t)snprintf(buf + len, n - len, ", had private frames (anon_vma %u)", m->av);
	if (len < n && (m->flags & VR_GROWSDOWN))
		len += (size_t)snprintf(buf + len, n - len, ", grows down");
	if (len < n && (m->flags & VR_LOCKED))
		len += (size_t)snprintf(buf + len, n - len, ", locked");
	if (len < n && (m->flags & CM_GUARD))
		snprintf(buf + len, n - len, ", guard page");
}
