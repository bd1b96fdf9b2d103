#!/bin/sh
# t70_traces.sh: the check against reality: the five recorded traces (tests/data/traces) imported and replayed on every design,
# with no fault-outcome or result mismatch, no TLB coherence violation, equal final layouts across designs, and repeatable
# deterministic runs.
# usage: t70_traces.sh PATH/TO/mmsim
set -u
M=$1
D=$(dirname "$0")/data/traces
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# key FILE NAME: the value of a top-level JSON key.
key() { sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -1; }

# check FILE WHAT: the keys every replay must get right.
check() {
	for k in fault_outcome_mismatches result_mismatches tlb_coherence_violations sync_timeouts; do
		[ "$(key "$1" $k)" = 0 ] || fail "$2: $k = $(key "$1" $k)"
	done
	[ "$(key "$1" faults)" = "$3" ] || fail "$2: faults = $(key "$1" faults), the recording has $3"
}

designs=$("$M" designs --names)
DET="sqlite-load sort-parallel gcc-compile py-threads make-j2" PAR="sqlite-load sort-parallel gcc-compile"
# The sanitizer builds (MMSIM_TEST_SIZE=small) replay the smaller traces only.
[ "${MMSIM_TEST_SIZE:-}" = small ] && DET="sqlite-load sort-parallel gcc-compile" PAR=sqlite-load
for t in $DET; do
	if ! "$M" import perf "$D/$t.perf.txt.xz" -o "$tmp/$t.mmtrace" --json >"$tmp/$t.import" 2>"$tmp/err"; then
		fail "import $t: $(head -c 300 "$tmp/err")"
		continue
	fi
	faults=$(key "$tmp/$t.import" faults)
	for d in $designs; do
		out="$tmp/$t-$d.json"
		if ! "$M" replay "$tmp/$t.mmtrace" --design "$d" --cores 2 --json --layout "$tmp/$t-$d.layout" >"$out" 2>"$tmp/err"; then
			fail "replay $t $d: $(head -c 300 "$tmp/err")"
			continue
		fi
		check "$out" "$t $d det" "$faults"
		# Every design ends with the same pages, protections and kinds (wherever it put them).
		[ "$d" = linux ] || cmp -s "$tmp/$t-linux.layout" "$tmp/$t-$d.layout" ||
			fail "$t: final layout of $d differs from linux: $(diff "$tmp/$t-linux.layout" "$tmp/$t-$d.layout" | head -4)"
	done
done

# Parallel mode on the smaller traces (perf text replayed directly: imported on the fly).
for t in $PAR; do
	for d in linux cortenmm-adv skiplist; do
		out="$tmp/$t-$d-par.json"
		if ! "$M" replay "$D/$t.perf.txt.xz" --design "$d" --cores 2 --mode par --json >"$out" 2>"$tmp/err"; then
			fail "replay $t $d par: $(head -c 300 "$tmp/err")"
			continue
		fi
		check "$out" "$t $d par" "$(key "$tmp/$t.import" faults)"
		[ "$(key "$out" trace_format)" = perf ] || fail "$t par: trace_format $(key "$out" trace_format)"
	done
done

# Deterministic mode: the same replay twice gives the same numbers, host measurements aside.
"$M" replay "$tmp/gcc-compile.mmtrace" --design cortenmm-rw --cores 2 --json | grep -v '"host_' >"$tmp/a"
"$M" replay "$tmp/gcc-compile.mmtrace" --design cortenmm-rw --cores 2 --json | grep -v '"host_' >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "two deterministic replays differ: $(diff "$tmp/a" "$tmp/b" | head -4)"

# The JSON record of a replay has the keys of 'mmsim run' and the trace's own.
for k in design workload cores ops events sim_cycles ops_per_sim_sec host_seconds faults trace_events fault_outcome_mismatches tlb_coherence_violations; do
	[ -n "$(key "$tmp/sqlite-load-linux.json" $k)" ] || fail "replay: no key $k"
done

# perf script can print an event twice, to the nanosecond: the repeat is skipped and counted (duplicate_lines), and
# the trace is the one made without it.
sed '13p' "$D/repro/unmap-reuse.perf.txt" >"$tmp/dup.perf.txt"
[ "$(wc -l <"$tmp/dup.perf.txt")" -eq $(($(wc -l <"$D/repro/unmap-reuse.perf.txt") + 1)) ] || fail "dup.perf.txt was not made"
"$M" import perf "$tmp/dup.perf.txt" -o "$tmp/dup.mmtrace" --json >"$tmp/dup.json" || fail "a repeated perf line is refused: $(cat "$tmp/dup.json")"
"$M" import perf "$D/repro/unmap-reuse.perf.txt" -o "$tmp/nodup.mmtrace" --json >"$tmp/nodup.json" || fail "unmap-reuse import"
[ "$(key "$tmp/dup.json" duplicate_lines)" = 1 ] && [ "$(key "$tmp/nodup.json" duplicate_lines)" = 0 ] ||
	fail "duplicate_lines: $(key "$tmp/dup.json" duplicate_lines) and $(key "$tmp/nodup.json" duplicate_lines), wanted 1 and 0"
