#!/bin/sh
# t70_trace_cli.sh: the trace commands as a user runs them: import, dump/compile round trips, strace import, replay of text
# traces, bad input of every kind (a clear FILE:LINE error and exit status 1, never a crash; usage errors exit 2), outputs
# written whole or not at all, and record's error paths. tests/t70_corrupt.sh has the corrupt binary traces.
# usage: t70_trace_cli.sh PATH/TO/mmsim
set -u
M=$1
D=$(dirname "$0")/data/traces
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
key() { sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -1; }

# status N FILE PATTERN CMD...: CMD must exit N with PATTERN in its message (no crash, no success).
status() {
	want=$1
	f=$2
	pat=$3
	shift 3
	"$@" >"$tmp/o" 2>&1
	rc=$?
	[ $rc -eq "$want" ] && grep -q -- "$pat" "$tmp/o" || fail "$f: expected exit $want and '$pat', got $rc: $(head -c 300 "$tmp/o")"
}
# bad FILE PATTERN CMD...: bad input: exit 1. usage FILE PATTERN CMD...: a usage error: exit 2.
bad() { status 1 "$@"; }
usage() { status 2 "$@"; }

# ---- import, dump, compile: exact round trips ----
"$M" import perf "$D/gcc-compile.perf.txt.xz" -o "$tmp/g.mmtrace" --json >"$tmp/imp.json" || fail "import gcc-compile"
[ "$(key "$tmp/imp.json" threads)" = 3 ] || fail "gcc-compile: threads $(key "$tmp/imp.json" threads)"
[ "$(key "$tmp/imp.json" processes)" = 3 ] || fail "gcc-compile: processes $(key "$tmp/imp.json" processes)"
[ "$(key "$tmp/imp.json" faults)" = 9214 ] || fail "gcc-compile: faults $(key "$tmp/imp.json" faults)"
"$M" trace-dump "$tmp/g.mmtrace" >"$tmp/g.txt" || fail "trace-dump"
"$M" trace-compile "$tmp/g.txt" -o "$tmp/g2.mmtrace" || fail "trace-compile"
cmp -s "$tmp/g.mmtrace" "$tmp/g2.mmtrace" || fail "dump + compile does not give the same binary trace"
"$M" trace-dump "$tmp/g2.mmtrace" -o "$tmp/g2.txt" && cmp -s "$tmp/g.txt" "$tmp/g2.txt" || fail "text round trip differs"
grep -q '^1 fork 2 2 vfork' "$tmp/g.txt" || fail "gcc-compile: no vfork of cc1 in the text"
grep -q '^2 exec ' "$tmp/g.txt" || fail "gcc-compile: cc1 does not exec"
xz -c "$tmp/g.txt" >"$tmp/g.txt.xz" && "$M" trace-compile "$tmp/g.txt.xz" -o "$tmp/g3.mmtrace" &&
	cmp -s "$tmp/g.mmtrace" "$tmp/g3.mmtrace" || fail "compiling .xz text"
"$M" import perf "$D/sqlite-load.perf.txt.xz" -o "$tmp/s.mmtrace" --no-compute >/dev/null || fail "import --no-compute"
"$M" trace-dump "$tmp/s.mmtrace" | grep -q ' compute ' && fail "--no-compute left compute events"

# The calls beyond mapping (mlock, munlock, mlockall, munlockall, msync, mincore, ftruncate, fallocate) and every
# advice value: text -> binary -> text gives the same text, and the binary form compiles back to the same bytes.
C=$(dirname "$0")/../fuzz/corpus/trace/calls.txt
"$M" trace-compile "$C" -o "$tmp/calls.mmtrace" || fail "compile calls.txt"
"$M" trace-dump "$tmp/calls.mmtrace" >"$tmp/calls.txt" && cmp -s "$C" "$tmp/calls.txt" ||
	fail "calls.txt: the text round trip differs: $(diff "$C" "$tmp/calls.txt" | head -4)"
"$M" trace-compile "$tmp/calls.txt" -o "$tmp/calls2.mmtrace" && cmp -s "$tmp/calls.mmtrace" "$tmp/calls2.mmtrace" ||
	fail "calls.txt: the binary round trip differs"
