#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# scale.sh - how riptide scales with cores: pktbench io on net_null, one port
# pair per worker (worker w forwards net_null 2w <-> 2w+1 on its own lcore,
# shared nothing), for 1..N workers, beside dpdk-testpmd io with the same
# forwarding lcores and ports, A/B, each round running every N in turn;
# prints Mpps per N, the ratio to testpmd, and each one's speed-up over its
# own one worker. Then l4proxy's capacity on 1 lcore and on 2 at an equal CPU
# budget per lcore (a cgroup quota of PCT % of a core for each lane's thread,
# CPU from /proc; --lane-quota group: one quota of lanes x PCT for the whole
# process, which lets one lane take the other's share), wrk keep-alive and
# close through proxy.sh's topology, on a two-queue net_tap, the peers'
# receive work on their own NAPI threads (--peer-threads no: in the proxy's
# writes to its TAP, as before). Each lane count runs at every offered load
# of --conns (wrk's connections); its capacity is the best median of them,
# since one load cannot saturate both (each lane of two sees half of it).
# --beside: also a diagnostic, one lcore on core 0 beside the peers, where
# lane 0 of two runs.
# Goals (issue 16, this 2-core machine): 2 workers >= 1.9x one worker;
# the proxy at 2 lcores >= 1.8x its 1-lcore capacity.
#
# Usage: scripts/bench/scale.sh [--workers N] [--rounds R] [--duration S]
#          [--proxy-seconds S] [--proxy-rounds R] [--quota PCT] [--perf DIR]
#          [--peer-threads yes|no] [--lane-quota lane|group] [--rx-coalesce US]
#          [--conns N,N,...] [--beside] [--json FILE] [--plot PNG]
#   N: the most workers (default: the machine's cores; 0: skip pktbench);
#   R rounds (median, default 3); S seconds each (default 5); the proxy: wrk
#   seconds per round (default 10; 0: skip), rounds (default 3), PCT per
#   lcore (default 30; 10 on a two-core machine, where from 20 % two lanes
#   leave the peers too little CPU). A proxy run that did not spend its
#   quota was bound by the peers: its goal says "not measured". --perf DIR:
#   sample l4proxy with perf in each proxy run's first round, reports in DIR.
#   --rx-coalesce US: l4proxy's interrupt moderation (default 100, its own).
#   --conns: the offered loads, wrk connections (default 50,100,200,400).
set -euo pipefail
cd "$(dirname "$0")/../.."

workers=$(nproc)
rounds=3
duration=5
json=()
proxy=()
while [ $# -gt 0 ]; do
	case "$1" in
	--proxy-seconds | --proxy-rounds | --quota | --perf | --peer-threads | --lane-quota | \
	--rx-coalesce | --conns)
		proxy+=("$1" "$2"); shift 2 ;;
	--beside) proxy+=("$1"); shift ;;
	--workers) workers=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--json) json+=(--json "$2"); shift 2 ;;
	--plot) json+=(--plot "$2"); shift 2 ;;
	-h | --help) awk 'NR > 3 && !/^#/ { exit } NR > 3 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) echo "scale.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

scripts/setup-deps.sh >/dev/null
if [ ! -f build-rel/build.ninja ]; then
	meson setup build-rel --buildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C build-rel apps/pktbench/pktbench apps/l4proxy/l4proxy >/dev/null

# Each worker has its own pool: hugepages for all of them, or --no-huge.
mem="-m $((256 * workers + 256))"
if ! scripts/hugepages.sh ensure $((300 * workers + 300)) 1G 2>/dev/null; then
	echo "scale.sh: no hugepages; running with --no-huge, figures are not comparable to hugepage runs"
	mem="--no-huge $mem"
fi
command="scripts/bench/scale.sh --workers $workers --rounds $rounds --duration $duration ${proxy[*]}"
echo "command: $command"
exec /usr/bin/python3 scripts/bench/scale.py --pktbench build-rel/apps/pktbench/pktbench \
	--workers "$workers" --rounds "$rounds" --duration "$duration" --mem "$mem" \
	--command "$command" "${proxy[@]}" "${json[@]}"
