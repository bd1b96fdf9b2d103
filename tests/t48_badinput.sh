#!/bin/sh
# t48_badinput.sh: the bad-input sweep: every command and option with bad values, contradictions and broken files.
# Each case names the exit status it expects (0 success, 1 the work failed, 2 usage) and a pattern its message must
# contain (the option or input it is about). A crash (a signal, a panic, a sanitizer report), an exit 0 where an error
# was due (a silent accept) or a message that does not name the input are failures.
# usage: t48_badinput.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"
D=$(cd "$(dirname "$0")" && pwd)
cd "$tmp" || exit 1
ncase=0
crashes=0
silent=0

# case_ STATUS PATTERN ARGS...: run mmsim ARGS (stdin empty) and check.
case_() {
	want=$1
	pat=$2
	shift 2
	ncase=$((ncase + 1))
	"$M" "$@" </dev/null >"$tmp/o" 2>&1
	rc=$?
	if [ "$rc" -ge 128 ] || grep -q 'Sanitizer\|panic:\|runtime error' "$tmp/o"; then
		crashes=$((crashes + 1))
		fail "crash ($rc): mmsim $*: $(head -c 300 "$tmp/o")"
		return
	fi
	if [ "$rc" -eq 0 ] && [ "$want" -ne 0 ]; then
		silent=$((silent + 1))
		fail "silent accept: mmsim $*"
		return
	fi
	[ "$rc" -eq "$want" ] || { fail "mmsim $*: exit $rc, wanted $want: $(head -c 300 "$tmp/o")"; return; }
	[ -z "$pat" ] || grep -q -- "$pat" "$tmp/o" || fail "mmsim $*: the message does not say '$pat': $(head -c 300 "$tmp/o")"
}

# Inputs: missing, a directory, empty, binary, text of the wrong kind, truncated compressed data.
mkdir adir
: >empty
printf 'garbage\000\001\002' >binary
printf 'hello\nworld\n' >text
printf '\050\265\057\375\044\000' >trunc.zst
printf '\375\067\172\130\132\000' >trunc.xz
BADFILES="nosuch adir empty binary text trunc.zst trunc.xz"
T=$D/data/golden/gcc-compile.trace.zst
GT=$D/data/linux-6.18-seed1.txt.zst

# Unknown options and help for every command.
for c in run sweep replay explain timeline conform machine plot merge import record trace-dump trace-compile \
	bench-lines bench-rwsem designs workloads; do
	case_ 2 "" $c --no-such-option
	case_ 0 "usage" $c --help
done
case_ 2 "no command" no-such-command
case_ 2 "" --no-such-option

# Numbers: every numeric option with values it must refuse.
num_bad() { # CMD OPT [ARGS...]: the option with bad numbers
	c=$1
	o=$2
	shift 2
	for v in "" -1 abc 1.5 1e3 0x 99999999999999999999999 " 4"; do
		case_ 2 "$o" $c "$@" "$o" "$v"
	done
}
num_bad run --cores
num_bad run --ops
num_bad run --size
num_bad run --seed
num_bad run --frames
num_bad run --lookahead
num_bad run --quantum --mode par
num_bad replay --cores "$T"
num_bad replay --seed "$T"
num_bad sweep --ops
num_bad sweep --jobs
num_bad bench-lines --ops
num_bad bench-lines --cores
num_bad bench-rwsem --ops
num_bad bench-rwsem --write-pct
num_bad bench-rwsem --cs
num_bad explain --cores
case_ 2 "--cores" run --cores 0
case_ 2 "--cores" run --cores 513
case_ 2 "--cores" run --machine skylake --cores 9999
case_ 2 "--frames" run --frames 1
case_ 2 "--size" run --workload jit --size 1
case_ 2 "--size" run --workload jit --size 2G
case_ 2 "--write-pct" bench-rwsem --write-pct 101
case_ 2 "--max-spans" timeline -o tl --max-spans 1
case_ 2 "--from" timeline -o tl --from x
case_ 2 "--to" timeline -o tl --from 10 --to 5

# Names: designs, workloads, machines, modes, levels, patterns.
case_ 2 "no design 'x'" run --design x
case_ 2 "no workload 'x'" run --workload x
case_ 2 "--mode" run --mode x
case_ 2 "--contention" run --contention medium
case_ 2 "--pattern" bench-lines --pattern x
case_ 2 "no design 'x'" sweep --designs linux,x
case_ 2 "no workload 'x'" sweep --workloads pf,x
case_ 2 "--contention" sweep --contention low,x
case_ 2 "no design 'x'" replay --design x "$T"
case_ 2 "no design 'x'" conform --design x "$GT"
case_ 2 "no preset 'x'" machine show x
case_ 2 "x" machine x
case_ 2 "no workload 'x'" workloads x
case_ 2 "format" import x text
case_ 2 "no design 'x'" explain --design x

