#!/bin/sh
#
# Quick start, as root on Debian 12: install what dsp needs, build it, and
# run dspd in the foreground in front of the Docker engine.  Where no
# engine answers on /var/run/docker.sock, a private one is started for the
# session and stopped when dspd exits.
#
# The HAProxy images' variables pass through (CONTAINERS=1 POST=1 ...), as
# do dspd's DSP_* variables; arguments are handed to dspd.

set -eu

prog=quickstart.sh

# The private engine's places: apart from a system dockerd's, and short
# enough for the 107-byte limit on the unix sockets dockerd nests below.
QS_DATA=/var/lib/dsp-quickstart
QS_RUN=/run/dsp-quickstart
QS_SOCK=$QS_RUN/docker.sock
QS_PIDFILE=$QS_RUN/dockerd.pid
QS_LOG=$QS_DATA/dockerd.log
QS_WAIT=300		# tenths of a second an engine may take to answer
QS_STOP_WAIT=150	# tenths of a second dockerd may take to stop

engine_pid=
dspd_pid=

say()
{
	echo "$prog: $*"
}

die()
{
	echo "$prog: $*" >&2
	exit 1
}

# Answer whether a Docker engine replies 200 to GET /_ping on socket $1.
engine_answers()
{
	[ -S "$1" ] || return 1
	reply=$(printf 'GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n' |
	    timeout 5 socat -t 3 - "UNIX-CONNECT:$1" 2>/dev/null) || return 1
	case $reply in
	"HTTP/1."[01]" 200 "*)	return 0 ;;
	esac
	return 1
}

# Stop a dockerd left running by an earlier quick start killed too hard to
# clean up; its pid file would make the new one refuse to start.
stop_stale_engine()
{
	[ -f "$QS_PIDFILE" ] || return 0
	pid=$(cat "$QS_PIDFILE" 2>/dev/null) || return 0
	case $pid in
	''|*[!0-9]*)	return 0 ;;
	esac
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 0
	say "stopping the private dockerd left by an earlier run (pid $pid)"
	stop_pid "$pid"
}

