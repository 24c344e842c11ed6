#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# fuzz.sh - run a libFuzzer harness of tests/fuzz/ (clang-14, ASan+UBSan) from
# its committed seed corpus (tests/fuzz/corpus/NAME) for SECONDS, and say how
# many inputs it ran and whether it found anything. A finding is written to
# build-fuzz/artifacts/ and the exit status is 1. New inputs go to
# build-fuzz/corpus/NAME (kept between runs); --merge folds the ones that add
# coverage back into the committed corpus.
#
# Usage: scripts/fuzz.sh NAME SECONDS [--merge] [--junit FILE] [--jobs N] [--max-len B]
#        scripts/fuzz.sh --list
#   NAME: stack (the TCP/IP stack driven by frames, clock steps and calls),
#         impair (the impairment spec parser), l4config (l4proxy's INI loader),
#         proxyproto (l4proxy's PROXY protocol readers)
set -uo pipefail

cd "$(dirname "$0")/.."
build=build-fuzz
names=(stack impair l4config proxyproto)
merge=0
junit=
jobs=1
max_len=4096
pos=()
while [ $# -gt 0 ]; do
	case "$1" in
	--merge) merge=1; shift ;;
	--junit) junit=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--max-len) max_len=$2; shift 2 ;;
	--list) printf '%s\n' "${names[@]}"; exit 0 ;;
	-h | --help) sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
	*) pos+=("$1"); shift ;;
	esac
done
if [ ${#pos[@]} != 2 ]; then
	echo "usage: scripts/fuzz.sh NAME SECONDS [--merge] [--junit FILE] [--jobs N] (--help)" >&2
	exit 2
fi
name=${pos[0]}
secs=${pos[1]}
if ! printf '%s\n' "${names[@]}" | grep -qx -- "$name"; then
	echo "fuzz.sh: no harness '$name' (there are: ${names[*]})" >&2
	exit 2
fi
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" = 0 ]; then
	echo "fuzz.sh: SECONDS must be a whole number above 0, not '$secs'" >&2
	exit 2
fi

report() { # status, message
	echo "fuzz $name: $2"
	if [ -n "$junit" ]; then
		MSG=$2 /usr/bin/python3 -c '
import os, sys
from xml.sax.saxutils import escape, quoteattr
name, ok, msg = sys.argv[2], sys.argv[3] == "0", os.environ["MSG"]
with open(sys.argv[1], "w") as f:
    f.write("<testsuite name=\"fuzz\">\n")
    f.write(f"<testcase classname=\"fuzz\" name={quoteattr(name)}>")
    if not ok:
        f.write(f"<failure message={quoteattr(msg)}>{escape(msg)}</failure>")
    f.write("</testcase>\n</testsuite>\n")' "$junit" "$name" "$1"
	fi
	exit "$1"
}

if ! command -v clang-14 >/dev/null || ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
	report 1 "clang-14 with libFuzzer is missing (scripts/setup-deps.sh installs clang-14 and libclang-rt-14-dev)"
fi
if [ ! -f "$build/build.ninja" ]; then
	CC=clang-14 CXX=clang++-14 meson setup "$build" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false >"/tmp/fuzz-setup.$$" 2>&1 ||
		{ tail -20 "/tmp/fuzz-setup.$$"; rm -f "/tmp/fuzz-setup.$$"; report 1 "meson setup failed"; }
	rm -f "/tmp/fuzz-setup.$$"
fi
ninja -C "$build" "tests/fuzz/fuzz_$name" >"$build/fuzz-build.log" 2>&1 ||
	{ grep -E 'error|FAILED' "$build/fuzz-build.log" | head -20; report 1 "build failed"; }

seeds=tests/fuzz/corpus/$name
work=$build/corpus/$name
arts=$build/artifacts
mkdir -p "$seeds" "$work" "$arts"
# One log per run, so a short run (scripts/test.sh) beside a long one keeps both.
log=$build/fuzz-$name.$$.log
# A finding aborts the run (libFuzzer writes the input as crash-*/leak-*/
# timeout-*); sanitizer reports halt at once.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
before=$(ls "$arts" | wc -l)
start=$SECONDS
args=(-max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048
	-print_final_stats=1 -artifact_prefix="$PWD/$arts/$name-")
if [ "$jobs" -gt 1 ]; then
	args+=(-jobs="$jobs" -workers="$jobs")
fi
# With --jobs, libFuzzer writes each job's log (fuzz-N.log) into the current
# directory: a directory of this run's own, so that runs side by side (a long
# one and scripts/test.sh's) neither mix nor delete each other's logs.
jobdir=$(mktemp -d "$build/jobs.XXXXXX")
root=$PWD
(cd "$jobdir" && "$root/$build/tests/fuzz/fuzz_$name" "${args[@]}" "$root/$work" "$root/$seeds") \
	>"$log" 2>&1
status=$?
# One job: its statistics are in the log. Several: the parent copies each
# job's log into its own as the job ends, so the jobs' logs are counted once.
counted=$log
[ "$jobs" -gt 1 ] && counted="$jobdir/fuzz-*.log"
# shellcheck disable=SC2086 # the glob is meant
runs=$(grep -hE '^stat::number_of_executed_units:' $counted 2>/dev/null |
	awk '{ s += $2 } END { print s + 0 }')
rm -rf "$jobdir"
found=$(($(ls "$arts" | wc -l) - before))
took=$((SECONDS - start))
if [ "$found" != 0 ]; then
	grep -E 'invariant|ERROR|runtime error|SUMMARY' "$log" | head -20
	report 1 "FAILED after $runs runs in $took s: $(ls -t "$arts" | head -1 | sed "s|^|$arts/|") (log: $log)"
fi
if [ "$status" != 0 ]; then
	report 1 "stopped (exit status $status, no finding written) after $runs runs in $took s (log: $log)"
fi
if [ "$merge" = 1 ]; then
	"$build/tests/fuzz/fuzz_$name" -merge=1 -max_len="$max_len" "$seeds" "$work" >>"$log" 2>&1
fi
report 0 "$runs runs in $took s, no finding (corpus $(ls "$work" | wc -l) inputs; log $log)"