for k in mlock munlock mlockall munlockall msync mincore ftruncate fallocate; do
	grep -q "^1 $k " "$tmp/calls.txt" || fail "calls.txt: no $k line after the round trip"
done
grep -q '^1 fallocate 1 keep_size|punch_hole 0x1000 0x1000 ret=0' "$tmp/calls.txt" || fail "calls.txt: fallocate's fields"
for a in remove dontfork wipeonfork cold pageout populate_write collapse guard_install guard_remove; do
	grep -q " madvise r1+0x0 0x1000 $a " "$tmp/calls.txt" || fail "calls.txt: advice $a is not spelled"
done
printf 'mmsim-trace 1\nthread 1 pid=1\n1 ftruncate 0 0x1000\n' >"$tmp/bad1.txt"
bad bad1.txt "bad1.txt:3: '0' is not a file id" "$M" trace-compile "$tmp/bad1.txt" -o "$tmp/x.mmtrace"
printf 'mmsim-trace 1\nthread 1 pid=1\n1 msync 0x1000 0x1000 sometimes\n' >"$tmp/bad2.txt"
bad bad2.txt "bad2.txt:3: 'sometimes' is not msync flags" "$M" trace-compile "$tmp/bad2.txt" -o "$tmp/x.mmtrace"
printf 'mmsim-trace 1\nthread 1 pid=1\n1 ftruncate 1 0x100000000000\n' >"$tmp/bad3.txt"
bad bad3.txt "bad3.txt:3: a file size beyond 64 GiB" "$M" trace-compile "$tmp/bad3.txt" -o "$tmp/x.mmtrace"

# ---- a hand-written text trace, replayed on every design ----
cat >"$tmp/hand.txt" <<'EOF'
mmsim-trace 1
# two threads of one process, then a fork
thread 1 pid=1 comm=hand
1 mmap 0 0x10000 rw- private|anon new=r1 ret=0x7f0000000000
1 access r1+0x0 w ret=0
1 mprotect r1+0x8000 0x8000 r-- ret=0
1 access r1+0x8000 w ret=1
1 access r1+0x9000 r ret=0
1 thread 2
2 access r1+0x1000 w ret=0
2 compute 5000ns
2 exit
1 brk 0 ret=0x555555600000
1 brk brk+0x3000 ret=0x555555603000
1 access brk+0x2000 w ret=0
1 fork 2 3
3 access r1+0x0 w ret=0
3 munmap r1+0x0 0x10000 ret=0
3 access r1+0x0 r ret=1
3 exit group
1 access r1+0x0 r ret=0
1 exit group
EOF
for d in $("$M" designs --names); do
	"$M" replay "$tmp/hand.txt" --design "$d" --cores 2 --json >"$tmp/h.json" 2>"$tmp/err" || fail "replay hand.txt $d: $(cat "$tmp/err")"
	for k in fault_outcome_mismatches result_mismatches tlb_coherence_violations; do
		[ "$(key "$tmp/h.json" $k)" = 0 ] || fail "hand.txt $d: $k = $(key "$tmp/h.json" $k)"
	done
	[ "$(key "$tmp/h.json" faults)" = 8 ] || fail "hand.txt $d: faults $(key "$tmp/h.json" faults)"
	[ "$(key "$tmp/h.json" trace_format)" = text ] || fail "hand.txt: format $(key "$tmp/h.json" trace_format)"
done

