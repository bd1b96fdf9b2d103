#!/bin/sh
# tlb-flush-sweep.sh: broadcast TLB invalidation off and on: designs x munmap and mmap-pf (the paper benchmarks that
# shoot down) x low,high contention x cores, under --tlb-flush=ipi, broadcast and auto, with the paper's method; one
# merged CSV and the figures (one line per design and flush mode). A benchmark, not a test.
# usage: bench/tlb-flush-sweep.sh [OUT_DIR [CORES [DESIGNS]]]   (defaults: bench/out-tlb, 1,2,4,...,256,384,
# linux,cortenmm-adv). MMSIM=PATH picks the binary; REPS=N overrides the artifact's 4096/cores repetitions;
# MACHINE=NAME picks a machine with broadcast (default epyc9965, INVLPGB). Rerun with the same OUT_DIR to resume.
set -eu
cd "$(dirname "$0")/.."
M=${MMSIM:-$(pwd)/build/dev/mmsim}
OUT=${1:-bench/out-tlb}
CORES=${2:-1,2,4,8,16,32,64,128,256,384}
DESIGNS=${3:-linux,cortenmm-adv}
[ -x "$M" ] || { echo "tlb-flush-sweep: build first (cmake --preset dev && cmake --build --preset dev)" >&2; exit 2; }
mkdir -p "$OUT"
for tf in ipi broadcast auto; do
	# shellcheck disable=SC2086 # the optional --reps
	"$M" sweep --designs "$DESIGNS" --workloads munmap,mmap-pf --contention low,high --cores "$CORES" \
		--machine "${MACHINE:-epyc9965}" --method paper ${REPS:+--reps $REPS} --no-check --tlb-flush="$tf" -o "$OUT/$tf.csv"
done
"$M" merge "$OUT/ipi.csv" "$OUT/broadcast.csv" "$OUT/auto.csv" -o "$OUT/results.csv"
"$M" plot "$OUT/results.csv" -o "$OUT/figures"
