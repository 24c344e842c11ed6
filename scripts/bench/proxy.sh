#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# proxy.sh - riptide's l4proxy against HAProxy 2.6 (mode tcp, nbthread 1) and
# nginx stream (one worker), in one run, in the same topology
# (scripts/lib/l4topo.sh: a client, three nginx backends, the proxy's veth at
# 198.18.100.10): wrk keep-alive and wrk with "Connection: close", 50
# connections.
#
# One measure for every contender: each proxy runs under the same CPU quota
# (--quota PCT of one core, default 30; scripts/lib/cpuquota.sh, a cgroup), so
# the proxy and not its peers is the bottleneck, and its req/s there is its
# capacity at that budget. CPU per request is the user + system time of each
# proxy's processes (all threads) from /proc, for riptide as for the others;
# riptide's own busy-cycle count is printed beside it as a diagnostic only.
# Every Linux end (HAProxy, nginx, wrk) runs CUBIC, riptide's own default,
# whatever the machine's default is (cubic joins the kernel's allowed list for
# the run where it is missing, and the list is put back after).
# riptide runs twice: on AF_XDP copy mode on its veth, and (--nic yes, the
# default) on the NIC-like path: a net_virtio_user port whose vhost-user
# backend is a wire process (pktbench io between net_vhost and AF_XDP on the
# veth) pinned with the peers in the role of a NIC, so that the copies
# through the kernel are not the proxy's; it needs hugepages (reserved here
# if missing, released after). HAProxy and nginx keep their veth. The wire
# sleeps on its ports' rx events when idle, as a driver waits for a NIC's
# interrupt, so it takes only what it works of the peers' core (--wire poll:
# it busy-polls, as before the twenty-third session).
# Under a quota riptide runs its default idle policy (no --busy-poll);
# --quota 0 runs without a quota, riptide busy-polling. Prints req/s (with
# the rounds' spread), p50/p99, CPU us/request and CPU %, with riptide's
# ratios and the goals. The proxy is pinned to the last core, the client and
# backends to the others.
#
# --switch thread (default) gives the bridge port facing the proxy its own
# NAPI thread on the peers' cores, so that the Linux peers' receive work is
# not done inside (and billed to) the proxy's send syscall; --switch inline
# leaves the kernel's default. --tx-hold US and --idle-spin US are riptide's
# l4proxy options, default 0 as in l4proxy itself (send at the end of every
# loop iteration; sleep on the rx queue as soon as a poll finds nothing):
# under a quota a hold or a spin costs more CPU than it saves (the
# twentieth session's table in docs/performance.md). --rx-coalesce US and
# --nic-rx-coalesce US (default 100 both, as in l4proxy) are l4proxy's
# adaptive interrupt moderation for riptide and riptide-nic: under load the
# loop naps US between polls instead of sleeping on rx events, so a wake-up
# finds a batch; a request after a quiet spell waits for nothing (twenty-
# fourth session). 0: without it.
#
# Usage: scripts/bench/proxy.sh [--seconds S] [--rounds N] [--switch thread|inline]
#                               [--tx-hold US] [--quota PCT]  (default 10, 3, thread, 0, 30)
#                               [--nic yes|no]   (default yes)
#                               [--wire sleep|poll] (the NIC-like path's wire, default sleep)
#                               [--idle-spin US] (riptide's l4proxy --idle-spin, default 0)
#                               [--rx-coalesce US] (riptide's l4proxy --rx-coalesce, default 100)
#                               [--nic-rx-coalesce US] (riptide-nic's, default 100)
#                               [--idle S]       (each proxy idle for S s first, default 5:
#                                                 its CPU from /proc and the time to answer
#                                                 a request after 0.5 s of quiet; 0: skip)
#                               [--json FILE]    (the figures as JSON too)
#                               [--plot PNG]     (and as a chart: req/s, CPU per request)
#                               [--perf DIR]     (perf samples of riptide, round 1: where its
#                                                 CPU goes, by object and symbol)
set -euo pipefail

cd "$(dirname "$0")/../.."
seconds=10
rounds=3
switch=thread
txhold=0
quota=30
nic=yes
wire=sleep
idle=5
idlespin=0
rxco=100
nicrxco=100
json=()
perf=()
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--switch) switch=$2; shift 2 ;;
	--tx-hold) txhold=$2; shift 2 ;;
	--quota) quota=$2; shift 2 ;;
	--nic) nic=$2; shift 2 ;;
	--wire) wire=$2; shift 2 ;;
	--idle) idle=$2; shift 2 ;;
	--idle-spin) idlespin=$2; shift 2 ;;
	--rx-coalesce) rxco=$2; shift 2 ;;
	--nic-rx-coalesce) nicrxco=$2; shift 2 ;;
	--json) json+=(--json "$2"); shift 2 ;;
	--plot) json+=(--plot "$2"); shift 2 ;;
	--perf) perf=(--perf "$2"); shift 2 ;;
	-h | --help) sed -n '4,62p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "proxy.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
scripts/setup-deps.sh >/dev/null
build=build-rel
if [ ! -f $build/build.ninja ]; then
	meson setup $build --buildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C $build apps/l4proxy/l4proxy apps/pktbench/pktbench >/dev/null
reserved=0
if [ "$nic" = yes ] && ! scripts/hugepages.sh available 1100 >/dev/null 2>&1; then
	scripts/hugepages.sh reserve 2G >/dev/null 2>&1 && reserved=1
	scripts/hugepages.sh available 1100 >/dev/null 2>&1 ||
		{ echo "proxy.sh: the NIC-like path needs hugepages and none could be reserved" >&2; exit 2; }
fi
release() { [ "$reserved" = 1 ] && scripts/hugepages.sh release >/dev/null 2>&1; true; }
trap release EXIT
/usr/bin/python3 scripts/bench/proxy.py --build "$build" --seconds "$seconds" \
	--rounds "$rounds" --switch "$switch" --tx-hold "$txhold" --quota "$quota" --nic "$nic" --wire "$wire" --idle "$idle" --idle-spin "$idlespin" --rx-coalesce "$rxco" --nic-rx-coalesce "$nicrxco" "${json[@]}" "${perf[@]}" \
	--command "scripts/bench/proxy.sh --seconds $seconds --rounds $rounds --switch $switch --tx-hold $txhold --quota $quota --nic $nic --wire $wire --idle $idle --idle-spin $idlespin --rx-coalesce $rxco --nic-rx-coalesce $nicrxco"
