#!/bin/sh
#
# Every test of dsp, as root on Debian 12: install what is needed, build
# with the full warning set, run the unit suite and make distcheck; build
# the libFuzzer targets and run each for a while; build dspd with ASan,
# LeakSanitizer and UBSan and run the system suite against a real Docker
# engine on it; run the tests that measure memory on the plain build, and
# the main proxy scenarios with dspd under valgrind.  Each suite's seconds
# are printed; the last line is "N passed, N failed" over all suites, and
# the exit status is 1 when anything failed.
#
# DSP_SKIP_DEPS=1	do not run contrib/install-deps.sh
# DSP_SKIP_DISTCHECK=1	do not run make distcheck
# DSP_SKIP_FUZZ=1	do not build and run the fuzz targets
# DSP_SKIP_VALGRIND=1	do not run the valgrind suite
# DSP_SKIP_BENCH=1	do not run the benchmark's smoke round
# DSP_FUZZ_SECONDS	seconds of fuzzing per target (60)
# DSP_PYTEST_ARGS	more arguments for the sanitizer build's pytest run
#			(e.g. "-x -k events")
# DSP_UNIT_TIMEOUT, DSP_DISTCHECK_TIMEOUT, DSP_SYSTEM_TIMEOUT,
# DSP_FUZZ_TIMEOUT	caps in seconds (900, 1200, 2700 a pytest run, 1800)
# DSP_BENCH_TIMEOUT	cap of the benchmark's smoke round in seconds (300)

set -u

prog=run.sh

# Wall-clock caps, in seconds, so that a hung test ends as a failure that
# the totals show rather than as a run that never finishes.  The signal
# goes to the command alone (Ctrl-C must still reach it): make passes
# SIGTERM on to its jobs, and pytest stops cleanly on SIGINT.
UNIT_TIMEOUT=${DSP_UNIT_TIMEOUT:-900}
DISTCHECK_TIMEOUT=${DSP_DISTCHECK_TIMEOUT:-1200}
SYSTEM_TIMEOUT=${DSP_SYSTEM_TIMEOUT:-2700}
FUZZ_TIMEOUT=${DSP_FUZZ_TIMEOUT:-1800}
BENCH_TIMEOUT=${DSP_BENCH_TIMEOUT:-300}

# The system tests run again under valgrind: the proxy's main paths
# (defaults and policy, framing and pipelining, exec and attach, the
# docker CLIs, a container's life cycle).
VALGRIND_TESTS="tests/system/test_defaults.py tests/system/test_framing.py
	tests/system/test_exec.py tests/system/test_containers_cli.py
	tests/system/test_lifecycle.py"

CONFIGURE_ARGS="--enable-debug --enable-werror"

passed=0
failed=0
report=
PYTEST_ENV=

say()
{
	echo "$prog: $*"
}

# Add one suite's counts to the totals and to the report printed at the end.
tally()
{
	passed=$((passed + $2))
	failed=$((failed + $3))
	report="$report
  $1: $2 passed, $3 failed ($4 s)"
	say "$1: $2 passed, $3 failed ($4 s)"
}

# Print the report and the totals line, last, and exit accordingly.
finish()
{
	echo
	echo "summary:$report"
	echo "$passed passed, $failed failed"
	if [ "$failed" -ne 0 ]; then
		exit 1
	fi
	exit 0
}

# The sum of the numbers in "[  $2  ] N test(s)" lines of cmocka output in
# file $1; a binary running several groups prints one line per group.
cmocka_count()
{
	sed -n "s/^\[  $2 *\] \([0-9][0-9]*\) test.*/\1/p" "$1" |
	    awk '{ n += $1 } END { print n + 0 }'
}

# The number before word $2 in pytest's summary line $1 ("3 passed, ...").
pytest_count()
{
	echo "$1" | tr ',' '\n' |
	    sed -n "s/^ *=* *\([0-9][0-9]*\) $2 *.*/\1/p" | head -n 1 |
	    awk '{ print $1 + 0 }'
}

now()
{
	date +%s
}

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

# Dependencies and build: without them nothing else can run.
if [ "${DSP_SKIP_DEPS:-0}" != 1 ]; then
	if ! sh contrib/install-deps.sh; then
		tally "dependencies" 0 1 0
		finish
	fi
fi

t0=$(now)
# A tree configured otherwise (by the quick start, say) would keep its
# objects, since make does not track flags: start it afresh.
if [ -f config.status ] &&
    ! ./config.status --config 2>/dev/null |
    grep -q -- "--enable-debug.*--enable-werror"; then
	say "the tree was configured otherwise: make distclean"
	make -s distclean >/dev/null 2>&1 || true
