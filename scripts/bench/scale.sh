#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# scale.sh - how riptide scales with cores: pktbench io on net_null, one port
# pair per worker (worker w forwards net_null 2w <-> 2w+1 on its own lcore,
# shared nothing), for 1..N workers, beside dpdk-testpmd io with the same
# forwarding lcores and ports, alternating A/B rounds; prints Mpps per N, the
# ratio to testpmd, and each one's speed-up over its own one worker.
# Goal (issue 16, this 2-core machine): 2 workers >= 1.9x one worker.
# The proxy's capacity at 1 and 2 lcores is not measured yet: l4proxy runs on
# one lcore (say so, do not guess).
#
# Usage: scripts/bench/scale.sh [--workers N] [--rounds R] [--duration S] [--json FILE]
#   N: the most workers (default: the machine's cores); R rounds (median, default 3);
#   S seconds each (default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."

workers=$(nproc)
rounds=3
duration=5
json=()
while [ $# -gt 0 ]; do
	case "$1" in
	--workers) workers=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--json) json=(--json "$2"); shift 2 ;;
	-h | --help) sed -n '4,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "scale.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

scripts/setup-deps.sh >/dev/null
if [ ! -f build-rel/build.ninja ]; then
	meson setup build-rel --buildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C build-rel apps/pktbench/pktbench >/dev/null

# Each worker has its own pool: hugepages for all of them, or --no-huge.
mem="-m $((256 * workers + 256))"
if ! scripts/hugepages.sh ensure $((300 * workers + 300)) 1G 2>/dev/null; then
	echo "scale.sh: no hugepages; running with --no-huge, figures are not comparable to hugepage runs"
	mem="--no-huge $mem"
fi
command="scripts/bench/scale.sh --workers $workers --rounds $rounds --duration $duration"
echo "command: $command"
exec /usr/bin/python3 scripts/bench/scale.py --pktbench build-rel/apps/pktbench/pktbench \
	--workers "$workers" --rounds "$rounds" --duration "$duration" --mem "$mem" \
	--command "$command" "${json[@]}"
