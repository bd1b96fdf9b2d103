#!/bin/sh
# t70_corrupt.sh: a corrupt binary trace is refused by every command that reads one (replay, timeline --trace, trace-dump,
# import binary): cut at every block boundary and inside every block, bytes after its end, single bit flips at many
# offsets. Each command must exit 1 with the file, a byte offset and an event number in its message, and must simulate
# and write nothing; the intact trace must still replay.
# usage: t70_corrupt.sh PATH/TO/mmsim
set -u
M=$1
D=$(dirname "$0")/data/traces
fails=0
cases=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# u32 FILE OFFSET: the little-endian u32 at OFFSET.
u32() { od -An -tu4 -j"$2" -N4 "$1" | tr -d ' '; }

# bounds FILE: the offsets where blocks' descriptors and zstd frames start, then the footer's (docs/trace-format.md).
bounds() {
	o=20
	while [ "$(u32 "$1" $((o + 4)))" = 36 ]; do
		echo $o $((o + 44))
		o=$((o + 44 + $(u32 "$1" $((o + 32)))))
	done
	echo $o
}

# flip FILE OFFSET BIT: FILE with one bit flipped, as $tmp/bad.mmtrace.
flip() {
	cp "$1" "$tmp/bad.mmtrace"
	b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ (1 << $3))))" | dd of="$tmp/bad.mmtrace" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# run WHAT CMD...: CMD must exit 1, print nothing on standard output, and name the file, a byte and an event (or, when
# even the first bytes say nothing, the file and byte 0: replay's detection of the format).
run() {
	what=$1
	shift
	"$@" >"$tmp/so" 2>"$tmp/se"
	rc=$?
	[ $rc -eq 1 ] && [ ! -s "$tmp/so" ] && grep -q "bad.mmtrace: byte \([0-9]*, event [0-9]*\|0\): " "$tmp/se" ||
		fail "$what: $* exited $rc: $(head -c 300 "$tmp/se") $(head -c 100 "$tmp/so")"
}

# refused WHAT: every command refuses $tmp/bad.mmtrace, and writes no output.
refused() {
	cases=$((cases + 1))
	rm -rf "$tmp/out.tl" "$tmp/out.txt" "$tmp/out.mmtrace"
	run "$1" "$M" replay "$tmp/bad.mmtrace" --design linux --json
	run "$1" "$M" timeline -o "$tmp/out.tl" --trace "$tmp/bad.mmtrace" --design cortenmm-adv
	run "$1" "$M" trace-dump "$tmp/bad.mmtrace" -o "$tmp/out.txt"
	run "$1" "$M" import binary "$tmp/bad.mmtrace" -o "$tmp/out.mmtrace"
	for o in "$tmp/out.tl" "$tmp/out.txt" "$tmp/out.mmtrace"; do
		[ -e "$o" ] && fail "$1: $o was written"
	done
}

T=$tmp/good.mmtrace
"$M" import perf "$D/gcc-compile.perf.txt.xz" -o "$T" >/dev/null || { echo "FAIL: import"; exit 1; }
size=$(wc -c <"$T")
bounds=$(bounds "$T")
[ "$(echo $bounds | wc -w)" -ge 7 ] || fail "the test trace has fewer than two events blocks: $bounds"

# Cut at every block boundary, and inside every block (and inside the prefix).
for b in 0 13 $bounds; do
	for k in 0 13; do
		[ $((b + k)) -lt "$size" ] || continue
		head -c $((b + k)) "$T" >"$tmp/bad.mmtrace"
		refused "cut at byte $((b + k))"
	done
done
head -c $((size - 1)) "$T" >"$tmp/bad.mmtrace"
refused "cut at the last byte"

# Bytes after the end.
for extra in 1 16; do
	{ cat "$T"; head -c $extra /dev/zero; } >"$tmp/bad.mmtrace"
	refused "$extra bytes after the end"
done
cat "$T" "$T" >"$tmp/bad.mmtrace"
refused "the trace twice"

# Single bit flips: in the prefix, around every boundary, in the footer's last bytes, and every size/40 bytes.
offs="0 3 9 17 19 $((size - 1)) $((size - 6)) $((size - 14)) $((size - 30))"
for b in $bounds; do
	offs="$offs $((b + 2)) $((b + 20)) $((b + 47))"
done
steps=40
[ "${MMSIM_TEST_SIZE:-}" = small ] && steps=8 # the sanitizer builds: every size/8 bytes
i=1
while [ $i -lt $steps ]; do
	offs="$offs $((size * i / steps))"
	i=$((i + 1))
done
n=0
for o in $offs; do
	[ "$o" -lt "$size" ] || continue
	flip "$T" "$o" $((n % 8))
	refused "bit $((n % 8)) of byte $o"
	n=$((n + 1))
done

# The intact trace still works, through every command.
"$M" replay "$T" --design linux --json >"$tmp/so" 2>"$tmp/se" || fail "the intact trace: $(cat "$tmp/se")"
grep -q '"fault_outcome_mismatches": 0' "$tmp/so" || fail "the intact trace: $(grep mismatches "$tmp/so")"
"$M" import binary "$T" -o "$tmp/copy.mmtrace" >/dev/null && cmp -s "$T" "$tmp/copy.mmtrace" || fail "import binary is not an exact copy"

if [ "$fails" -ne 0 ]; then
	echo "t70_corrupt: $fails failure(s) in $cases corrupt traces"
	exit 1
fi
echo "t70_corrupt: all $cases corrupt traces refused by every command"
