#!/bin/sh
# t46_workloads.sh: the will-it-scale and application workloads on every design: exit status, exact op counts, TLB
# coherence, determinism, one property each, processes mode, bad options. usage: t46_workloads.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"

# key FILE NAME: the value of a top-level JSON key.
key() { sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -1; }
# load FILE: every top-level key K of a run's JSON as the shell variable j_K (one sed, not one per key).
loaded=""
load() {
	for v in $loaded; do unset "$v"; done
	eval "$(sed -n "s/^  \"\([a-z0-9_]*\)\": \"\{0,1\}\([^\",']*\)\"\{0,1\},\{0,1\}$/j_\1='\2'/p" "$1")"
	loaded=$(sed -n 's/^  "\([a-z0-9_]*\)": .*/j_\1/p' "$1")
}

# Small runs: 256 MiB of simulated memory, few ops, small sizes; a 1000-cycle lookahead (still deterministic) halves
# the scheduler's host thread switches.
SMALL="--frames 65536 --lookahead 1000"
WORKLOADS="page_fault1 page_fault2 page_fault3 mmap1 mmap2 malloc1 brk1 tlb_flush2 jit alloc jvm-threads metis dedup psearchy fork-cow apache leveldb"

# args W: options for a small run of W; ops W: its --ops (per thread).
args() {
	case $1 in
	page_fault*) echo "--ops 48 --size 128K" ;; # 1.5 iterations of 32 pages
	mmap1 | mmap2 | malloc1) echo "--ops 4 --size 1M" ;;
	brk1) echo "--ops 9" ;;
	tlb_flush2) echo "--ops 12 --size 32K" ;;  # 1.5 ranges
	jit) echo "--ops 24 --size 16K" ;;         # the code area fills and is remapped
	alloc) echo "--ops 640" ;;                 # past the first purge, with 10 large blocks
	jvm-threads) echo "--ops 5" ;;
	metis) echo "--ops 24" ;;
	dedup) echo "--ops 3" ;;
	psearchy) echo "--ops 24 --size 64K" ;;    # the table fills and is flushed
	fork-cow) echo "--ops 3 --size 64K" ;;
	apache) echo "--ops 6" ;;
	leveldb) echo "--ops 60" ;;                # 9 pages of arena growth per thread (60 gets at 763 per 5,000)
	esac
}
ops() { args "$1" | sed 's/--ops \([0-9]*\).*/\1/'; }

# prop W D CORES: the property that shows W does what it says (from the loaded run); prints what is wrong, if anything.
prop() {
	n=$(($(ops "$1") * $3))
	case $1 in
	page_fault1) [ "$j_fault_calls" -ge "$n" ] || echo "fault_calls $j_fault_calls < ops $n" ;;
	page_fault2) [ "$j_frames_copied" -ge "$n" ] || echo "frames_copied $j_frames_copied < ops $n (no copy-on-write of file pages)" ;;
	page_fault3) [ "$j_frames_copied" = 0 ] && [ "$j_fault_calls" -ge "$n" ] || echo "shared file faults: copied $j_frames_copied, faults $j_fault_calls" ;;
	mmap1 | mmap2) [ "$j_mmap_calls" = "$n" ] && [ "$j_munmap_calls" = "$n" ] && [ "$j_fault_calls" = 0 ] ||
		echo "mmap $j_mmap_calls munmap $j_munmap_calls faults $j_fault_calls, wanted $n $n 0" ;;
	malloc1) [ "$j_mmap_calls" = "$n" ] && [ "$j_fault_calls" = "$n" ] || echo "mmap $j_mmap_calls faults $j_fault_calls, wanted $n each" ;;
	brk1) [ "$j_brk_calls" = $((n + $3)) ] || echo "brk_calls $j_brk_calls, wanted $((n + $3))" ;;
	tlb_flush2)
		[ "$j_madvise_calls" = "$n" ] || echo "madvise_calls $j_madvise_calls, wanted $n"
		if [ "$2" = linux ] && [ "$3" -gt 1 ] && [ "$j_ipis" -eq 0 ]; then echo "no IPIs on linux at $3 cores"; fi ;;
	jit) [ "$j_mprotect_calls" = $((2 * n)) ] || echo "mprotect_calls $j_mprotect_calls, wanted $((2 * n))" ;;
	alloc) [ "$j_madvise_calls" -gt 0 ] && [ "$j_munmap_calls" -ge $((10 * $3)) ] || echo "madvise $j_madvise_calls munmap $j_munmap_calls: no purge or no large blocks" ;;
	jvm-threads) [ "$j_threads_run" = $((n + $3)) ] && [ "$j_mprotect_calls" = "$n" ] && [ "$j_munmap_calls" = "$n" ] ||
		echo "threads $j_threads_run mprotect $j_mprotect_calls munmap $j_munmap_calls, wanted $((n + $3)) $n $n" ;;
	metis) [ "$j_munmap_calls" = $((2 * $3)) ] && [ "$j_fault_calls" -ge "$n" ] || echo "munmap $j_munmap_calls faults $j_fault_calls" ;;
	dedup) [ "$j_munmap_calls" = "$n" ] && [ "$j_fault_calls" -ge $((33 * n)) ] || echo "munmap $j_munmap_calls faults $j_fault_calls" ;;
	apache) # a request: map the 16-page document, read it, unmap; thread 0 reads it once first (the page cache)
		[ "$j_mmap_calls" = $((n + 1)) ] && [ "$j_munmap_calls" = $((n + 1)) ] && [ "$j_frames_copied" = 0 ] &&
			[ "$j_fault_calls" -ge "$n" ] || echo "mmap $j_mmap_calls munmap $j_munmap_calls copied $j_frames_copied faults $j_fault_calls, wanted $((n + 1)) $((n + 1)) 0 >=$n" ;;
	leveldb) # the table (431 pages, read once by thread 0); per thread an arena, 33 pages written, then 9 grown
		[ "$j_mmap_calls" = $(($3 + 1)) ] && [ "$j_mprotect_calls" = $((10 * $3)) ] && [ "$j_fault_calls" = $((431 + 42 * $3)) ] ||
			echo "mmap $j_mmap_calls mprotect $j_mprotect_calls faults $j_fault_calls, wanted $(($3 + 1)) $((10 * $3)) $((431 + 42 * $3))" ;;
	psearchy) [ "$j_mmap_calls" -gt "$n" ] && [ "$j_munmap_calls" -gt "$n" ] && [ "$j_fault_calls" -gt "$n" ] ||
		echo "mmap $j_mmap_calls munmap $j_munmap_calls faults $j_fault_calls: no table growth or no file reads" ;;
	fork-cow) [ "$j_fork_calls" = "$n" ] && [ "$j_processes_run" = $((n + 1)) ] && [ "$j_frames_copied" -ge $((2 * n)) ] ||
		echo "forks $j_fork_calls processes $j_processes_run copied $j_frames_copied" ;;
	esac
}

