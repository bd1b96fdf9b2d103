#!/bin/bash
# t71_recordings.sh: the recordings made on this project's machine with `mmsim record` (tests/data/traces/README.md,
# "Recordings made with mmsim record") replayed on every design, at the default core count and at 8 cores, in the
# deterministic mode. Every replay must give 0 fault-outcome mismatches, 0 result mismatches, 0 TLB coherence
# violations, 0 sync timeouts, every recorded fault replayed, no crash, no leaked frame, and a pages_flushed that is
# possible: at most 2^32, and at most the pages the trace could ever have flushed (every recorded fault's page once
# per fork, exec and exit, plus every page of every range an mm call names).
#
# The minimal reproducers of the failures found (tests/data/traces/repro: text traces and perf script excerpts) are
# replayed the same way (at the default core count only), under the names repro/NAME.
#
# Known failures are listed in EXPECTED below, with their reason: a (recording, design, cores) that fails a check
# not listed fails the test, and so does a listed check that passes (remove its mark then). Counts are noted in the
# list for the record; a count that changed is reported, but does not fail the test.
# usage: t71_recordings.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"
D=$(dirname "$0")/data/traces
RECORDINGS=${T71_RECORDINGS:-"node-jit node-workers java-gc go-gc redis-server postgres-pgbench jemalloc-threads sh-forkexec xz-T2 pigz-p2 py-pool apache-static node-http memcached-t4 leveldb-t4 java-zgc mm-corners mm-signals rustc-link node-wasm apache-sleep"}
REPROS=${T71_REPROS:-"madvise-dontfork.txt map-hugetlb.txt order-mprotect.perf.txt sysv-shmat.perf.txt cow-file-fork.txt fork-flush-count.txt cortenmm-flush-lo.txt cortenmm-fork-slice.txt unmap-reuse.perf.txt mremap-dontunmap-nohint.txt inode-reuse.perf.txt switch-sleep.perf.txt"}
CORES="def 8"
[ "${MMSIM_TEST_SIZE:-}" = small ] && CORES=def # the sanitizer builds: the default core count only
JOBS=${T71_JOBS:-2}

# RECORDING DESIGNS CORES CHECKS [COUNTS] -- REASON
#   DESIGNS: comma-separated names or *; CORES: def, 8 or *; CHECKS: comma-separated, of fom (fault-outcome
#   mismatches), resm (result mismatches), tlbv (TLB coherence violations), synto (sync timeouts), faults (faults
#   replayed differ from the recording's), crash (panic or signal), leak (frames left after teardown), flushed
#   (impossible pages_flushed), error (replay refused the trace). COUNTS: check=N as seen when the mark was made.
EXPECTED='
'

# key FILE NAME: the value of a top-level JSON key.
key() { sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -1; }

# The most pages a replay of the trace on stdin (text form) may flush.
bound() {
	awk '
	function num(s,    i, v) {
		sub(/^(r[0-9]+|brk)\+/, "", s)
		if (s !~ /^0x/)
			return s + 0
		v = 0
		s = tolower(substr(s, 3))
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	function pages(s) { return int((num(s) + 4095) / 4096) }
	$2 == "access" { f++ }
	$2 == "fork" || $2 == "exec" || $2 == "exit" { t++ }
	$2 == "munmap" || $2 == "mprotect" || $2 == "madvise" { r += pages($4) }
	$2 == "mremap" { r += pages($4) + pages($5) }
	$2 == "brk" { r += pages($3) }
	END { printf "%.0f\n", f * (1 + t) + r }'
}

# replay REC DESIGN CORES: one replay; writes $tmp/REC-DESIGN-CORES.{json,err,rc}.
replay() {
	local o="$tmp/$1-$2-$3" c=
	[ "$3" = def ] || c="--cores $3"
	"$M" replay "$tmp/$1.mmtrace" --design "$2" $c --json >"$o.json" 2>"$o.err"
	echo $? >"$o.rc"
}

designs=$("$M" designs --names)
# Import each recording and reproducer once, and find how many faults and flushed pages its replays may have.
items=
for r in $RECORDINGS; do items="$items $r:perf:$D/$r.perf.txt.xz"; done
for f in $REPROS; do
	case $f in *.perf.txt) fmt=perf ;; *) fmt=text ;; esac
	items="$items repro/${f%%.*}:$fmt:$D/repro/$f"
