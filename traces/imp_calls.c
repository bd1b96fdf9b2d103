/* imp_calls.c: the recorded memory calls as events: mapping calls through the core, the calls beyond mapping (mlock ... fallocate), and SysV shared memory as shared file mappings. */
#include "traces/imp.h"
#include "io/lines.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <string.h>

bool imp_memory_call(uint32_t nr)
{
	switch (nr) {
	case NR_MMAP: case NR_MPROTECT: case NR_MUNMAP: case NR_BRK: case NR_MREMAP: case NR_MADVISE:
	case NR_PKEY_MPROTECT: case NR_MLOCK: case NR_MLOCK2: case NR_MUNLOCK: case NR_MLOCKALL: case NR_MUNLOCKALL:
	case NR_MSYNC: case NR_MINCORE: case NR_FTRUNCATE: case NR_FALLOCATE: case NR_SHMGET: case NR_SHMAT:
	case NR_SHMDT: case NR_CLOSE: return true;
	}
	return false;
}

/* The file id descriptor fd of t's process names (a new file known by the descriptor if none yet). */
static uint32_t fd_file(struct imp *m, struct imp_thread *t, uint32_t fd, const char *fd_name)
{
	uint32_t id;
	if (tu_map_get(&t->p->fds, fd, &id) && id)
		return id;
	char nm[64];
	snprintf(nm, sizeof(nm), "fd %u of pid %u", fd, t->p->rpid);
	id = imp_file_id(m, (struct imp_fkey){ .rpid = t->p->rpid, .fd = fd + 1 }, fd_name ? fd_name : nm, 0);
	tu_map_put(&t->p->fds, fd, id);
	return id;
}

/* ftruncate(fd, len) or fallocate(fd, mode, off, len): a size change of the file the descriptor names. */
static void file_call(struct imp *m, struct imp_thread *t, uint32_t nr, const uint64_t *a, int64_t ret,
		      const char *fd_name)
{
	struct ev e = { .kind = nr == NR_FTRUNCATE ? EV_FTRUNCATE : EV_FALLOCATE, .fl = EVF_CHECK, .ret = ret };
	if (nr == NR_FTRUNCATE) {
		e.len = a[1];
	} else {
		e.flags = (int32_t)a[1];
		e.off = a[2];
		e.len = a[3];
	}
	/* A descriptor the simulated kernel does not have (bad, not a file), or a size beyond what a replay holds. */
	if (ret == -EBADF || ret == -EINVAL || ret == -ESPIPE || ret == -ENODEV || e.len > TR_MAX_FILE_SIZE ||
	    e.off > TR_MAX_FILE_SIZE - e.len) {
		m->st->dropped++;
		return;
	}
	e.file = fd_file(m, t, (uint32_t)a[0], fd_name);
	imp_put(m, t, &e, true);
}

/* The pages of a SysV segment, from shmget; 0 if unknown. */
static uint64_t shm_len(struct imp *m, uint64_t shmid)
{
	uint32_t pages;
	return tu_map_get(&m->shm_pages, (uint32_t)shmid, &pages) ? (uint64_t)pages << PAGE_SHIFT : 0;
}

/*
 * shmat(shmid, addr, flags) = ret: a shared mapping of a file standing for
 * the segment (the kernel's own record names it: /SYSVKEY, or else one
 * file per segment id), at addr when given (SHM_REMAP: MAP_FIXED, else
 * MAP_FIXED_NOREPLACE), read-only with SHM_RDONLY, executable with SHM_EXEC.
 */
static void shmat(struct imp *m, struct imp_thread *t, const uint64_t *a, int64_t ret, const struct imp_map *map)
{
	struct imp_map seg = { 0 };
	if (map) {
		seg = *map;
	} else {
		seg.len = shm_len(m, a[0]);
		seg.ino = (1ull << 63) | a[0]; /* no inode has the top bit: one file per segment id */
		snprintf(seg.name, sizeof(seg.name), "SysV shm id %llu", (unsigned long long)a[0]);
	}
	if (!seg.len && ret >= 0) {
		m->st->dropped++; /* a segment of unknown size (its shmget is not in the recording) */
		return;
	}
	uint64_t prot = (a[2] & IMP_SHM_RDONLY) ? VM_PROT_READ : VM_PROT_READ | VM_PROT_WRITE;
	if (a[2] & IMP_SHM_EXEC)
		prot |= VM_PROT_EXEC;
	uint64_t flags = VM_MAP_SHARED;
	if (a[1])
		flags |= (a[2] & IMP_SHM_REMAP) ? VM_MAP_FIXED : VM_MAP_FIXED_NOREPLACE;
	uint64_t args[6] = { a[1], seg.len, prot, flags, UINT32_MAX, 0 };
	imp_do_mmap(m, t, args, ret, &seg, NULL);
	if (ret < 0)
		return;
	struct imp_proc *p = t->p;
	if (p->nshm == p->cap_shm)
		p->shm = xrealloc(p->shm, sizeof(*p->shm) * (p->cap_shm = p->cap_shm ? p->cap_shm * 2 : 4));
	p->shm[p->nshm++] = (struct imp_shm){ (uint64_t)ret, seg.len };
}