# ---- strace ----
cat >"$tmp/st.txt" <<'EOF'
1059  1795614135.604993 execve("./thr", ["./thr"], 0x7ffd07cb3b98 /* 41 vars */) = 0
1059  1795614135.612531 brk(NULL)       = 0x5605ca356000
1059  1795614135.613361 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7fdc5b0ae000
1059  1795614135.614619 mmap(NULL, 1974096, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc.so.6>, 0) = 0x7fdc5aec0000
1059  1795614135.614714 mmap(0x7fdc5aee6000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc.so.6>, 0x26000) = 0x7fdc5aee6000
1059  1795614135.622332 mmap(NULL, 8392704, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK, -1, 0) = 0x7fdc5a6bc000
1059  1795614135.622400 mprotect(0x7fdc5a6bd000, 8388608, PROT_READ|PROT_WRITE) = 0
1059  1795614135.622690 brk(0x5605ca377000) = 0x5605ca377000
1059  1795614135.623659 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7fdc5aebc990, parent_tid=0x7fdc5aebc990, exit_signal=0, stack=0x7fdc5a6bc000, stack_size=0x7fff80, tls=0x7fdc5aebc6c0} <unfinished ...>
1060  1795614135.624000 mmap(NULL, 65536, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 <unfinished ...>
1059  1795614135.624100 <... clone3 resumed> => {parent_tid=[1060]}, 88) = 1060
1060  1795614135.625018 <... mmap resumed>) = 0x7fdc5a6ac000
1060  1795614135.628759 mremap(0x7fdc5a6ac000, 65536, 1048576, MREMAP_MAYMOVE <unfinished ...>
1060  1795614135.628981 <... mremap resumed>) = 0x7fdc59dab000
1060  1795614135.629214 madvise(0x7fdc59dab000, 4096, MADV_DONTNEED) = 0
1060  1795614135.629285 munmap(0x7fdc59dab000, 1048576) = 0
1060  1795614135.630183 exit(0 <unfinished ...>
1060  1795614135.630285 <... exit resumed>) = ?
1060  1795614135.630414 +++ exited with 0 +++
1059  1795614135.636864 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fdc5aebda10) = 1063
1059  1795614135.638543 wait4(1063,  <unfinished ...>
1063  1795614135.640512 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 5, 0) = -1 EBADF (Bad file descriptor)
1063  1795614135.640600 exit_group(0)   = ?
1063  1795614135.644582 +++ exited with 0 +++
1059  1795614135.644643 <... wait4 resumed>NULL, 0, NULL) = 1063
1059  1795614135.644795 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=1063, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
1059  1795614135.652521 exit_group(0)   = ?
1059  1795614135.653540 +++ exited with 0 +++
EOF
"$M" import strace "$tmp/st.txt" -o "$tmp/st.mmtrace" --json >"$tmp/st.json" || fail "import strace"
[ "$(key "$tmp/st.json" threads)" = 3 ] || fail "strace: threads $(key "$tmp/st.json" threads)"
[ "$(key "$tmp/st.json" processes)" = 2 ] || fail "strace: processes $(key "$tmp/st.json" processes)"
"$M" trace-dump "$tmp/st.mmtrace" >"$tmp/st.dump"
grep -q '^1 thread 2' "$tmp/st.dump" || fail "strace: clone3 with CLONE_THREAD is not a thread"
grep -q '^1 fork 2 3 ' "$tmp/st.dump" || fail "strace: clone without CLONE_VM is not a fork: $(grep fork "$tmp/st.dump")"
grep -q '^2 mremap r[0-9]*+0x0 0x10000 0x100000 maymove new=r' "$tmp/st.dump" || fail "strace: stitched mremap: $(grep mremap "$tmp/st.dump")"
grep -q '^3 mmap' "$tmp/st.dump" && fail "strace: an mmap refused with EBADF was kept: $(grep '^3 mmap' "$tmp/st.dump")"
[ "$(key "$tmp/st.json" dropped_calls)" = 1 ] || fail "strace: dropped_calls $(key "$tmp/st.json" dropped_calls)"
"$M" replay "$tmp/st.txt" --design linux --cores 2 --json >"$tmp/str.json" || fail "replay strace text"
[ "$(key "$tmp/str.json" result_mismatches)" = 0 ] || fail "strace replay: result_mismatches $(key "$tmp/str.json" result_mismatches)"