# (the input line numbers after the repeat are one more)
[ "$("$M" trace-dump "$tmp/dup.mmtrace" | grep -v '^source' | sed 's/ line=[0-9]*//')" = \
	"$("$M" trace-dump "$tmp/nodup.mmtrace" | grep -v '^source' | sed 's/ line=[0-9]*//')" ] ||
	fail "the trace with a repeated line differs from the one without"

# An inode number is reused once its file is deleted (a linker's temporary outputs): perf's MMAP2 gives the inode's
# generation too, and two generations are two files. The second file's size is its own ftruncate's (0x5608), so the
# write to its last page is no SIGBUS (repro/inode-reuse.perf.txt; with one file for both it was).
"$M" import perf "$D/repro/inode-reuse.perf.txt" -o "$tmp/ino.mmtrace" --json >"$tmp/ino.json" || fail "inode-reuse import"
[ "$(key "$tmp/ino.json" files)" = 2 ] || fail "inode-reuse: $(key "$tmp/ino.json" files) files, wanted 2 (same inode, two generations)"
"$M" replay "$tmp/ino.mmtrace" --json >"$tmp/ino-r.json" || fail "inode-reuse replay"
[ "$(key "$tmp/ino-r.json" fault_outcome_mismatches)" = 0 ] || fail "inode-reuse: the write to the second file's last page does not match the recording"

# A program recorded without ASLR (a debugger's inferior, setarch -R) has its image across mmsim's default start of
# brk (0x555555600000): the replay puts the heap where the recording's first brk says the loader put it, not inside
# the image's text (repro/brk-aslr-off.perf.txt: before, brk failed and the heap's writes were SIGSEGVs).
for d in linux skiplist cortenmm-adv; do
	"$M" replay "$D/repro/brk-aslr-off.perf.txt" --design "$d" --json >"$tmp/brk-r.json" || fail "brk-aslr-off replay on $d"
	[ "$(key "$tmp/brk-r.json" result_mismatches)/$(key "$tmp/brk-r.json" fault_outcome_mismatches)" = 0/0 ] ||
		fail "brk-aslr-off on $d: $(key "$tmp/brk-r.json" result_mismatches) result and $(key "$tmp/brk-r.json" fault_outcome_mismatches) fault mismatches, wanted none"
done

# A fault whose thread never runs on (a tracer took its SIGSEGV and killed it: SIGKILL, exit, no delivery of the
# SIGSEGV) has no outcome in the recording: written unchecked and counted, with the switch it slept in after it
# (repro/traced-kill.perf.txt: a fetch from a page without execute permission; before, it was checked as resolved).
"$M" import perf "$D/repro/traced-kill.perf.txt" -o "$tmp/tk.mmtrace" --json >"$tmp/tk.json" || fail "traced-kill import"
[ "$(key "$tmp/tk.json" unjudged_faults)/$(key "$tmp/tk.json" sleeps)" = 1/1 ] ||
	fail "traced-kill: $(key "$tmp/tk.json" unjudged_faults) unjudged faults and $(key "$tmp/tk.json" sleeps) sleeps, wanted 1/1"
"$M" replay "$tmp/tk.mmtrace" --json >"$tmp/tk-r.json" || fail "traced-kill replay"
[ "$(key "$tmp/tk-r.json" segv)/$(key "$tmp/tk-r.json" fault_outcome_mismatches)" = 1/0 ] ||
	fail "traced-kill: segv $(key "$tmp/tk-r.json" segv), $(key "$tmp/tk-r.json" fault_outcome_mismatches) fault mismatches; wanted the SIGSEGV, unchecked"

# A pkey_mprotect the kernel refused for its key (EINVAL: pkey 0 on a host without PKU) changed nothing: left out
# (dropped_calls); one with key -1 is the mprotect it also is (repro/pkey-refused.perf.txt: before, the refused call
# was replayed as an mprotect that split the VMA, and the mremap of the whole VMA after it failed with EFAULT).
"$M" import perf "$D/repro/pkey-refused.perf.txt" -o "$tmp/pk.mmtrace" --json >"$tmp/pk.json" || fail "pkey-refused import"
[ "$(key "$tmp/pk.json" dropped_calls)" = 1 ] || fail "pkey-refused: $(key "$tmp/pk.json" dropped_calls) dropped calls, wanted 1"
for d in linux cortenmm-adv skiplist; do
	"$M" replay "$tmp/pk.mmtrace" --design $d --json >"$tmp/pk-r.json" || fail "pkey-refused replay on $d"
	[ "$(key "$tmp/pk-r.json" result_mismatches)/$(key "$tmp/pk-r.json" mprotect_calls)" = 0/1 ] ||
		fail "pkey-refused on $d: $(key "$tmp/pk-r.json" result_mismatches) result mismatches and $(key "$tmp/pk-r.json" mprotect_calls) mprotects, wanted 0 and 1"
done

