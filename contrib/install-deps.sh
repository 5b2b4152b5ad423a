#!/bin/sh
#
# Install, by name from Debian 12's archive, every package that dsp needs
# to build and to run its tests.  Run as root; running it again changes
# nothing once everything is there.

set -eu

# What each group is for: the toolchain; the libraries dspd links;
# llhttp's C sources; the unit and system test tools (sqlite3 reads the
# access log as the README shows); a real Docker engine
# with its route table (the catalogue's oracle), an image to run, and
# Debian's docker-compose (v1), whose creates the create guard must pass;
# clang with its runtime (libFuzzer and the sanitizers, which do not link
# without libclang-rt-14-dev) and valgrind, for the fuzz and memory suites;
# prometheus for its promtool, which checks the metrics page and the alert
# rules (its server is not used); HAProxy and wrk for the benchmark, which
# compares dspd with HAProxy under wrk's load (its smoke run is a test);
# systemd's tools (systemd-socket-activate, systemd-analyze: no service is
# started) and python3-yaml, for the tests of the units and compose files.
PACKAGES="
	build-essential autoconf automake libtool pkg-config
	libevent-dev libsqlite3-dev libncurses-dev libjansson-dev
	node-llhttp
	libcmocka-dev python3-pytest socat tmux sqlite3
	docker.io busybox-static golang-github-docker-docker-dev
	docker-compose
	clang libclang-rt-14-dev valgrind
	prometheus
	haproxy wrk
	systemd python3-yaml
"

prog=install-deps.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "$prog: must run as root (try: sudo sh $0)" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1 ||
    ! command -v dpkg-query >/dev/null 2>&1; then
	echo "$prog: apt-get and dpkg-query not found: this is for Debian 12" >&2
	exit 1
fi

# Ask dpkg first so that a second run costs no apt-get update.
missing=
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) ||
	    status=
	case $status in
	ii*)	;;
	*)	missing="$missing $p" ;;
	esac
done
if [ -z "$missing" ]; then
	echo "$prog: all packages are installed"
	exit 0
fi

# Servers that come with these packages and were not here before.
services_new=
for unit in prometheus prometheus-node-exporter; do
	dpkg-query -W -f='${db:Status-Abbrev}' "$unit" 2>/dev/null |
	    grep -q '^ii' || services_new="$services_new $unit"
done

echo "$prog: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get -qq -o Dpkg::Use-Pty=0 update; then
	echo "$prog: apt-get update failed" >&2
	exit 1
fi
# dpkg explains its failures on standard output: keep it, show it on error.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086 # one word per package
if ! apt-get -qq -y -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold install $missing >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "$prog: apt-get install failed for:$missing" >&2
	exit 1
fi
# Debian starts the Prometheus server it installs, and the node exporter
# it recommends; only promtool is used here, so the services this script
# brought in are stopped and not enabled.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
	for unit in $services_new; do
		systemctl disable --now "$unit" >/dev/null 2>&1 &&
		    echo "$prog: stopped and disabled $unit (only promtool" \
		    "is needed)"
	done
fi
echo "$prog: done"
