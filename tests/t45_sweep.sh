#!/bin/sh
# t45_sweep.sh: sweeps as users run them: serial, resumed, through GNU parallel and merged (the same
# results), and plotted. usage: t45_sweep.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"

# nohost FILE: the CSV without host_ columns (host measurements differ run to run), rows sorted.
nohost() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) keep[i] = ($i !~ /^host_/) }
		 { out = ""; for (i = 1; i <= NF; i++) if (keep[i]) out = out (out == "" ? "" : ",") $i; print out }' "$1" |
		{ IFS= read -r head; echo "$head"; sort; }
}

ARGS="--designs linux,cortenmm-adv --workloads pf,munmap --contention low,high --cores 1,2,4 --ops 64"

# Serial sweep.
# shellcheck disable=SC2086
"$M" sweep $ARGS -o "$tmp/serial.csv" 2>"$tmp/err" || fail "sweep failed: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/serial.csv")" -eq 25 ] || fail "serial sweep wrote $(wc -l <"$tmp/serial.csv") lines, wanted 1 + 24"
grep -q "24 points run" "$tmp/err" || fail "sweep did not report 24 points: $(cat "$tmp/err")"

# Resume: nothing left to run; after losing the last rows, only those run again.
# shellcheck disable=SC2086
"$M" sweep $ARGS -o "$tmp/serial.csv" 2>"$tmp/err"
grep -q "0 points run, 0 rows written, 24 already" "$tmp/err" || fail "resume reran points: $(cat "$tmp/err")"
head -n 21 "$tmp/serial.csv" >"$tmp/partial.csv"
# shellcheck disable=SC2086
"$M" sweep $ARGS -o "$tmp/partial.csv" 2>"$tmp/err"
grep -q "4 points run, 4 rows written, 20 already" "$tmp/err" || fail "partial resume: $(cat "$tmp/err")"
nohost "$tmp/serial.csv" >"$tmp/a"
nohost "$tmp/partial.csv" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "resumed results differ from the serial sweep"

# The same points through GNU parallel, then merged: the same results as the serial sweep.
if command -v parallel >/dev/null 2>&1; then
	mkdir "$tmp/jobs"
	# shellcheck disable=SC2086
	"$M" sweep $ARGS --emit-jobs "$tmp/jobs" >"$tmp/jobs.txt" || fail "--emit-jobs failed"
	[ "$(wc -l <"$tmp/jobs.txt")" -eq 24 ] || fail "--emit-jobs printed $(wc -l <"$tmp/jobs.txt") commands, wanted 24"
	parallel --will-cite -j 2 <"$tmp/jobs.txt" || fail "a job failed under GNU parallel"
	"$M" merge "$tmp"/jobs/point-*.csv -o "$tmp/merged.csv" || fail "merge failed"
	nohost "$tmp/merged.csv" >"$tmp/c"
	cmp -s "$tmp/a" "$tmp/c" || fail "merged GNU parallel results differ from the serial sweep: $(diff "$tmp/a" "$tmp/c" | head -4)"
else
	echo "t45_sweep: GNU parallel is not installed (Debian: parallel); skipping its part"
fi

# Plot (needs gnuplot).
if command -v gnuplot >/dev/null 2>&1; then
	"$M" plot "$tmp/serial.csv" -o "$tmp/fig" >/dev/null 2>"$tmp/err" || fail "plot failed: $(cat "$tmp/err")"
	for f in scaling latency breakdown tlb; do
		for ext in png svg; do
			[ -s "$tmp/fig/$f.$ext" ] || fail "plot did not write $f.$ext"
		done
	done
	head -c 8 "$tmp/fig/scaling.png" | od -An -c | grep -q "P   N   G" || fail "scaling.png is not a PNG"
else
	echo "t45_sweep: gnuplot is not installed (Debian: gnuplot-nox); skipping plots"
fi

# Bad input.
"$M" sweep --designs nosuch -o "$tmp/x.csv" >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "no design 'nosuch'" "$tmp/o" || fail "bad design: $(cat "$tmp/o")"
"$M" sweep --cores 1,x -o "$tmp/x.csv" >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "'x' is not a number" "$tmp/o" || fail "bad cores: $(cat "$tmp/o")"
printf 'a,b\n1,"2\n' >"$tmp/bad.csv"
"$M" plot "$tmp/bad.csv" -o "$tmp/f2" >"$tmp/o" 2>&1; [ $? -eq 1 ] && grep -q "bad.csv:2: malformed" "$tmp/o" || fail "bad csv: $(cat "$tmp/o")"
"$M" merge "$tmp/serial.csv" "$tmp/bad.csv" -o "$tmp/m.csv" >"$tmp/o" 2>&1; [ $? -eq 1 ] && [ ! -e "$tmp/m.csv" ] || fail "merge of a bad file succeeded or left an output"

# --method paper reaches every job; a sweep under --tlb-flush=broadcast plots as lines of their own.
"$M" sweep --designs linux --workloads pf --cores 1,2 --method paper --reps 1 --emit-jobs "$tmp/pj" >"$tmp/pj.txt" ||
	fail "--method paper --emit-jobs failed"
[ "$(grep -c -- '--method paper --reps 1' "$tmp/pj.txt")" -eq 2 ] || fail "jobs lost --method paper: $(head -1 "$tmp/pj.txt")"
"$M" sweep --designs linux --workloads munmap --cores 1,2 --method paper --reps 1 --tlb-flush=broadcast -j 1 -o "$tmp/bc.csv" \
	>/dev/null 2>&1 || fail "broadcast sweep failed"
"$M" sweep --designs linux --workloads munmap --cores 1,2 --method paper --reps 1 -j 1 -o "$tmp/ipi.csv" >/dev/null 2>&1 ||
	fail "ipi sweep failed"
"$M" merge "$tmp/ipi.csv" "$tmp/bc.csv" -o "$tmp/both.csv" || fail "merge of ipi and broadcast failed"
if command -v gnuplot >/dev/null 2>&1; then
	"$M" plot "$tmp/both.csv" -o "$tmp/fb" >/dev/null 2>&1 || fail "plot of ipi and broadcast failed"
	[ -s "$tmp/fb/data/scaling-munmap-low-linux+broadcast.dat" ] && [ -s "$tmp/fb/data/scaling-munmap-low-linux.dat" ] ||
		fail "plot did not draw broadcast as its own line: $(ls "$tmp/fb/data" | head -5)"
fi
"$M" sweep --designs linux --workloads pf --reps 3 -o "$tmp/r.csv" >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "add --method paper" "$tmp/o" ||
	fail "sweep --reps without paper: $(cat "$tmp/o")"

finish t45_sweep
