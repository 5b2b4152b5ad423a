#!/bin/sh
#
# run.sh: run dsp's libFuzzer targets from a build folder configured with
# --enable-fuzzing (after `make fuzz`).  For each target: every input of
# tests/fuzz/regress/TARGET once, then fuzzing for DSP_FUZZ_SECONDS
# (default 60) from the seeds in tests/fuzz/corpus/TARGET.  A target
# passes when neither step crashed.  One line per target gives the
# executions and the coverage reached (libFuzzer's cov: and ft:); the
# last line is "fuzz: N passed, N failed" and the exit status is 1 when
# a target failed.
#
# usage: sh tests/fuzz/run.sh [TARGET...]	(default: every fuzz_* built)
#
# DSP_FUZZ_SECONDS	seconds of fuzzing per target (60)
# DSP_FUZZ_WORK		where new inputs and crashes go (./fuzz-work); kept,
#			so that a later run starts from what earlier ones found
# DSP_FUZZ_ARGS		more libFuzzer arguments (e.g. "-jobs=2 -workers=2")

set -u

prog=run.sh
src=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${DSP_FUZZ_SECONDS:-60}
work=${DSP_FUZZ_WORK:-$(pwd)/fuzz-work}
# Seconds one input may take before libFuzzer calls it a hang.
INPUT_TIMEOUT=10

targets=$*
if [ -z "$targets" ]; then
	for t in tests/fuzz/fuzz_*; do
		[ -x "$t" ] && [ -f "$t" ] && targets="$targets ${t##*/}"
	done
fi
if [ -z "$targets" ]; then
	echo "$prog: no fuzz targets in $(pwd)/tests/fuzz: configure with" \
	    "--enable-fuzzing and run make fuzz first" >&2
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

# The last value of "name: N" in libFuzzer's output $1 ("cov: 976").
stat()
{
	sed -n "s/.* $2: \([0-9][0-9]*\).*/\1/p" "$1" | tail -n 1
}

passed=0
failed=0
for t in $targets; do
	bin=tests/fuzz/$t
	dir=$work/$t
	mkdir -p "$dir/corpus"
	log=$dir/log
	ok=1

	# Earlier crashes first: each must now run clean.
	regress=$(find "$src/tests/fuzz/regress/$t" -type f 2>/dev/null |
	    LC_ALL=C sort)
	nregress=0
	if [ -n "$regress" ]; then
		nregress=$(echo "$regress" | wc -l)
		# shellcheck disable=SC2086 # one word per file, no blanks
		if ! "./$bin" $regress >"$log" 2>&1; then
			echo "$prog: $t: a regression input crashes again:"
			tail -n 40 "$log"
			ok=0
		fi
	fi

	dict=
	[ -f "$src/tests/fuzz/$t.dict" ] && dict=-dict=$src/tests/fuzz/$t.dict
	seeds=
	[ -d "$src/tests/fuzz/corpus/$t" ] && seeds=$src/tests/fuzz/corpus/$t
	t0=$(date +%s)
	if [ "$ok" = 1 ]; then
		# shellcheck disable=SC2086 # lists of words, or nothing
		"./$bin" -max_total_time="$seconds" -timeout="$INPUT_TIMEOUT" \
		    -print_final_stats=1 -artifact_prefix="$dir/" $dict \
		    ${DSP_FUZZ_ARGS:-} "$dir/corpus" $seeds >"$log" 2>&1
		status=$?
		if [ "$status" -ne 0 ]; then
			echo "$prog: $t: crashed (status $status); the input is" \
			    "in $dir, log follows"
			grep -v '^#[0-9]' "$log" | tail -n 60
			ok=0
		fi
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	verdict=passed
	[ "$ok" = 1 ] || verdict=FAILED
	echo "fuzz: $t: ${runs:-0} executions, cov $(stat "$log" cov)," \
	    "ft $(stat "$log" ft), corpus $(stat "$log" corp)," \
	    "$nregress regression inputs, $(($(date +%s) - t0)) s: $verdict"
	if [ "$ok" = 1 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