# Whether pid $1 runs: an exited child that is not yet reaped does not.
alive()
{
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
	    "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# Send SIGTERM to pid $1 and wait until it is gone.
stop_pid()
{
	kill -TERM "$1" 2>/dev/null || return 0
	n=0
	while alive "$1"; do
		n=$((n + 1))
		if [ "$n" -gt "$QS_STOP_WAIT" ]; then
			say "pid $1 ignores SIGTERM, sending SIGKILL"
			kill -KILL "$1" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	# Reap it when it is our child; harmless when it is not.
	wait "$1" 2>/dev/null || true
}

# Start a private dockerd with the system tests' recipe and wait for it.
start_engine()
{
	mkdir -p "$QS_DATA/data" "$QS_RUN/exec"
	stop_stale_engine
	rm -f "$QS_SOCK"

	# A session of its own keeps Ctrl-C away from it: it must outlive
	# dspd's drain, and is stopped after it.  setsid does not fork here,
	# since a child of a shell without job control leads no group.
	setsid /usr/sbin/dockerd --iptables=false --ip6tables=false --bridge=none \
	    --storage-driver=vfs --shutdown-timeout=2 \
	    --data-root "$QS_DATA/data" --exec-root "$QS_RUN/exec" \
	    --pidfile "$QS_PIDFILE" --host "unix://$QS_SOCK" \
	    >"$QS_LOG" 2>&1 </dev/null &
	engine_pid=$!

	n=0
	until engine_answers "$QS_SOCK"; do
		n=$((n + 1))
		if ! alive "$engine_pid" ||
		    [ "$n" -gt "$QS_WAIT" ]; then
			tail -n 20 "$QS_LOG" >&2
			die "the private dockerd did not answer; log: $QS_LOG"
		fi
		sleep 0.1
	done
}

# On the way out, whatever the cause: stop dspd, then the private engine.
# shellcheck disable=SC2317 # called from a trap
cleanup()
{
	if [ -n "$dspd_pid" ]; then
		stop_pid "$dspd_pid"
		dspd_pid=
	fi
	if [ -n "$engine_pid" ]; then
		say "stopping the private dockerd (pid $engine_pid)"
		stop_pid "$engine_pid"
		engine_pid=
	fi
}

# Relay a stop request to dspd, which drains and exits by itself; before
# dspd runs, give up (the exit trap stops the engine).
# shellcheck disable=SC2317 # called from a trap
forward_stop()
{
	if [ -z "$dspd_pid" ]; then
		exit 130
	fi
	kill -TERM "$dspd_pid" 2>/dev/null || true
}

# Print which HAProxy variables and DSP_* settings this run takes over.
show_environment()
{
	found=
	for v in AUTH BUILD COMMIT CONFIGS CONTAINERS DISTRIBUTION EVENTS \
	    EXEC GRPC IMAGES INFO NETWORKS NODES PING PLUGINS SECRETS \
	    SERVICES SESSION SWARM SYSTEM TASKS VERSION VOLUMES POST \
	    ALLOW_START ALLOW_STOP ALLOW_RESTARTS ALLOW_PAUSE ALLOW_UNPAUSE \
	    ALLOW_KILL ALLOW_ARCHIVE ALLOW_EXPORT ALLOW_LOGS ALLOW_TOP \
	    ALLOW_CHANGES LOG_LEVEL SOCKET_PATH DISABLE_IPV6; do
		eval "val=\${$v-}"
		eval "isset=\${$v+x}"
		# shellcheck disable=SC2154 # assigned by the eval above
		[ -n "$isset" ] && found="$found $v=$val"
	done
	if [ -n "$found" ]; then
		echo "  from the environment:$found"
	fi
	env | grep '^DSP_' | sed 's/^/  from the environment: /' || true
}

if [ "$(id -u)" -ne 0 ]; then
	die "must run as root (try: sudo sh $0)"
fi

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

sh contrib/install-deps.sh

# Configure once; later runs only let make rebuild what changed.
if [ ! -x configure ]; then
	say "generating configure"
	./autogen.sh
fi
if [ ! -f config.status ] || [ ! -f Makefile ]; then
	say "configuring"
	./configure --quiet
fi
say "building"
make -j"$(nproc 2>/dev/null || echo 2)"

upstream=${DSP_SOCKET_PATH:-${SOCKET_PATH:-/var/run/docker.sock}}
private=no
if engine_answers "$upstream"; then
	engine_note="the Docker engine on $upstream"
else
	say "no Docker engine answers on $upstream:"
	say "starting a private dockerd for this session only"
	say "(socket $QS_SOCK, data in $QS_DATA, log $QS_LOG)"
	trap cleanup EXIT
	trap forward_stop INT TERM HUP
	start_engine
	private=yes
	upstream=$QS_SOCK
	engine_note="a private dockerd (pid $engine_pid) on $QS_SOCK;
it will be stopped when dspd exits"
fi

listen=tcp://127.0.0.1:2375
case ${DSP_LISTEN-} in
tcp://*)	listen=${DSP_LISTEN%%,*} ;;
esac

cat <<EOF

dspd is starting in front of $engine_note.

  Use it:     DOCKER_HOST=$listen docker version
              DOCKER_HOST=$listen docker ps
  By default: PING, VERSION and EVENTS are open (as in the HAProxy images);
              anything else is answered 403 with the variable that would
              allow it, so 'docker ps' is refused until CONTAINERS=1.
  Open more:  stop with Ctrl-C and start again with variables, e.g.
              CONTAINERS=1 sh contrib/quickstart.sh
              (with sudo: sudo CONTAINERS=1 sh contrib/quickstart.sh);
              POST=1 adds write access to the groups that are on.
              README.md lists every variable.
EOF
show_environment
echo

if [ "$private" = no ]; then
	exec ./core/dspd "$@"
fi

# dspd runs as a child so that the private engine can be stopped after it.
# In a session of its own, it receives each stop request once: the signal
# this script relays (Ctrl-C drains, a second one closes at once).
setsid ./core/dspd --socket-path "$upstream" "$@" &
dspd_pid=$!
status=0
while :; do
	status=0
	wait "$dspd_pid" || status=$?
	# A trap cut the wait short while dspd runs (or is yet to be reaped:
	# kill -0 counts a zombie, and the next wait collects its status).
	kill -0 "$dspd_pid" 2>/dev/null || break
done
dspd_pid=
say "dspd exited with status $status"
exit "$status"