# ---- perf: fork, kernel faults, a SIGSEGV ----
cat >"$tmp/pf.txt" <<'EOF2'
            prog   100 [000]     1.000000: PERF_RECORD_COMM exec: prog:100/100
            prog   100 [000]     1.000001: PERF_RECORD_MMAP2 100/100: [0x7ffc00000000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]
            prog   100 [000]     1.000002: PERF_RECORD_MMAP2 100/100: [0x400000(0x1000) @ 0 fe:00 5 0]: r-xp /bin/prog
            prog   100 [000]     1.000003:      raw_syscalls:sys_exit: NR 59 = 0
            prog   100 [000]     1.000004:     raw_syscalls:sys_enter: NR 9 (0, 2000, 3, 22, ffffffff, 0)
            prog   100 [000]     1.000005: PERF_RECORD_MMAP2 100/100: [0x7f0000000000(0x2000) @ 0x7f0000000000 00:00 0 0]: rw-p //anon
            prog   100 [000]     1.000006:      raw_syscalls:sys_exit: NR 9 = 139637976727552
            prog   100 [000]     1.000010: exceptions:page_fault_user: address=0x7f0000000010 ip=0x400100 error_code=0x6
            prog   100 [000]     1.000011: exceptions:page_fault_kernel: address=0x7f0000001000 ip=0xffffffff81000000 error_code=0x2
            prog   100 [000]     1.000020:     raw_syscalls:sys_enter: NR 56 (1200011, 0, 0, 0, 0, 0)
            prog   100 [000]     1.000030: PERF_RECORD_FORK(101:101):(100:100)
            prog   101 [001]     1.000031:      raw_syscalls:sys_exit: NR 56 = 0
            prog   100 [000]     1.000032:      raw_syscalls:sys_exit: NR 56 = 101
            prog   101 [001]     1.000040: exceptions:page_fault_user: address=0x7f0000000010 ip=0x400100 error_code=0x7
            prog   101 [001]     1.000050: exceptions:page_fault_user: address=0x10 ip=0x400100 error_code=0x6
            prog   101 [001]     1.000051:      signal:signal_deliver: sig=11 errno=0 code=1 sa_handler=0 sa_flags=0
            prog   101 [001]     1.000060: PERF_RECORD_EXIT(101:101):(100:100)
            prog   100 [000]     1.000070: exceptions:page_fault_user: address=0x400100 ip=0x400100 error_code=0x14
            prog   100 [000]     1.000080:     raw_syscalls:sys_enter: NR 231 (0, 0, 0, 0, 0, 0)
EOF2
"$M" import perf "$tmp/pf.txt" -o "$tmp/pf.mmtrace" >/dev/null || fail "import pf.txt"
"$M" trace-dump "$tmp/pf.mmtrace" >"$tmp/pf.dump"
grep -q '^1 fork 2 2 ' "$tmp/pf.dump" || fail "perf: clone without CLONE_VM is not a copy-on-write fork: $(grep fork "$tmp/pf.dump")"
grep -q '^2 access 0x10 w ret=1 ' "$tmp/pf.dump" || fail "perf: the fault before SIGSEGV: $(grep '^2 access' "$tmp/pf.dump")"
grep -q '^2 access r3+0x10 w ret=0 ' "$tmp/pf.dump" || fail "perf: the child's copy-on-write fault: $(grep '^2 access' "$tmp/pf.dump")"
grep -q '^1 access r3+0x1000 w hint=' "$tmp/pf.dump" || fail "perf: the kernel fault (unchecked): $(grep '^1 access' "$tmp/pf.dump")"
grep -q '^1 access r2+0x100 x ret=0 ' "$tmp/pf.dump" || fail "perf: the fetch fault: $(grep '^1 access' "$tmp/pf.dump")"
grep -q '^1 mmap 0x7ffc00000000 0x21000 rw- private|fixed|anon|growsdown new=r1 ' "$tmp/pf.dump" || fail "perf: the stack: $(grep '^1 mmap' "$tmp/pf.dump" | head -1)"
for d in $("$M" designs --names); do
	"$M" replay "$tmp/pf.mmtrace" --design "$d" --cores 2 --json >"$tmp/pf.json" 2>"$tmp/err" || fail "replay pf $d: $(cat "$tmp/err")"
	[ "$(key "$tmp/pf.json" fault_outcome_mismatches)" = 0 ] || fail "pf $d: fault_outcome_mismatches $(key "$tmp/pf.json" fault_outcome_mismatches)"
	[ "$(key "$tmp/pf.json" segv)" = 1 ] || fail "pf $d: segv $(key "$tmp/pf.json" segv)"
