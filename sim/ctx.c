/* ctx.c: user-level contexts: mmap'ed stacks with a guard page, an x86-64 stack switch in assembly, ASan and TSan fiber annotations. */
#include "sim/ctx.h"
#include "sim/util.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "sim/ctx.c: the context switch is written for x86-64"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CTX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CTX_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CTX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CTX_TSAN 1
#endif
#endif

#ifdef CTX_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
void __asan_unpoison_memory_region(const volatile void *addr, size_t size);
#endif
#ifdef CTX_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

/*
 * ctx_swap(&from->sp, to->sp): push the callee-saved registers (System V:
 * rbp, rbx, r12-r15) on the running stack, store the stack pointer, load
 * the other one, pop its registers and return into it.
 * ctx_boot: where a fresh context's first ctx_swap returns to: r12 holds the
 * struct ctx, r13 the C entry; the stack is 16-byte aligned for the call.
 * It ends the unwinder's walk (the return address is undefined).
 */
void ctx_swap(void **save_sp, void *sp);
void ctx_boot(void);
__asm__(".text\n"
	".p2align 4\n"
	".globl ctx_swap\n"
	".hidden ctx_swap\n"
	".type ctx_swap, @function\n"
	"ctx_swap:\n"
	"	.cfi_startproc\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size ctx_swap, .-ctx_swap\n"
	".p2align 4\n"
	".globl ctx_boot\n"
	".hidden ctx_boot\n"
	".type ctx_boot, @function\n"
	"ctx_boot:\n"
	"	.cfi_startproc\n"
	"	.cfi_undefined rip\n"
	"	movq %r12, %rdi\n"
	"	call *%r13\n"
	"	ud2\n"
	"	.cfi_endproc\n"
	".size ctx_boot, .-ctx_boot\n");

#ifdef CTX_ASAN
/* The context that switched to the running one: ASan tells its stack bounds at the end of a switch. */
static _Thread_local struct ctx *came_from;
#endif

/* After a switch, in the context that now runs: let ASan finish the switch and learn the old stack's bounds. */
static inline void arrived(struct ctx *self)
{
#ifdef CTX_ASAN
	const void *lo;
	size_t size;
	__sanitizer_finish_switch_fiber(self->asan_fake, &lo, &size);
	if (came_from && !came_from->stack) { /* the main context: its bounds are known only now */
		came_from->lo = lo;
		came_from->size = size;
	}
#else
	(void)self;
#endif
}

/* The first code a context runs, on its own stack. */
static _Noreturn void ctx_start(struct ctx *x)
{
	arrived(x);
	x->fn(x->arg);
	panic("ctx: a context's function returned");
}

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/*
 * CTX_WARM: the top of a stack made present at ctx_init with one system call,
 * instead of a page fault for each page the context's first run touches (on a
 * virtual machine a fault costs microseconds). Every core pays it in memory:
 * 32 KiB took 12 MiB of peak RSS at 384 cores. Depths measured (dev build,
 * ctx_stack_used at sim_destroy with 4 KiB warm, 64 cores, workloads pf,
 * mmap and munmap): 8 KiB for linux, linux-mmap-lock, listlock and skiplist,
 * 16 KiB for cortenmm's mmap, 32 KiB for its fault and unmap paths, which
 * fault their four deeper pages in once a core. Older kernels refuse the
 * call: harmless.
 */
#define CTX_WARM (16u << 10)

void ctx_reset(struct ctx *x)
{
	uintptr_t top = ((uintptr_t)x->stack + page_size() + CTX_STACK) & ~(uintptr_t)15;
	/* From the saved sp up: r15 r14 r13 r12 rbx rbp, the return into ctx_boot, then a null return address. */
	void **sp = (void **)(top - 72);
	sp[0] = sp[1] = 0;			/* r15, r14 */
	sp[2] = (void *)(uintptr_t)ctx_start;	/* r13: the C entry */
	sp[3] = x;				/* r12: its argument */
	sp[4] = sp[5] = 0;			/* rbx, rbp */
	sp[6] = (void *)(uintptr_t)ctx_boot;
	sp[7] = sp[8] = 0;
	x->sp = sp;
	x->asan_fake = NULL;
}

void ctx_init(struct ctx *x, void (*fn)(void *), void *arg)
{
	size_t pg = page_size();
	*x = (struct ctx){ .fn = fn, .arg = arg };
	void *m = mmap(NULL, pg + CTX_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		panic("ctx: cannot map a %u-byte stack", CTX_STACK);
	if (mprotect(m, pg, PROT_NONE))
		panic("ctx: cannot make the stack's guard page");
	x->stack = m;
	x->lo = (char *)m + pg;
	x->size = CTX_STACK;
	(void)madvise((char *)m + pg + CTX_STACK - CTX_WARM, CTX_WARM, MADV_POPULATE_WRITE);
#ifdef CTX_TSAN
	x->tsan_fiber = __tsan_create_fiber(0);
#endif
	ctx_reset(x);
}

void ctx_main(struct ctx *x)
{
	*x = (struct ctx){ 0 };
#ifdef CTX_TSAN
	x->tsan_fiber = __tsan_get_current_fiber();
#endif
}

void ctx_free(struct ctx *x)
{
	if (!x->stack)
		return;
#ifdef CTX_ASAN
	__asan_unpoison_memory_region(x->lo, x->size); /* the next mapping at this address starts clean */
#endif
#ifdef CTX_TSAN
	__tsan_destroy_fiber(x->tsan_fiber);
#endif
	munmap(x->stack, page_size() + CTX_STACK);
	*x = (struct ctx){ 0 };
}

/* Tell the sanitizers which stack runs next; `save` is where ASan keeps the leaving context's fake stack (NULL: it never returns). */
static inline void leaving(struct ctx *from, struct ctx *to, void **save)
{
#ifdef CTX_ASAN
	came_from = from;
	__sanitizer_start_switch_fiber(save, to->lo, to->size);
#else
	(void)from;
	(void)save;
#endif
#ifdef CTX_TSAN
	__tsan_switch_to_fiber(to->tsan_fiber, 0); /* flags 0: the switch orders memory, as the token handoff did */
#else
	(void)to;
#endif
}

#ifdef CTX_SANITIZED
void ctx_switch(struct ctx *from, struct ctx *to)
{
	leaving(from, to, &from->asan_fake);
	ctx_swap(&from->sp, to->sp);
	arrived(from);
}
#endif

void ctx_exit_to(struct ctx *from, struct ctx *to)
{
	leaving(from, to, NULL);
	ctx_swap(&from->sp, to->sp);
	panic("ctx: a finished context was resumed");
}

size_t ctx_stack_used(const struct ctx *x)
{
	if (!x->stack)
		return 0;
	size_t pg = page_size(), n = CTX_STACK / pg;
	unsigned char v[CTX_STACK / 4096];
	if (n > sizeof(v) || mincore((char *)x->stack + pg, CTX_STACK, v))
		return 0;
	size_t i = 0;
	while (i < n && !(v[i] & 1))
		i++;
	return (n - i) * pg;
}
