# testlib.sh: how every shell test starts: the mmsim path ($M), a scratch directory ($tmp, removed at exit), fail and finish.
# usage, at the top of a test: . "$(dirname "$0")/testlib.sh" "$@"
set -u
M=$1
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# fail MESSAGE: count a failure and say what it was.
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
# finish NAME: the closing line, and the exit status.
finish() {
	if [ "$fails" -eq 0 ]; then
		echo "$1: all passed"
		exit 0
	fi
	echo "$1: $fails failures"
	exit 1
}
