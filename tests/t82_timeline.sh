#!/bin/sh
# t82_timeline.sh: `mmsim timeline` draws where core time goes, and the drawing tells linux (waiting for mmap_lock) from cortenmm-adv (not waiting).
# usage: t82_timeline.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"

# share DIR: lock-wait time (spin + sleep) over mm-call time, from the data files.
share() {
	awk 'FNR == 1 { k = FILENAME; sub(/.*tl-/, "", k); sub(/\.dat$/, "", k) }
	     /^#/ || $1 < 0 { next }
	     { d = $3 - $2; if (k == 0) call += d; if (k == 5 || k == 6) wait += d }
	     END { printf "%.3f\n", call ? wait / call : 0 }' "$1"/data/tl-*.dat
}

for d in linux cortenmm-adv; do
	if ! "$M" timeline -o "$tmp/$d" --design "$d" --workload mmap --cores 8 --ops 16 --no-check >"$tmp/$d.out" 2>"$tmp/$d.err"; then
		fail "timeline $d: $(head -c 300 "$tmp/$d.err")"
		continue
	fi
	for f in timeline.png timeline.svg timeline.gp data/tl-0.dat data/tl-7.dat; do
		[ -s "$tmp/$d/$f" ] || fail "timeline $d: no $f"
	done
	grep -q "<svg" "$tmp/$d/timeline.svg" || fail "timeline $d: not an SVG"
	grep -q "ops_per_sim_sec" "$tmp/$d.out" || fail "timeline $d: the run's results are missing"
	for c in 0 7; do
		awk -v c=$c '$1 == c' "$tmp/$d/data/tl-0.dat" | grep -q . || fail "timeline $d: core $c has no mm call spans"
	done
done
l=$(share "$tmp/linux") a=$(share "$tmp/cortenmm-adv")
echo "lock-wait share of mm-call time: linux $l, cortenmm-adv $a"
awk -v l="$l" -v a="$a" 'BEGIN { exit !(l > 0.5 && a < l / 2) }' || fail "linux should wait for mmap_lock most of its mm-call time and cortenmm-adv far less: $l vs $a"

# A window: nothing outside it.
"$M" timeline -o "$tmp/w" --from 20 --to 30 --design linux --workload mmap --cores 4 --ops 16 --no-check >/dev/null 2>&1 || fail "windowed timeline failed"
awk '!/^#/ && $1 >= 0 && ($2 < 20 || $3 > 30) { bad = 1 } END { exit bad }' "$tmp"/w/data/tl-*.dat || fail "spans outside --from/--to"
# Few spans kept: dropped spans are reported.
"$M" timeline -o "$tmp/m" --max-spans 1000 --design linux --workload mmap --cores 4 --ops 200 --no-check >/dev/null 2>"$tmp/m.err"
grep -q "were dropped" "$tmp/m.err" || fail "no warning about dropped spans: $(cat "$tmp/m.err")"

# A trace: the replay's cores draw page walks (the recording's faults), and the replay's results still print.
D=$(dirname "$0")/data/traces
"$M" timeline -o "$tmp/t" --trace "$D/sqlite-load.perf.txt.xz" --design cortenmm-adv --cores 2 --no-check >"$tmp/t.out" 2>"$tmp/t.err" ||
	fail "timeline --trace: $(head -c 300 "$tmp/t.err")"
grep -q "fault_outcome_mismatches *0" "$tmp/t.out" || fail "timeline --trace: no replay results"
[ -s "$tmp/t/timeline.png" ] || fail "timeline --trace: no figure"
awk '!/^#/ && $1 >= 0' "$tmp"/t/data/tl-2.dat | grep -q . || fail "timeline --trace: no page walks drawn"

# Bad arguments.
"$M" timeline --design linux >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "give the output directory" "$tmp/o" || fail "no -o: $(cat "$tmp/o")"
"$M" timeline -o "$tmp/x" --from 5 --to 2 >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "after --from" "$tmp/o" || fail "bad window: $(cat "$tmp/o")"
"$M" timeline -o "$tmp/x" --from soon >"$tmp/o" 2>&1; [ $? -eq 2 ] || fail "bad --from"
"$M" timeline -o "$tmp/x" --workload nosuch >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "no workload 'nosuch'" "$tmp/o" || fail "bad workload passes through: $(cat "$tmp/o")"
"$M" timeline --help | grep -q "usage: mmsim timeline" || fail "no help"

finish t82_timeline
