/* t52_gt.c: the ground-truth format's extensions (the live recorder's header, calls and kinds): parsing, clear errors, and the reference model replaying small recordings, "may be resident" included. */
#include "tests/harness.h"
#include "conform/gt.h"
#include "conform/ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write text to a fresh temporary .txt file; its path into path. */
static void temp_file(char *path, size_t n, const char *text)
{
	snprintf(path, n, "%s/t52-XXXXXX.txt", getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	int fd = mkstemps(path, 4);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Load text; on success return 0 with g filled, else -1 with the message in err. */
static int load(struct gt *g, const char *text, char *err, size_t n)
{
	char path[256];
	temp_file(path, sizeof(path), text);
	int rc = gt_load(g, path, err, n);
	unlink(path);
	return rc;
}

#define GUARDS                                                                                  \
	"  vma -16-0 ---p anon\n"                                                               \
	"  vma 48-64 ---p anon\n"
#define RES_EMPTY "  resident 0000000000000000................................................0000000000000000\n"

static const char *const every_call =
	"# a header first\n"
	"kernel 6.18.44-test\n"
	"setting thp_enabled madvise\n"
	"setting memlock_limit unlimited\n"
	"sequence 3\n"
	"mmap 0x0 0x2000 rw- anon-shared fixed off=0x0 flags=populate,locked\n  -> 0\n"
	"  vma -16-0 ---p anon\n  vma 0-2 rw-s shmem+0x0\n  vma 48-64 ---p anon\n"
	"  resident 000000000000000011..............................................0000000000000000\n"
	"mprotect 0x0 0x1000 r--+growsdown\n  -> EINVAL\n" GUARDS RES_EMPTY
	"madvise 0x0 0x1000 guard-install\n  -> 0\n" GUARDS RES_EMPTY
	"madvise 0x0 0x1000 26\n  -> EINVAL\n" GUARDS RES_EMPTY
	"mremap 0x0 0x1000 0x1000 maymove-fixed-dontunmap 0x5000\n  -> 0x5000\n" GUARDS RES_EMPTY
	"mremap 0x0 0x1000 0x2000 maymove\n  -> moved\n" GUARDS RES_EMPTY
	"fork child\n  -> 0\n" GUARDS RES_EMPTY
	"mlock 0x0 0x1000 onfault\n  -> 0\n" GUARDS RES_EMPTY
	"munlock 0x0 0x1000\n  -> 0\n" GUARDS RES_EMPTY
	"mlockall current-future\n  -> 0\n" GUARDS RES_EMPTY
	"munlockall\n  -> 0\n" GUARDS RES_EMPTY
	"msync 0x0 0x1000 sync-invalidate\n  -> 0\n" GUARDS RES_EMPTY
	"mincore 0x0 0x1000\n  -> ENOMEM\n" GUARDS RES_EMPTY
	"ftruncate 0x3123\n  -> 0\n" GUARDS RES_EMPTY
	"fallocate 0x0 0x1000 keep-punch\n  -> 0\n" GUARDS RES_EMPTY;

START_TEST(parses_every_call)
{
	struct gt g;
	char err[512];
	ck_assert_msg(load(&g, every_call, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(g.kernel, "6.18.44-test");
	ck_assert_str_eq(gt_setting(&g, "thp_enabled"), "madvise");
	ck_assert_str_eq(gt_setting(&g, "memlock_limit"), "unlimited");
	ck_assert_ptr_null(gt_setting(&g, "ksm_run"));
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.calls, 15);
	const struct gt_step *s = g.seqs[0].steps;
	ck_assert_int_eq(s[0].call, GT_MMAP);
	ck_assert_int_eq(s[0].flags, VM_MAP_SHARED | VM_MAP_ANONYMOUS | VM_MAP_FIXED | VM_MAP_POPULATE | VM_MAP_LOCKED);
	ck_assert(!s[0].file);
	ck_assert(s[0].vmas[1].shmem && s[0].vmas[1].file && s[0].vmas[1].shared);
	ck_assert(!s[0].vmas[0].shmem);
	ck_assert_int_eq(s[1].prot, VM_PROT_READ | 0x01000000);
	ck_assert_int_eq(s[2].advice, 102);
	ck_assert_int_eq(s[3].advice, 26);
	ck_assert_int_eq(s[4].flags, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP);
	ck_assert_int_eq(s[4].to, 0x5000);
	ck_assert_int_eq(s[5].flags, VM_MREMAP_MAYMOVE);
	ck_assert_str_eq(s[5].expect, "moved");
	ck_assert_int_eq(s[6].call, GT_FORK);
	ck_assert_int_eq(s[6].flags, 1);
	ck_assert_int_eq(s[7].call, GT_MLOCK);
	ck_assert_int_eq(s[7].flags, 1);
	ck_assert_int_eq(s[8].call, GT_MUNLOCK);
	ck_assert_int_eq(s[9].call, GT_MLOCKALL);
	ck_assert_int_eq(s[9].flags, 3);
	ck_assert_int_eq(s[10].call, GT_MUNLOCKALL);
	ck_assert_int_eq(s[11].call, GT_MSYNC);
	ck_assert_int_eq(s[11].flags, 6);
	ck_assert_int_eq(s[12].call, GT_MINCORE);
	ck_assert_int_eq(s[13].call, GT_FTRUNCATE);
	ck_assert_uint_eq(s[13].foff, 0x3123);
	ck_assert_int_eq(s[14].call, GT_FALLOCATE);
	ck_assert_int_eq(s[14].flags, 3);
	ck_assert_str_eq(s[14].text, "fallocate 0x0 0x1000 keep-punch");
	gt_free(&g);
}
END_TEST

/* Each malformed input is refused with FILE:LINE and the reason. */
START_TEST(clear_errors)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "kernel a\nkernel b\nsequence 0\n", ":2: kernel: expected one" },
		{ "setting thp\nsequence 0\n", ":1: setting: expected 'setting KEY VALUE'" },
		{ "setting a 1\nsetting a 2\n", ":2: setting: 'a' given twice" },
		{ "sequence 0\nmadvise 0x0 0x1000 sometimes\n", ":2: madvise: bad argument 'sometimes'" },
		{ "sequence 0\nmremap 0x0 0x1000 0x1000 maymove-dontunmap\n", ":2: mremap: a target TO goes with" },
		{ "sequence 0\nmremap 0x0 0x1000 0x1000 maymove 0x5000\n", ":2: mremap: a target TO goes with" },
		{ "sequence 0\nmprotect 0x0 0x1000 r--+up\n", ":2: mprotect: bad argument 'r--+up'" },
		{ "sequence 0\nmmap 0x0 0x1000 rw- anon fixed off=0 flags=fast\n", ":2: mmap: bad 'flags=' field" },
		{ "sequence 0\nfork both\n", ":2: fork: expected 'fork child|parent'" },
		{ "sequence 0\nmlockall\n", ":2: mlockall: expected 'mlockall FLAGS'" },
		{ "sequence 0\nftruncate -5\n", ":2: ftruncate: expected 'ftruncate SIZE'" },
		{ "sequence 0\nmunlock 0x0\n", ":2: munlock: wrong number of fields" },
		{ "sequence 0\nmunmap 0x0 0x1000\n  -> 0\n  vma 0-1 rw-p shmem+x\n", ":4: vma: bad kind 'shmem+x'" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct gt g;
		char err[512] = "";
		ck_assert_msg(load(&g, bad[i].text, err, sizeof(err)) == -1, "accepted: %s", bad[i].text);
		ck_assert_msg(strstr(err, bad[i].want) && strstr(err, ".txt:"), "'%s' gave '%s', not '%s'", bad[i].text,
			      err, bad[i].want);
		ck_assert_ptr_null(g.seqs);
	}
}
END_TEST

/* Replay text on the reference model (set up by its header). */
static void replay(const char *text, struct gt_report *rep)
{
	struct gt g;
	char err[512];
	ck_assert_msg(load(&g, text, err, sizeof(err)) == 0, "%s", err);
	struct gt_target *t = gt_ref_target(&g);
	gt_replay(&g, t, rep);
	gt_ref_target_free(t);
	gt_free(&g);
}

/* A resident line for the guards and pages 0 and 1 (mapped) with the characters a and b. */
static const char *res2(char a, char b)
{
	static char line[4][128];
	static int k;
	char *l = line[k++ % 4];
	snprintf(l, 128, "  resident 0000000000000000%c%c%.46s0000000000000000\n", a, b,
		 "..............................................");
	return l;
}

/* One sequence: map pages [0, 2) private anonymous, write page 0, then `advice` over both, after which mincore said r. */
static void advise_then(const char *advice, char r, struct gt_report *rep)
{
	static const char *const vmas = "  vma -16-0 ---p anon\n  vma 0-2 rw-p anon\n  vma 48-64 ---p anon\n";
	char text[2048];
	snprintf(text, sizeof(text),
		 "kernel 6.18.0\nsequence 0\n"
		 "mmap 0x0 0x2000 rw- anon fixed off=0x0\n  -> 0\n%s%s"
		 "touch 0x0 w\n  -> ok\n%s%s"
		 "madvise 0x0 0x2000 %s\n  -> 0\n%s%s",
		 vmas, res2('0', '0'), vmas, res2('1', '0'), advice, vmas, res2(r, '0'));
	replay(text, rep);
	ck_assert_uint_eq(rep->calls, 3);
	ck_assert_uint_eq(rep->result_mismatches, 0);
	ck_assert_uint_eq(rep->layout_mismatches, 0);
}

/* After FREE, COLD or PAGEOUT the page may be resident or not; after DONTNEED it is not, after NORMAL it is. */
START_TEST(may_be_resident)
{
	struct gt_report rep;
	static const char *const either[] = { "free", "cold", "pageout" };
	for (size_t i = 0; i < ARRAY_SIZE(either); i++) {
		advise_then(either[i], '1', &rep);
		ck_assert_msg(rep.resident_mismatches == 0, "%s, still resident: %s", either[i], rep.msgs[0]);
		advise_then(either[i], '0', &rep);
		ck_assert_msg(rep.resident_mismatches == 0, "%s, dropped: %s", either[i], rep.msgs[0]);
	}
	advise_then("dontneed", '0', &rep);
	ck_assert_uint_eq(rep.resident_mismatches, 0);
	advise_then("dontneed", '1', &rep);
	ck_assert_uint_eq(rep.resident_mismatches, 1);
	ck_assert_msg(strstr(rep.msgs[0], "madvise 0x0 0x2000 dontneed: residency"), "%s", rep.msgs[0]);
	advise_then("normal", '0', &rep);
	ck_assert_uint_eq(rep.resident_mismatches, 1);
}
END_TEST

/* The header decides results: KSM's advice is known only where KSM is configured (ksm_run present). */
START_TEST(header_sets_the_kernel)
{
	const char *body = "sequence 0\nmadvise 0x0 0x1000 mergeable\n  -> EINVAL\n"
			   "  vma -16-0 ---p anon\n  vma 48-64 ---p anon\n" RES_EMPTY;
	char text[1024];
	struct gt_report rep;
	snprintf(text, sizeof(text), "kernel 6.18.0\nsetting ksm_run -\n%s", body);
	replay(text, &rep);
	ck_assert_uint_eq(rep.result_mismatches, 0); /* no KSM: EINVAL, as recorded */
	snprintf(text, sizeof(text), "kernel 6.18.0\nsetting ksm_run 0\n%s", body);
	replay(text, &rep);
	ck_assert_uint_eq(rep.result_mismatches, 1); /* with KSM: ENOMEM over the hole, not EINVAL */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("t52_gt");
	TCase *tc = tcase_create("format");
	tcase_add_test(tc, parses_every_call);
	tcase_add_test(tc, clear_errors);
	tcase_add_test(tc, may_be_resident);
	tcase_add_test(tc, header_sets_the_kernel);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
