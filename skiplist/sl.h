/* sl.h: the `skiplist` design's internals: VMAs in a concurrent interval skiplist with per-core arenas, per-core locks (local and global mode), per-node range locks, replacement nodes and lock-free search. */
#ifndef MMSIM_SL_H
#define MMSIM_SL_H

#include "sim/lock.h"
#include "sim/rcu.h"
#include "sim/watch.h"
#include "kmm/kmm.h"
#include "vm/vm.h"
#include "kmm/rules.h"

/* Indexes of the design options (sl_opts in design.c): as->sys->o.dopt[SL_OPT_*]. */
enum { SL_OPT_THP, SL_OPT_TLB_FLUSH, SL_OPT_NO_ARENAS, SL_OPT_IN_PLACE };

/*
 * The address space is a skiplist of nodes sorted by start address. A node
 * is a VMA [start, end), or an anchor: an empty marker (start == end) that
 * splits a gap in two. The head (at 0) and the tail (at UINT64_MAX) are
 * anchors, so every gap lies between two nodes. Every core has an arena
 * (64 GiB) whose base holds an anchor, a full tower where searches in the
 * arena start.
 *
 * Modes (see mode.c): a call inside one area reads its own core's shard of
 * the per-core lock (local mode); a call across areas, fork and exit write
 * every shard (global mode). Then the range locks:
 *
 * Locks (see range.c). The address space is cut into parts: each node's
 * interval [start, end) and the gap before each node (from the end of the
 * previous node to its start). Every part has its own lock:
 * - `range`, per node, locks its interval: its start, end and fields.
 * - `gap`, per node, locks the gap before it: nothing is linked into that
 *   gap, and neither of its ends moves, without it.
 * An mm call over [a, b) locks, in address order, every part that meets
 * [a - 1 page, b + 1 page) (the extra pages reach the neighbours that a
 * merge may change), and nothing else: two calls share a lock only when
 * their ranges meet one same part (a gap, however large, is one part;
 * anchors split the big gaps, so each core's arena has gaps of its own).
 * A call also locks the gap before the first node it meets.
 * What a change needs: replacing v (its start, end or flags: sl_replace):
 * v's range and gap, and the range gained (free, locked); linking a node
 * into a gap: that gap (a split links inside the interval it holds);
 * unlinking v: v's range and gap, and the gap after it unless a neighbour
 * absorbs v. The anon_vma link is set in place under v's range lock.
 * - `vma`, per VMA, is the per-VMA lock: a fault read-locks the VMA it
 *   found by the lock-free search; a call write-locks a VMA before it
 *   changes or removes it, and keeps it until it returns.
 *
 * Invariants: see sl_check (check.c).
 */
#define SL_MAX_LEVEL 16 /* towers of up to 16 levels; each level holds a node with probability 1/4 */

/* One tower level: the next pointer (low bit: this node is deleted at this level) and its line. */
struct sl_level {
	_Atomic uintptr_t next;
	struct coh_line line; /* the pointer's modelled line */
};

struct sl_node {
	struct coh_line line;	 /* the node's key and fields, as one modelled line (the tower's pointers have their own) */
	_Atomic uint64_t start, end; /* read lock-free; written under the range lock (and the VMA write lock) */
	uint32_t flags;		 /* VR_*; the fields below change under the range lock plus the VMA write lock */
	struct vm_file *file;
	uint64_t pgoff;
	uint32_t av;   /* anon_vma identity (0: none yet) */
	uint8_t chain; /* anon_vma_chain length */
	uint8_t height;
	bool anchor;	  /* a gap owner, not a VMA (immutable) */
	int32_t slice;	  /* anchors: the slice whose base it marks (-1: the head) */
	_Atomic bool detached; /* unlinked: lock-free readers that reach it retry */
	_Atomic(struct sl_node *) repl; /* the node that replaced this one (set by the call that swapped it, under its locks) */
	struct lk_mutex range; /* the lock of the node's interval [start, end) */
	struct lk_mutex gap;   /* the lock of the gap before the node */
	struct lk_rwsem vma;   /* the per-VMA lock */
	struct sim_rcu_head rcu;
	struct sl_level lv[]; /* height levels */
};

