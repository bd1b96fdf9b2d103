#!/bin/sh
# summarize.sh: the tables of REPRODUCTION.md from a sweep's merged CSV (bench/full-sweep.sh's results.csv, or
# `mmsim sweep -o`): throughput by core count, ratios to linux, where curves stop scaling, single-core ratios,
# and metadata memory. Every number it prints is read from the CSV; nothing is a constant.
# usage: bench/summarize.sh RESULTS.csv [BASE_DESIGN]   (BASE_DESIGN: the design ratios are taken to; default linux)
set -eu
[ $# -ge 1 ] && [ -r "$1" ] || { echo "usage: bench/summarize.sh RESULTS.csv [BASE_DESIGN]" >&2; exit 2; }
awk -F, -v base="${2:-linux}" '
NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
{
	d = $k["design"]; w = $k["workload"]; c = $k["contention"]; n = $k["cores"] + 0
	key = w SUBSEP c
	if (!(key in seenk)) { seenk[key] = 1; keys[++nk] = key }
	if (!(d in seend)) { seend[d] = 1; ds[++nd] = d }
	if (!(n in seenc)) { seenc[n] = 1; cs[++nc] = n }
	ops[d, key, n] = $k["ops_per_sim_sec"] + 0
	mem[d, key, n] = $k["frames_in_use"] * 4096; md[d, key, n] = $k["metadata_bytes"]
	fc = $k["fork_mean_cycles"] + 0
	if ($k["fork_calls"] > 0) fork[d, key, n] = fc
}
function sortn(a, m,   i, j, t) { for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
END {
	sortn(cs, nc)
	for (q = 1; q <= nk; q++) {
		split(keys[q], p, SUBSEP)
		printf "\n%s, %s contention: million ops per simulated second (ratio to %s)\n", p[1], p[2], base
		printf "%6s", "cores"; for (j = 1; j <= nd; j++) printf " %22s", ds[j]; printf "\n"
		for (i = 1; i <= nc; i++) {
			n = cs[i]; if (!((base, keys[q], n) in ops) && !((ds[1], keys[q], n) in ops)) continue
			printf "%6d", n
			for (j = 1; j <= nd; j++) {
				v = ops[ds[j], keys[q], n]; b = ops[base, keys[q], n]
				if ((ds[j], keys[q], n) in ops) printf " %13.3f (%6.2fx)", v / 1e6, (b > 0 ? v / b : 0); else printf " %22s", "-"
			}
			printf "\n"
		}
		# Where each curve stops scaling: the core count of its peak, and the last count before it falls under 90% of
		# that peak; its efficiency at the largest count (throughput / (cores x single-core throughput)).
		for (j = 1; j <= nd; j++) {
			best = 0; at = 0; one = ops[ds[j], keys[q], 1]; last = 0
			for (i = 1; i <= nc; i++) if ((ds[j], keys[q], cs[i]) in ops) { v = ops[ds[j], keys[q], cs[i]]; last = cs[i]; if (v > best) { best = v; at = cs[i] } }
			if (!at) continue
			printf "  %-16s peak %.3f M at %d cores; at %d cores %.1f%% of the peak, scaling efficiency %.3f\n", ds[j], best / 1e6, at,
				last, 100 * ops[ds[j], keys[q], last] / best, (one > 0 ? ops[ds[j], keys[q], last] / (last * one) : 0)
		}
		for (j = 1; j <= nd; j++) for (i = 1; i <= nc; i++) if ((ds[j], keys[q], cs[i]) in fork)
			printf "  %-16s %d cores: fork mean %d cycles (%.2fx %s)\n", ds[j], cs[i], fork[ds[j], keys[q], cs[i]],
				(fork[base, keys[q], cs[i]] ? fork[ds[j], keys[q], cs[i]] / fork[base, keys[q], cs[i]] : 0), base
	}
	# Metadata against the memory the workload holds (data frames and page tables), at the largest core count.
	n = cs[nc]
	printf "\nmetadata bytes at %d cores, and as a share of the memory in use (frames x 4 KiB)\n", n
	printf "%-22s", "workload"; for (j = 1; j <= nd; j++) printf " %24s", ds[j]; printf "\n"
	for (q = 1; q <= nk; q++) {
		split(keys[q], p, SUBSEP); printf "%-22s", p[1] " " p[2]
		for (j = 1; j <= nd; j++) {
			m = mem[ds[j], keys[q], n]
			if ((ds[j], keys[q], n) in md) printf " %12d (%8.3f%%)", md[ds[j], keys[q], n], (m ? 100 * md[ds[j], keys[q], n] / m : 0); else printf " %24s", "-"
		}
		printf "\n"
	}
}' "$1"
