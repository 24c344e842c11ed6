#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# synflood.sh - legitimate connections under a SYN flood, riptide against
# Linux, in one run: a client namespace floods spoofed SYNs from core 0 (at the
# same rate for all, scripts/lib/synflood.py) at a server on core 1 (riptide's
# echo on AF_XDP with SYN cookies; riptide's l4proxy on AF_XDP in front of a
# Linux echo server; a Linux echo server with tcp_syncookies=1),
# while a legitimate client connects one connection after another. Prints the
# flood rate, the share of legitimate connections done within 1 s, p50/p99,
# and the server's memory before and during the flood; medians of the rounds.
#
# Usage: scripts/bench/synflood.sh [--seconds S] [--probes N] [--rounds R] [--pps P] [--json FILE]
#   S: flood length (default 8); N: legitimate connections (200); R: rounds (3);
#   P: flood rate, SYN/s (150000; 0: as fast as the core goes)
set -euo pipefail

cd "$(dirname "$0")/../.."
args=()
cmd="scripts/bench/synflood.sh $*"
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds | --probes | --rounds | --json | --pps) args+=("$1" "$2"); shift 2 ;;
	-h | --help) sed -n '4,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "synflood.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
if [ "$(nproc)" -lt 2 ]; then
	echo "synflood.sh: needs two cores (flood and server pinned apart)" >&2
	exit 2
fi
scripts/setup-deps.sh >/dev/null
build=build-rel
if [ ! -f $build/build.ninja ]; then
	meson setup $build --buildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C $build apps/echo/echo apps/l4proxy/l4proxy >/dev/null
# Benchmarks use hugepages: reserve them if we can, else say so.
mem="-m 512"
if ! scripts/hugepages.sh ensure 600 1G 2>/dev/null; then
	echo "synflood.sh: no hugepages; riptide runs with --no-huge"
	mem="--no-huge -m 512"
fi
echo "command: $cmd"
exec /usr/bin/python3 scripts/bench/synflood.py --build "$build" --mem "$mem" --command "$cmd" \
	"${args[@]}"
