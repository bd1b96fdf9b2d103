#!/bin/sh
# t54_fork_cow.sh: issue 16's fork/copy-on-write panic on every design: a private file page written, a fork, a second write; as a replayed trace and in teaching mode.
# usage: t54_fork_cow.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"

cat >"$tmp/t.txt" <<'T'
mmsim-trace 1
thread 1 pid=1
thread 2 pid=2 parent=1
file 1 size=0x1000 name=lib
1 mmap 0x0 0x1000 rw- private new=r1 file=1 off=0x0
1 access r1+0x0 w
1 fork 2 2
1 access r1+0x0 w
2 access r1+0x0 w
1 exit group
2 exit group
T
cat >"$tmp/cow.mmsim" <<'T'
mmap 4K rw file 1 as lib
touch lib w
fork
touch lib w
switch 0 2
touch lib w
T

designs=$("$M" designs --names)
[ -n "$designs" ] || fail "no designs"
for d in $designs; do
	# Replay: every write resolves; the parent copies (the child still maps the page), the child then reuses.
	if ! "$M" replay "$tmp/t.txt" --design "$d" --json >"$tmp/$d.json" 2>"$tmp/$d.err"; then
		fail "$d: replay failed: $(head -c 300 "$tmp/$d.err")"
		continue
	fi
	grep -q '"segv": 0,' "$tmp/$d.json" || fail "$d: a write drew SIGSEGV"
	grep -q '"fault_outcome_mismatches": 0,' "$tmp/$d.json" || fail "$d: fault outcomes differ from the trace's"
	grep -q '"frames_copied": 2,' "$tmp/$d.json" || fail "$d: expected 2 copies (the private file copy, then the parent's copy-on-write): $(grep frames_copied "$tmp/$d.json")"
	# Teaching mode: the same steps, narrated.
	if ! "$M" explain --design "$d" "$tmp/cow.mmsim" >"$tmp/$d.out" 2>"$tmp/$d.xerr" || [ -s "$tmp/$d.xerr" ]; then
		fail "$d: explain failed: $(head -c 300 "$tmp/$d.xerr")"
		continue
	fi
	grep -q "private file write fault: a private copy" "$tmp/$d.out" || fail "$d: explain shows no private file copy"
	grep -q "copy-on-write fault: frame .* is replaced by the new copy" "$tmp/$d.out" || fail "$d: explain shows no copy-on-write copy"
	grep -q "copy-on-write fault, but frame .* has no other user" "$tmp/$d.out" || fail "$d: explain shows no copy-on-write reuse in the child"
done
finish t54_fork_cow