struct sl_stats {
	_Atomic uint64_t lookups;	/* skiplist searches (lock-free) */
	_Atomic uint64_t levels_visited; /* tower levels those searches descended */
	_Atomic uint64_t visits;	/* tower steps taken by those searches (nodes compared) */
	_Atomic uint64_t lookup_retries; /* a found node failed validation (deleted or moved): search again */
	_Atomic uint64_t lock_retries;	 /* a range lock was taken on a node that had changed: search again */
	_Atomic uint64_t cas_retries;	 /* a tower CAS lost a race */
	_Atomic uint64_t range_locks;	 /* node range locks taken */
	_Atomic uint64_t faults_lockfree, faults_locked; /* faults under the per-VMA lock / under range locks */
	_Atomic uint64_t splits, merges, anchors_made, anchors_dropped;
	_Atomic uint64_t slice_allocs, gap_searches;
	_Atomic uint64_t local_modes, global_modes; /* calls in local mode / global mode (mode.c) */
	_Atomic uint64_t faults_global;		     /* faults that fell back to the global mode */
	_Atomic uint64_t replacements;		     /* VMA nodes swapped for a replacement (sl_replace) */
};

/* One core's shard of the per-core lock, on a line of its own. */
struct sl_shard {
	struct lk_rwsem rw;
} __attribute__((aligned(CACHELINE)));

#define SL_SLICE_SHIFT 36 /* each core's placement slice: 64 GiB */
#define SL_SLICE_BASE 0x100000000000ull

struct sl_mm {
	struct vm_as *as;
	struct sl_node *head, *tail;
	_Atomic uint32_t levels;	/* height of the tallest VMA tower linked so far (anchors are full towers): searches start there */
	struct kmm pt;			/* page tables, page_table_lock, RSS (kmm/kmm.h) */
	_Atomic uint32_t next_av;
	_Atomic uint64_t nnodes, nvmas, node_bytes;
	uint64_t *slice_next;		/* per core: next address to try in its slice (written by that core only) */
	_Atomic(struct sl_node *) *slice_anchor; /* per core: its slice's anchor, or NULL */
	uint32_t narena;		/* arenas (slices): one per core */
	bool arenas;			/* per-core arenas (off: --no-arenas, one shared top-down cursor) */
	bool in_place;			/* --in-place: node changes in place under the VMA write lock, no replacement */
	_Atomic uint64_t topdown;	/* --no-arenas: the next free address below it, shared by every core */
	struct coh_line topdown_line;	/* its modelled line */
	struct coh_line arena_line;	/* the arena table (slice_anchor) as one modelled line */
	struct sl_shard *shard;		/* per core: its shard of the per-core lock (mode.c) */
	uint64_t *rng;			/* per core: tower-height generator state */
	uint64_t host_rng;
	struct lk_spin brk_lock;	/* serializes brk, which reads and writes as->brk */
	struct sl_stats st;
};

static inline struct sl_mm *sl_of(struct vm_as *as) { return as->priv; }
static inline uint64_t sn_start(const struct sl_node *n) { return atomic_load_explicit(&n->start, memory_order_relaxed); }
static inline uint64_t sn_end(const struct sl_node *n) { return atomic_load_explicit(&n->end, memory_order_relaxed); }
static inline void sl_inc(_Atomic uint64_t *c) { atomic_fetch_add_explicit(c, 1, memory_order_relaxed); }
static inline struct sim_core *sl_core(struct mmu_cpu *cpu) { return cpu ? cpu->core : NULL; }

/* ---- the skiplist (list.c) ---- */

/* sl_list_init: the head (an anchor at 0 of full height) and the tail (an anchor at UINT64_MAX). */
void sl_list_init(struct sl_mm *mm);
/* sl_node_new: a node of random height, not linked (its first line in cpu's cache when cpu is given). */
struct sl_node *sl_node_new(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool anchor);
/* sl_node_new_h: the same with a tower of h levels (a replacement keeps the height of the node it replaces). */
struct sl_node *sl_node_new_h(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool anchor, int h);
/* sl_node_retire: free an unlinked node after a grace period (c, if not NULL, pays kern.slab_free). */
void sl_node_retire(struct sl_mm *mm, struct sim_core *c, struct sl_node *n);
/* sl_nodes_freed: nodes freed by RCU callbacks so far, in every address space (tests). */
uint64_t sl_nodes_freed(void);
/* sl_next: the live node after n at level 0 (NULL at the end). Charged to c when given. */
struct sl_node *sl_next(struct sim_core *c, struct sl_node *n);
/*
 * sl_search: the last live node whose start <= addr (the owner of addr), by
 * a lock-free descent; never NULL (the head owns address 0). Inside an RCU
 * read-side section. Counts a lookup and its steps.
 */
struct sl_node *sl_search(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t addr);
/* sl_link: link n (start set) into every level; the caller holds the gap it goes into, or the interval it splits. */
void sl_link(struct sl_mm *mm, struct mmu_cpu *cpu, struct sl_node *n);
/*
 * sl_link_before: link n (same height as v, start in (0, v's start], the
 * range between free) right before v at every level, level 0 first: the
 * first half of a replacement (sl_replace). The caller holds v's interval
 * and the gap before it.
 */
