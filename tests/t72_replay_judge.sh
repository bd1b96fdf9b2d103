#!/bin/bash
# t72_replay_judge.sh: replay's judge and the importers' newer calls: a seeded mismatch (one recorded fault outcome
# changed in a copy of a real recording) is listed by --mismatches at its thread, event number and input line, in text
# and JSON lines; a call whose errno differs is listed; the calls beyond mapping (mlock ... fallocate), close and SysV
# shm imported from perf and strace excerpts; a recording with lost events refused with advice; the default cores.
# usage: t72_replay_judge.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"
D=$(dirname "$0")/data/traces

# ---- a seeded fault-outcome mismatch in a real recording ----
"$M" import perf "$D/pigz-p2.perf.txt.xz" -o "$tmp/p.mmtrace" >/dev/null || fail "import pigz-p2"
"$M" trace-dump "$tmp/p.mmtrace" >"$tmp/p.txt" || fail "trace-dump pigz-p2"
# The 40th resolved fault of the trace: its line in the dump, its thread, its input line and its event number.
n=$(grep -n ' access .* ret=0 ' "$tmp/p.txt" | sed -n 40p | cut -d: -f1)
tid=$(sed -n "${n}p" "$tmp/p.txt" | cut -d' ' -f1)
line=$(sed -n "${n}p" "$tmp/p.txt" | sed 's/.* line=\([0-9]*\).*/\1/')
event=$(head -n "$n" "$tmp/p.txt" | grep -c "^$tid [a-z]")
[ -n "$n" ] && [ -n "$line" ] && [ "$event" -gt 0 ] || fail "pigz-p2: no 40th resolved fault in the dump"
awk -v n="$n" 'NR == n { sub(/ ret=0 /, " ret=1 ") } { print }' "$tmp/p.txt" >"$tmp/seeded.txt"
"$M" replay "$tmp/p.mmtrace" --design linux --mismatches "$tmp/clean.mm" >"$tmp/clean.out" || fail "replay pigz-p2"
[ ! -s "$tmp/clean.mm" ] || fail "pigz-p2 unchanged lists mismatches: $(head -c 300 "$tmp/clean.mm")"
"$M" replay "$tmp/seeded.txt" --design linux --mismatches "$tmp/seeded.mm" >"$tmp/seeded.out" || fail "replay seeded"
grep -q '^fault_outcome_mismatches  *1$' "$tmp/seeded.out" || fail "seeded: $(grep fault_outcome "$tmp/seeded.out")"
[ "$(wc -l <"$tmp/seeded.mm")" = 1 ] || fail "seeded: expected one mismatch listed, got: $(cat "$tmp/seeded.mm")"
grep -q "^thread $tid (recorded [0-9]*), event $event, line $line: .* fault at 0x[0-9a-f]*: recorded SIGSEGV, design resolved; why: resolved: the page is in .*; last call on the page: " "$tmp/seeded.mm" ||
	fail "seeded: expected thread $tid, event $event, line $line: $(cat "$tmp/seeded.mm")"
"$M" replay "$tmp/seeded.txt" --design cortenmm-adv --json --mismatches "$tmp/seeded.json" >/dev/null || fail "replay seeded --json"
grep -q "^{\"thread\": $tid, \"recorded_tid\": [0-9]*, \"event\": $event, \"line\": $line, \"kind\": \"fault_outcome\", .*\"recorded\": \"SIGSEGV\", \"design\": \"resolved\", \"why\": \"resolved: the page is in .*\", \"last_call\": \".*\"}$" "$tmp/seeded.json" ||
	fail "seeded --json: $(cat "$tmp/seeded.json")"
# --max: the count stays, the list is cut.
awk '/ access .* ret=0 / && ++k <= 3 { sub(/ ret=0 /, " ret=1 ") } { print }' "$tmp/p.txt" >"$tmp/three.txt"
"$M" replay "$tmp/three.txt" --design linux --mismatches "$tmp/three.mm" --max 2 >"$tmp/three.out" || fail "replay --max"
grep -q '^fault_outcome_mismatches  *3$' "$tmp/three.out" && [ "$(wc -l <"$tmp/three.mm")" = 2 ] ||
	fail "--max 2: $(grep fault_outcome "$tmp/three.out"), $(wc -l <"$tmp/three.mm") listed"

