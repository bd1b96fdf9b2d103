#!/bin/sh
# t40_cli.sh: the mmsim command line: help for every command, clear errors for bad input, repeatable JSON.
# usage: t40_cli.sh PATH/TO/mmsim
. "$(dirname "$0")/testlib.sh" "$@"


# expect STATUS PATTERN CMD...: run CMD, check its exit status and that stderr+stdout matches PATTERN.
expect() {
	want=$1 pat=$2
	shift 2
	"$@" >"$tmp/out" 2>&1
	got=$?
	[ "$got" -eq "$want" ] || fail "'$*' exited $got, wanted $want: $(head -c 300 "$tmp/out")"
	grep -q -- "$pat" "$tmp/out" || fail "'$*' output lacks '$pat': $(head -c 300 "$tmp/out")"
}

# Help: top level and for every command.
expect 0 "usage: mmsim COMMAND" "$M" --help
for c in $("$M" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do
	expect 0 "usage: mmsim $c" "$M" "$c" --help
done
expect 2 "no command 'frobnicate'" "$M" frobnicate
expect 2 "usage" "$M"

# Bad arguments: the option and the reason, exit status 2.
expect 2 "\-\-cores: 'abc' is not a number" "$M" bench-lines --cores abc
expect 2 "\-\-cores: 0 is out of range" "$M" bench-lines --cores 0
expect 2 "\-\-cores: 99999 is out of range" "$M" bench-lines --cores 99999
expect 2 "\-\-cores: 300 is more than machine 'skylake' has (224" "$M" bench-lines --machine skylake --cores 300
expect 2 "\-\-cores: '-3' is not a number" "$M" bench-lines --cores -3
expect 2 "\-\-pattern: 'diagonal' is not a pattern" "$M" bench-lines --pattern diagonal
expect 2 "\-\-mode: 'fast' is not a mode" "$M" bench-rwsem --mode fast
expect 2 "\-\-write-pct: 101 is out of range" "$M" bench-rwsem --write-pct 101
expect 2 "unrecognized option '--bogus'" "$M" bench-lines --bogus
expect 2 "requires an argument" "$M" bench-lines --cores
expect 2 "unexpected argument 'extra'" "$M" bench-lines extra
expect 2 "\-\-machine: nosuch: cannot open" "$M" bench-lines --machine nosuch

# A bad machine file: file, line and reason.
printf 'base = skylake\ncoh.hit = 4\n' >"$tmp/bad.machine"
expect 2 "bad.machine:2: coh.hit: '4' needs a unit" "$M" bench-lines --machine "$tmp/bad.machine"
expect 1 "bad.machine:2: coh.hit" "$M" machine check "$tmp/bad.machine"
printf 'base = skylake\ncoh.hit = 9 cyc\n' >"$tmp/ok.machine"
expect 0 "ok.machine: ok" "$M" machine check "$tmp/ok.machine"
expect 0 "name = \"zen4\"" "$M" machine show zen4
expect 2 "no preset 'zen9'" "$M" machine show zen9

# Determinism: the same run twice gives the same JSON apart from host_ keys.
for args in "bench-lines --cores 16 --pattern shared" "bench-rwsem --cores 16 --write-pct 20 --cs 50"; do
	# shellcheck disable=SC2086
	"$M" $args --json | grep -v '"host_' >"$tmp/a"
	# shellcheck disable=SC2086
	"$M" $args --json | grep -v '"host_' >"$tmp/b"
	cmp -s "$tmp/a" "$tmp/b" || fail "two runs of '$args' differ: $(diff "$tmp/a" "$tmp/b" | head -5)"
	grep -q '"sim_cycles"' "$tmp/a" || fail "'$args --json' has no sim_cycles"
	grep -q '"ops_per_sim_sec"' "$tmp/a" || fail "'$args --json' has no ops_per_sim_sec"
done

finish t40_cli
