#!/bin/sh
# t47_outputs.sh: nothing lost: outputs are whole or absent, failures exit non-zero, resume recomputes what changed.
# usage: t47_outputs.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"

# A run's output: a failed write (a full disk) exits 1 with the reason, and leaves no file behind.
"$M" run --ops 8 -o /dev/full >"$tmp/o" 2>&1; [ $? -eq 1 ] && grep -q "No space left" "$tmp/o" || fail "run -o /dev/full: $(cat "$tmp/o")"
"$M" run --ops 8 >/dev/full 2>"$tmp/o"; [ $? -eq 1 ] && grep -q "standard output" "$tmp/o" || fail "run >/dev/full: $(cat "$tmp/o")"
"$M" run --ops 8 -o "$tmp/nodir/x" >"$tmp/o" 2>&1; [ $? -eq 1 ] || fail "run into a missing folder: $(cat "$tmp/o")"
"$M" run --ops 8 --csv -o "$tmp/a.csv" || fail "run --csv -o"
ls -a "$tmp" | grep -q '^\.a\.csv\.' && fail "run left a temporary file"

# Merge: onto one of its inputs is refused; a merge that fails half-way leaves the old output as it was.
cp "$tmp/a.csv" "$tmp/b.csv"
"$M" merge "$tmp/a.csv" "$tmp/b.csv" -o "$tmp/a.csv" >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "also an input" "$tmp/o" ||
	fail "merge onto an input: $(cat "$tmp/o")"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || fail "merge onto an input changed it"
ln -s "$tmp/a.csv" "$tmp/link.csv"
"$M" merge "$tmp/link.csv" "$tmp/b.csv" -o "$tmp/a.csv" >"$tmp/o" 2>&1; [ $? -eq 2 ] || fail "merge onto an input by another name: $(cat "$tmp/o")"
echo "old contents" >"$tmp/m.csv"
printf 'other,columns\n1,2\n' >"$tmp/c.csv"
"$M" merge "$tmp/a.csv" "$tmp/c.csv" -o "$tmp/m.csv" >"$tmp/o" 2>&1; [ $? -eq 1 ] || fail "merge of unlike files: $(cat "$tmp/o")"
[ "$(cat "$tmp/m.csv")" = "old contents" ] || fail "a failed merge changed the old output"
"$M" merge "$tmp/a.csv" "$tmp/b.csv" -o /dev/full >"$tmp/o" 2>&1; [ $? -eq 1 ] || fail "merge -o /dev/full: $(cat "$tmp/o")"
"$M" merge "$tmp/a.csv" "$tmp/b.csv" -o "$tmp/m.csv" && [ "$(wc -l <"$tmp/m.csv")" -eq 3 ] || fail "merge of two rows"

# Sweep: a full disk exits 1; resume recomputes after any change that changes results, and only then.
S="--designs linux,cortenmm-adv --workloads pf --cores 1,2 --ops 16"
# shellcheck disable=SC2086
"$M" sweep $S -o /dev/full >"$tmp/o" 2>&1; [ $? -eq 1 ] && grep -q "write error" "$tmp/o" || fail "sweep -o /dev/full: $(cat "$tmp/o")"
# shellcheck disable=SC2086
"$M" sweep $S -j 1 -o "$tmp/s.csv" 2>"$tmp/err" || fail "sweep: $(cat "$tmp/err")"
"$M" machine show epyc9965 >"$tmp/m1.machine"
sed 's/^kern\.syscall = .*/kern.syscall = 999 ns/' "$tmp/m1.machine" >"$tmp/m2.machine"
cmp -s "$tmp/m1.machine" "$tmp/m2.machine" && fail "could not edit the machine file"
check_resume() { # WANT_RUN ARGS...: resume with ARGS and expect WANT_RUN points run
	want=$1
	shift
	# shellcheck disable=SC2086
	"$M" sweep $S "$@" -o "$tmp/s.csv" 2>"$tmp/err" || fail "sweep $*: $(cat "$tmp/err")"
	grep -q "^mmsim sweep: $want points run" "$tmp/err" || fail "resume with '$*': wanted $want points run: $(cat "$tmp/err")"
}
check_resume 0
check_resume 4 --lookahead 100
check_resume 4 --seed 7
check_resume 4 --frames 1048576
check_resume 2 --lazy-flush
check_resume 0 --machine "$tmp/m1.machine" # the preset's own numbers, from a file: the same results
check_resume 4 --machine "$tmp/m2.machine" # one edited number
check_resume 0 --lookahead 100

# -j: the same rows in the same order as one at a time (host measurements aside).
# shellcheck disable=SC2086
"$M" sweep $S --workloads pf,mmap -j 1 -o "$tmp/j1.csv" 2>/dev/null && "$M" sweep $S --workloads pf,mmap -j 3 -o "$tmp/j3.csv" 2>/dev/null ||
	fail "sweep -j"
strip() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i !~ /^host_/) keep[i] = 1 } { s = ""; for (i = 1; i <= NF; i++) if (keep[i]) s = s $i ","; print s }' "$1"; }
[ "$(strip "$tmp/j1.csv")" = "$(strip "$tmp/j3.csv")" ] || fail "sweep -j 3 differs from -j 1"

# --emit-jobs makes its folder; the jobs' merged rows resume a sweep.
# shellcheck disable=SC2086
"$M" sweep $S --emit-jobs "$tmp/jobs/deep" >"$tmp/jobs.txt" || fail "emit-jobs"
[ -d "$tmp/jobs/deep" ] || fail "emit-jobs did not make its folder"
sh "$tmp/jobs.txt" || fail "running the jobs"
"$M" merge "$tmp"/jobs/deep/point-*.csv -o "$tmp/merged.csv" || fail "merging the jobs"
# shellcheck disable=SC2086
"$M" sweep $S -o "$tmp/merged.csv" 2>"$tmp/err" && grep -q "0 points run" "$tmp/err" || fail "jobs' rows did not resume: $(cat "$tmp/err")"

finish t47_outputs
