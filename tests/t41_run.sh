#!/bin/sh
# t41_run.sh: `mmsim run` as a user runs it: every design and workload, both modes, the JSON keys, repeatability.
# usage: t41_run.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"

# key FILE NAME: the value of a top-level JSON key.
key() { sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -1; }

for d in $("$M" designs --names); do
	for w in pf mmap; do
		for mode in det par; do
			out="$tmp/$d-$w-$mode.json"
			if ! "$M" run --design "$d" --workload "$w" --cores 4 --mode "$mode" --json >"$out" 2>"$tmp/err"; then
				fail "run $d $w $mode failed: $(head -c 300 "$tmp/err")"
				continue
			fi
			for k in design workload cores ops sim_cycles ops_per_sim_sec tlb_coherence_violations host_seconds metadata_bytes; do
				[ -n "$(key "$out" $k)" ] || fail "run $d $w $mode: no key $k"
			done
			[ "$(key "$out" design)" = "$d" ] || fail "run $d $w $mode: design is $(key "$out" design)"
			[ "$(key "$out" tlb_coherence_violations)" = 0 ] || fail "run $d $w $mode: TLB coherence violations"
			want=$([ "$w" = pf ] && echo 2048 || echo 512)
			[ "$(key "$out" ops)" = "$want" ] || fail "run $d $w $mode: ops $(key "$out" ops), wanted $want"
		done
		# Deterministic mode: the same run twice gives the same numbers, host measurements aside.
		"$M" run --design "$d" --workload "$w" --cores 8 --json | grep -v '"host_' >"$tmp/a"
		"$M" run --design "$d" --workload "$w" --cores 8 --json | grep -v '"host_' >"$tmp/b"
		cmp -s "$tmp/a" "$tmp/b" || fail "two runs of $d $w differ: $(diff "$tmp/a" "$tmp/b" | head -4)"
	done
done

# Contention matters: 16 cores faulting in one VMA are far from 16x one core.
one=$("$M" run --design linux --workload pf --cores 1 --json | sed -n 's/.*"ops_per_sim_sec": \([0-9.e+]*\).*/\1/p')
many=$("$M" run --design linux --workload pf --cores 16 --json | sed -n 's/.*"ops_per_sim_sec": \([0-9.e+]*\).*/\1/p')
awk -v a="$one" -v b="$many" 'BEGIN { exit !(b < 16 * a * 0.9) }' || fail "pf did not contend: 1 core $one, 16 cores $many"

# Kernel ground truth through the command line: the reference and every design at zero mismatches.
GT=$(dirname "$0")/data/linux-6.18-seed1.txt.zst
for d in reference $("$M" designs --names); do
	"$M" conform --design "$d" --json "$GT" >"$tmp/c" 2>"$tmp/err" || fail "conform $d exited $?: $(head -c 300 "$tmp/err")"
	[ "$(key "$tmp/c" calls)" = 9000 ] || fail "conform $d: calls $(key "$tmp/c" calls)"
	for k in result_mismatches layout_mismatches resident_mismatches; do
		[ "$(key "$tmp/c" $k)" = 0 ] || fail "conform $d: $k = $(key "$tmp/c" $k)"
	done
	[ -n "$(key "$tmp/c" vma_boundary_mismatches)" ] || fail "conform $d: no vma_boundary_mismatches key"
done
printf 'sequence 0\nmmap 0 0x1000 rw- anon fixed off=0\n  -> 0\n  resident 0\n' >"$tmp/bad.txt"
"$M" conform --design reference "$tmp/bad.txt" >"$tmp/o" 2>&1; [ $? -eq 1 ] && grep -q "bad.txt:4: resident" "$tmp/o" || fail "bad ground truth: $(cat "$tmp/o")"

# --method paper: every repetition's 32 requests counted, throughput = cores / mean latency of the last 16 requests.
for d in linux cortenmm-adv; do
	"$M" run --design "$d" --workload munmap --contention high --method paper --reps 3 --cores 2 --json >"$tmp/p" ||
		fail "paper method $d failed"
	[ "$(key "$tmp/p" method)" = paper ] && [ "$(key "$tmp/p" reps)" = 3 ] || fail "paper $d: method or reps wrong"
	[ "$(key "$tmp/p" ops)" = 192 ] || fail "paper $d: ops $(key "$tmp/p" ops), wanted 3 x 2 x 32"
	[ "$(key "$tmp/p" munmap_calls)" = 192 ] || fail "paper $d: munmap_calls $(key "$tmp/p" munmap_calls)"
	[ "$(key "$tmp/p" tlb_coherence_violations)" = 0 ] || fail "paper $d: TLB coherence violations"
	[ "$(key "$tmp/p" req_lat_ns | wc -w)" = 32 ] || fail "paper $d: req_lat_ns is not 32 latencies"
	awk -v t="$(key "$tmp/p" ops_per_sim_sec)" -v l="$(key "$tmp/p" req_lat_last16_ns)" -v all="$(key "$tmp/p" req_lat_ns)" \
		'BEGIN { n = split(all, v, " "); for (j = 17; j <= 32; j++) s += v[j]
		         exit !(l > 0 && (t - 2e9 / l) ^ 2 < (1e-6 * t) ^ 2 && (s / 16 - l) ^ 2 < 0.01) }' ||
		fail "paper $d: ops_per_sim_sec $(key "$tmp/p" ops_per_sim_sec) is not 2 / last-16 mean $(key "$tmp/p" req_lat_last16_ns) ns"
