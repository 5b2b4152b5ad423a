#!/bin/sh
# The cost of the access log, in one run: requests per second through dspd
# with --access-log on and off, and the rows the store wrote per second.
# It prints figures and never fails on them.  As root, on loopback and a
# private dockerd only; every process it starts is stopped by its pid.
#
#	sh tests/bench/access-log.sh [build-dir]
#
# BENCH_SECONDS (10), BENCH_CONNECTIONS (32) and BENCH_THREADS (2) set wrk.

set -eu

build=${1:-.}
dspd=$build/core/dspd
seconds=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}

for tool in wrk sqlite3 /usr/sbin/dockerd; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "access-log.sh: $tool is missing (apt-get install" \
		    "wrk sqlite3 docker.io)" >&2
		exit 1
	}
done
[ -x "$dspd" ] || { echo "access-log.sh: no $dspd; build first" >&2; exit 1; }

root=$(mktemp -d /tmp/dsp-bench.XXXXXX)
engine_pid=
dspd_pid=

cleanup()
{
	[ -n "$dspd_pid" ] && kill "$dspd_pid" 2>/dev/null && \
	    wait "$dspd_pid" 2>/dev/null || true
	if [ -n "$engine_pid" ]; then
		kill "$engine_pid" 2>/dev/null || true
		while kill -0 "$engine_pid" 2>/dev/null; do sleep 0.2; done
	fi
	grep " $root" /proc/mounts | cut -d' ' -f2 | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$root"
}
trap cleanup EXIT INT TERM

/usr/sbin/dockerd --iptables=false --ip6tables=false --bridge=none \
    --storage-driver=vfs --shutdown-timeout=2 --data-root "$root/data" \
    --exec-root "$root/exec" --pidfile "$root/docker.pid" \
    --host "unix://$root/docker.sock" >"$root/dockerd.log" 2>&1 &
engine_pid=$!
i=0
until [ -S "$root/docker.sock" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "dockerd did not start" >&2; exit 1; }
	sleep 0.1
done

# One run of wrk through a fresh dspd; prints "REQ_PER_SEC ROWS".
run()
{
	log=$1
	rm -f "$root/ready" "$root/dsp.db"*
	"$dspd" -l tcp://127.0.0.1:0 --ready-file "$root/ready" \
	    --socket-path "$root/docker.sock" --db "$root/dsp.db" \
	    --control none --access-log "$log" --log-level warning \
	    2>"$root/dspd-$log.log" &
	dspd_pid=$!
	i=0
	until [ -s "$root/ready" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "dspd did not start" >&2; exit 1; }
		sleep 0.05
	done
	addr=$(sed 's|tcp://||' "$root/ready")
	rps=$(wrk -t"$threads" -c"$conns" -d"${seconds}s" \
	    "http://$addr/_ping" | awk '/Requests\/sec/ { print $2 }')
	kill "$dspd_pid"
	wait "$dspd_pid" || true
	dspd_pid=
	rows=$(sqlite3 -readonly "$root/dsp.db" \
	    "SELECT count(*) FROM access_log")
	echo "$rps $rows"
}

set -- $(run on)
on_rps=$1 on_rows=$2
set -- $(run off)
off_rps=$1 off_rows=$2

echo "GET /_ping through dspd, wrk -t$threads -c$conns for $seconds s:"
echo "  --access-log on:  $on_rps requests/s, $on_rows rows written" \
    "($(awk -v r="$on_rows" -v s="$seconds" 'BEGIN { printf "%d", r / s }')" \
    "rows/s)"
echo "  --access-log off: $off_rps requests/s, $off_rows rows written"
