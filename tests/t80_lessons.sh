#!/bin/sh
# t80_lessons.sh: teaching mode: every lesson's transcript is what the model says today; bad input gives one-line errors and the session goes on; pictures.
# usage: t80_lessons.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"
D=$(cd "$(dirname "$0")/.." && pwd)

# Each lesson, compared with its checked-in transcript.
n=0
for l in "$D"/lessons/*.mmsim; do
	n=$((n + 1))
	name=$(basename "$l" .mmsim)
	"$M" explain "$l" >"$tmp/$name.out" 2>"$tmp/$name.err"
	st=$?
	if [ $st -ne 0 ] || [ -s "$tmp/$name.err" ]; then
		fail "lesson $name exited $st: $(head -c 300 "$tmp/$name.err")"
		continue
	fi
	if ! diff -u "${l%.mmsim}.out" "$tmp/$name.out" >"$tmp/$name.diff"; then
		fail "lesson $name no longer matches lessons/$name.out (if the change is deliberate, run tools/update-lessons and read the diff):"
		head -40 "$tmp/$name.diff"
	fi
done
[ "$n" -ge 6 ] || fail "only $n lessons"

# What the lessons must show, whatever the numbers: the words that carry each lesson.
grep -q "2 MiB page, frame" "$D/lessons/01-page-walk.out" || fail "lesson 1 shows no 2 MiB page"
grep -q "paging-structure cache hit" "$D/lessons/01-page-walk.out" || fail "lesson 1 shows no PSC hit"
grep -q "256 STLB hits" "$D/lessons/02-tlb-reach.out" || fail "lesson 2: the 1 MiB pass should hit the STLB"
grep -q "8192 accesses: 0 L1 TLB hits, 0 STLB hits, 8192 page walks" "$D/lessons/02-tlb-reach.out" || fail "lesson 2: the 32 MiB pass should walk"
grep -q "replaced by the new copy" "$D/lessons/03-fork-cow.out" || fail "lesson 3 shows no copy"
grep -q "no other user: made writable in place" "$D/lessons/03-fork-cow.out" || fail "lesson 3 shows no reuse"
grep -q "split VMA" "$D/lessons/04-mprotect-vmas-vs-metadata.out" || fail "lesson 4 shows no split"
grep -q "status: anon r-- private" "$D/lessons/04-mprotect-vmas-vs-metadata.out" || fail "lesson 4 shows no status"
grep -q "shootdown: IPIs to cores 1,2,3" "$D/lessons/05-shootdown-lazy.out" || fail "lesson 5 shows no shootdown"
grep -q "lazy (LATR) flush" "$D/lessons/05-shootdown-lazy.out" || fail "lesson 5 shows no lazy flush"
grep -q "the last core to flush" "$D/lessons/05-shootdown-lazy.out" || fail "lesson 5 frees nothing"
grep -q "mmap_lock for writing.*(waited [1-9]" "$D/lessons/06-two-cores-mmap.out" || fail "lesson 6: a linux core should wait for mmap_lock"
tail -20 "$D/lessons/06-two-cores-mmap.out" | grep -q "waited" && fail "lesson 6: a cortenmm-adv core waited"

# Bad input: one line each, and the session goes on.
cat >"$tmp/bad.mmsim" <<'EOS'
mmap 16K as a
frobnicate 1 2
touch nosuch w
touch a w on 9
mprotect a 4K rwq
madvise a 4K sometimes
switch 0 7
design nosuch
show nothing
advance soon
together mmap 4K on 1 ; mmap 4K on 1
touch a w
EOS
"$M" explain --cores 4 "$tmp/bad.mmsim" >"$tmp/bad.out" 2>"$tmp/bad.err"
st=$?
[ $st -eq 1 ] || fail "a script with bad commands should exit 1, got $st"
[ "$(grep -c '^error: ' "$tmp/bad.out")" -eq 10 ] || fail "expected 10 one-line errors: $(grep '^error' "$tmp/bad.out")"
grep -q "^error: unknown command 'frobnicate'" "$tmp/bad.out" || fail "unknown command: $(cat "$tmp/bad.out")"
grep -q "^error: no name 'nosuch'" "$tmp/bad.out" || fail "bad name"
grep -q "^error: no core 9: this machine has cores 0 to 3" "$tmp/bad.out" || fail "bad core"
grep -q "^error: together: two commands on core 1" "$tmp/bad.out" || fail "together on one core"
grep -q "bad.mmsim:3: the command above failed" "$tmp/bad.err" || fail "no file:line on stderr: $(cat "$tmp/bad.err")"
grep -q "write 0x.*: ok" "$tmp/bad.out" || fail "the session did not go on after the errors"

# Input from a pipe works like a script; the machine is deterministic.
printf 'mmap 8K as x\ntouch x w\nshow tlb\nshow stats\nshow layout\nshow locks\nshow frames\nhelp\nhelp touch\n' | "$M" explain >"$tmp/p1" || fail "piped session failed"
printf 'mmap 8K as x\ntouch x w\nshow tlb\nshow stats\nshow layout\nshow locks\nshow frames\nhelp\nhelp touch\n' | "$M" explain >"$tmp/p2"
cmp -s "$tmp/p1" "$tmp/p2" || fail "two identical sessions differ"
grep -q "L1 data TLB, 4 KiB pages (96 entries, 96-way): 1 live" "$tmp/p1" || fail "show tlb: $(grep -A2 'show tlb' "$tmp/p1")"
grep -q "e.g. touch buf w on 1" "$tmp/p1" || fail "help lists no examples"

# The page table as a picture.
if command -v dot >/dev/null 2>&1; then
	printf 'mmap 4M as x\ntouch x 64K w\nshow pt --svg %s/pt.svg\n' "$tmp" | "$M" explain --design cortenmm-adv >"$tmp/svg.out" || fail "show pt --svg failed: $(cat "$tmp/svg.out")"
	grep -q "<svg" "$tmp/pt.svg" 2>/dev/null || fail "no SVG written"
	grep -q "status: anon rw" "$tmp/pt.svg" || fail "the SVG shows no statuses"
else
	echo "SKIP: Graphviz (dot) is not installed: show pt --svg not tested"
fi
printf 'mmap 4M as x\nshow pt --svg %s/pt.dot\n' "$tmp" | "$M" explain >/dev/null && grep -q "digraph" "$tmp/pt.dot" || fail "no DOT written"

"$M" explain --help | grep -q "usage: mmsim explain" || fail "no help"
"$M" explain --mode par </dev/null >"$tmp/o" 2>&1; [ $? -eq 2 ] || fail "--mode par should be refused"
"$M" explain /nonexistent >"$tmp/o" 2>&1; [ $? -eq 1 ] && grep -q "cannot read '/nonexistent'" "$tmp/o" || fail "missing script: $(cat "$tmp/o")"

finish t80_lessons
