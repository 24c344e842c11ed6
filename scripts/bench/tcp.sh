#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# tcp.sh - riptide's TCP against Linux's, in one run, same cores, same time:
#   latency     64-byte request/response, p50 and p99 (riptide: apps/bench/tcp_bench --mode rr;
#               Linux: sockperf ping-pong over loopback)
#   throughput  one connection, bulk (riptide: tcp_bench --mode bulk into echo's discard
#               server, at MTU 1500 and again at 9000, memif bsize=9216, and at 1500
#               over virtio-user into net_vhost with tso=1, TSO on; Linux: iperf3
#               -C cubic over loopback, whose MTU is 65536); the goal is judged at 9000
#               and with TSO
#   conn/s      connect and close, one at a time (riptide: tcp_bench --mode conn;
#               Linux: apps/bench/tcp_connrate over loopback)
# riptide runs two processes joined by memif, one lcore each (server on core 0,
# client on core 1, both busy-polling); Linux's server and client are pinned the
# same way. Prints each figure, riptide's ratio to Linux's, and the issue's goals.
#
# Usage: scripts/bench/tcp.sh [--seconds S] [--rounds N] [--json FILE]
#   S: seconds per measurement (default 5); N: rounds, the median is kept (default 1);
#   FILE: the figures as JSON too
set -euo pipefail

cd "$(dirname "$0")/../.."
seconds=5
rounds=1
json=()
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--json) json=(--json "$2"); shift 2 ;;
	-h | --help) sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "tcp.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
if [ "$(nproc)" -lt 2 ]; then
	echo "tcp.sh: needs two cores (server and client pinned apart)" >&2
	exit 2
fi

scripts/setup-deps.sh >/dev/null
build=build-rel
if [ ! -f $build/build.ninja ]; then
	meson setup $build --buildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C $build apps/echo/echo apps/bench/tcp_bench apps/bench/tcp_connrate >/dev/null

exec /usr/bin/python3 scripts/bench/tcp.py --build "$build" --seconds "$seconds" \
	--rounds "$rounds" --command "scripts/bench/tcp.sh --seconds $seconds --rounds $rounds" \
	"${json[@]}"