# ---- call results: errno compared, not only the sign ----
cat >"$tmp/errno.txt" <<'X'
mmsim-trace 1
thread 1 pid=1
1 mmap 0 0x4000 rw- private|anon new=r1 ret=0x7f0000000000
1 munmap r1+0x1 0x1000 ret=-12
1 mprotect r1+0x0 0x1000 r-- ret=0
1 exit group
X
"$M" replay "$tmp/errno.txt" --design linux --mismatches "$tmp/errno.mm" >"$tmp/errno.out" || fail "replay errno.txt"
grep -q '^result_mismatches  *1$' "$tmp/errno.out" || fail "errno: $(grep result_mismatches "$tmp/errno.out")"
grep -q '^thread 1 (recorded 0), event 2, line 0: munmap result at .*: recorded -12 (errno), design -22 (errno); why: the design refused it with errno 22' "$tmp/errno.mm" ||
	fail "errno: $(cat "$tmp/errno.mm")"

# ---- strace -tt (the time of day) reads as -ttt does, across midnight too ----
# The same calls with their -ttt stamps written as times of day from 23:59:59.999985 (the 3rd call is after midnight).
awk '{ split($2, t, "."); us = (t[1] - 1) * 1000000 + t[2] + 86399999975; s = int(us / 1000000); f = us % 1000000;
	s = s % 86400; $2 = sprintf("%02d:%02d:%02d.%06d", int(s / 3600), int(s % 3600 / 60), s % 60, f); print }' \
	"$D/calls/calls.strace.txt" >"$tmp/tt.txt"
grep -q "^300 23:59:59.999995 " "$tmp/tt.txt" && grep -q '^300 00:00:00.0000' "$tmp/tt.txt" || fail "tt.txt: $(head -5 "$tmp/tt.txt")"
"$M" import strace "$D/calls/calls.strace.txt" -o "$tmp/ttt.mmtrace" >/dev/null || fail "import calls.strace.txt (-ttt)"
"$M" import strace "$tmp/tt.txt" -o "$tmp/tt.mmtrace" >/dev/null || fail "import of strace -tt stamps: $("$M" import strace "$tmp/tt.txt" -o "$tmp/tt.mmtrace" 2>&1)"
[ "$("$M" trace-dump "$tmp/tt.mmtrace" | grep -v '^source')" = "$("$M" trace-dump "$tmp/ttt.mmtrace" | grep -v '^source')" ] ||
	fail "strace -tt and -ttt stamps of the same calls give different traces"
"$M" replay "$tmp/tt.txt" --design linux >/dev/null 2>&1 || fail "replay does not detect strace -tt output"

# ---- the calls beyond mapping, close and SysV shm, from perf and from strace ----
"$M" import perf "$D/calls/calls.perf.txt" -o "$tmp/cp.mmtrace" >/dev/null || fail "import calls.perf.txt"
"$M" trace-dump "$tmp/cp.mmtrace" >"$tmp/cp.txt"
"$M" import strace "$D/calls/calls.strace.txt" -o "$tmp/cs.mmtrace" >/dev/null || fail "import calls.strace.txt"
"$M" trace-dump "$tmp/cs.mmtrace" >"$tmp/cs.txt"
for f in cp cs; do
	r=r2
	[ $f = cs ] && r=r1
	for want in "ftruncate 1 0x4000 ret=0" "mmap 0x0 0x4000 rw- shared new=$r file=1 off=0x0" \
		"mlock $r+0x0 0x2000 onfault ret=0" "msync $r+0x0 0x4000 sync ret=0" "mincore $r+0x0 0x4000 ret=0" \
		"munlock $r+0x0 0x2000 ret=0" "mlockall current|future ret=0" "munlockall ret=0" \
		"fallocate 1 keep_size|punch_hole 0x1000 0x1000 ret=0" "ftruncate 2 0x1000 ret=0" \
		"mmap 0x0 0x3000 rw- shared new=r[0-9] file=3 off=0x0 ret=0x7f0000100000" "munmap r[0-9]+0x0 0x3000 ret=0"; do
		grep -q "^1 $want" "$tmp/$f.txt" || fail "$f: no '$want' in: $(grep -v compute "$tmp/$f.txt" | head -30)"
	done