done

# ---- perf: a call across two independently placed regions becomes one event per region ----
cat >"$tmp/split.txt" <<'EOF2'
            prog   100 [000]     1.000000: PERF_RECORD_COMM exec: prog:100/100
            prog   100 [000]     1.000001: PERF_RECORD_MMAP2 100/100: [0x7ffc00000000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]
            prog   100 [000]     1.000003:      raw_syscalls:sys_exit: NR 59 = 0
            prog   100 [000]     1.000004:     raw_syscalls:sys_enter: NR 9 (0, 2000, 3, 22, ffffffff, 0)
            prog   100 [000]     1.000006:      raw_syscalls:sys_exit: NR 9 = 139637976727552
            prog   100 [000]     1.000007:     raw_syscalls:sys_enter: NR 9 (0, 2000, 1, 22, ffffffff, 0)
            prog   100 [000]     1.000008:      raw_syscalls:sys_exit: NR 9 = 139637976735744
            prog   100 [000]     1.000009:     raw_syscalls:sys_enter: NR 9 (7f0000001000, 1000, 0, 32, ffffffff, 0)
            prog   100 [000]     1.000010:      raw_syscalls:sys_exit: NR 9 = 139637976731648
            prog   100 [000]     1.000011:     raw_syscalls:sys_enter: NR 11 (7f0000000000, 4000, 0, 0, 0, 0)
            prog   100 [000]     1.000012:      raw_syscalls:sys_exit: NR 11 = 0
            prog   100 [000]     1.000020: exceptions:page_fault_user: address=0x7f0000000010 ip=0x400100 error_code=0x6
            prog   100 [000]     1.000021:      signal:signal_deliver: sig=11 errno=0 code=1 sa_handler=0 sa_flags=0
EOF2
"$M" import perf "$tmp/split.txt" -o "$tmp/split.mmtrace" >/dev/null || fail "import split.txt"
"$M" trace-dump "$tmp/split.mmtrace" | grep -v compute >"$tmp/split.dump"
grep -q '^1 mmap r2+0x1000 0x1000 --- private|fixed|anon ret=' "$tmp/split.dump" || fail "split: MAP_FIXED inside a region: $(grep mmap "$tmp/split.dump")"
[ "$(grep -c '^1 munmap' "$tmp/split.dump")" = 2 ] && grep -q '^1 munmap r2+0x0 0x2000 ' "$tmp/split.dump" &&
	grep -q '^1 munmap r3+0x0 0x2000 ' "$tmp/split.dump" || fail "split: $(grep munmap "$tmp/split.dump")"
grep -q '^1 access 0x7f0000000010 w ret=1 ' "$tmp/split.dump" || fail "split: an access after the munmap is absolute: $(grep access "$tmp/split.dump")"
for d in linux cortenmm-rw; do
	"$M" replay "$tmp/split.mmtrace" --design "$d" --json >"$tmp/sp.json" 2>&1 || fail "replay split $d"
	[ "$(key "$tmp/sp.json" result_mismatches)" = 0 ] && [ "$(key "$tmp/sp.json" fault_outcome_mismatches)" = 0 ] ||
		fail "split $d: mismatches $(key "$tmp/sp.json" result_mismatches) $(key "$tmp/sp.json" fault_outcome_mismatches)"
done

