/* ctx.h: user-level execution contexts (own stack, hand-written x86-64 switch) for running many simulated cores on one host thread. */
#ifndef MMSIM_CTX_H
#define MMSIM_CTX_H

#include <stddef.h>

/* CTX_SANITIZED: built with ASan or TSan, which must be told of every stack switch (ctx.c does). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CTX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CTX_SANITIZED 1
#endif
#endif

/*
 * CTX_STACK: the stack of each context, in bytes, beside one guard page
 * below it (an overflow faults at once instead of writing over the next
 * stack). Measured high-water marks (ctx_stack_used at sim_destroy): 40 KiB
 * over the whole ctest suite and 24 KiB over 384-core runs of every design
 * and workload in the dev build; 40 KiB under ASan+UBSan (the engine, conform,
 * CortenMM, teaching and skiplist tests, and 64-core runs). 1 MiB, the
 * pthread stack size the cores had before, leaves a 25-fold margin for a
 * deeper design path. Only the pages a context touches take memory.
 */
#define CTX_STACK (1u << 20)

/*
 * struct ctx: one context: a saved stack pointer and the stack it runs on.
 * A context made by ctx_init runs fn(arg) on its own stack the first time
 * something switches to it; fn must never return (it switches away for the
 * last time with ctx_exit_to). The context of the thread that switches first
 * (the "main" context) needs no ctx_init: zero-initialised is enough.
 * The sanitizer fields are the fiber states ASan and TSan keep; unused otherwise.
 */
struct ctx {
	void *sp;	   /* saved stack pointer while switched out */
	void *stack;	   /* mmap'ed region: guard page, then CTX_STACK bytes; NULL for the main context */
	void (*fn)(void *);
	void *arg;
	const void *lo;	   /* lowest address of the usable stack (ASan); the main context's is learnt at its first switch */
	size_t size;	   /* usable stack bytes (ASan) */
	void *asan_fake;   /* ASan's fake stack of this context while switched out */
	void *tsan_fiber;  /* TSan's fiber of this context */
};

/* ctx_init: give x a fresh stack (mmap, guard page) that will run fn(arg); panics if memory is short. */
void ctx_init(struct ctx *x, void (*fn)(void *), void *arg);

/* ctx_main: make x the calling thread's own context (the one that switches to the others first). */
void ctx_main(struct ctx *x);

/* ctx_reset: x runs fn(arg) from the top of its stack again the next time something switches to it (x is not running). */
void ctx_reset(struct ctx *x);

/* ctx_free: unmap x's stack and forget its fiber states. x must not be running and must not run again. */
void ctx_free(struct ctx *x);

/*
 * ctx_switch: save the running context in `from` and resume `to`. Returns
 * when something switches back to `from`. Costs a few nanoseconds: the
 * callee-saved registers and the stack pointer, no system call (glibc's
 * swapcontext saves the signal mask with one). The floating-point control
 * words are not saved: the simulator never changes them.
 */
#ifdef CTX_SANITIZED
void ctx_switch(struct ctx *from, struct ctx *to);
#else
/* ctx_swap(&from->sp, to->sp): the switch itself (ctx.c's assembly). */
void ctx_swap(void **save_sp, void *sp);
static inline void ctx_switch(struct ctx *from, struct ctx *to) { ctx_swap(&from->sp, to->sp); }
#endif

/* ctx_exit_to: as ctx_switch, for a context that will never run again (its sanitizer state is released). */
_Noreturn void ctx_exit_to(struct ctx *from, struct ctx *to);

/* ctx_stack_used: bytes of x's stack ever touched (its high-water mark; a measuring aid, O(stack size)). */
size_t ctx_stack_used(const struct ctx *x);

#endif