done
grep -q '^file 1 size=0x4000 dev=fe:0 ino=1234 name=/tmp/data$' "$tmp/cp.txt" || fail "perf: the ftruncated file is not adopted by its mmap: $(grep ^file "$tmp/cp.txt")"
grep -q '^1 access r3+0x10 w ret=0 .* line=33$' "$tmp/cp.txt" || fail "perf: the shm fault is not in the attach"
grep -q '^1 access 0x7f0000100010 w ret=1 ' "$tmp/cp.txt" || fail "perf: the fault after shmdt is not outside every region"
grep -q '^recorded cpus=1 ' "$tmp/cp.txt" || fail "perf: the recording's CPUs: $(grep ^recorded "$tmp/cp.txt")"
# Replayed on every design: every result and outcome as recorded (the SIGSEGV after shmdt included).
for d in $("$M" designs --names); do
	for f in cp cs; do
		"$M" replay "$tmp/$f.mmtrace" --design "$d" --json --mismatches "$tmp/$f-$d.mm" >"$tmp/$f-$d.json" 2>"$tmp/err" ||
			fail "replay $f on $d: $(cat "$tmp/err")"
		grep -q '"result_mismatches": 0,' "$tmp/$f-$d.json" && grep -q '"fault_outcome_mismatches": 0,' "$tmp/$f-$d.json" ||
			fail "$f on $d: $(cat "$tmp/$f-$d.mm")"
	done
done

# A real recording of those calls (calls-prog.c): every design, at the default cores and at 8, with no mismatch.
"$M" import perf "$D/calls/calls-prog.perf.txt.xz" -o "$tmp/prog.mmtrace" >/dev/null || fail "import calls-prog"
"$M" trace-dump "$tmp/prog.mmtrace" >"$tmp/prog.txt"
for k in ftruncate mlock munlock msync mincore fallocate; do
	grep -q "^1 $k " "$tmp/prog.txt" || fail "calls-prog: no $k"
done
grep -q '^recorded cpus=[0-9]* syscall_ns=[1-9][0-9]*$' "$tmp/prog.txt" || fail "calls-prog: $(grep ^recorded "$tmp/prog.txt")"
for d in $("$M" designs --names); do
	for c in "" "--cores 8"; do
		# shellcheck disable=SC2086 # $c is an option or nothing
		"$M" replay "$tmp/prog.mmtrace" --design "$d" $c --json --mismatches "$tmp/prog.mm" >"$tmp/prog.json" 2>"$tmp/err" ||
			fail "replay calls-prog on $d $c: $(cat "$tmp/err")"
		grep -q '"result_mismatches": 0,' "$tmp/prog.json" && grep -q '"fault_outcome_mismatches": 0,' "$tmp/prog.json" ||
			fail "calls-prog on $d $c: $(head -c 600 "$tmp/prog.mm")"
		grep -q '"timing_mprotect_recorded_median_ns": [0-9]' "$tmp/prog.json" || fail "calls-prog on $d: no timing report"
	done
done

# ---- lost events: refused, with advice ----
{ head -3 "$D/calls/calls.perf.txt"; echo '               a   300 [000]     1.000005: PERF_RECORD_LOST lost 12'; } >"$tmp/lost.txt"
"$M" import perf "$tmp/lost.txt" -o "$tmp/x.mmtrace" 2>"$tmp/err" && fail "lost events: imported"
grep -q 'lost.txt:4: perf lost events here (PERF_RECORD_LOST): .*larger buffer (mmsim record --buffer' "$tmp/err" ||
	fail "lost events: $(cat "$tmp/err")"

# ---- default cores: the recording's CPUs, else its threads, at most the machine's ----
grep -q '^cores_from  *the CPUs the recording ran on$' "$tmp/clean.out" || fail "pigz-p2: $(grep cores "$tmp/clean.out")"
"$M" replay "$tmp/errno.txt" --design linux --json >"$tmp/e.json"
grep -q '"cores": 1,' "$tmp/e.json" && grep -q '"cores_from": "the recording.s threads"' "$tmp/e.json" || fail "text trace: $(grep cores "$tmp/e.json")"
"$M" replay "$tmp/errno.txt" --design linux --cores 3 --json | grep -q '"cores_from": "--cores"' || fail "--cores 3: cores_from"

# ---- record's calibration target and its buffer option (a recording itself needs perf and root: not here) ----
"$M" record --null-calls 100 || fail "record --null-calls"
"$M" record --buffer 3 -o "$tmp/x.mmtrace" -- true 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- '--buffer: 3 pages is not a power of 2' "$tmp/err" || fail "record --buffer 3: $(cat "$tmp/err")"
finish t72_replay_judge