# ---- bad perf input ----
P="sqlite3 10065 [001]  1570.743510:"
printf '%s     raw_syscalls:sys_enter: NR 12 (0, 7ffc5\n' "$P" >"$tmp/p1.txt"
bad p1 "p1.txt:1: malformed sys_enter" "$M" import perf "$tmp/p1.txt" -o "$tmp/x"
printf '%s     foo:bar: x=1\n' "$P" >"$tmp/p2.txt"
bad p2 "p2.txt:1: unknown event 'foo:bar'" "$M" import perf "$tmp/p2.txt" -o "$tmp/x"
printf '%s     raw_syscalls:sys_exit: NR 9 = 140\n' "$P" >"$tmp/p3.txt"
bad p3 "p3.txt:1: sys_exit of NR 9 on thread 10065 with no sys_enter" "$M" import perf "$tmp/p3.txt" -o "$tmp/x"
printf '%s exceptions:page_fault_user: address=0xzz ip=0x1 error_code=0x6\n' "$P" >"$tmp/p4.txt"
bad p4 "p4.txt:1: malformed page fault" "$M" import perf "$tmp/p4.txt" -o "$tmp/x"
printf 'hello world\n' >"$tmp/p5.txt"
bad p5 "p5.txt:1: not a perf script line" "$M" import perf "$tmp/p5.txt" -o "$tmp/x"
printf '%s     raw_syscalls:sys_enter: NR 9 (0, 1000, 3, 22, ffffffff, 0)\n%s     raw_syscalls:sys_enter: NR 11 (0, 1000, 3, 22, ffffffff, 0)\n' "$P" "$P" >"$tmp/p6.txt"
bad p6 "p6.txt:2: sys_enter of NR 11 on thread 10065 while NR 9 (line 1) has not returned" "$M" import perf "$tmp/p6.txt" -o "$tmp/x"
printf '%s PERF_RECORD_MMAP2 10065/10065: [0x7ffc54282000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]\n%s PERF_RECORD_LOST 12\n' "$P" "$P" >"$tmp/p7.txt"
bad p7 "p7.txt:2: perf lost events" "$M" import perf "$tmp/p7.txt" -o "$tmp/x"
printf '%s PERF_RECORD_MMAP2 10065/10065: [0x7ffc54282000(0x21000) @ 0x7ffffffde000 00:00 0\n' "$P" >"$tmp/p8.txt"
bad p8 "p8.txt:1: malformed PERF_RECORD_MMAP2" "$M" import perf "$tmp/p8.txt" -o "$tmp/x"
printf '%s     raw_syscalls:sys_exit: NR 99999999999999999999999 = 1\n' "$P" >"$tmp/p9.txt"
bad p9 "p9.txt:1: malformed sys_exit" "$M" import perf "$tmp/p9.txt" -o "$tmp/x"
# A real trace cut in the middle of a line (and the .xz cut short).
xzcat "$D/sort-parallel.perf.txt.xz" | head -c 30000 >"$tmp/cut.txt"
bad cut "cut.txt:[0-9]*: " "$M" import perf "$tmp/cut.txt" -o "$tmp/x"
head -c 20000 "$D/sort-parallel.perf.txt.xz" >"$tmp/cut.perf.txt.xz"
bad cutxz "cut.perf.txt.xz: xz data cut short" "$M" import perf "$tmp/cut.perf.txt.xz" -o "$tmp/x"
bad nofile "cannot open" "$M" import perf "$tmp/nosuch.txt" -o "$tmp/x"
usage fmt "'ltrace' is not a format" "$M" import ltrace "$tmp/p1.txt"
[ -e "$tmp/x" ] && fail "a failed import left its output"

# ---- bad strace input ----
printf '12 1.5 <... mmap resumed>) = 0\n' >"$tmp/s1.txt"
bad s1 "s1.txt:1: '<... mmap resumed>' with no unfinished call" "$M" import strace "$tmp/s1.txt" -o "$tmp/x"
printf '12 yesterday mmap(NULL, 1, PROT_READ, MAP_PRIVATE, 3, 0) = 0x1000\n' >"$tmp/s2.txt"
bad s2 "s2.txt:1: expected a timestamp" "$M" import strace "$tmp/s2.txt" -o "$tmp/x"
printf '12 1.5 mmap(NULL, 1, PROT_BOGUS, MAP_PRIVATE, 3, 0) = 0x1000\n' >"$tmp/s3.txt"
bad s3 "s3.txt:1: mmap: argument 3 'PROT_BOGUS' is not understood" "$M" import strace "$tmp/s3.txt" -o "$tmp/x"
printf '12 1.5 munmap(0x1000, 4096\n' >"$tmp/s4.txt"
bad s4 "s4.txt:1: munmap: no ') = RESULT'" "$M" import strace "$tmp/s4.txt" -o "$tmp/x"
printf '12 1.5 mmap(NULL, 1, PROT_READ <unfinished ...>\n12 1.6 <... munmap resumed>) = 0\n' >"$tmp/s5.txt"
bad s5 "s5.txt:2: '<... munmap resumed>' does not match" "$M" import strace "$tmp/s5.txt" -o "$tmp/x"