# Switch events (the recipe's --switch-events): a thread blocked off its CPU sleeps (its core runs others), a
# preempted one loses the time (the replay gives it its core); without them every gap is work
# (repro/switch-sleep.perf.txt: thread 1 blocks 10 ms while thread 2 works 7.2 ms, after 3 ms preempted).
"$M" import perf "$D/repro/switch-sleep.perf.txt" -o "$tmp/sw.mmtrace" --json >"$tmp/sw.json" || fail "switch-sleep import"
[ "$(key "$tmp/sw.json" sleeps)" = 1 ] || fail "switch-sleep: $(key "$tmp/sw.json" sleeps) sleeps, wanted 1"
"$M" trace-dump "$tmp/sw.mmtrace" >"$tmp/sw.txt"
grep -q '^1 compute 10000000ns sleep ' "$tmp/sw.txt" || fail "switch-sleep: no 10 ms sleep of thread 1: $(grep compute "$tmp/sw.txt")"
[ "$(awk '$1 == 2 && $2 == "compute" { sub(/ns/, "", $3); s += $3 } END { print s }' "$tmp/sw.txt")" = 7195000 ] ||
	fail "switch-sleep: thread 2 works $(awk '$1 == 2 && $2 == "compute" { sub(/ns/, "", $3); s += $3 } END { print s }' "$tmp/sw.txt") ns, wanted 7195000 (its 3 ms preempted left out)"
"$M" trace-compile "$tmp/sw.txt" -o "$tmp/sw2.mmtrace" && [ "$("$M" trace-dump "$tmp/sw2.mmtrace" | grep -c ' sleep')" = 1 ] ||
	fail "switch-sleep: the sleep does not survive the text form"
grep -v PERF_RECORD_SWITCH "$D/repro/switch-sleep.perf.txt" >"$tmp/nosw.perf.txt"
"$M" replay "$tmp/sw.mmtrace" --cores 1 --json >"$tmp/sw-r.json" || fail "switch-sleep replay"
"$M" replay "$tmp/nosw.perf.txt" --cores 1 --json >"$tmp/nosw-r.json" || fail "switch-sleep replay without switches"
awk -v a="$(key "$tmp/sw-r.json" sim_seconds)" -v b="$(key "$tmp/nosw-r.json" sim_seconds)" \
	'BEGIN { exit !(a > 0.0110 && a < 0.0120 && b > 0.020) }' ||
	fail "switch-sleep on one core: $(key "$tmp/sw-r.json" sim_seconds) s with switch events (wanted the recorded 0.0114), $(key "$tmp/nosw-r.json" sim_seconds) s without (wanted both threads' gaps as work, over 0.020)"

# A core whose threads all sleep idles a tick at a time: a thread another core creates there meanwhile starts at once,
# not when the sleeper wakes (thread 3 lands on core 0, where thread 1 sleeps 100 ms: 0.100 s, not 0.150).
cat >"$tmp/idle.txt" <<'X'
mmsim-trace 1
thread 1 pid=1
thread 4 pid=1 parent=1
thread 2 pid=1 parent=1
thread 3 pid=1 parent=2
1 thread 4
1 thread 2
1 compute 100000000ns sleep
1 exit
4 exit
2 compute 1000000ns
2 thread 3
2 compute 1000ns
2 exit
3 compute 50000000ns
3 exit
X
"$M" replay "$tmp/idle.txt" --cores 2 --json >"$tmp/idle.json" || fail "idle.txt replay"
awk -v a="$(key "$tmp/idle.json" sim_seconds)" 'BEGIN { exit !(a > 0.0999 && a < 0.1010) }' ||
	fail "a thread made on a core whose threads sleep: $(key "$tmp/idle.json" sim_seconds) s, wanted the sleeper's 0.100"

# A sync wait is a yield: four threads on one core, the last one waiting for two that have 4 ms of work queued
# (repro/sync-oversubscribed.txt). The waiter gives the core away at once: a few waits, and the run takes the
# threads' work done one after the other (16 ms), not a waiter's time slices on top (4,159 waits and 36 ms when
# it spun for its whole slice).
"$M" replay "$D/repro/sync-oversubscribed.txt" --design linux --json >"$tmp/yield.json" || fail "replay of sync-oversubscribed failed"
w=$(key "$tmp/yield.json" sync_waits); t=$(key "$tmp/yield.json" sim_seconds)
awk -v w="$w" -v t="$t" 'BEGIN { exit !(w <= 10 && t < 0.02) }' || fail "sync-oversubscribed: $w sync waits, $t simulated seconds (a waiter kept its core)"
[ "$(key "$tmp/yield.json" sync_timeouts)" = 0 ] && [ "$(key "$tmp/yield.json" fault_outcome_mismatches)" = 0 ] ||
	fail "sync-oversubscribed: timeouts or mismatches: $(grep -E 'sync_timeouts|mismatches' "$tmp/yield.json" | tr -d '\n')"

if [ "$fails" -ne 0 ]; then
	echo "t70_traces: $fails failure(s)"
	exit 1
fi
echo "t70_traces: all checks passed"
