#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# setup-deps.sh - install the Debian packages riptide's build, tests and demo
# need. Idempotent: installs only what is missing, and runs apt-get update
# only when something is. Needs root (it says so and exits 2 otherwise).
#
# Usage: scripts/setup-deps.sh [--check]
#   --check   list what is missing and exit 1 if anything is; install nothing
set -euo pipefail

PACKAGES=(
	# build
	gcc g++ meson ninja-build pkg-config
	dpdk dpdk-dev libdpdk-dev libgtest-dev
	# tests and tooling
	python3 python3-pytest python3-scapy clang-format valgrind
	# fuzzing (scripts/fuzz.sh): clang with libFuzzer
	clang-14 libclang-rt-14-dev
	# test topologies and Linux peers
	iproute2 nftables iputils-ping socat tcpdump procps kmod ethtool curl wrk sockperf iperf3 nginx-light libnginx-mod-stream haproxy
	# benchmarks: where the CPU goes (scripts/bench/proxy.sh --perf), charts (--plot)
	linux-perf gnuplot-nox
	# the metrics test parses l4proxy's /metrics with Prometheus' own parser
	python3-prometheus-client
	# scale-out (scripts/ecmp-demo.sh): a router and BGP speakers
	frr
)

usage() {
	sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//'
}

check_only=0
case "${1:-}" in
-h | --help) usage; exit 0 ;;
--check) check_only=1 ;;
"") ;;
*) echo "setup-deps: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "setup-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi
if [ "$check_only" = 1 ]; then
	echo "setup-deps: missing: ${missing[*]}"
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "setup-deps: missing packages (${missing[*]}) and not root: run as root, or install them with apt-get" >&2
	exit 2
fi
echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/riptide-setup-deps.XXXXXX)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	echo "setup-deps: apt-get failed:" >&2
	tail -20 "$log" >&2
	rm -f "$log"
	exit 1
fi
rm -f "$log"
# nginx and HAProxy are programs the demo, tests and benchmarks start in their
# own namespaces; a service started by the package on the host is not wanted.
for svc in nginx haproxy; do
	case " ${missing[*]} " in
	*" $svc"*) invoke-rc.d "$svc" stop >/dev/null 2>&1 || service "$svc" stop >/dev/null 2>&1 || true ;;
	esac
done
echo "setup-deps: done"
