#!/bin/sh
# t42_calibrate.sh: mmsim calibrate in quick mode: the measurements' shape and sanity (not their values: those are
# benchmarks), the written file parses, carries a source for every value and runs, noise is refused, output is whole.
# usage: t42_calibrate.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"

# A quick, forced calibration (CI hosts are noisy: --force, the refusal is checked below).
"$M" calibrate --quick --force -o "$tmp/c.machine" >"$tmp/out" 2>"$tmp/err" || fail "calibrate --quick --force exited $?: $(tail -3 "$tmp/err")"
[ -s "$tmp/c.machine" ] || fail "no machine file written"
"$M" machine check "$tmp/c.machine" >/dev/null 2>&1 || fail "the written file does not load: $("$M" machine check "$tmp/c.machine" 2>&1)"

# Every assignment names its source; every key of a preset is there exactly once.
awk '!/^#/ && /=/ && !/#/ { print "no source: " $0 }' "$tmp/c.machine" | head -3 >"$tmp/nosrc"
[ -s "$tmp/nosrc" ] && fail "$(cat "$tmp/nosrc")"
"$M" machine show zen4 | sed -n 's/^\([a-z][a-z0-9_.]*\) *=.*/\1/p' | sort >"$tmp/keys.preset"
sed -n 's/^\([a-z][a-z0-9_.]*\) *=.*/\1/p' "$tmp/c.machine" | sort >"$tmp/keys.file"
cmp -s "$tmp/keys.preset" "$tmp/keys.file" || fail "keys differ from a preset's: $(diff "$tmp/keys.preset" "$tmp/keys.file" | head -5)"
grep -q '^freq_ghz = [0-9.]* *# measured: ' "$tmp/c.machine" || fail "freq_ghz is not measured"
grep -q '^kern.syscall = [0-9.]* ns *# measured: getppid' "$tmp/c.machine" || fail "kern.syscall is not measured"
grep -q '^kern.zero_page = [0-9.]* ns *# measured: ' "$tmp/c.machine" || fail "kern.zero_page is not measured"
grep -q '^kern.trap = .*# \(fit\|kept from preset\)' "$tmp/c.machine" || fail "kern.trap has no fit or preset source"
grep -q '^npt = \(yes\|no\) *# CPUID hypervisor bit' "$tmp/c.machine" || fail "npt does not say why"
grep -q 'median of [0-9]*, 95% CI' "$tmp/c.machine" || fail "no median and interval in the sources"

# Sanity of the measured values (broad: any x86-64 host, loaded or not).
ghz=$(sed -n 's/^freq_ghz = \([0-9.]*\).*/\1/p' "$tmp/c.machine")
awk -v g="$ghz" 'BEGIN { exit !(g > 0.3 && g < 8) }' || fail "clock $ghz GHz"
sc=$(sed -n 's/^kern.syscall = \([0-9.]*\) ns.*/\1/p' "$tmp/c.machine")
awk -v s="$sc" 'BEGIN { exit !(s > 5 && s < 200000) }' || fail "syscall $sc ns"

# The validation table: five operations, real and simulated positive, a ratio each.
for op in mmap mmap-pf pf munmap-virt munmap; do
	row=$(grep -m1 "^$op " "$tmp/out")
	[ -n "$row" ] || { fail "validation table lacks $op"; continue; }
	echo "$row" | awk '{ if (!($2 > 0 && $(NF-1) > 0 && $NF > 0)) exit 1 }' || fail "validation row: $row"
done
grep -q "^Validation (not fitted)" "$tmp/out" || fail "no validation heading"
# The reach curve: the four quick points, and the derived costs.
for n in 32 128 2048 8192; do
	grep -q "^ *$n  " "$tmp/out" || fail "reach curve lacks $n pages"
done
grep -q "STLB hit (128 against 32 pages): real" "$tmp/out" || fail "no STLB-hit comparison"
# whether the host's mmap requests merged with a neighbour (the simulated program then maps one there first)
grep -q "^mmap's requests on the host merge" "$tmp/out" || fail "no line on whether the host's mmap merges"
grep -q "walk (8192 against 2048 pages): real" "$tmp/out" || fail "no walk comparison"

# The validation on a recording: perf records calibrate's own program and the replay compares each call; where the
# host cannot record (no perf, no permission: CI installs no perf), one line says why.
grep -q "^Validation on a recording (not fitted)" "$tmp/out" || fail "no recording validation heading"
if grep -q "^  skipped: " "$tmp/out"; then
	echo "note: $(grep -m1 '^  skipped: ' "$tmp/out")"
else
	sed -n '/^Validation on a recording/,$p' "$tmp/out" >"$tmp/rec"
	for call in mmap munmap mprotect; do
		row=$(grep -m1 "^$call " "$tmp/rec")
		[ -n "$row" ] || { fail "recording validation lacks $call: $(tail -4 "$tmp/rec" | tr '\n' ' ')"; continue; }
		# calls at least the program's rounds (200 in quick mode), recorded and simulated latency and ratio positive
		echo "$row" | awk '{ if (!($2 >= 200 && $3 > 0 && $4 > 0 && $5 > 0)) exit 1 }' || fail "recording validation row: $row"
	done
fi
"$M" calibrate --recorded-program 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--recorded-program 0 is not a usage error"

# The file runs.
"$M" run --machine "$tmp/c.machine" --workload pf --ops 16 >/dev/null 2>&1 || fail "mmsim run --machine FILE fails"

# Too noisy: an impossible tolerance refuses, writes nothing, and names the measurement.
"$M" calibrate --quick --tolerance 0.0001 -o "$tmp/n.machine" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] || fail "a noisy calibration did not exit 1"
grep -q "too noisy to write a machine file: clock" "$tmp/err" || fail "refusal does not say why: $(tail -2 "$tmp/err")"
[ -e "$tmp/n.machine" ] && fail "a refused calibration wrote a file"

# Usage errors; an output that cannot be written fails at once (before measuring) and leaves nothing behind.
"$M" calibrate >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "\-o FILE is required" "$tmp/err" || fail "calibrate without -o"
"$M" calibrate -o x --tolerance abc >/dev/null 2>&1
[ $? -eq 2 ] || fail "--tolerance abc accepted"
"$M" calibrate --quick --force -o "$tmp/nodir/c.machine" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] || fail "an unwritable output did not exit 1"
[ -e "$tmp/nodir" ] && fail "an unwritable output left something"

finish t42_calibrate
