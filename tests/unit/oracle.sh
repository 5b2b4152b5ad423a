#!/bin/sh
# oracle.sh: check the endpoint catalogue against dockerd's own router.
#
# Every router.New<Method>Route("PATH", ...) registration in the Go
# sources of dockerd's API router (Debian's golang-github-docker-docker-dev,
# or the directory in DSP_ROUTER_SRC) becomes a line "METHOD TARGET
# PATTERN", TARGET being PATTERN with each {var} or {var:regex} replaced
# by a value that fits it; route_check then looks each one up in the
# catalogue.  Exit status as automake's test harness reads it: 0 pass,
# 1 fail, 77 skipped when the Go sources are not installed.

gocode=/usr/share/gocode/src/github.com/docker/docker
src=${DSP_ROUTER_SRC:-$gocode/api/server/router}
if [ ! -d "$src" ]; then
	echo "oracle.sh: $src not found (golang-github-docker-docker-dev" \
	    "is not installed); skipped"
	exit 77
fi

# route_check is built in the build tree, which is where the test harness
# runs this script from, VPATH builds included; ROUTE_CHECK overrides.
check=${ROUTE_CHECK:-}
if [ -z "$check" ]; then
	for c in "${builddir:-.}/tests/unit/route_check" \
	    "$(dirname "$0")/route_check"; do
		if [ -x "$c" ]; then
			check=$c
			break
		fi
	done
fi
if [ -z "$check" ] || [ ! -x "$check" ]; then
	echo "oracle.sh: route_check not found; build it with make check" >&2
	exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

find "$src" -type f -name '*.go' ! -name '*_test.go' | LC_ALL=C sort \
    >"$tmp/files" || exit 1

# The awk program reads the file list itself, so that no path is split.
# dockerd mounts the debug router's routes under /debug, unversioned
# (api/server/server.go); every other route is served both bare and
# under /v{version:[0-9.]+}, which route_check tries itself.
LC_ALL=C awk -v src="$src" -v list="$tmp/files" -v counts="$tmp/counts" '
function value(first, re, i,    v) {
	if (first == "images" || first == "distribution")
		v = "localhost:5000/team/app:1.0"
	else if (first == "plugins")
		v = "vieux/sshfs:latest"
	else if (re == "[0-9.]+")
		v = "1.41"
	else
		v = "c0ffee" i
	return v
}
function sample(path,    out, first, v, re, i, c) {
	first = path
	sub(/^\//, "", first)
	sub(/\/.*/, "", first)
	out = ""
	i = 0
	while (match(path, /\{[^}]*\}/)) {
		v = substr(path, RSTART + 1, RLENGTH - 2)
		out = out substr(path, 1, RSTART - 1)
		path = substr(path, RSTART + RLENGTH)
		re = ""
		if ((c = index(v, ":")) > 0)
			re = substr(v, c + 1)
		v = value(first, re, ++i)
		if (re != "" && v !~ ("^(" re ")$")) {
			printf "oracle.sh: sample %s does not fit %s\n", v, \
			    re >"/dev/stderr"
			bad = 1
		}
		out = out v
	}
	return out path
}
BEGIN {
	loose = strict = 0
	while ((getline file <list) > 0) {
		rel = substr(file, length(src) + 2)
		while ((getline line <file) > 0) {
			t = line
			while (match(t, /router\.New[A-Za-z]*Route\(/)) {
				loose++
				t = substr(t, RSTART + RLENGTH)
			}
			re = "router\\.New(Get|Post|Put|Delete|Head|Options)" \
			    "Route\\(\"[^\"]*\""
			while (match(line, re)) {
				reg = substr(line, RSTART, RLENGTH)
				line = substr(line, RSTART + RLENGTH)
				method = reg
				sub(/^router\.New/, "", method)
				sub(/Route\(.*/, "", method)
				path = reg
				sub(/^[^"]*"/, "", path)
				sub(/"$/, "", path)
				if (rel ~ /^debug\//)
					path = "/debug" path
				print toupper(method), sample(path), path
				strict++
			}
		}
		close(file)
	}
	print loose, strict >counts
	exit bad
}' >"$tmp/routes" || exit 1

read -r loose strict <"$tmp/counts" || exit 1
if [ "$strict" -eq 0 ]; then
	echo "oracle.sh: no route registrations found in $src" >&2
	exit 1
fi
if [ "$loose" -ne "$strict" ]; then
	echo "oracle.sh: $loose registrations in $src but only $strict" \
	    "with a literal path: extend the extraction" >&2
	exit 1
fi
echo "oracle.sh: $strict registrations in $src"

"$check" <"$tmp/routes"
case $? in
0)	exit 0 ;;
*)	exit 1 ;;
esac
