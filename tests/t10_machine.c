/* t10_machine.c: machine descriptions: every preset loads; bad files fail with FILE:LINE and a reason. */
#include "tests/harness.h"

#include <string.h>

START_TEST(presets_load)
{
	int n = 0;
	for (const char *const *p = machine_preset_names(); *p; p++, n++) {
		struct machine m;
		char err[512];
		ck_assert_msg(machine_load(&m, *p, err, sizeof(err)) == 0, "%s: %s", *p, err);
		ck_assert_str_eq(m.name, *p);
		ck_assert_uint_gt(machine_max_cores(&m), 0);
		ck_assert_uint_gt(m.l2.entries, 0);
	}
	ck_assert_int_ge(n, 4);
	struct machine m;
	char err[256];
	ck_assert_int_eq(machine_load(&m, MACHINE_DEFAULT, err, sizeof(err)), 0);
	ck_assert_uint_ge(machine_max_cores(&m), 384);
}
END_TEST

START_TEST(units_convert)
{
	struct machine m;
	test_machine(&m);
	ck_assert_uint_eq(m.coh_xfer_ccx, 20);
	char err[256];
	/* 2 GHz: 10 ns = 20 cycles, 1.5 us = 3000 cycles. */
	const char *t = "base = skylake\nfreq_ghz = 2\ncoh.hit = 10 ns\nkern.wakeup = 1.5us\n";
	ck_assert_msg(machine_load_text(&m, t, "t.machine", err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(m.coh_hit, 20);
	ck_assert_uint_eq(m.wakeup, 3000);
	ck_assert_str_eq(m.name, "skylake"); /* inherited */
}
END_TEST

/* Each bad input must fail, naming the origin and line, and saying why. */
static void expect_error(const char *text, const char *want)
{
	struct machine m;
	char err[512] = "";
	int r = machine_load_text(&m, text, "bad.machine", err, sizeof(err));
	ck_assert_msg(r == -1, "accepted: %s", text);
	ck_assert_msg(strstr(err, want), "error '%s' lacks '%s'", err, want);
	ck_assert_msg(strncmp(err, "bad.machine", 11) == 0, "error '%s' lacks the file name", err);
}

START_TEST(bad_files)
{
	expect_error("base = skylake\nbogus.key = 3\n", "bad.machine:2: unknown key 'bogus.key'");
	expect_error("base = skylake\ncoh.hit = 4\n", "bad.machine:2: coh.hit: '4' needs a unit");
	expect_error("base = skylake\ncoh.hit = 4 parsecs\n", "unknown unit 'parsecs'");
	expect_error("base = skylake\ncoh.hit = 1 cyc\ncoh.hit = 2 cyc\n", "bad.machine:3: duplicate key 'coh.hit'");
	expect_error("base = skylake\ntopo.sockets = 0\n", "bad.machine:2: topo.sockets: 0 is out of range");
	expect_error("base = skylake\ntopo.sockets = 2.5\n", "expected an integer");
	expect_error("base = skylake\nfreq_ghz = fast\n", "'fast' is not a number");
	expect_error("base = skylake\ntlb.l2.ways = 7\n", "power-of-two number of sets");
	expect_error("base = skylake\ntlb.pcid = maybe\n", "expected yes or no");
	expect_error("base = skylake\nname = unquoted\n", "expected a quoted string");
	expect_error("base = skylake\njust some words\n", "bad.machine:2: expected 'key = value'");
	expect_error("base = skylake\n = 3\n", "missing key");
	expect_error("base = skylake\ncoh.hit =\n", "missing value");
	expect_error("name = \"x\"\n", "missing key 'description'");
	expect_error("coh.hit = 1 cyc\nbase = skylake\n", "bad.machine:2: 'base' must come before");
	expect_error("base = nosuchpreset\n", "bad.machine:1: unknown base preset 'nosuchpreset'");
	expect_error("base = skylake\ncoh.hit = \x01 cyc\n", "bad.machine:2: control character");
}
END_TEST

START_TEST(missing_file)
{
	struct machine m;
	char err[512];
	ck_assert_int_eq(machine_load(&m, "/nonexistent/x.machine", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/x.machine: cannot open"), "%s", err);
	ck_assert_int_eq(machine_load(&m, "nosuch", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no preset of that name"), "%s", err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("t10_machine");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, presets_load);
	tcase_add_test(tc, units_convert);
	tcase_add_test(tc, bad_files);
	tcase_add_test(tc, missing_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