void sl_link_before(struct sl_mm *mm, struct mmu_cpu *cpu, struct sl_node *n, struct sl_node *v);
/* sl_unlink: mark n deleted at every level (level 0 last is the linearization point) and snip it out. n is range-locked. */
void sl_unlink(struct sl_mm *mm, struct mmu_cpu *cpu, struct sl_node *n);
/*
 * sl_check: vm.h's check over [start, end) (check.c): the nodes from the
 * VMA before the range to the first past it are live, unlocked, sorted at
 * level 0 with no two starts equal; VMAs non-empty and apart; anchors
 * empty and outside VMAs; each tower level a sorted sublist of level 0 (a
 * node's level-l successor is the next node whose tower reaches l); the
 * VMAs as kmm_check_maps wants them and the page table under them as
 * kmm_check_leaves does. The whole space: also the head's tower, the tail
 * last, and the node and VMA counts. Host only: no charges, no statistics.
 */
int sl_check(struct vm_as *as, uint64_t start, uint64_t end, char *why, size_t len);
/* sl_free_all: free every node now (teardown, no readers). */
void sl_free_all(struct sl_mm *mm);

/* ---- range locks (range.c) ---- */

/* One part lock held: a node's interval (gap false) or the gap before it. */
struct sl_part {
	struct sl_node *n;
	bool gap;
};

/*
 * struct sl_lockset: the part locks one mm call holds, in address order,
 * and the VMAs it has write-locked. held[0] holds the lowest address.
 */
struct sl_lockset {
	struct sl_mm *mm;
	struct mmu_cpu *cpu;
	struct sl_part *held;
	uint32_t n, cap;
	struct sl_node **wl; /* VMAs write-locked (released at sl_unlock) */
	uint32_t nw, wcap;
	struct sl_node **dead; /* nodes unlinked by this call: retired at sl_unlock */
	uint32_t nd, dcap;
	/*
	 * The ranges locked, in address order: [lo[k], hi[k]) starts in the
	 * interval of seg[k], or in the gap before it, which begins at floor[k]
	 * after the node before[k].
	 */
	int nseg;
	uint64_t lo[4], hi[4], floor[4];
	struct sl_node *seg[4], *before[4];
	bool in_gap[4];
};

/* sl_lock_range: take the range locks of [a, b) (a < b, page aligned; clipped to the user space); an RCU read-side section until sl_unlock. */
void sl_lock_range(struct sl_lockset *s, struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t a, uint64_t b);
/* sl_lock_ranges: take [a[i], b[i]) for i < n together, in address order (overlaps merged). */
void sl_lock_ranges(struct sl_lockset *s, struct sl_mm *mm, struct mmu_cpu *cpu, const uint64_t *a,
		    const uint64_t *b, int n);
/* sl_unlock: release the VMA write locks, retire the unlinked nodes, release the range locks. */
void sl_unlock(struct sl_lockset *s);
/* sl_held: whether this call holds n's interval lock; sl_gap_held: the lock of the gap before n. */
bool sl_held(const struct sl_lockset *s, const struct sl_node *n);
bool sl_gap_held(const struct sl_lockset *s, const struct sl_node *n);
/* sl_adopt: a node this call is about to link joins its held set (born with both its locks held by this call). */
void sl_adopt(struct sl_lockset *s, struct sl_node *n);
/* sl_vma_write: write-lock v's per-VMA lock (waits out faults in it) until sl_unlock. */
void sl_vma_write(struct sl_lockset *s, struct sl_node *v);
/* sl_remove: write-lock, unlink and (at sl_unlock) retire a node whose interval and gap locks this call holds. */
void sl_remove(struct sl_lockset *s, struct sl_node *v);

/* Walks inside the locked range, from held[0] (charged). */
/* sl_vma_from: the first VMA with end > addr (NULL if none up to hi). */
struct sl_node *sl_vma_from(struct sl_lockset *s, uint64_t addr);
/* sl_vma_before: the last VMA with start < addr in the locked range, or the one just below it when the range begins in a gap (NULL if none). */
struct sl_node *sl_vma_before(struct sl_lockset *s, uint64_t addr);
/* sl_vma_at: the VMA containing addr, or NULL. */
struct sl_node *sl_vma_at(struct sl_lockset *s, uint64_t addr);
/* sl_after: the first live node (VMA or anchor) with start >= addr, even past hi (its start is stable while we hold its predecessor). */
struct sl_node *sl_after(struct sl_lockset *s, uint64_t addr);

/* sl_claim: [a, b) is about to become part of a VMA: drop the anchors whose start lies in it. */
void sl_claim(struct sl_lockset *s, uint64_t a, uint64_t b);

