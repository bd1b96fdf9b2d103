#!/bin/sh
# paper-ratios.sh: each ratio the CortenMM paper reports beside mmsim's, from a results CSV made with --method paper
# (bench/full-sweep.sh, or mmsim sweep --method paper): single-thread throughput of cortenmm-rw and cortenmm-adv against
# linux (the paper's figure of single-thread results), adv / linux and adv's efficiency at the largest core count at low
# contention, and where adv peaks at high contention. mmsim's numbers are read from the CSV; the paper's are its own
# (DESIGN.md section 1, from the artifact's scripts/plot_scripts/plot_micro_single.py output in the paper).
# usage: bench/paper-ratios.sh RESULTS.csv
set -eu
[ $# -eq 1 ] && [ -r "$1" ] || { echo "usage: bench/paper-ratios.sh RESULTS.csv" >&2; exit 2; }
awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
$k["method"] != "paper" { bad = 1; next }
{ v[$k["design"], $k["workload"], $k["contention"], $k["cores"] + 0] = $k["ops_per_sim_sec"]; if ($k["cores"] + 0 > top) top = $k["cores"] + 0
  cs[$k["cores"] + 0] = 1 }
function pct(a, b) { return b > 0 ? sprintf("%+.1f%%", 100 * (a / b - 1)) : "-" }
END {
	if (bad) print "(rows not measured with --method paper were left out)"
	split("mmap mmap-pf pf munmap-virt munmap", W, " ")
	split("-3.1 +46.8 +53.6 +76.9 +7.8", PA, " "); split("-19.2 +22.4 +28.4 +56.0 +18.5", PR, " ")
	print "Single thread, throughput against linux (low contention):\n"
	printf "| benchmark | paper: adv | mmsim: adv | paper: rw | mmsim: rw |\n|---|---|---|---|---|\n"
	for (i = 1; i <= 5; i++) {
		w = W[i]; l = v["linux", w, "low", 1]
		printf "| %s | %s%% | %s | %s%% | %s |\n", w, PA[i], pct(v["cortenmm-adv", w, "low", 1], l), PR[i], pct(v["cortenmm-rw", w, "low", 1], l)
	}
	print ""
	printf "Low contention at %d cores (the paper: adv 33x to 2270x ahead of linux at 384, near-linear):\n\n", top
	printf "| benchmark | linux (M/s) | adv (M/s) | adv / linux | adv efficiency |\n|---|---|---|---|---|\n"
	for (i = 1; i <= 5; i++) {
		w = W[i]; l = v["linux", w, "low", top]; a = v["cortenmm-adv", w, "low", top]; one = v["cortenmm-adv", w, "low", 1]
		printf "| %s | %.3f | %.1f | %.1fx | %.2f |\n", w, l / 1e6, a / 1e6, (l > 0 ? a / l : 0), (one > 0 ? a / (top * one) : 0)
	}
	print ""
	print "High contention: where adv peaks (the paper: it stops scaling near 64 threads):\n"
	printf "| benchmark | adv peak (M/s) | at cores | adv at %d | adv / linux at %d |\n|---|---|---|---|---|\n", top, top
	for (i = 1; i <= 5; i++) {
		w = W[i]; best = 0; at = 0
		for (c in cs) if (("cortenmm-adv", w, "high", c + 0) in v && v["cortenmm-adv", w, "high", c + 0] > best) { best = v["cortenmm-adv", w, "high", c + 0]; at = c + 0 }
		l = v["linux", w, "high", top]; a = v["cortenmm-adv", w, "high", top]
		printf "| %s | %.1f | %d | %.1f | %.1fx |\n", w, best / 1e6, at, a / 1e6, (l > 0 ? a / l : 0)
	}
}' "$1"