# ---- bad text traces ----
t() { printf 'mmsim-trace 1\nthread 1 pid=1\n%s\n' "$1" >"$tmp/t.txt"; bad "text '$1'" "t.txt:3: $2" "$M" trace-compile "$tmp/t.txt" -o "$tmp/x"; }
t '1 mmap 0 0x1000' "mmap needs 4 arguments"
t '1 frobnicate 1 2' "unknown event kind 'frobnicate'"
t '1 munmap 0xZZ 0x1000' "'0xZZ' is not an address"
t '1 mprotect r1+0x0 0x1000 rw' "'rw' is not a protection"
t '1 access r0+0x0 w' "'r0+0x0' is not an address"
t '1 access 0x1000 q' "'q' is not an access type"
t '1 compute 99999999999999999999' "'99999999999999999999' is not a compute gap"
t '1 mmap 0 0x1000 rw- private|bogus' "'private|bogus' is not mmap flags"
t '1 thread 1' "thread 1 cannot create itself"
t '1 barrier 1 2' "barrier events belong to synthetic workloads"
t '1 mmap 0 0x1000 rw- private ret=5' "a file mapping needs file=N"
t '1 exit frob' "'frob' is not key=value"
t '2 thread 3' "thread 2 creates a thread before its process is known"
printf 'mmsim-trace 2\n' >"$tmp/v.txt"
bad version "v.txt:1: text trace version 2" "$M" trace-compile "$tmp/v.txt" -o "$tmp/x"
printf 'mmsim-trace 1\n1 exit\n' >"$tmp/u.txt"
bad undeclared "u.txt:2: thread 1 has events but is neither declared" "$M" trace-compile "$tmp/u.txt" -o "$tmp/x"
printf '' >"$tmp/e.txt"
bad empty "e.txt:0: empty" "$M" trace-compile "$tmp/e.txt" -o "$tmp/x"

# ---- bad binary traces (tests/t70_corrupt.sh has every kind of corruption) ----
size=$(wc -c <"$tmp/g.mmtrace")
head -c $((size / 2)) "$tmp/g.mmtrace" >"$tmp/half.mmtrace"
bad half "half.mmtrace: byte [0-9]*, event [0-9]*: " "$M" trace-dump "$tmp/half.mmtrace"
bad halfreplay "half.mmtrace: byte [0-9]*, event [0-9]*: " "$M" replay "$tmp/half.mmtrace" --design linux
head -c 40 "$tmp/g.mmtrace" >"$tmp/head.mmtrace"
bad head "head.mmtrace: byte [0-9]*, event [0-9]*: " "$M" trace-dump "$tmp/head.mmtrace"
# Another version: the prefix's version (bytes 16-19) made 4.
{ head -c 16 "$tmp/g.mmtrace"; printf '\004\000\000\000'; tail -c +21 "$tmp/g.mmtrace"; } >"$tmp/v4.mmtrace"
bad v4 "v4.mmtrace: byte 0, event 1: trace format version 4; this mmsim reads versions 2 and 3" "$M" trace-dump "$tmp/v4.mmtrace"
# Version 1 (a zstd stream of the magic and version 1): import again.
printf 'MMSIMTRC\001\000\000\000' | zstd -q -c >"$tmp/v1.mmtrace"
bad v1 "v1.mmtrace: byte 0, event 1: trace format version 1; .*import the recording again" "$M" replay "$tmp/v1.mmtrace" --design linux
# The events of another trace after this one's prefix.
{ head -c 20 "$tmp/g.mmtrace"; head -c 300 /dev/urandom; } >"$tmp/garbage.mmtrace"
bad garbage "garbage.mmtrace: byte [0-9]*, event [0-9]*: " "$M" trace-dump "$tmp/garbage.mmtrace"
printf 'not a trace at all\n' >"$tmp/junk.bin"
bad junk "junk.bin: byte 0: not a trace" "$M" replay "$tmp/junk.bin" --design linux

