#!/bin/sh
# kcost.sh: what this host's kernel spends per event that mmsim's linux design charges for (a maple-tree node, a slab
# object taken or given back), measured on mprotect; the mmap request is measured the same way as a check only.
#
# usage: bench/kcost.sh MACHINE [ROUNDS]
#   MACHINE  a file `mmsim calibrate` wrote on this host: its freq_ghz and kern.syscall are used
#   ROUNDS   rounds per run (default 100000); 5 runs of each benchmark are timed and 10 profiled, each a fresh process:
#            a long-lived loop of mprotect splits and merges slows down by up to 2x after ~100000 rounds on a
#            Linux 6.18 guest (measured: 1,350 ns a call in the first 100000 rounds, 1,600-2,500 after)
# Needs perf with kernel symbols (Debian: linux-perf) and root or kernel.perf_event_paranoid=-1 (MMSIM_PERF picks perf;
# MMSIM and KCOST the binaries, default build/dev/mmsim and build/dev/bench/kcost). A benchmark, not a test: quote the
# load average with its figures, and run it on a quiet host.
#
# Method, for each system call of a benchmark (bench/kcost.c):
#  1. real: the median of the call's latency in 5 runs (each the median of ROUNDS calls, a clock read taken off),
#     less kern.syscall (entry and exit) = the kernel's work in the call;
#  2. where it goes: `perf record -g` of the loop; each sample under the call's own frame (__x64_sys_*) is put in the class
#     of its leaf function (maple tree, slab allocation, slab freeing, memcg, locks, LSM and commit accounting, page
#     tables and TLB, anon_vma, RCU, and the VMA code around them); samples with a perf_* frame (perf's own work) are
#     left out; a class's share of the rest times (1) = its nanoseconds per call;
#  3. what the model charges for: `mmsim record` of the same loop, replayed on linux with MACHINE with one key at 0 and
#     at 1000 cycles: the difference / 1000 = the events of that key per call (kern.mt_node, kern.slab_alloc,
#     kern.slab_free, kern.vma_call: the last is paired with the class of the VMA code around the rest);
#  4. cycles per event = class nanoseconds per call x freq_ghz / events per call;
#  5. the kernel's own count: `perf stat` of kmem:kmem_cache_alloc over the same runs gives the slab objects the real
#     calls take per call; the loop gives back as many as it takes (split and merge undo each other), so that count
#     is also the frees per call (the kmem:kmem_cache_free and kmem:kfree tracepoints miss the objects kfree_rcu
#     batches in per-CPU sheaves, Linux 6.18; they are printed for reference): cycles per real object = class
#     nanoseconds per call x freq_ghz / objects per call. (An RCU-deferred free's queueing is in the call's frame;
#     its later work in softirq is not.)
set -eu
cd "$(dirname "$0")/.."
M=${MMSIM:-$(pwd)/build/dev/mmsim}
K=${KCOST:-$(pwd)/build/dev/bench/kcost}
PERF=${MMSIM_PERF:-perf}
[ $# -ge 1 ] && [ $# -le 2 ] || { sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
MACHINE=$1
ROUNDS=${2:-100000}
[ -x "$M" ] && [ -x "$K" ] || { echo "kcost: build first (cmake --preset dev && cmake --build --preset dev)" >&2; exit 2; }
[ -r "$MACHINE" ] || { echo "kcost: cannot read $MACHINE" >&2; exit 2; }
command -v "$PERF" >/dev/null || { echo "kcost: no perf ($PERF); Debian: apt-get install linux-perf" >&2; exit 2; }
"$M" machine check "$MACHINE" >/dev/null || exit 2
val() { sed -n "s/^$1 = \([0-9.]*\) *\([a-z]*\).*/\1 \2/p" "$MACHINE"; }
freq=$(val freq_ghz | cut -d' ' -f1)
# shellcheck disable=SC2046 # the value and its unit, two words
set -- $(val kern.syscall)
case $2 in
ns) sys_ns=$1 ;;
cyc) sys_ns=$(echo "$1 / $freq" | bc -l) ;;
us) sys_ns=$(echo "$1 * 1000" | bc -l) ;;
*) echo "kcost: kern.syscall in $MACHINE has no unit ns, cyc or us" >&2; exit 2 ;;
esac
tmp=$(mktemp -d /tmp/mmsim-kcost-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "kcost: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), Linux $(uname -r), $(nproc) CPUs," \
	"load $(cut -d' ' -f1-3 /proc/loadavg); $MACHINE: freq_ghz $freq, kern.syscall $(printf '%.1f' "$sys_ns") ns"

# 1. latency: 5 runs of each benchmark, alternating; per call the median of the runs' medians.
: >"$tmp/lat.mprotect"
: >"$tmp/lat.mmap"
for _ in 1 2 3 4 5; do
	for b in mprotect mmap; do "$K" $b "$ROUNDS" >>"$tmp/lat.$b"; done
done
med() { cut -d' ' -f"$2" "$1" | sort -n | sed -n 3p; }

# 2. profile: samples per class under each call's system-call frame.
classify() { # $1 perf.data, $2 the call's frames (a regular expression): prints "class samples" lines
	"$PERF" script -i "$1" -F ip,sym 2>/dev/null | awk -v want="$2" '
	function cls(s) {
		if (s ~ /^(mas_|mt_|mte_|ma_|mab_|mast_|mtree_)|maple/) return "maple"
		if (s ~ /memcg|obj_cgroup|obj_stock|page_counter|refill_|objcg/) return "memcg"
		if (s ~ /kmem_cache_free|__slab_free|kfree|kvfree|free_bulk|rcu_sheaf|discard_slab|free_slab|put_cpu_partial|free_to_partial/) return "slab_free"
		if (s ~ /slab|kmem_cache|alloc_bulk|sheaf|setup_object|freelist/) return "slab_alloc"
		if (s ~ /down_write|up_write|down_read|up_read|downgrade_write|vma_start_write|vma_mark_detached|rwsem|_raw_spin|queued_spin|vma_refcount/) return "locks"
		if (s ~ /^security_|selinux|bpf_lsm|^cap_|vm_enough|percpu_counter|may_expand_vm|vm_stat_account|^avc_/) return "lsm"
		if (s ~ /do_syscall_64|^entry_|syscall_|its_return|_thunk|x64_sys|^ksys_|irqentry|error_entry/) return "entry"
		if (s ~ /unmap_|zap_|free_pgtables|^tlb_|flush_tlb|change_prot|change_p|pte|pmd|pud|p4d|free_pgd|invlpg/) return "pt"
		if (s ~ /anon_vma/) return "anon_vma"
		if (s ~ /rcu/) return "rcu"
		return "glue"
	}
	BEGIN { RS = ""; FS = "\n" }
	{
		in_call = 0; perf = 0
		for (i = 1; i <= NF; i++) {
			n = split($i, f, " "); s = f[n]
			if (s ~ want) in_call = 1
			if (s ~ /^perf_/) perf = 1
		}
		if (!in_call || perf) next
		n = split($1, f, " "); c[cls(f[n])]++; total++
	}
	END { for (k in c) print k, c[k]; print "total", total }'
}
perf10() { # $1 benchmark, then perf's arguments: perf over ten fresh runs of the benchmark, one after another
	b=$1
	shift
	"$PERF" "$@" -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do "$0" "$1" "$2" || exit 1; done' "$K" "$b" "$ROUNDS"
}
for b in mprotect mmap; do
	perf10 $b record -q -F 4000 -g -e cpu-clock -o "$tmp/$b.data" >/dev/null 2>"$tmp/perf.err" ||
		{ echo "kcost: perf record failed:" >&2; cat "$tmp/perf.err" >&2; exit 1; }
done
# 5. the kernel's own count of slab objects per call (mprotect only: its two calls are the same pair every round).
perf10 mprotect stat -x, -e kmem:kmem_cache_alloc,kmem:kmem_cache_free,kmem:kfree -o "$tmp/stat" >/dev/null ||
	{ echo "kcost: perf stat of the kmem tracepoints failed" >&2; exit 1; }
per_call() { awk -F, -v ev="$1" -v calls=$((20 * ROUNDS)) '$3 == ev { s += $1 } END { printf "%.3f", s / calls }' "$tmp/stat"; }
real_alloc=$(per_call kmem:kmem_cache_alloc)
traced_free=$(echo "$(per_call kmem:kmem_cache_free) + $(per_call kmem:kfree)" | bc -l)
classify "$tmp/mprotect.data" '^__x64_sys_mprotect$' >"$tmp/cls.mprotect"
classify "$tmp/mmap.data" '^(ksys_mmap_pgoff|vm_mmap_pgoff)$' >"$tmp/cls.mmap"
classify "$tmp/mmap.data" '^__x64_sys_munmap$' >"$tmp/cls.munmap"

# 3. the model: events per call, from the recording replayed with one key at 0 and at 1000 cycles.
for b in mprotect mmap; do
	"$M" record -o "$tmp/$b.mmtrace" -- "$K" $b 2000 >/dev/null 2>"$tmp/rec.err" ||
		{ echo "kcost: mmsim record failed:" >&2; cat "$tmp/rec.err" >&2; exit 1; }
done
cycles() { # $1 trace, $2 machine, $3 call: mean simulated cycles per call
	"$M" replay --design linux --machine "$2" --json "$1" | sed -n "s/^  \"$3_mean_cycles\": \([0-9.e+-]*\),*$/\1/p"
}
for key in kern.mt_node kern.slab_alloc kern.slab_free kern.vma_call; do
	for v in 0 1000; do
		sed "s/^$key = [^#]*/$key = $v cyc /" "$MACHINE" >"$tmp/$key.$v.machine"
	done
	for c in mprotect mmap munmap; do
		t=$c
		[ $c = munmap ] && t=mmap
		a=$(cycles "$tmp/$t.mmtrace" "$tmp/$key.0.machine" $c)
		z=$(cycles "$tmp/$t.mmtrace" "$tmp/$key.1000.machine" $c)
		echo "$key $(echo "($z - $a) / 1000" | bc -l)" >>"$tmp/ev.$c"
	done
done
model=$(cycles "$tmp/mprotect.mmtrace" "$MACHINE" mprotect)

# 4. per call: real nanoseconds by class, and cycles per modelled event.
report() { # $1 call, $2 real ns (median), $3 what it is for
	call=$1
	body=$(echo "$2 - $sys_ns" | bc -l)
	total=$(sed -n 's/^total //p' "$tmp/cls.$call")
	[ -n "$total" ] && [ "$total" -gt 0 ] || { echo "kcost: no perf samples under $call's system call" >&2; exit 1; }
	printf '\n%s (%s): %.0f ns a call, %.0f ns of it past entry and exit; %s samples\n' "$call" "$3" "$2" "$body" "$total"
	printf '  %-11s %7s %9s\n' class share 'ns/call'
	sort -k2 -nr "$tmp/cls.$call" | grep -v '^total' | while read -r k n; do
		printf '  %-11s %6.1f%% %9.1f\n' "$k" "$(echo "100 * $n / $total" | bc -l)" "$(echo "$body * $n / $total" | bc -l)"
	done
	for p in "maple kern.mt_node" "slab_alloc kern.slab_alloc" "slab_free kern.slab_free" "glue kern.vma_call"; do
		set -- $p
		n=$(sed -n "s/^$1 //p" "$tmp/cls.$call"); n=${n:-0}
		e=$(sed -n "s/^$2 //p" "$tmp/ev.$call")
		ns=$(echo "$body * $n / $total" | bc -l)
		if [ "$(echo "$e > 0.05" | bc -l)" = 1 ]; then
			printf '  %-16s %5.2f events a call in the model: %5.0f cyc each\n' "$2" "$e" "$(echo "$ns * $freq / $e" | bc -l)"
		else
			printf '  %-16s %5.2f events a call in the model\n' "$2" "$e"
		fi
	done
}
real_object() { # $1 class, $2 objects per call, $3 key, $4 how they were counted
	n=$(sed -n "s/^$1 //p" "$tmp/cls.mprotect"); n=${n:-0}
	total=$(sed -n 's/^total //p' "$tmp/cls.mprotect")
	printf '  %-16s %5.2f objects a call in the kernel (%s): %5.0f cyc each\n' "$3" "$2" "$4" \
		"$(echo "($lat_mp - $sys_ns) * $n / $total * $freq / $2" | bc -l)"
}
lat_mp=$(echo "($(med "$tmp/lat.mprotect" 1) + $(med "$tmp/lat.mprotect" 2)) / 2" | bc -l)
report mprotect "$lat_mp" "the measurement: split and merge, their mean"
real_object slab_alloc "$real_alloc" kern.slab_alloc "kmem:kmem_cache_alloc"
real_object slab_free "$real_alloc" kern.slab_free "as many as taken; traced frees $(printf '%.2f' "$traced_free")"
printf '  (the model, as MACHINE stands: %.0f cycles, %.0f ns a call)\n' "$model" "$(echo "$model / $freq" | bc -l)"
report mmap "$(med "$tmp/lat.mmap" 1)" "a check, not used: calibrate validates on it"
report munmap "$(med "$tmp/lat.mmap" 2)" "a check, not used: calibrate validates on it"
