#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# proxy.sh - riptide's l4proxy against HAProxy 2.6 (mode tcp, nbthread 1) and
# nginx stream (one worker), in one run, in the same topology
# (scripts/lib/l4topo.sh: a client, three nginx backends, the proxy's veth at
# 198.18.100.10): wrk keep-alive and wrk with "Connection: close", 50
# connections. Prints req/s, latency p50/p99, wrk's socket errors, and the
# proxy's CPU cost per request in microseconds (riptide: its executor's busy
# cycles, so idle polling does not count; HAProxy and nginx: user+system CPU
# time from /proc), with riptide's ratio to each. The proxy is pinned to the
# last core, the client and backends to the others; on a 2-core machine they
# share, so req/s is bounded by the peers and CPU per request is the
# proxy's own figure.
#
# --switch thread (default) gives the bridge port facing the proxy its own
# NAPI thread on the peers' cores, so that the Linux peers' receive work is
# not done inside (and billed to) the proxy's send syscall; --switch inline
# leaves the kernel's default. --tx-hold US is riptide's l4proxy --tx-hold
# (default 100; 0 sends at the end of every loop iteration).
#
# Usage: scripts/bench/proxy.sh [--seconds S] [--rounds N] [--switch thread|inline]
#                               [--tx-hold US]   (default 10, 3, thread, 100)
#                               [--json FILE]    (the figures as JSON too)
set -euo pipefail

cd "$(dirname "$0")/../.."
seconds=10
rounds=3
switch=thread
txhold=100
json=()
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--switch) switch=$2; shift 2 ;;
	--tx-hold) txhold=$2; shift 2 ;;
	--json) json=(--json "$2"); shift 2 ;;
	-h | --help) sed -n '4,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "proxy.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
scripts/setup-deps.sh >/dev/null
build=build-rel
if [ ! -f $build/build.ninja ]; then
	meson setup $build --buildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C $build apps/l4proxy/l4proxy >/dev/null
exec /usr/bin/python3 scripts/bench/proxy.py --build "$build" --seconds "$seconds" \
	--rounds "$rounds" --switch "$switch" --tx-hold "$txhold" "${json[@]}" \
	--command "scripts/bench/proxy.sh --seconds $seconds --rounds $rounds --switch $switch --tx-hold $txhold"
