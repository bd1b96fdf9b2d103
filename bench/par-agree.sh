#!/bin/sh
# par-agree.sh: how far parallel mode's throughput (ops_per_sim_sec) is from deterministic mode's: the engine's
# micro-drivers and the designs' pf and mmap workloads, at several core counts; par runs N times (its results depend
# on host timing), det once (bit-identical). Prints det, the par median and spread, and the deviations in percent.
# usage: bench/par-agree.sh [N [CORES]]   (defaults: 5 runs, cores 2,8,64)
# MMSIM=PATH picks the binary (default build/dev/mmsim); DESIGNS=a,b narrows the designs (default: all);
# MACHINE=NAME picks the machine (default: mmsim's). A benchmark, not a test: quote the load average with it.
set -eu
cd "$(dirname "$0")/.."
M=${MMSIM:-$(pwd)/build/dev/mmsim}
N=${1:-5}
CORES=${2:-2,8,64}
[ -x "$M" ] || { echo "par-agree: build first (cmake --preset dev && cmake --build --preset dev)" >&2; exit 2; }
designs=${DESIGNS:-$("$M" designs | awk '{print $1}' | paste -sd, -)}
mach=${MACHINE:+--machine $MACHINE}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rate ARGS...: ops_per_sim_sec of one run.
rate() {
	# shellcheck disable=SC2086 # mach is a list of options
	"$M" "$@" $mach --json | sed -n 's/^  "ops_per_sim_sec": \([0-9.e+-]*\),*$/\1/p'
}

# point NAME ARGS...: det once, par N times; one line of results.
point() {
	name=$1
	shift
	dv=$(rate "$@" --mode det)
	: >"$tmp/v"
	i=0
	while [ "$i" -lt "$N" ]; do
		rate "$@" --mode par >>"$tmp/v"
		i=$((i + 1))
	done
	sort -g "$tmp/v" | awk -v d="$dv" -v name="$name" '
		{ v[NR] = $1 }
		END {
			med = v[int((NR + 1) / 2)]; lo = v[1]; hi = v[NR]
			dev = 100 * (med - d) / d; wlo = 100 * (lo - d) / d; whi = 100 * (hi - d) / d
			worst = (wlo < 0 ? -wlo : wlo) > (whi < 0 ? -whi : whi) ? wlo : whi
			printf "%-40s %12.4g %12.4g %+8.1f%% [%+7.1f%% .. %+7.1f%%]  worst %+6.1f%%\n", name, d, med, dev, wlo, whi, worst
		}'
}

echo "par vs det throughput: par median of $N runs [spread]; $(nproc) host cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %12s %12s %9s %22s\n' point det par-median median "par runs (min .. max)"
for c in $(echo "$CORES" | tr , ' '); do
	point "bench-lines shared, $c cores" bench-lines --pattern shared --ops 200 --cores "$c"
	point "bench-lines private, $c cores" bench-lines --pattern private --ops 200 --cores "$c"
	point "bench-rwsem readers, $c cores" bench-rwsem --readers --ops 100 --cores "$c"
	point "bench-rwsem 20% writers, $c cores" bench-rwsem --write-pct 20 --cs 40 --ops 100 --cores "$c"
	for d in $(echo "$designs" | tr , ' '); do
		for w in pf mmap; do
			point "$d $w, $c cores" run --design "$d" --workload "$w" --ops 64 --cores "$c"
		done
	done
done
