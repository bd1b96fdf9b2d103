#!/bin/sh
# fork-exec.sh: a shell loop of small commands and pipes (fork, exec, pipes, command substitution).
#   sh fork-exec.sh
i=0
while [ $i -lt 8 ]; do
	n=$(echo "line $i" | tr a-z A-Z | wc -c)
	ls /usr/bin | head -n 20 | sort -r >/dev/null
	seq 1 200 | awk '{ s += $1 } END { print s }' >/dev/null
	echo "$n" | sed 's/^/n=/' | cat >/dev/null
	i=$((i + 1))
done
