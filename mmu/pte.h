/* pte.h: x86-64 page-table entry bits, index arithmetic and page-fault error codes, all in one place. */
#ifndef MMSIM_PTE_H
#define MMSIM_PTE_H

#include <stdint.h>

/* Entry bits (Intel SDM vol. 3A, 4.5, tables 4-15 .. 4-20). */
#define PTE_P (1ull << 0)    /* present */
#define PTE_RW (1ull << 1)   /* writable */
#define PTE_US (1ull << 2)   /* user-accessible */
#define PTE_PWT (1ull << 3)  /* write-through */
#define PTE_PCD (1ull << 4)  /* cache disable */
#define PTE_A (1ull << 5)    /* accessed (set by the walker) */
#define PTE_D (1ull << 6)    /* dirty (set by the walker on a write; leaves only) */
#define PTE_PS (1ull << 7)   /* page size: a 2 MiB (PD) or 1 GiB (PDPT) leaf */
#define PTE_G (1ull << 8)    /* global */
#define PTE_SW1 (1ull << 9)  /* bits 9-11: ignored by hardware, free for software */
#define PTE_SW2 (1ull << 10)
#define PTE_SW3 (1ull << 11)
#define PTE_NX (1ull << 63)  /* no-execute */
/*
 * Software convention (Linux's _PAGE_PROTNONE): P clear and this bit set
 * means a frame is still mapped but no access is allowed (PROT_NONE).
 * Hardware sees a non-present entry; mincore counts the page as resident.
 */
#define PTE_PROTNONE PTE_G
static inline int pte_mapped(uint64_t e) { return (e & PTE_P) || (e & PTE_PROTNONE); }
/*
 * pte_is_leaf: does entry e at `level` map a page (PT entries always; a PS
 * entry in a PD or PDPT) rather than point to the next table? Says nothing
 * of presence. pte_is_table: a present entry that points to a table.
 */
static inline int pte_is_leaf(uint64_t e, int level) { return level == 1 || ((e & PTE_PS) && level <= 3); }
static inline int pte_is_table(uint64_t e, int level) { return (e & PTE_P) && !pte_is_leaf(e, level); }
#define PTE_PFN_MASK 0x000ffffffffff000ull /* bits 12..51: physical frame number << 12 */

#define PTE_PFN(e) (((e) & PTE_PFN_MASK) >> 12)
#define PTE_MK(pfn, flags) ((((uint64_t)(pfn)) << 12 & PTE_PFN_MASK) | (flags))

/* Levels: 1 = PT (4 KiB leaves), 2 = PD (2 MiB), 3 = PDPT (1 GiB), 4 = PML4, 5 = PML5 (LA57). */
#define PT_ENTRIES 512
#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define LEVEL_SHIFT(l) (PAGE_SHIFT + 9 * ((l) - 1))
#define LEVEL_SIZE(l) (1ull << LEVEL_SHIFT(l)) /* bytes mapped by one entry at level l */
#define PT_INDEX(va, l) (((va) >> LEVEL_SHIFT(l)) & (PT_ENTRIES - 1))
#define HUGE_2M (1ull << 21)
#define HUGE_1G (1ull << 30)

/* Canonical user addresses: below 2^47 (4-level) or 2^56 (5-level). */
#define VA_BITS(levels) ((levels) == 5 ? 57 : 48)
#define USER_VA_END(levels) (1ull << (VA_BITS(levels) - 1))

/* Page-fault error code (Intel SDM vol. 3A, 4.7, figure 4-12). */
#define PF_P (1u << 0)	 /* 0: not present; 1: protection violation */
#define PF_W (1u << 1)	 /* write access */
#define PF_U (1u << 2)	 /* user-mode access */
#define PF_RSVD (1u << 3) /* reserved bit set */
#define PF_I (1u << 4)	 /* instruction fetch */
#define PF_PK (1u << 5)	 /* protection key */

/* Access kinds. */
enum mmu_acc { ACC_R = 0, ACC_W = 1, ACC_X = 2 };

/* Page sizes, as TLB size classes. */
enum pg_size { PG_4K = 0, PG_2M = 1, PG_1G = 2 };
#define PG_SHIFT(sz) (PAGE_SHIFT + 9 * (sz))
#define PG_BYTES(sz) (1ull << PG_SHIFT(sz))

/* ---- descriptions, for display (mmu/ptedesc.c) ---- */

#include <stddef.h>
/* pte_level_name: "PML5", "PML4", "PDPT", "PD" or "PT" (level 5..1). */
const char *pte_level_name(int level);
/* pte_describe: an entry at `level` in words: "not present", or "pfn 0x1234 -> PT page" / "4 KiB page pfn 0x1234" with its bits. */
void pte_describe(uint64_t e, int level, char *buf, size_t n);
/* pte_bits: the set bits of e as "P RW US A D NX" (PS/G/PROTNONE too). */
void pte_bits(uint64_t e, int level, char *buf, size_t n);
/* pf_describe: a page-fault error code in words ("write to a not-present page, user mode"). */
void pf_describe(uint32_t err, char *buf, size_t n);

#endif