/* shmdt(addr) = ret: the munmap of that attach. */
static void shmdt(struct imp *m, struct imp_thread *t, uint64_t addr, int64_t ret)
{
	struct imp_proc *p = t->p;
	uint32_t i = 0;
	while (i < p->nshm && p->shm[i].addr != addr)
		i++;
	if (i == p->nshm && ret == 0) {
		m->st->dropped++; /* an attach the recording does not show */
		return;
	}
	struct ev e = { .kind = EV_MUNMAP, .fl = EVF_CHECK, .ret = ret };
	uint64_t len = i < p->nshm ? p->shm[i].len : 0; /* no attach here: munmap of nothing, EINVAL as shmdt */
	imp_emit_range(m, t, &e, addr, len);
	if (ret || i == p->nshm)
		return;
	imp_iv_remove(p, addr, addr + vm_page_up(len));
	p->shm[i] = p->shm[--p->nshm];
}

void imp_shm_record(struct imp *m, struct imp_thread *t, uint64_t ns, const struct imp_map *map)
{
	if (t->exited)
		return;
	imp_begin(m, t, ns);
	m->st->syscalls++;
	uint64_t a[6] = { 0, 0, map->prot & VM_PROT_WRITE ? 0 : IMP_SHM_RDONLY };
	shmat(m, t, a, (int64_t)map->start, map);
	imp_call_done(t, ns);
	imp_end(t, ns);
}

void imp_syscall(struct imp *m, struct imp_thread *t, uint32_t nr, const uint64_t *a, int64_t ret, uint64_t t0,
		 uint64_t t1, const struct imp_map *map, const char *fd_name)
{
	if (t->exited)
		return;
	if (nr == NR_SHMGET || nr == NR_CLOSE) {
		/* Bookkeeping only: no event, and the call's time stays in the compute gap around it. */
		if (nr == NR_SHMGET && ret >= 0 && vm_page_up(a[1]) >> PAGE_SHIFT <= UINT32_MAX)
			tu_map_put(&m->shm_pages, (uint32_t)ret, (uint32_t)(vm_page_up(a[1]) >> PAGE_SHIFT));
		if (nr == NR_CLOSE && ret == 0) {
			tu_map_put(&t->p->fds, (uint32_t)a[0], 0);
			imp_file_retire(m, t->p->rpid, (uint32_t)a[0]);
		}
		t->line_enter = 0;
		return;
	}
	imp_begin(m, t, t0);
	if (t->line_enter)
		t->line = t->line_enter;
	m->st->syscalls++;
	struct ev e = { .fl = EVF_CHECK, .ret = ret };
	switch (nr) {
	case NR_MMAP: imp_do_mmap(m, t, a, ret, map, fd_name); break;
	case NR_PKEY_MPROTECT:
		/*
		 * The simulator models no protection keys: a key the kernel refused
		 * (EINVAL: not allocated, or no PKU at all, where only -1 is taken)
		 * left the space as it was, so the call is left out; an accepted one
		 * is replayed as the mprotect it also is.
		 */
		if ((int32_t)a[3] != -1 && ret == -EINVAL) {
			m->st->dropped++;
			break;
		}
		/* fall through */
	case NR_MPROTECT:
		e.kind = EV_MPROTECT;
		e.prot = (int32_t)a[2];
		imp_emit_range(m, t, &e, a[0], a[1]);
		break;
	case NR_MUNMAP:
		e.kind = EV_MUNMAP;
		imp_emit_range(m, t, &e, a[0], a[1]);
		if (ret == 0 && a[1] && a[0] + vm_page_up(a[1]) > a[0])
			imp_iv_remove(t->p, a[0], a[0] + vm_page_up(a[1]));
		break;
	case NR_MADVISE:
		e.kind = EV_MADVISE;
		e.advice = (int32_t)a[2];
		imp_emit_range(m, t, &e, a[0], a[1]);
		break;
	case NR_MREMAP: imp_do_mremap(m, t, a, ret); break;
	case NR_BRK: imp_do_brk(m, t, a, ret, map); break;
	case NR_MLOCK:
	case NR_MLOCK2:
	case NR_MUNLOCK:
	case NR_MSYNC:
	case NR_MINCORE:
		e.kind = nr == NR_MUNLOCK ? EV_MUNLOCK : nr == NR_MSYNC ? EV_MSYNC : nr == NR_MINCORE ? EV_MINCORE : EV_MLOCK;
		if (nr == NR_MLOCK2 || nr == NR_MSYNC)
			e.flags = (int32_t)a[2];
		imp_emit_range(m, t, &e, a[0], a[1]);
		break;
	case NR_MLOCKALL:
	case NR_MUNLOCKALL:
		e.kind = nr == NR_MLOCKALL ? EV_MLOCKALL : EV_MUNLOCKALL;
		e.flags = nr == NR_MLOCKALL ? (int32_t)a[0] : 0;
		imp_put(m, t, &e, true);
		break;
	case NR_FTRUNCATE:
	case NR_FALLOCATE: file_call(m, t, nr, a, ret, fd_name); break;
	case NR_SHMAT: shmat(m, t, a, ret, map && map->name[0] ? map : NULL); break;
	case NR_SHMDT: shmdt(m, t, a[0], ret); break;
	}
	t->line_enter = 0;
	imp_call_done(t, t1);
	imp_end(t, t1);
}