# Contradictions and options that mean nothing here.
case_ 2 "--quantum" run --quantum 10
case_ 2 "--lookahead" run --mode par --lookahead 10
case_ 2 "--csv and --json" run --csv --json
case_ 2 "--json" sweep --json
case_ 2 "--mode" sweep --mode par
case_ 2 "--jobs and --emit-jobs" sweep --jobs 2 --emit-jobs jobs
case_ 2 "deterministic" explain --mode par
case_ 2 "deterministic" explain --lookahead 5
case_ 2 "choose one" bench-rwsem --readers --writers
case_ 2 "choose one" bench-rwsem --readers --write-pct 5
case_ 2 "--fixed" run --workload pf --fixed
case_ 2 "--processes" run --workload pf --processes
case_ 2 "--size" run --workload pf --size 4K
case_ 2 "--contention" run --workload jit --contention high
case_ 2 "no-slices" run --design linux --no-slices
case_ 2 "lazy-flush" run --design linux --lazy-flush
case_ 2 "thp" run --design cortenmm-adv --thp
case_ 2 "thp" run --design linux --thp=sometimes
case_ 2 "lazy-flush" run --design cortenmm-adv --lazy-flush=maybe
case_ 2 "twice" run --design linux --thp=always --thp=never
case_ 2 "no-slices" replay --design skiplist --no-slices "$T"
case_ 2 "lazy-flush" sweep --designs linux --lazy-flush
case_ 2 "lazy-flush" timeline -o tl --design linux --lazy-flush
case_ 2 "lazy-flush" explain --design linux --lazy-flush
case_ 2 "twice" sweep --cores 1,2,1
case_ 2 "twice" sweep --cores 1,01
case_ 2 "twice" sweep --designs linux,linux
case_ 2 "empty item" sweep --cores 1,,2
case_ 2 "empty item" sweep --workloads ,pf
case_ 2 "" replay
case_ 2 "one too many" replay "$T" "$T"
case_ 2 "unexpected argument" run extra
case_ 2 "unexpected argument" sweep extra
case_ 2 "unexpected argument" machine list extra
case_ 2 "unexpected argument" workloads pf extra
case_ 2 "unexpected argument" designs extra
case_ 2 "at most one SCRIPT" explain a b
case_ 2 "-o" timeline --design linux
case_ 2 "-o OUT is required" merge a.csv
case_ 2 "no input" merge -o m.csv
case_ 2 "-o DIR is required" plot a.csv
case_ 2 "-o OUT is required" record -- true
case_ 2 "--design is required" conform "$GT"
case_ 2 "ground-truth FILE" conform --design linux
case_ 2 "format" import text
case_ 2 "TRACE" trace-dump
case_ 2 "TEXT" trace-compile

# Files: every command that reads one, with each kind of broken file.
for f in $BADFILES; do
	case_ 1 "$f" replay "$f"
	case_ 1 "$f" trace-dump "$f"
	case_ 1 "$f" trace-compile "$f" -o out.mmtrace
	case_ 1 "$f" import perf "$f" -o out.mmtrace
	case_ 1 "$f" import strace "$f" -o out.mmtrace
	case_ 1 "$f" conform --design linux "$f"
	case_ 1 "$f" conform --design reference "$f"
	case_ 1 "$f" plot "$f" -o figs
	case_ 1 "$f" merge "$f" -o merged.csv
	case_ 2 "$f" run --machine "$f"
	case_ 1 "$f" machine check "$f"
	case_ 1 "$f" timeline -o tl --trace "$f"
done
[ -e out.mmtrace ] && fail "a failed import or compile left out.mmtrace"
[ -e merged.csv ] && fail "a failed merge left merged.csv"
case_ 1 "nosuch" explain nosuch
case_ 1 "directory" explain adir
case_ 1 "" explain binary

# Outputs that cannot be written.
case_ 1 "No space" run --ops 4 -o /dev/full
case_ 1 "adir/x/y" run --ops 4 -o adir/x/y
case_ 1 "No space" sweep --designs linux --workloads pf --cores 1 --ops 4 -o /dev/full
case_ 1 "--layout" replay "$T" --layout adir/x/y
case_ 1 "" plot "$D/../figures/full-sweep/results.csv" -o /dev/full/x
"$M" run --ops 4 --csv -o a.csv >/dev/null 2>&1
case_ 2 "also an input" merge a.csv -o a.csv

# Correct inputs still work (so the refusals above are not blanket ones).
case_ 0 "" run --ops 4
case_ 0 "" run --design cortenmm-adv --lazy-flush --no-slices=off --ops 4 --cores 2
case_ 0 "" run --design linux --thp=madvise --thp=madvise --ops 4
case_ 0 "" replay "$T" --cores 2
case_ 0 "" conform --design reference "$GT"
case_ 0 "" bench-rwsem --write-pct 5 --cores 2
case_ 0 "" machine check "$D/../mmu/presets/zen4.machine"
case_ 0 "" sweep --designs linux,cortenmm-adv --lazy-flush --workloads pf --cores 1 --ops 4 -o ok.csv

echo "t48_badinput: $ncase cases, $crashes crashes, $silent silent accepts"
finish t48_badinput