# ---- outputs: written whole or not at all ----
if [ -w /dev/full ]; then
	bad fullimport "/dev/full: write error: No space left on device" "$M" import perf "$D/sqlite-load.perf.txt.xz" -o /dev/full
	bad fullcompile "/dev/full: write error: No space left on device" "$M" trace-compile "$tmp/g.txt" -o /dev/full
	bad fulldump "/dev/full: write error: No space left on device" "$M" trace-dump "$tmp/g.mmtrace" -o /dev/full
	"$M" trace-dump "$tmp/g.mmtrace" >/dev/full 2>"$tmp/o"
	[ $? -eq 1 ] && grep -q "write error: No space left on device" "$tmp/o" || fail "trace-dump >/dev/full: $(cat "$tmp/o")"
fi
cp "$tmp/g.mmtrace" "$tmp/keep.mmtrace"
bad keepimport "p1.txt:1: malformed sys_enter" "$M" import perf "$tmp/p1.txt" -o "$tmp/keep.mmtrace"
cmp -s "$tmp/g.mmtrace" "$tmp/keep.mmtrace" || fail "a failed import changed the file it would have replaced"
cp "$tmp/g.txt" "$tmp/keep.txt"
bad keepdump "half.mmtrace: byte " "$M" trace-dump "$tmp/half.mmtrace" -o "$tmp/keep.txt"
cmp -s "$tmp/g.txt" "$tmp/keep.txt" || fail "a refused trace-dump changed the file it would have replaced"
[ -z "$(find "$tmp" -name '.*.??????')" ] || fail "temporary files left: $(find "$tmp" -name '.*.??????')"

# ---- record: error paths (and a real recording where perf works) ----
MMSIM_PERF=/nonexistent/perf "$M" record -o "$tmp/r.mmtrace" -- /bin/true >"$tmp/o" 2>&1
[ $? -eq 1 ] && grep -q "perf is not installed" "$tmp/o" || fail "record without perf: $(cat "$tmp/o")"
usage noout "-o OUT is required" "$M" record -- /bin/true
printf '#!/bin/sh\necho "fake perf failing" >&2\nexit 1\n' >"$tmp/fakeperf"
chmod +x "$tmp/fakeperf"
if [ -r /sys/kernel/tracing/events/exceptions/page_fault_user ] && [ "$(id -u)" = 0 ]; then
	MMSIM_PERF="$tmp/fakeperf" "$M" record -o "$tmp/r.mmtrace" -- /bin/true >"$tmp/o" 2>&1
	[ $? -eq 1 ] && grep -q "perf record failed" "$tmp/o" || fail "record with a failing perf: $(cat "$tmp/o")"
	if command -v perf >/dev/null 2>&1 && perf stat -e sched:sched_process_exec true >/dev/null 2>&1; then
		if "$M" record -o "$tmp/r.mmtrace" --json -- /bin/sh -c 'ls / >/dev/null' >"$tmp/rec.json" 2>"$tmp/err"; then
			"$M" replay "$tmp/r.mmtrace" --design cortenmm-adv --cores 2 --json >"$tmp/rr.json" || fail "replay of a recording"
			[ "$(key "$tmp/rr.json" fault_outcome_mismatches)" = 0 ] || fail "recording: fault_outcome_mismatches $(key "$tmp/rr.json" fault_outcome_mismatches)"
			[ "$(key "$tmp/rec.json" processes)" -ge 2 ] || fail "recording of sh + ls: processes $(key "$tmp/rec.json" processes)"
		else
			fail "record: $(tail -3 "$tmp/err")"
		fi
	else
		echo "note: perf cannot record here; the real recording was skipped"
	fi
else
	echo "note: no tracefs access as root here; record was only checked without perf"
fi

if [ "$fails" -ne 0 ]; then
	echo "t70_trace_cli: $fails failure(s)"
	exit 1
fi
echo "t70_trace_cli: all checks passed"
