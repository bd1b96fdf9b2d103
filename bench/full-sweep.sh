#!/bin/sh
# full-sweep.sh: the CortenMM paper's five microbenchmarks x {low, high} contention x every design x 1..384 cores,
# with each point's host time and peak memory (hours on a laptop; a benchmark, not a test).
# usage: bench/full-sweep.sh [OUT_DIR [JOBS [CORES]]]   (defaults: bench/out, nproc, 1,2,4,...,256,384)
# MMSIM=PATH picks the binary (default build/dev/mmsim). DESIGNS=a,b,... picks designs (default: all of `mmsim designs`). Rerun with the same OUT_DIR and arguments to resume.
# METHOD=paper|loop (default paper: the CortenMM artifact's method, 4096/cores repetitions of 32 timed requests); REPS=N
# overrides the repetitions; TLB_FLUSH=ipi|broadcast|auto is given to every design (default: none given, i.e. ipi).
# Needs GNU parallel and /usr/bin/time (Debian: parallel, time).
set -eu
cd "$(dirname "$0")/.."
M=${MMSIM:-$(pwd)/build/dev/mmsim}
OUT=${1:-bench/out}
J=${2:-$(nproc)}
CORES=${3:-1,2,4,8,16,32,64,128,256,384}
[ -x "$M" ] || { echo "full-sweep: build first (cmake --preset dev && cmake --build --preset dev)" >&2; exit 2; }
command -v parallel >/dev/null || { echo "full-sweep: needs GNU parallel (apt-get install parallel)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "full-sweep: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
mkdir -p "$OUT/points"
designs=${DESIGNS:-$("$M" designs --names | paste -sd, -)}
extra="--method ${METHOD:-paper}${REPS:+ --reps $REPS}${TLB_FLUSH:+ --tlb-flush=$TLB_FLUSH}"
# shellcheck disable=SC2086 # extra is a list of options
"$M" sweep --designs "$designs" --workloads mmap,mmap-pf,pf,munmap-virt,munmap --contention low,high \
	--cores "$CORES" --no-check $extra --emit-jobs "$OUT/points" >"$OUT/jobs.all"
# Largest core counts first, so the long points do not all end up last; each job records its host seconds, peak
# resident KiB and CPU seconds (user + system) beside its CSV (POINT.csv.time).
awk '{ for (i = 1; i < NF; i++) if ($i == "--cores") c = $(i + 1); f = $NF
       print c "\t/usr/bin/time -f \"%e %M %U %S\" -o " f ".time " $0 }' "$OUT/jobs.all" | sort -s -k1,1nr | cut -f2- >"$OUT/jobs.txt"
n=$(wc -l <"$OUT/jobs.txt")
echo "full-sweep: $n points, $J at a time, into $OUT (progress: $OUT/joblog.txt)" >&2
t0=$(date +%s)
parallel -j "$J" --resume --joblog "$OUT/joblog.txt" <"$OUT/jobs.txt"
t1=$(date +%s)
"$M" merge "$OUT"/points/point-*.csv -o "$OUT/results.csv"
"$M" plot "$OUT/results.csv" -o "$OUT/figures"
{
	echo "full sweep: $n points in $((t1 - t0)) s of wall time this run, $J jobs at a time, on $(nproc) host cores"
	echo "host: $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "sum of per-point host seconds (wall, and CPU: what an idle host would take), and the largest peak RSS, by core count:"
	for f in "$OUT"/points/point-*.csv.time; do
		c=$(sed -n 2p "${f%.time}" | awk -F, -v h="$(head -1 "${f%.time}")" 'BEGIN { split(h, k, ",") } { for (i in k) if (k[i] == "cores") print $i }')
		echo "$c $(tail -1 "$f")"
	done | sort -n | awk '{ if (!($1 in t)) o[++n] = $1; t[$1] += $2; u[$1] += $4 + $5; if ($3 > m[$1]) m[$1] = $3 }
		END { for (i = 1; i <= n; i++) { c = o[i]; T += t[c]; U += u[c]
			printf "  %4d cores: %9.1f s wall %9.1f s CPU  %8.1f MiB\n", c, t[c], u[c], m[c] / 1024 }
		      printf "  all points: %8.1f s wall %9.1f s CPU\n", T, U }'
	echo "host microseconds per simulated operation (median over designs and workloads), by core count:"
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
		{ print $k["cores"], 1e6 * $k["host_seconds"] / $k["ops"] }' "$OUT/results.csv" | sort -k1,1n -k2,2g |
		awk '{ v[$1, ++n[$1]] = $2 } END { for (c in n) { m = n[c]; printf "  %4d cores: %10.2f us/op\n", c, v[c, int((m + 1) / 2)] } }' | sort -n
} | tee "$OUT/summary.txt"
