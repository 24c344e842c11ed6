#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# unit_tests.sh - run the meson test suites of a build directory and leave
# results that cannot be stale: every XML file an earlier run left (meson
# reads a gtest binary's <build>/<name>.xml even when the binary crashed
# before writing a new one, and copies its old passes into its log) is
# removed first. Used by scripts/test.sh and by the harness self-test.
#
# Usage: unit_tests.sh BUILD RESULTS [meson test arguments...]
#   writes RESULTS/unit.xml (meson's junit log, absent if meson wrote none)
#   and RESULTS/unit.status (meson's exit status); prints the log's tail (on a
#   failure, enough of it to show the failing tests' output).
set -uo pipefail

build=$1
results=$2
shift 2
mkdir -p "$results"
rm -f "$build"/*.xml "$build"/meson-logs/testlog*.junit.xml "$results/unit.xml" \
	"$results/unit.status"
meson test -C "$build" --no-rebuild --print-errorlogs "$@" >"$results/meson-test.log" 2>&1
status=$?
echo "$status" >"$results/unit.status"
# The summary; on a failure also the failing tests' own output, which
# --print-errorlogs puts at the end of the log.
if [ "$status" = 0 ]; then tail -n 25 "$results/meson-test.log"; else tail -n 300 "$results/meson-test.log"; fi
[ -f "$build/meson-logs/testlog.junit.xml" ] && cp "$build/meson-logs/testlog.junit.xml" "$results/unit.xml"
exit "$status"