CORES46="1 4"
[ "${MMSIM_TEST_SIZE:-}" = small ] && CORES46=4 # the sanitizer builds: the multicore runs only
for d in $("$M" designs --names); do
	for w in $WORKLOADS; do
		for c in $CORES46; do
			out="$tmp/$d-$w-$c.json"
			# shellcheck disable=SC2046
			"$M" run --design "$d" --workload "$w" --cores $c $(args "$w") $SMALL --json >"$out" 2>"$tmp/err"
			rc=$?
			[ $rc -eq 0 ] || { fail "$d $w $c cores: exit $rc: $(head -c 300 "$tmp/err")"; continue; }
			load "$out"
			want=$(($(ops "$w") * c))
			[ "$j_ops" = "$want" ] || fail "$d $w $c cores: ops $j_ops, wanted $want"
			[ "$j_tlb_coherence_violations" = 0 ] || fail "$d $w $c cores: TLB coherence violations"
			[ "$j_segv" = 0 ] || fail "$d $w $c cores: $j_segv accesses ended in SIGSEGV"
			bad=$(grep -E '_errors": [1-9]' "$out" | tr -d ' \n')
			[ -z "$bad" ] || fail "$d $w $c cores: failed calls: $bad"
			p=$(prop "$w" "$d" $c)
			[ -z "$p" ] || fail "$d $w $c cores: $p"
		done
		# Deterministic mode: the same run twice gives the same numbers, host measurements aside.
		grep -v '"host_' "$tmp/$d-$w-4.json" >"$tmp/a"
		# shellcheck disable=SC2046
		"$M" run --design "$d" --workload "$w" --cores 4 $(args "$w") $SMALL --json | grep -v '"host_' >"$tmp/b"
		cmp -s "$tmp/a" "$tmp/b" || fail "two runs of $d $w differ: $(diff "$tmp/a" "$tmp/b" | head -4)"
	done
done

# Processes mode: one process per thread, and on linux no shared mmap_lock, so page_fault1 runs differently.
for mode in "" --processes; do
	"$M" run --design linux --workload page_fault1 --cores 4 --ops 96 --size 256K $SMALL $mode --json >"$tmp/pf1$mode.json" ||
		fail "page_fault1 $mode failed"
done
[ "$(key "$tmp/pf1.json" processes_run)" = 1 ] || fail "threads mode ran $(key "$tmp/pf1.json" processes_run) processes"
[ "$(key "$tmp/pf1--processes.json" processes_run)" = 4 ] || fail "processes mode ran $(key "$tmp/pf1--processes.json" processes_run) processes"
[ "$(key "$tmp/pf1--processes.json" processes)" = true ] || fail "processes mode not reported"
[ "$(key "$tmp/pf1--processes.json" ops)" = 384 ] || fail "processes mode: ops $(key "$tmp/pf1--processes.json" ops)"
[ "$(key "$tmp/pf1.json" ops_per_sim_sec)" != "$(key "$tmp/pf1--processes.json" ops_per_sim_sec)" ] ||
	fail "page_fault1 on linux: processes mode gives the same throughput as threads mode"
