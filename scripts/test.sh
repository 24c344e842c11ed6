#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test.sh - the one command that runs every riptide test on a fresh Debian 12
# machine: installs what is missing, builds with AddressSanitizer and
# UndefinedBehaviorSanitizer (LeakSanitizer on), checks formatting, runs the
# unit tests (gtest, through meson), the mutation check (scripts/mutate.sh:
# each one-line mutation must make a named unit test fail), each fuzzing
# harness for a short bounded time (scripts/fuzz.sh, clang + libFuzzer) and the
# integration tests (pytest, as root, against Linux peers in namespaces, the
# README's demo included), prints each failing test, and ends with
#     N passed, N failed[, N skipped]
# A crashed or timed-out binary, or a runner that exits non-zero, counts as a
# failure; results of earlier runs are removed first. Exit status is
# non-zero if anything failed.
#
# Usage: scripts/test.sh [--unit-only] [--build DIR]
#   RIPTIDE_BUILD=DIR   build directory (default build-asan)
set -uo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
build=${RIPTIDE_BUILD:-build-asan}
unit_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--unit-only) unit_only=1; shift ;;
	--build) build=$2; shift 2 ;;
	-h | --help) sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "test.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
export RIPTIDE_BUILD="$root/$build"
results="$RIPTIDE_BUILD/test-results"

# Whatever happens, leave no test namespaces, DPDK processes or page files.
cleanup() {
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^(rt|rs)[a-z]*[0-9]' || true); do
		ip netns del "$ns" 2>/dev/null || true
	done
	pkill -9 -f -- '--file-prefix=(rt|riptide-)' 2>/dev/null || true
	rm -rf /var/run/dpdk/riptide-* /var/run/dpdk/rt* 2>/dev/null || true
	find /dev/hugepages* -maxdepth 1 \( -name 'rt*map_*' -o -name 'riptide-*map_*' \) \
		-delete 2>/dev/null || true
}
trap cleanup EXIT

# Each phase says when it starts and, at the next, how long it took.
phase=
phase_start=$SECONDS
durations=()
step() {
	if [ -n "$phase" ]; then
		durations+=("$(printf '%5d s  %s' $((SECONDS - phase_start)) "$phase")")
		printf '   (%d s)\n' $((SECONDS - phase_start))
	fi
	phase=${1%% (*}
	phase_start=$SECONDS
	printf '\n== %s\n' "$*"
}

step "dependencies"
scripts/setup-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

step "configure and build ($build: -Db_sanitize=address,undefined)"
if [ ! -f "$RIPTIDE_BUILD/build.ninja" ]; then
	meson setup "$RIPTIDE_BUILD" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null ||
		{ echo "FAILED: meson setup"; echo "0 passed, 1 failed"; exit 1; }
fi
# Results of an earlier run must never be read as this run's.
rm -rf "$results"
mkdir -p "$results"
# Progress: every 25th of ninja's [N/M] lines; the whole log is in build.log.
ninja -C "$RIPTIDE_BUILD" 2>&1 | tee "$results/build.log" |
	awk '/^\[[0-9]+\/[0-9]+\]/ { if (++n % 25 == 0) { print "   " $1; fflush() } }'
if [ "${PIPESTATUS[0]}" != 0 ]; then
	grep -E 'error|FAILED' "$results/build.log" | head -40
	echo "FAILED: build"
	echo "0 passed, 1 failed"
	exit 1
fi

# Sanitizers: stop at the first error. LeakSanitizer is on; the only leaks it
# forgives are the named third-party ones in tests/sanitizers/lsan.supp. The
# integration tests fail any riptide process whose output has a report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

step "format (clang-format, .clang-format)"
/usr/bin/python3 scripts/lib/format_check.py "$results/format.xml"

step "unit tests (gtest via meson)"
unit_status=0
scripts/lib/unit_tests.sh "$RIPTIDE_BUILD" "$results" --suite unit --suite examples ||
	unit_status=$?
summary=("$results/format.xml" --runner "meson test:$unit_status:$results/unit.xml")

# The mutations (one compile, link and test run at a time) and the fuzzers
# (one process each) each keep about one core busy: they run side by side,
# the fuzzers' output shown when both are done. mutate.sh makes its changes
# in a copy of the tree (build-mutate.src/), so the fuzzers, which build from
# the tree, never compile a mutated or half-written file.
step "mutations and fuzzing, side by side (scripts/mutate.sh: each must make a named unit test fail; scripts/fuzz.sh: each harness briefly from its seed corpus)"
: >"$results/fuzz-status"
(
	for h in $(scripts/fuzz.sh --list); do
		rc=0
		scripts/fuzz.sh "$h" "${RIPTIDE_FUZZ_SECONDS:-20}" --junit "$results/fuzz-$h.xml" \
			>"$results/fuzz-$h.log" 2>&1 || rc=$?
		echo "$h $rc" >>"$results/fuzz-status"
	done
) &
fuzz_pid=$!
mutate_status=0
scripts/mutate.sh --junit "$results/mutations.xml" || mutate_status=$?
summary+=(--runner "mutate.sh:$mutate_status:$results/mutations.xml")
wait "$fuzz_pid"
while read -r h rc; do
	echo "-- fuzz.sh $h"
	cat "$results/fuzz-$h.log"
	summary+=(--runner "fuzz.sh $h:$rc:$results/fuzz-$h.xml")
done <"$results/fuzz-status"
for h in $(scripts/fuzz.sh --list); do
	grep -q "^$h " "$results/fuzz-status" ||
		summary+=(--runner "fuzz.sh $h:1:$results/fuzz-$h.xml") # it never ended
done

if [ "$unit_only" = 0 ]; then
	step "integration tests (pytest, real Linux peers)"
	# One line per test file as it runs; a failure's traceback and output
	# follow at the end (pytest's FAILURES section), all kept in pytest.log.
	/usr/bin/python3 -m pytest tests/integration -p no:cacheprovider -rfEs --tb=short \
		--junitxml="$results/integration.xml" 2>&1 | tee "$results/pytest.log"
	pytest_status=${PIPESTATUS[0]}
	summary+=(--runner "pytest:$pytest_status:$results/integration.xml")
fi

step "summary"
printf '%s\n' "${durations[@]}"
/usr/bin/python3 scripts/lib/junit_summary.py "${summary[@]}"
