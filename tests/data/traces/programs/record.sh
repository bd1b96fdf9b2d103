#!/bin/bash
# record.sh: makes the recordings of programs/ (tests/data/traces/README.md, "Recordings made with mmsim record") on
# this machine: each program runs under `mmsim record` (the recipe of docs/trace-format.md), and perf script's text
# is kept, compressed with xz -9, as NAME.perf.txt.xz.
#
# usage: record.sh MMSIM OUTDIR [NAME...]     (as root, tracefs mounted: mount -t tracefs nodev /sys/kernel/tracing)
# Needs: nodejs, openjdk-17-jdk-headless, golang-go, redis-server, redis-tools, postgresql 15 (postgres, initdb,
# pg_ctl, pgbench), libjemalloc2, pigz, xz-utils, python3.11, mawk, gcc, apache2, apache2-utils (ab), memcached, libleveldb-dev and g++,
# rustc (any recent one: Debian's, or rustup's).
set -eu
M=$(readlink -f "$1")
OUT=$(readlink -f "$2")
shift 2
SRC=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/mmsim-rec-XXXXXX)
chmod 755 "$W"
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"
cp "$SRC"/* "$W"/
cd "$W"
all="node-jit node-workers java-gc go-gc redis-server postgres-pgbench jemalloc-threads sh-forkexec xz-T2 pigz-p2 py-pool apache-static node-http memcached-t4 leveldb-t4 java-zgc mm-corners mm-signals rustc-link node-wasm apache-sleep"
names=${*:-$all}

# rec NAME CMD...: record CMD; keep the perf script text as OUT/NAME.perf.txt.xz and the import summary beside it.
rec() {
	local n=$1
	shift
	"$M" record -o "$W/$n.mmtrace" --perf-text "$W/$n.perf.txt" --json -- "$@" >"$OUT/$n.import.json" 2>"$W/$n.err" || {
		cat "$W/$n.err" >&2
		return 1
	}
	if grep -qi 'lost' "$W/$n.err"; then
		echo "record.sh: $n: perf lost events:" >&2
		cat "$W/$n.err" >&2
		return 1
	fi
	xz -9 -f -c "$W/$n.perf.txt" >"$OUT/$n.perf.txt.xz"
	echo "$n: $(stat -c %s "$OUT/$n.perf.txt.xz") bytes"
}

# The compressors' input: 60,000 lines of 3-10 random lowercase words and a number (2,686,153 bytes with mawk 1.3.4,
# md5 918f0e03621059f4874a6b2cd02bc4c4).
mkinput() {
	mawk 'BEGIN { srand(1); for (i = 0; i < 60000; i++) { n = 3 + int(rand() * 8); l = "";
		for (j = 0; j < n; j++) { w = ""; k = 2 + int(rand() * 7);
			for (c = 0; c < k; c++) w = w sprintf("%c", 97 + int(rand() * 26)); l = l w " " }
		print l int(rand() * 100000) } }' >in.txt
}

redis() {
	rec redis-server redis-server --port 6399 --save '' --appendonly no --daemonize no &
	local pid=$!
	for _ in $(seq 100); do redis-cli -p 6399 ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	redis-benchmark -p 6399 -n 20000 -r 20000 -c 4 -P 4 -t set,get,lpush,lpop,hset -d 512 -q >/dev/null
	redis-cli -p 6399 shutdown nosave >/dev/null || true
	wait $pid
}

# apache NAME: apache2 -X (one process, 2 event-MPM workers; apache.conf) serving one 64 KiB file with EnableMMAP,
# from its start until timeout stops it 3 s later, under `ab -k -n 2000 -c 2` (2,000 requests, not recorded).
# apache-static was made before the recipe had switch events; apache-sleep is the same run with them.
apache() {
	mkdir -p "$W/htdocs"
	head -c 65536 /dev/zero | tr '\0' x | fold -w 63 | head -c 65536 >"$W/htdocs/index.html"
	chmod -R a+rX "$W"
	rec "$1" timeout -s TERM 3 apache2 -X -f "$W/apache.conf" -C "Define W $W" &
	local pid=$!
	sleep 1
	ab -k -n 2000 -c 2 http://127.0.0.1:8099/index.html >/dev/null
	wait $pid
}

# node-http: node node-http.js (an HTTP server that builds a 200-item JSON reply per request) until timeout stops it
# 3 s later, under `ab -k -n 2000 -c 4` (not recorded).
node_http() {
	rec node-http timeout -s TERM 3 node node-http.js &
	local pid=$!
	sleep 1
	ab -k -n 2000 -c 4 http://127.0.0.1:8098/ >/dev/null
	wait $pid
}

# memcached-t4: memcached with 4 worker threads until timeout stops it 3 s later, under memcached-load.py (not
# recorded).
memcached_t4() {
	rec memcached-t4 timeout -s TERM 3 memcached -u nobody -p 11299 -l 127.0.0.1 -t 4 -m 64 &
	local pid=$!
	sleep 1
	python3 memcached-load.py
	wait $pid
}

postgres() {
	local pg="$W/pg" su="setpriv --reuid=postgres --regid=postgres --init-groups"
	local opts="-p 5499 -k $pg/sock -c shared_buffers=16MB -c max_connections=10 -c logging_collector=off -c autovacuum=off"
	mkdir -p "$pg/sock"
	chown -R postgres "$pg"
	# Made before the recording: the cluster and pgbench's tables (scale 1).
	$su initdb -D "$pg/data" -A trust -U postgres >/dev/null
	$su pg_ctl -D "$pg/data" -o "$opts" -l "$pg/log" -w start >/dev/null
	pgbench -h "$pg/sock" -p 5499 -U postgres -i -s 1 -q postgres >/dev/null 2>&1
	$su pg_ctl -D "$pg/data" -w stop >/dev/null
	# Recorded: the server from its start to its shutdown, with 2 pgbench clients running 100 transactions each.
	rec postgres-pgbench $su "$(command -v postgres)" -D "$pg/data" $opts &
	local pid=$!
	for _ in $(seq 100); do pg_isready -q -h "$pg/sock" -p 5499 && break; sleep 0.1; done
	pgbench -h "$pg/sock" -p 5499 -U postgres -c 2 -j 1 -t 100 postgres >/dev/null 2>&1
	$su pg_ctl -D "$pg/data" -m fast -w stop >/dev/null
	wait $pid
}

for n in $names; do
	case $n in
	node-jit) rec node-jit node node-jit.js ;;
	node-workers) rec node-workers node --v8-pool-size=1 node-workers.js ;;
	java-gc) javac Alloc.java && rec java-gc java -Xms16m -Xmx64m -XX:+UseG1GC Alloc ;;
	go-gc) GOCACHE="$W/gocache" go build -o go-alloc go-alloc.go && rec go-gc env GOMAXPROCS=2 ./go-alloc ;;
	redis-server) redis ;;
	postgres-pgbench) postgres ;;
	jemalloc-threads)
		gcc -O2 -pthread jemalloc-threads.c -o jemalloc-threads &&
			rec jemalloc-threads env LD_PRELOAD=libjemalloc.so.2 ./jemalloc-threads 4 100000
		;;
	sh-forkexec) rec sh-forkexec sh fork-exec.sh ;;
	xz-T2) mkinput && rec xz-T2 xz -T2 -3 --block-size=1MiB -k -f in.txt ;;
	pigz-p2) mkinput && rec pigz-p2 pigz -p 2 -k -f in.txt ;;
	py-pool) rec py-pool /usr/bin/python3.11 py-pool.py ;;
	apache-static | apache-sleep) apache "$n" ;;
	node-http) node_http ;;
	memcached-t4) memcached_t4 ;;
	leveldb-t4) g++ -O2 -pthread -o leveldb-bench leveldb-bench.cc -lleveldb && rec leveldb-t4 ./leveldb-bench db 200000 4 100000 ;;
	java-zgc) javac ZAlloc.java && rec java-zgc java -XX:+UseZGC -Xms64m -Xmx64m -XX:TieredStopAtLevel=1 ZAlloc 2 100000 ;;
	mm-corners) gcc -O1 -pthread -o mm-corners mm-corners.c && rec mm-corners ./mm-corners ;;
	mm-signals) gcc -O1 -pthread -o mm-signals mm-signals.c && rec mm-signals ./mm-signals ;;
	rustc-link) rec rustc-link rustc -O -C codegen-units=4 rust-threads.rs ;;
	node-wasm) rec node-wasm node node-wasm.js ;;
	*) echo "record.sh: no recording named $n" >&2 && exit 2 ;;
	esac
done
