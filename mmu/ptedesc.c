/* ptedesc.c: page-table entries and fault codes in words, for teaching mode and diagnostics. */
#include "mmu/pte.h"

#include <stdio.h>
#include <string.h>

const char *pte_level_name(int level)
{
	static const char *const names[] = { "?", "PT", "PD", "PDPT", "PML4", "PML5" };
	return level >= 1 && level <= 5 ? names[level] : "?";
}

void pte_bits(uint64_t e, int level, char *buf, size_t n)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} bits[] = { { PTE_P, "P" },	 { PTE_RW, "RW" }, { PTE_US, "US" }, { PTE_PWT, "PWT" }, { PTE_PCD, "PCD" },
		     { PTE_A, "A" },	 { PTE_D, "D" },   { PTE_PS, "PS" }, { PTE_NX, "NX" } };
	size_t len = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(e & bits[i].bit) || (bits[i].bit == PTE_PS && level == 1))
			continue;
		int k = snprintf(buf + len, n - len, "%s%s", len ? " " : "", bits[i].name);
		if (k < 0 || (size_t)k >= n - len)
			return;
		len += (size_t)k;
	}
	if (!(e & PTE_P) && (e & PTE_PROTNONE))
		snprintf(buf + len, n - len, "%sPROTNONE", len ? " " : "");
	else if (e & PTE_G)
		snprintf(buf + len, n - len, "%sG", len ? " " : "");
}

void pte_describe(uint64_t e, int level, char *buf, size_t n)
{
	char b[64];
	if (!e) {
		snprintf(buf, n, "empty (not present)");
		return;
	}
	pte_bits(e, level, b, sizeof(b));
	if (!(e & PTE_P) && !(e & PTE_PROTNONE)) {
		snprintf(buf, n, "not present (software bits %#llx)", (unsigned long long)e);
		return;
	}
	if (!pte_is_leaf(e, level))
		snprintf(buf, n, "-> %s page %#llx  [%s]", pte_level_name(level - 1), (unsigned long long)PTE_PFN(e), b);
	else
		snprintf(buf, n, "%s page, frame %#llx  [%s]", level == 1 ? "4 KiB" : level == 2 ? "2 MiB" : "1 GiB",
			 (unsigned long long)PTE_PFN(e), b);
}

void pf_describe(uint32_t err, char *buf, size_t n)
{
	snprintf(buf, n, "%s %s page%s, %s mode", (err & PF_I) ? "instruction fetch from" : (err & PF_W) ? "write to" : "read of",
		 (err & PF_P) ? "a present" : "a not-present", (err & PF_P) ? " (protection violation)" : "",
		 (err & PF_U) ? "user" : "kernel");
	if (err & PF_RSVD)
		strncat(buf, ", reserved bit set", n - strlen(buf) - 1);
}