done
mkdir -p "$tmp/repro"
names=
for it in $items; do
	r=${it%%:*} fmt=${it#*:} src=${it#*:*:}
	fmt=${fmt%%:*}
	names="$names $r"
	if ! "$M" import "$fmt" "$src" -o "$tmp/$r.mmtrace" --json >"$tmp/$r.import" 2>"$tmp/err"; then
		fail "import $r: $(head -c 300 "$tmp/err")"
		continue
	fi
	key "$tmp/$r.import" faults >"$tmp/$r.faults"
	"$M" trace-dump "$tmp/$r.mmtrace" | bound >"$tmp/$r.bound"
done
# Every replay, $JOBS at a time.
: >"$tmp/pairs"
running=0
for r in $names; do
	[ -s "$tmp/$r.mmtrace" ] || continue
	cores=$CORES
	case $r in repro/*) cores=def ;; esac
	for d in $designs; do
		for c in $cores; do
			echo "$r $d $c" >>"$tmp/pairs"
			replay "$r" "$d" "$c" 2>/dev/null & # (bash's "Aborted" notices of crashed replays go to /dev/null)
			running=$((running + 1))
			if [ "$running" -ge "$JOBS" ]; then
				wait -n
				running=$((running - 1))
			fi
		done
	done
done
wait

# Judge every replay against EXPECTED (one awk for all: the files of each replay are read with getline).
echo "$EXPECTED" >"$tmp/expected"
awk -v tmp="$tmp" '
function has(list, x,    n, a, i) {
	if (list == "*") return 1
	n = split(list, a, ",")
	for (i = 1; i <= n; i++) if (a[i] == x) return 1
	return 0
}
function first(f,    l) { l = ""; getline l < f; close(f); return l }
# The marks: recording, designs, cores, checks, counts.
FILENAME == ARGV[1] {
	if (NF < 4 || $1 ~ /^#/) next
	m++; er[m] = $1; ed[m] = $2; ec[m] = $3; ek[m] = $4; en[m] = ""
	for (i = 5; i <= NF && $i != "--"; i++) en[m] = en[m] (en[m] == "" ? "" : ",") $i
	next
}
# One replay: recording, design, cores.
{
	r = $1; d = $2; c = $3; o = tmp "/" r "-" d "-" c
	what = r " on " d " at " (c == "def" ? "the default" : c) " cores"
	split("", v); split("", got); split("", want); split("", cnt)
	rc = first(o ".rc") + 0
	msg = ""; crash = rc >= 128; leak = 0
	while ((getline l < (o ".err")) > 0) {
		if (l ~ /panic/) crash = 1
		if (l ~ /frames still in use/) leak = 1
		if (l != "" && length(msg) < 200) msg = msg l " "
	}
	close(o ".err")
	while ((getline l < (o ".json")) > 0)
		if (match(l, /^  "[a-z_0-9]+": /)) {
			k = substr(l, 4, RLENGTH - 6)
			x = substr(l, RLENGTH + 1); sub(/,$/, "", x); gsub(/"/, "", x)
			v[k] = x
		}
	close(o ".json")
	faults = first(tmp "/" r ".faults"); limit = first(tmp "/" r ".bound")
	if (crash) got["crash"] = 1
	else if (rc != 0 && !leak) got["error"] = 1
	else {
		if (leak) got["leak"] = 1
		if (v["fault_outcome_mismatches"] != "0") got["fom"] = 1
		if (v["result_mismatches"] != "0") got["resm"] = 1
		if (v["tlb_coherence_violations"] != "0") got["tlbv"] = 1
		if (v["sync_timeouts"] != "0") got["synto"] = 1
		if (v["faults"] != faults) got["faults"] = 1
		# As a string first: the value may pass 2^63 in a broken design.
		f = v["pages_flushed"]
		if (f !~ /^[0-9]+$/ || length(f) > 10 || f + 0 > 4294967296 || f + 0 > limit + 0) got["flushed"] = 1
	}
	for (i = 1; i <= m; i++)
		if (er[i] == r && has(ed[i], d) && has(ec[i], c)) {
			n = split(ek[i], a, ",")
			for (j = 1; j <= n; j++) want[a[j]] = 1
			n = split(en[i], a, ",")
			for (j = 1; j <= n; j++) if (split(a[j], b, "=") == 2) cnt[b[1]] = b[2]
		}
	vals = sprintf("fom=%s resm=%s tlbv=%s synto=%s faults=%s/%s pages_flushed=%s limit=%s rc=%d %s", \
		v["fault_outcome_mismatches"], v["result_mismatches"], v["tlb_coherence_violations"], v["sync_timeouts"], \
		v["faults"], faults, v["pages_flushed"], limit, rc, msg)
	for (k in got)
		if (!(k in want)) { print "FAIL: " what ": new failure: " k " (" vals ")"; bad++ }
	for (k in want)
		if (!(k in got)) { print "FAIL: " what ": " k " is marked as a known failure in EXPECTED but passes now: remove the mark"; bad++ }
	# Counts noted with the marks: a change is worth knowing, not a failure.
	key["fom"] = "fault_outcome_mismatches"; key["resm"] = "result_mismatches"; key["flushed"] = "pages_flushed"
	key["tlbv"] = "tlb_coherence_violations"; key["synto"] = "sync_timeouts"
	for (k in cnt)
		if ((k in key) && v[key[k]] != cnt[k]) print "note: " what ": " k " is " v[key[k]] ", the mark says " cnt[k]
	total++
}
END { print total " replays judged"; exit (bad > 100 ? 100 : bad) }' "$tmp/expected" "$tmp/pairs"
fails=$((fails + $?))
finish t71_recordings
