#!/bin/sh
# t81_explain_tty.sh: the interactive prompt in a real terminal (tmux): line editing, history, errors that leave the prompt alive.
# usage: t81_explain_tty.sh PATH/TO/mmsim   (exit 77 = skipped)
set -u
M=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if ! command -v tmux >/dev/null 2>&1; then
	echo "SKIP: tmux is not installed (apt-get install tmux): the interactive prompt was not tested"
	exit 77
fi
S=mmsim-t81-$$
tmp=$(mktemp -d)
export TMUX_TMPDIR=$tmp HOME=$tmp
trap 'tmux kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pane() { tmux capture-pane -p -t "$S" -S -200; }
# wait_for TEXT: until the pane shows TEXT (10 s at most).
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		pane | grep -q -- "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

tmux new-session -d -s "$S" -x 200 -y 50 "$M explain --cores 2; echo EXITED-\$?; sleep 30"
wait_for "Type 'help'" || fail "no banner: $(pane)"
wait_for "mmsim>" || fail "no prompt"
tmux send-keys -t "$S" "mmap 16K as buf" Enter
wait_for "= 0x7effffffc000" || fail "mmap did not run: $(pane | tail -5)"
# Line editing: type a command with a typo, move left over the last word and fix it.
tmux send-keys -t "$S" "touch buf q" BSpace "w" Enter
wait_for "write 0x7effffffc000: ok" || fail "edited line did not run: $(pane | tail -5)"
# History: the up arrow brings the last command back.
tmux send-keys -t "$S" "clear-marker" Enter
wait_for "unknown command 'clear-marker'" || fail "an unknown command did not give an error"
tmux send-keys -t "$S" Up Up Enter
sleep 0.5
[ "$(pane | grep -c 'write 0x7effffffc000: ok')" -ge 2 ] || fail "history (up arrow) did not repeat the touch: $(pane | tail -8)"
# An out-of-range core: an error, and the prompt lives on.
tmux send-keys -t "$S" "touch buf w on 5" Enter
wait_for "error: no core 5" || fail "no error for core 5"
tmux send-keys -t "$S" "show layout" Enter
wait_for "rw-p     16 KiB  anonymous" || fail "the prompt died after an error: $(pane | tail -5)"
tmux send-keys -t "$S" "quit" Enter
wait_for "EXITED-0" || fail "quit did not leave with status 0: $(pane | tail -5)"

[ $fails -eq 0 ] && echo "t81_explain_tty: all passed" || echo "t81_explain_tty: $fails failures"
[ $fails -eq 0 ]
