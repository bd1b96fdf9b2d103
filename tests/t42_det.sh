#!/bin/sh
# t42_det.sh: deterministic mode is bit-identical whatever the host does: every design at 1, 8 and 32 cores, run again
# with a larger environment (the stacks move), with address-space randomization off (setarch -R; on in the others), and
# with a CPU-bound process running beside it; the JSON output is compared byte for byte, the host_* timings aside.
# usage: t42_det.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"

# The workloads: frees after grace periods (mmap+munmap: VMAs, tree nodes, PT pages), contended munmaps of touched
# pages (locks, shootdowns, IPIs), thread stacks with mprotect (splits and merges, frees of what munmap took).
# Request counts are small: the test is about the order of events, not their number (about 20 s on 2 idle cores).
cases="mmap:--ops=24 munmap:--contention=high:--ops=8 jvm-threads:--ops=4"

# run NAME DESIGN CORES WORKLOAD OPTIONS...: one run's JSON without host timings, in $tmp/NAME.
run() {
	n=$1 d=$2 c=$3 w=$4
	shift 4
	if ! "$@" run --design "$d" --workload "$w" --cores "$c" $opts --json >"$tmp/$n.json" 2>"$tmp/err"; then
		fail "$n: $d $w at $c cores exited $?: $(head -c 300 "$tmp/err")"
		return
	fi
	grep -v '^  "host_' "$tmp/$n.json" >"$tmp/$n"
}

# same NAME DESIGN CORES WORKLOAD: NAME's output equals the first run's.
same() {
	[ -s "$tmp/$1" ] || return
	cmp -s "$tmp/first" "$tmp/$1" || fail "$2 $4 at $3 cores ($opts): $1 differs from the first run: $(diff "$tmp/first" "$tmp/$1" | head -6 | tr '\n' ' ')"
}

aslr=$(cat /proc/sys/kernel/randomize_va_space 2>/dev/null || echo unknown)
[ "$aslr" = 0 ] && echo "note: address-space randomization is off on this host (randomize_va_space 0): the runs without setarch -R randomize nothing"
if setarch -R true 2>/dev/null; then norand="setarch -R"; else norand=""; echo "note: setarch -R unavailable: that variant runs as a plain run"; fi
pad=$(head -c 3000 /dev/zero | tr '\0' x)

core_counts="1 8 32"
[ "${MMSIM_TEST_SIZE:-}" = small ] && core_counts=8 # the sanitizer builds: one multicore count (dev covers all three)
for d in $("$M" designs --names); do
	for c in $core_counts; do
		for k in $cases; do
			w=${k%%:*}
			opts=$(echo "${k#*:}" | tr ':=' '  ')
			run first "$d" "$c" "$w" "$M"
			run again "$d" "$c" "$w" env MMSIM_T42_PAD="$pad" "$M"
			same again "$d" "$c" "$w"
			# shellcheck disable=SC2086 # norand is a command and its option
			run norand "$d" "$c" "$w" $norand "$M"
			same norand "$d" "$c" "$w"
			# Another process keeps a host CPU busy (one of this host's few) while the run goes on.
			sh -c 'while :; do :; done' &
			busy=$!
			run loaded "$d" "$c" "$w" "$M"
			kill "$busy"
			wait "$busy" 2>/dev/null
			same loaded "$d" "$c" "$w"
		done
	done
done

finish t42_det
