#!/bin/sh
# hostcost.sh: host microseconds per simulated operation (host_seconds / ops) for every design, workloads pf and mmap,
# at 1, 64 and 384 cores, with fixed request counts; the median (and the spread) of N runs of each point.
# usage: bench/hostcost.sh [N [CORES]]   (defaults: 5 runs, cores 1,64,384)
# MMSIM=PATH picks the binary (default build/dev/mmsim); DESIGNS=a,b and WORKLOADS=a,b narrow the table;
# EXTRA="--mode par" adds options to every run; KEY=host_cpu_seconds reports CPU time instead of wall time (the
# process's CPU time in the simulation: what a loaded host does not inflate). Requests per thread: 64 on more than one
# core (issue 17's figures); on one core 4096 mmaps, or 512 faults for pf (a thread's whole slot: more requests would
# hit the TLB, not fault). OPS=K asks K per thread at every core count instead, so each core's first-touch costs
# weigh the same at 1 and 384 cores. Both keys cover the simulation only, not start-up and teardown.
# Runs one point at a time: a benchmark, not a test; quote the load average with its figures.
set -eu
cd "$(dirname "$0")/.."
M=${MMSIM:-$(pwd)/build/dev/mmsim}
N=${1:-5}
CORES=${2:-1,64,384}
KEY=${KEY:-host_seconds}
[ -x "$M" ] || { echo "hostcost: build first (cmake --preset dev && cmake --build --preset dev)" >&2; exit 2; }
designs=${DESIGNS:-$("$M" designs | awk '{print $1}' | paste -sd, -)}
workloads=${WORKLOADS:-pf,mmap}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "host us per simulated op ($KEY / ops${OPS:+, $OPS requests per thread}): median of $N runs [min-max]; $(nproc) host cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-16s %-6s' design workload
for c in $(echo "$CORES" | tr , ' '); do printf ' %26s' "$c cores"; done
echo
for d in $(echo "$designs" | tr , ' '); do
	for w in $(echo "$workloads" | tr , ' '); do
		printf '%-16s %-6s' "$d" "$w"
		for c in $(echo "$CORES" | tr , ' '); do
			ops=64
			[ "$c" -eq 1 ] && ops=4096
			[ "$c" -eq 1 ] && [ "$w" = pf ] && ops=512
			[ -n "${OPS:-}" ] && ops=$OPS
			: >"$tmp/v"
			i=0
			while [ "$i" -lt "$N" ]; do
				# shellcheck disable=SC2086 # EXTRA is a list of options
				"$M" run --design "$d" --workload "$w" --cores "$c" --ops "$ops" --json ${EXTRA:-} >"$tmp/j"
				sed -n 's/^  "\([a-z_]*\)": \([0-9.e+-]*\),*$/\1 \2/p' "$tmp/j" |
					awk -v k="$KEY" '{ v[$1] = $2 } END { printf "%.3f\n", 1e6 * v[k] / v["ops"] }' >>"$tmp/v"
				i=$((i + 1))
			done
			sort -g "$tmp/v" | awk '{ v[NR] = $1 } END { printf " %9.2f [%6.2f-%7.2f]", v[int((NR + 1) / 2)], v[1], v[NR] }'
		done
		echo
	done
done