done
"$M" run --design linux --workload pf --method paper --cores 4 --json >"$tmp/p" || fail "paper default reps failed"
[ "$(key "$tmp/p" reps)" = 1024 ] || fail "paper: default reps $(key "$tmp/p" reps), wanted the artifact's 4096 / 4"
"$M" run --workload jit --method paper >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "not one of the paper's five" "$tmp/o" || fail "paper on jit: $(cat "$tmp/o")"
"$M" run --workload pf --reps 2 >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "add --method paper" "$tmp/o" || fail "reps without paper: $(cat "$tmp/o")"

# --tlb-flush: broadcast reaches remote TLBs with no IPI and no stale hit; ipi sends no broadcast; auto is Linux 6.15's
# rule (IPIs while at most 3 CPUs have the mm loaded; broadcast once the mm got a global ASID, due at jiffy 1 for pid 1).
for d in $("$M" designs --names); do
	"$M" designs | grep -A4 "^$d " | grep -q -- "--tlb-flush" || fail "design $d does not take --tlb-flush"
done
for d in linux cortenmm-adv skiplist; do
	for tf in ipi broadcast; do
		"$M" run --design "$d" --workload munmap --cores 8 --ops 16 --tlb-flush=$tf --json >"$tmp/$tf" || fail "$d --tlb-flush=$tf failed"
		[ "$(key "$tmp/$tf" tlb_coherence_violations)" = 0 ] || fail "$d --tlb-flush=$tf: TLB coherence violations"
		[ "$(key "$tmp/$tf" tlb_flush)" = "$tf" ] || fail "$d: tlb_flush key is $(key "$tmp/$tf" tlb_flush)"
	done
	[ "$(key "$tmp/broadcast" ipis)" = 0 ] && [ "$(key "$tmp/broadcast" broadcasts)" -gt 0 ] ||
		fail "$d broadcast: ipis $(key "$tmp/broadcast" ipis), broadcasts $(key "$tmp/broadcast" broadcasts)"
	[ "$(key "$tmp/ipi" broadcasts)" = 0 ] && [ "$(key "$tmp/ipi" ipis)" -gt 0 ] ||
		fail "$d ipi: ipis $(key "$tmp/ipi" ipis), broadcasts $(key "$tmp/ipi" broadcasts)"
	[ "$(key "$tmp/broadcast" pages_flushed)" = "$(key "$tmp/ipi" pages_flushed)" ] || fail "$d: broadcast flushed other pages than ipi"
	# the value may follow as the next argument, as getopt users expect: the same run
	"$M" run --design "$d" --workload munmap --cores 8 --ops 16 --tlb-flush broadcast --json >"$tmp/bsp" || fail "$d --tlb-flush broadcast (a separate argument) failed"
	[ "$(grep -v '"host_' "$tmp/bsp")" = "$(grep -v '"host_' "$tmp/broadcast")" ] || fail "$d: --tlb-flush broadcast differs from --tlb-flush=broadcast"
done
"$M" run --design linux --workload munmap --cores 3 --ops 64 --tlb-flush=auto --json >"$tmp/a3" || fail "auto 3 cores failed"
[ "$(key "$tmp/a3" broadcasts)" = 0 ] && [ "$(key "$tmp/a3" ipis)" -gt 0 ] || fail "auto on 3 CPUs: broadcasts $(key "$tmp/a3" broadcasts)"
"$M" run --design linux --workload munmap --cores 16 --ops 64 --tlb-flush=auto --json >"$tmp/a16" || fail "auto 16 cores failed"
[ "$(key "$tmp/a16" broadcasts)" -gt 0 ] && [ "$(key "$tmp/a16" shootdowns)" -gt 0 ] ||
	fail "auto on 16 CPUs: IPIs first, then broadcasts: shootdowns $(key "$tmp/a16" shootdowns), broadcasts $(key "$tmp/a16" broadcasts)"