fi
# shellcheck disable=SC2086 # one word per argument
if ! ./autogen.sh || ! ./configure --quiet $CONFIGURE_ARGS ||
    ! make -j2; then
	tally "build" 0 1 $(($(now) - t0))
	finish
fi
say "build: done ($(($(now) - t0)) s)"

# The unit suite: the tests automake knows, each leaving a .log and .trs.
t0=$(now)
# shellcheck disable=SC2016 # $(TESTS) is make's, not the shell's
tests=$(printf 'print-tests:\n\t@echo $(TESTS)\n' |
    make -s -f Makefile -f - print-tests)
for t in $tests; do
	rm -f "$t.log" "$t.trs"
done
unset CMOCKA_MESSAGE_OUTPUT CMOCKA_TEST_ABORT
timeout --foreground -k 30 "$UNIT_TIMEOUT" make -j2 check
unit_status=$?
up=0
uf=0
for t in $tests; do
	log=$t.log
	result=$(sed -n 's/^:test-result: *//p' "$t.trs" 2>/dev/null |
	    head -n 1)
	p=0
	f=0
	if [ -f "$log" ] && grep -q '^\[==========\]' "$log"; then
		p=$(cmocka_count "$log" PASSED)
		f=$(cmocka_count "$log" FAILED)
	elif [ "$result" = PASS ]; then
		p=1
	fi
	# A crash after some cases, or a test that never ran, still fails.
	case $result in
	PASS|SKIP|XFAIL)	;;
	*)			[ "$f" -eq 0 ] && f=1 ;;
	esac
	if [ "$f" -ne 0 ] && [ -f "$log" ]; then
		echo "---- $log (last 60 lines)"
		tail -n 60 "$log"
		echo "----"
	fi
	up=$((up + p))
	uf=$((uf + f))
done
if [ -z "$tests" ]; then
	say "unit: make knows no tests (is cmocka installed?)"
	uf=1
elif [ "$unit_status" -ne 0 ] && [ "$uf" -eq 0 ]; then
	say "unit: make check failed (status $unit_status)"
	uf=1
fi
tally "unit (make check)" "$up" "$uf" $(($(now) - t0))

# make distcheck builds, tests and installs a copy of the tarball: one test.
if [ "${DSP_SKIP_DISTCHECK:-0}" != 1 ]; then
	t0=$(now)
	if timeout --foreground -k 30 "$DISTCHECK_TIMEOUT" make -j2 distcheck; then
		tally "distcheck" 1 0 $(($(now) - t0))
	else
		tally "distcheck" 0 1 $(($(now) - t0))
	fi
fi

# Run pytest against dspd $2 with more environment in $PYTEST_ENV
# ("NAME=value" words without blanks) and the arguments given, and tally
# the outcome as suite $1, timed from $t0.  Debian's python3 has pytest,
# whatever python3 comes first on PATH; no bytecode or cache is left in
# the tree, which make dist would otherwise pack.
pytest_suite()
{
	label=$1
	bin=$2
	shift 2
	out=$(mktemp)
	{
		# shellcheck disable=SC2086 # PYTEST_ENV is a list of words
		env $PYTEST_ENV DSPD_BIN="$bin" PYTHONDONTWRITEBYTECODE=1 \
		    timeout --foreground -s INT -k 60 "$SYSTEM_TIMEOUT" \
		    /usr/bin/python3 -m pytest -v --color=no \
		    -p no:cacheprovider "$@" </dev/null 2>&1
		echo "$?" >"$out.status"
	} | tee "$out"
	sys_status=$(cat "$out.status" 2>/dev/null || echo 1)
	line=$(grep -E '^=+ .* in [0-9.]+s.* =+$' "$out" | tail -n 1)
	rm -f "$out" "$out.status"
	sp=$(pytest_count "$line" passed)
	sf=$(pytest_count "$line" failed)
	se=$(pytest_count "$line" error)
	sf=$((sf + se))
	case $sys_status in
	0)	;;
	5)	say "$label: pytest collected no test" ;;
	*)	if [ "$sf" -eq 0 ]; then
			say "$label: pytest ended with status $sys_status"
			sf=1
		fi
		;;
	esac
	tally "$label" "$sp" "$sf" $(($(now) - t0))
}