[ "$(key "$tmp/pf1.json" size_bytes)" = 262144 ] || fail "size_bytes $(key "$tmp/pf1.json" size_bytes), wanted 262144"
# Every app workload also runs in processes mode.
for w in jit alloc jvm-threads metis dedup psearchy fork-cow; do
	# shellcheck disable=SC2046
	"$M" run --design cortenmm-adv --workload "$w" --cores 2 $(args "$w") $SMALL --processes --json >"$tmp/p.json" 2>"$tmp/err" ||
		fail "$w --processes failed: $(head -c 300 "$tmp/err")"
	[ "$(key "$tmp/p.json" ops)" = $(($(ops "$w") * 2)) ] || fail "$w --processes: ops $(key "$tmp/p.json" ops)"
	[ "$(key "$tmp/p.json" segv)" = 0 ] || fail "$w --processes: SIGSEGV"
done

# Parallel mode: files made by several cores at once, threads and processes created by running ones.
for w in page_fault2 psearchy jvm-threads fork-cow; do
	# shellcheck disable=SC2046
	"$M" run --design linux --workload "$w" --cores 4 --mode par $(args "$w") --frames 65536 --json >"$tmp/p.json" 2>"$tmp/err" ||
		fail "$w --mode par failed: $(head -c 300 "$tmp/err")"
	[ "$(key "$tmp/p.json" ops)" = $(($(ops "$w") * 4)) ] || fail "$w --mode par: ops $(key "$tmp/p.json" ops)"
done

# Sweeps key on processes and size: the same points in processes mode are new points.
S="--designs linux --workloads page_fault1 --contention low,high --cores 1,2 --ops 16 --size 64K"
"$M" sweep $S -o "$tmp/s.csv" 2>"$tmp/err" && grep -q "2 points run" "$tmp/err" ||
	fail "sweep: $(cat "$tmp/err")"
"$M" sweep $S --processes -o "$tmp/s.csv" 2>"$tmp/err" && grep -q "2 points run, 2 rows written, 0 already" "$tmp/err" ||
	fail "sweep --processes did not run new points: $(cat "$tmp/err")"
"$M" sweep $S --processes --size 128K -o "$tmp/s.csv" 2>"$tmp/err" && grep -q "2 points run, 2 rows written, 0 already" "$tmp/err" ||
	fail "sweep --size did not run new points: $(cat "$tmp/err")"
"$M" sweep $S --processes -o "$tmp/s.csv" 2>"$tmp/err" && grep -q "0 points run, 0 rows written, 2 already" "$tmp/err" ||
	fail "sweep resume: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/s.csv")" -eq 7 ] || fail "sweeps wrote $(wc -l <"$tmp/s.csv") lines, wanted 1 + 6"
head -1 "$tmp/s.csv" | grep -q ',processes,size_bytes,' || fail "sweep CSV has no processes and size_bytes columns"
"$M" sweep $S --emit-jobs "$tmp/j" >"$tmp/jobs" || fail "--emit-jobs failed"
[ "$(wc -l <"$tmp/jobs")" -eq 2 ] && grep -q -- "--size 65536" "$tmp/jobs" || fail "job list: $(cat "$tmp/jobs")"

# Bad workload options: one line, exit status 2.
bad() {
	"$M" "$@" >"$tmp/o" 2>&1
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/o")" -eq 1 ] && grep -q "$want" "$tmp/o" || fail "'$*': exit $rc: $(cat "$tmp/o")"
}
want="takes no size" bad run --workload brk1 --size 1M
want="takes no size" bad run --workload alloc --size 1M
want="no processes mode" bad run --workload pf --processes
want="no contention levels" bad run --workload page_fault1 --contention high
want="out of range" bad run --workload page_fault1 --size 1K
want="not a number" bad run --workload page_fault1 --size 4X
want="out of range" bad run --workload page_fault1 --size 2G
want="more than the 4096" bad run --workload fork-cow --ops 5000
want="too many" bad run --workload jvm-threads --ops 2000000
want="past its 64 MiB" bad run --workload leveldb --ops 200000
want="no processes mode" bad sweep --workloads pf --processes -o "$tmp/x.csv"

# Every workload describes itself: what it imitates, what an op is, its parameters.
for w in $WORKLOADS; do
	"$M" workloads "$w" >"$tmp/h" || fail "workloads $w failed"
	grep -q "Imitates" "$tmp/h" && grep -q "An op is" "$tmp/h" && grep -q "^Parameters (defaults): --ops" "$tmp/h" ||
		fail "workloads $w: help lacks what it imitates, its op or its parameters"
done
"$M" run --help | grep -q "^  fork-cow .*--ops 16" || fail "run --help does not list the workloads' parameters"

finish t46_workloads
