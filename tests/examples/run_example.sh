#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run_example.sh BINARY EXPECTED: run a chapter example and compare what it
# prints with what the Rust version prints. Exit 0 only on an exact match
# and a zero exit status.
set -uo pipefail
bin=$1
expected=$2
out=$(timeout 60 "$bin" 2>/tmp/riptide-example-$$.err)
rc=$?
if [ $rc -ne 0 ]; then
	echo "$bin exited with $rc"
	cat /tmp/riptide-example-$$.err
	rm -f /tmp/riptide-example-$$.err
	exit 1
fi
rm -f /tmp/riptide-example-$$.err
if ! diff -u "$expected" <(printf '%s\n' "$out"); then
	echo "$bin printed something else than $expected"
	exit 1
fi