# The other builds (fuzz targets, sanitizers) happen out of the tree, from
# a copy of what make dist ships, since a configured tree cannot also be
# the source of a VPATH build.
ci=$(mktemp -d /tmp/dsp-ci.XXXXXX)
# The system tests run dspctl and dsptui from here as an unprivileged
# user too: mktemp's 0700 would refuse that user before the control
# socket's own checks could be tested.
chmod 0755 "$ci"
keep_ci=0
if ! make -s distdir distdir="$ci/src" >/dev/null; then
	say "make distdir failed: no fuzz or sanitizer build"
	rm -rf "$ci/src"
fi

# Fuzzing: each libFuzzer target over its regression inputs, then for
# DSP_FUZZ_SECONDS from its seeds; one test per target.
if [ "${DSP_SKIP_FUZZ:-0}" != 1 ]; then
	t0=$(now)
	mkdir -p "$ci/fuzz"
	if [ -d "$ci/src" ] && (cd "$ci/fuzz" &&
	    "$ci/src/configure" --quiet --enable-fuzzing &&
	    make -s -j2 fuzz); then
		out=$ci/fuzz/summary
		(cd "$ci/fuzz" && DSP_FUZZ_WORK="$ci/fuzz/work" \
		    timeout --foreground -k 30 "$FUZZ_TIMEOUT" \
		    sh "$top/tests/fuzz/run.sh" </dev/null 2>&1) | tee "$out"
		counts=$(sed -n \
		    's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out")
		fp=${counts% *}
		ff=${counts#* }
		[ -n "$counts" ] || { fp=0; ff=1; }
		[ "$ff" -eq 0 ] || keep_ci=1
		tally "fuzz (libFuzzer, ${DSP_FUZZ_SECONDS:-60} s a target)" \
		    "$fp" "$ff" $(($(now) - t0))
	else
		tally "fuzz (build)" 0 1 $(($(now) - t0))
	fi
fi

# The system suite against a real engine, run once, on a build with
# AddressSanitizer, LeakSanitizer and UBSan: a report from any dspd (or
# dspctl) fails the test it ran in (conftest.py reads the report files).
t0=$(now)
mkdir -p "$ci/asan" "$ci/reports"
if [ -d "$ci/src" ] && (cd "$ci/asan" &&
    "$ci/src/configure" --quiet --enable-debug --enable-sanitizers &&
    make -s -j2); then
	asan=detect_leaks=1:halt_on_error=1:log_path=$ci/reports/asan
	ubsan=print_stacktrace=1:halt_on_error=1:log_path=$ci/reports/ubsan
	PYTEST_ENV="ASAN_OPTIONS=$asan UBSAN_OPTIONS=$ubsan"
	if [ -x "$ci/asan/ctl/dspctl" ]; then
		PYTEST_ENV="$PYTEST_ENV DSPCTL_BIN=$ci/asan/ctl/dspctl"
	fi
	# shellcheck disable=SC2086 # DSP_PYTEST_ARGS is a list of words
	pytest_suite "system (pytest, ASan+UBSan build)" "$ci/asan/core/dspd" \
	    ${DSP_PYTEST_ARGS:-} tests/system
	PYTEST_ENV=
	[ -z "$(ls "$ci/reports")" ] || keep_ci=1
else
	tally "system (sanitizer build)" 0 1 $(($(now) - t0))
fi

# What a memory checker distorts runs on the plain build: the tests that
# measure dspd's memory (marked rss).
t0=$(now)
pytest_suite "system memory bounds (pytest -m rss, plain build)" \
    "$top/core/dspd" -m rss tests/system

# dspd under valgrind through the main proxy scenarios: no invalid access,
# no definite leak at exit (the harness reads valgrind's log).
if [ "${DSP_SKIP_VALGRIND:-0}" != 1 ]; then
	t0=$(now)
	PYTEST_ENV=DSP_VALGRIND=1
	# shellcheck disable=SC2086 # one word per file
	pytest_suite "system under valgrind (plain build)" "$top/core/dspd" \
	    $VALGRIND_TESTS
	PYTEST_ENV=
fi

# The benchmark harness in one short round of everything, so that it
# cannot rot: it fails when a figure cannot be taken, never on a figure.
if [ "${DSP_SKIP_BENCH:-0}" != 1 ]; then
	t0=$(now)
	if PYTHONDONTWRITEBYTECODE=1 timeout --foreground -k 60 \
	    "$BENCH_TIMEOUT" /usr/bin/python3 tests/bench/bench.py --smoke \
	    "$top" </dev/null; then
		tally "benchmark (smoke round)" 1 0 $(($(now) - t0))
	else
		tally "benchmark (smoke round)" 0 1 $(($(now) - t0))
	fi
fi

if [ "$keep_ci" = 1 ]; then
	say "crash inputs and sanitizer reports are kept in $ci"
else
	rm -rf "$ci"
fi
finish
