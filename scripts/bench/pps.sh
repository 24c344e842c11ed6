#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# pps.sh - packets per second: pktbench io against dpdk-testpmd io on the same
# PMD pairs (net_null, net_ring, memif), the same forwarding core, memory and
# duration, alternating A/B for several rounds; prints both, the ratio
# riptide/testpmd (goal >= 1.00 on net_null) and cycles per packet.
#
# Usage: scripts/bench/pps.sh [--rounds N] [--duration S] [--core C] [--pairs LIST]
#                             [--json FILE]   (FILE: the figures as JSON too)
#                             [--plot PNG]    (and as a chart: Mpps per pair)
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=3
duration=5
core=1
pairs=net_null,net_ring,memif
json=()
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--core) core=$2; shift 2 ;;
	--pairs) pairs=$2; shift 2 ;;
	--json) json+=(--json "$2"); shift 2 ;;
	--plot) json+=(--plot "$2"); shift 2 ;;
	-h | --help) sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "pps.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

scripts/setup-deps.sh >/dev/null
if [ ! -f build-rel/build.ninja ]; then
	meson setup build-rel --buildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C build-rel apps/pktbench/pktbench >/dev/null

# Benchmarks use hugepages: reserve them if we can, else say the figures are
# --no-huge ones (about half the rate).
mem="-m 512"
if ! scripts/hugepages.sh ensure 600 1G 2>/dev/null; then
	echo "pps.sh: no hugepages; running with --no-huge, figures are not comparable to hugepage runs"
	mem="--no-huge -m 512"
fi
command="scripts/bench/pps.sh --rounds $rounds --duration $duration --core $core --pairs $pairs"
echo "command: $command"
exec /usr/bin/python3 scripts/bench/pps.py --pktbench build-rel/apps/pktbench/pktbench \
	--core "$core" --rounds "$rounds" --duration "$duration" --pairs "$pairs" --mem "$mem" \
	--command "$command" "${json[@]}"
