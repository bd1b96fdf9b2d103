#!/bin/sh
# t51_live.sh: the live conformance check: mmsim-gtrec records random mm calls on the kernel this runs on, and the
# reference model, set up as that kernel (version and settings from the recording's header), and every design must
# reproduce every result, layout and residency. The recording must cover fork, file-backed private writes, file size changes and every
# advice value. Fails if the recorder is missing (it is built beside mmsim).
# usage: t51_live.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"

rec="$tmp/live.txt"
"$M" conform --live --sequences 120 --seed 51 --keep "$rec" --json >"$tmp/out" 2>"$tmp/err"
st=$?
[ "$st" -eq 0 ] || fail "conform --live exited $st: $(head -c 2000 "$tmp/err")"
grep -q '"calls": 3600' "$tmp/out" || fail "not 3600 calls: $(cat "$tmp/out")"
for k in result layout resident vma_boundary; do
	grep -q "\"reference_${k}_mismatches\": 0" "$tmp/out" || fail "reference ${k} mismatches: $(cat "$tmp/out")"
done

# The recording names its kernel and the settings results depend on.
grep -q "^kernel $(uname -r)\$" "$rec" || fail "no 'kernel $(uname -r)' line"
for s in thp_enabled ksm_run overcommit_memory memlock_limit cap_ipc_lock; do
	grep -q "^setting $s " "$rec" || fail "no setting $s"
done

# What it must cover: fork both ways, private writes to the file, size changes, every advice value.
for c in "fork child" "fork parent" "ftruncate" "fallocate" "mlock" "munlock" "msync" "mincore" "maymove-fixed-dontunmap"; do
	grep -q "^$c" "$rec" || grep -q " $c" "$rec" || fail "the recording has no '$c'"
done
# A write that succeeded on a page of a private file mapping (copy-on-write of a file page): count them.
cow=$(awk '
function hex(s,  neg, v, i) {
	neg = substr(s, 1, 1) == "-"; if (neg) s = substr(s, 2)
	s = tolower(substr(s, 3)); v = 0
	for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return neg ? -v : v
}
/^touch .* w$/ { v = hex($2); pg = v < 0 ? -int((-v + 4095) / 4096) : int(v / 4096); want = 1; ok = 0; next }
want && /^  -> / { ok = $2 == "ok"; next }
want && /^  vma / && ok {
	split($2, ab, "-"); a = ab[1]; b = ab[2]
	if (substr($2, 1, 1) == "-") { a = -ab[2]; b = ab[3] == "" ? -ab[4] : ab[3] }
	if (pg >= a && pg < b && $3 ~ /p$/ && $4 ~ /^file\+/) n++
	next
}
{ want = 0 }
END { print n + 0 }' "$rec")
[ "$cow" -gt 0 ] || fail "no successful write to a private file mapping"
echo "t51_live: $cow writes to private file mappings"
advice="normal random sequential willneed dontneed free remove dontfork dofork mergeable unmergeable hugepage nohugepage
dontdump dodump wipeonfork keeponfork cold pageout populate-read populate-write dontneed-locked collapse guard-install guard-remove"
if grep -q "^setting hwpoison_tried 1" "$rec"; then advice="$advice hwpoison soft-offline"; fi
for a in $advice; do
	grep -q "^madvise .* $a\$" "$rec" || fail "no madvise $a"
done
grep -Eq "^madvise .* -?[0-9]+\$" "$rec" || fail "no rejected advice value"

# Every design replays the same recording with no mismatch of any kind (results, layouts, residency, VMA
# boundaries for designs with VMAs), no TLB coherence violation and no leaked frame.
designs=$("$M" designs | awk '/^[a-z]/ {print $1}')
[ -n "$designs" ] || fail "no designs listed"
for d in $designs; do
	"$M" conform --design "$d" "$rec" --json >"$tmp/d.out" 2>"$tmp/d.err"
	st=$?
	[ "$st" -eq 0 ] || fail "design $d: conform exited $st: $(head -c 1500 "$tmp/d.err") $(cat "$tmp/d.out")"
	for k in result layout resident vma_boundary; do
		grep -q "\"${k}_mismatches\": 0" "$tmp/d.out" || fail "design $d: ${k} mismatches: $(cat "$tmp/d.out")"
	done
	grep -q '"unsupported_calls": 0' "$tmp/d.out" || fail "design $d: unsupported calls: $(cat "$tmp/d.out")"
done
echo "t51_live: every design ($(echo $designs | wc -w)) replays the recording exactly"

# The check is not vacuous: a recording with one result changed is caught, with its sequence and call.
awk 'BEGIN{done=0} { if (!done && $0 ~ /^  -> 0$/ && prev ~ /^munmap /) { print "  -> EINVAL"; done=1 } else print; prev=$0 }' \
	"$rec" >"$tmp/bad.txt"
"$M" conform --design reference "$tmp/bad.txt" >"$tmp/out2" 2>"$tmp/err2"
[ $? -eq 1 ] || fail "a changed result was not caught"
grep -q "sequence [0-9]*: munmap .*: result 0, kernel EINVAL" "$tmp/err2" || fail "the mismatch report lacks the call: $(head -c 500 "$tmp/err2")"
finish t51_live
