#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# loss.sh - riptide's TCP on lossy, reordering paths against Linux's, same
# spec and seed, in one run (issue 14, item 6). For each impairment spec and
# seed, two transfers of --mb megabytes each way of the comparison:
#   riptide -> Linux: echo --tcp-source on net_tap, --impair SPEC on its port
#     (both ways), read by a Linux reader in the TAP's namespace;
#   Linux -> riptide: a Linux writer into echo --tcp-discard --discard-sha256;
#   and the same two shapes Linux -> Linux, two namespaces joined through
#   pktbench impair (AF_XDP on two veths) with the same spec and seed.
# Each transfer is timed at the Linux end (connect to EOF, or to the peer's
# close after sending) and checked by SHA-256. Prints each run, then per
# spec and direction the median seconds, riptide / Linux and how many were
# byte-exact, with riptide's retransmit, fast retransmit and RTO counts.
# Goal: ratio <= 1.25 for every spec and direction, all byte-exact.
# DPDK runs on the last core, the Linux ends on the others.
#
# Usage: scripts/bench/loss.sh [--mb MB] [--seeds N] [--first-seed S] [--spec SPEC]... [--timeout S]
#                             [--json FILE] [--plot PNG] [--linux-sack 0|1]
#                             [--linux-cc NAME] [--riptide-cc cubic|newreno]
#   default 20 MB, seeds 1..3 (S..S+N-1 with --first-seed), the seven specs of issue 14, 300 s
#   per transfer, and the Linux ends with net.ipv4.tcp_sack=1 (0: SACK off on every Linux end)
#   and CUBIC (--linux-cc: any the kernel has, e.g. bbr), riptide with CUBIC too: the same
#   algorithm both sides unless asked, whatever the machine's default (bbr on some)
set -euo pipefail

cd "$(dirname "$0")/../.."
args=()
cmd="scripts/bench/loss.sh $*"
while [ $# -gt 0 ]; do
	case "$1" in
	--mb | --seeds | --first-seed | --spec | --timeout | --json | --plot | --linux-sack | --linux-cc | --riptide-cc) args+=("$1" "$2"); shift 2 ;;
	-h | --help) sed -n '4,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "loss.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
if [ "$(nproc)" -lt 2 ]; then
	echo "loss.sh: needs two cores (DPDK and the Linux ends pinned apart)" >&2
	exit 2
fi
scripts/setup-deps.sh >/dev/null
build=build-rel
if [ ! -f $build/build.ninja ]; then
	meson setup $build --buildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C $build apps/echo/echo apps/pktbench/pktbench >/dev/null
exec /usr/bin/python3 scripts/bench/loss.py --build "$build" --command "$cmd" "${args[@]}"