[ "$(key "$tmp/a16" tlb_coherence_violations)" = 0 ] || fail "auto: TLB coherence violations"
"$M" run --machine skylake --tlb-flush=broadcast >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "no broadcast TLB invalidation" "$tmp/o" ||
	fail "broadcast on skylake: $(cat "$tmp/o")"
"$M" sweep --designs linux --workloads munmap --machine skylake --tlb-flush=broadcast -o "$tmp/s.csv" >"$tmp/o" 2>&1
[ $? -eq 2 ] && grep -q "no broadcast TLB invalidation" "$tmp/o" || fail "sweep broadcast on skylake: $(cat "$tmp/o")"

# Bad arguments.
"$M" run --design nosuch >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "no design 'nosuch'" "$tmp/o" || fail "bad design: $(cat "$tmp/o")"
"$M" run --workload nosuch >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "no workload 'nosuch'" "$tmp/o" || fail "bad workload: $(cat "$tmp/o")"
"$M" run --contention medium >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "not a level" "$tmp/o" || fail "bad contention: $(cat "$tmp/o")"
"$M" run --ops 0 >"$tmp/o" 2>&1; [ $? -eq 2 ] && grep -q "out of range" "$tmp/o" || fail "bad ops: $(cat "$tmp/o")"

# kern.slab_alloc and kern.slab_free are charged per kernel object: a linux mmap allocates at least its VMA (and an
# munmap frees it); cortenmm keeps no such objects, so its numbers do not move.
"$M" machine show epyc9965 >"$tmp/m.machine" || fail "machine show epyc9965"
sed 's/^kern\.slab_alloc = .*/kern.slab_alloc = 0 cyc/; s/^kern\.slab_free = .*/kern.slab_free = 0 cyc/' "$tmp/m.machine" >"$tmp/slab0.machine"
sed 's/^kern\.slab_alloc = .*/kern.slab_alloc = 10000 cyc/; s/^kern\.slab_free = .*/kern.slab_free = 10000 cyc/' "$tmp/m.machine" >"$tmp/slab1.machine"
for d in linux cortenmm-adv; do
	for v in 0 1; do
		"$M" run --machine "$tmp/slab$v.machine" --design $d --workload mmap --cores 1 --ops 8 --json >"$tmp/slab$d$v" || fail "$d slab$v run"
	done
	m0=$(key "$tmp/slab${d}0" mmap_mean_cycles); m1=$(key "$tmp/slab${d}1" mmap_mean_cycles)
	u0=$(key "$tmp/slab${d}0" munmap_mean_cycles); u1=$(key "$tmp/slab${d}1" munmap_mean_cycles)
	if [ $d = linux ]; then
		awk -v a="$m0" -v b="$m1" -v c="$u0" -v e="$u1" 'BEGIN { exit !(b - a >= 10000 && e - c >= 10000) }' ||
			fail "linux: 10000 cycles per slab object moved mmap $m0 -> $m1 and munmap $u0 -> $u1 (less than one object each)"
	else
		[ "$m0" = "$m1" ] && [ "$u0" = "$u1" ] || fail "$d allocates no slab objects, but mmap $m0 -> $m1, munmap $u0 -> $u1"
	fi
done

# kern.vma_call is charged once per call that changes VMAs, by every design that keeps them: at 10,000 cycles each
# mmap and munmap of linux, skiplist and listlock costs exactly 10,000 more on one core (nothing else moves with it);
# the cortenmm designs keep no VMAs and do not move.
sed 's/^kern\.vma_call = .*/kern.vma_call = 0 cyc/' "$tmp/m.machine" >"$tmp/vc0.machine"
sed 's/^kern\.vma_call = .*/kern.vma_call = 10000 cyc/' "$tmp/m.machine" >"$tmp/vc1.machine"
for d in linux skiplist listlock cortenmm-adv cortenmm-rw; do
	for v in 0 1; do
		"$M" run --machine "$tmp/vc$v.machine" --design $d --workload mmap --cores 1 --ops 8 --json >"$tmp/vc$d$v" || fail "$d vc$v run"
	done
	m0=$(key "$tmp/vc${d}0" mmap_mean_cycles); m1=$(key "$tmp/vc${d}1" mmap_mean_cycles)
	u0=$(key "$tmp/vc${d}0" munmap_mean_cycles); u1=$(key "$tmp/vc${d}1" munmap_mean_cycles)
	case $d in
	cortenmm-*) want=0 ;;
	*) want=10000 ;;
	esac
	awk -v a="$m0" -v b="$m1" -v c="$u0" -v e="$u1" -v w=$want 'BEGIN { exit !(b - a == w && e - c == w) }' ||
		fail "$d: kern.vma_call 0 -> 10000 moved mmap $m0 -> $m1 and munmap $u0 -> $u1 (want +$want each)"
done

finish t41_run