/* Placement (range.c): a free address for len bytes on this core, or 0. Not locked: the caller locks and validates. */
uint64_t sl_candidate(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t len, int attempt);
/* sl_arenas_init: link every core's arena anchor (sl_create: nobody else sees the list yet). */
void sl_arenas_init(struct sl_mm *mm);
/* sl_anchor_slice: make sure this core's slice base has an anchor again (a mapping over the base dropped it). */
void sl_anchor_slice(struct sl_mm *mm, struct mmu_cpu *cpu);

/* ---- VMAs under range locks (vma.c) ---- */

struct vr_attr sl_attr(const struct sl_node *v);
/* sl_vma_new: a VMA node with attributes a, born range-locked by this call (not linked yet). */
struct sl_node *sl_vma_new(struct sl_lockset *s, const struct vr_attr *a, struct vm_file *f);
/* sl_split: cut v at addr; returns the new VMA holding [addr, end). */
struct sl_node *sl_split(struct sl_lockset *s, struct sl_node *v, uint64_t addr);
/* sl_place_new: make the free [a.start, a.end) a mapping, merging with its neighbours as Linux does. */
struct sl_node *sl_place_new(struct sl_lockset *s, struct vr_attr a, struct vm_file *f);
/* sl_unmap: unmap [start, end): split, remove, zap, free tables, flush. */
void sl_unmap(struct sl_lockset *s, uint64_t start, uint64_t end);
/* sl_modify: give [a, b) inside v the flags nf, splitting and merging; returns the VMA holding [a, b). */
struct sl_node *sl_modify(struct sl_lockset *s, struct sl_node *v, uint64_t a, uint64_t b, uint32_t nf);
/*
 * sl_replace: swap a held VMA for a replacement with attributes a (start
 * at or below v's, the range gained free and locked): a new node of v's
 * height, born range- and write-locked by this call, linked before v; then
 * v is unlinked and retired through RCU at sl_unlock. A lock-free reader
 * sees v or the new node, each whole. Returns the new node (also v->repl).
 */
struct sl_node *sl_replace(struct sl_lockset *s, struct sl_node *v, const struct vr_attr *a);
/* sl_cur: the live node that holds what v held (v, or what replaced it in this call). */
struct sl_node *sl_cur(struct sl_node *v);
/* sl_set_start / sl_set_end: move a held VMA's boundary by a replacement (sl_replace); return the new node. */
struct sl_node *sl_set_start(struct sl_lockset *s, struct sl_node *v, uint64_t start, uint64_t pgoff);
struct sl_node *sl_set_end(struct sl_lockset *s, struct sl_node *v, uint64_t end);
/* sl_anon_prepare: give v an anon_vma, sharing a compatible neighbour's (v and its neighbours held). */
void sl_anon_prepare(struct sl_lockset *s, struct sl_node *v);

/* ---- per-core locks: local and global modes (mode.c) ---- */

/*
 * Areas: arena k of core k is [SL_SLICE_BASE + k * 64 GiB, + 64 GiB); the
 * rest of the space is one more area, the common one (index narena).
 */
uint32_t sl_area(const struct sl_mm *mm, uint64_t addr);
/* sl_one_area: whether [lo, hi) lies inside one area (a call there runs in local mode). */
bool sl_one_area(const struct sl_mm *mm, uint64_t lo, uint64_t hi);
void sl_modes_init(struct sl_mm *mm);
void sl_modes_free(struct sl_mm *mm);
/* sl_mode_enter: local mode (read this core's shard), or global (write every shard); returns global. */
bool sl_mode_enter(struct sl_mm *mm, struct mmu_cpu *cpu, bool global);
/* sl_mode_exit: leave the mode sl_mode_enter returned. */
void sl_mode_exit(struct sl_mm *mm, struct mmu_cpu *cpu, bool global);
/* sl_global_enter / sl_global_exit: every shard for writing, in core order (fork, exit, faults' last fallback). */
void sl_global_enter(struct sl_mm *mm, struct mmu_cpu *cpu);
void sl_global_exit(struct sl_mm *mm, struct mmu_cpu *cpu);

/* ---- calls (calls.c) and faults (fault.c), for the design's table (design.c) ---- */
VM_OP(mmap) sl_mmap;
VM_OP(munmap) sl_munmap;
VM_OP(mprotect) sl_mprotect;
VM_OP(madvise) sl_madvise;
VM_OP(mremap) sl_mremap;
VM_OP(brk) sl_brk;
VM_OP(fork) sl_fork;
VM_OP(query) sl_query;
VM_OP(mlock) sl_mlock;
VM_OP(unmap_file) sl_unmap_file;
VM_OP(fault) sl_fault;

#endif
