#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# l4topo.sh - the L4 proxy's topology, shared by scripts/demo.sh and the
# l4proxy tests: one L2 segment (a bridge in namespace NAME-hub), a client
# namespace NAME-c (198.18.100.2), N backend namespaces NAME-b1.. (198.18.100.11..),
# and a veth pair in the hub whose end NAME-px0 is for the proxy (AF_XDP) and
# whose other end is on the bridge. The proxy runs in the hub namespace at
# 198.18.100.10. Checksum offload is off on every Linux end (a veth leaves
# checksums to hardware that is not there; AF_XDP would see them unfinished).
#
#   l4topo.sh up NAME N         build it (refuses if NAME-hub exists)
#   l4topo.sh tap NAME IFACE    put a DPDK net_tap's kernel side IFACE (made by
#                               a proxy running in NAME-hub) on the bridge;
#                               call it once the port has started (the PMD
#                               sets the kernel side's MAC while it starts)
#   l4topo.sh down NAME         remove it (idempotent)
set -euo pipefail

cmd=${1:-}
name=${2:-}
if [ -z "$cmd" ] || [ -z "$name" ]; then
	sed -n '4,16p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi

down() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^${name}-(hub|c|b[0-9]+)$" || true); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
}

case "$cmd" in
down)
	down
	;;
up)
	n=${3:-3}
	if ip netns list | grep -q "^${name}-hub"; then
		echo "l4topo.sh: ${name}-hub exists already" >&2
		exit 1
	fi
	trap 'down' ERR
	hub=${name}-hub
	ip netns add "$hub"
	ip -n "$hub" link set lo up
	ip -n "$hub" link add br0 type bridge
	ip -n "$hub" link set br0 up
	# The hub is a switch: frames crossing br0 skip iptables/arptables (a
	# loaded br_netfilter sends them through by default, in the sender's
	# write: a quarter of a TAP proxy's CPU in perf, none of it the proxy's).
	ip netns exec "$hub" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
	join() { # namespace, address, short id
		local ns=$1 addr=$2 id=$3
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip -n "$hub" link add "v$id" type veth peer name eth0 netns "$ns"
		ip -n "$hub" link set "v$id" master br0 up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
		ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
		ip -n "$ns" addr add "$addr/24" dev eth0
		ip -n "$ns" link set eth0 up
	}
	join "${name}-c" 198.18.100.2 c
	for i in $(seq 1 "$n"); do
		join "${name}-b$i" "198.18.100.$((10 + i))" "b$i"
	done
	ip -n "$hub" link add px0 type veth peer name px1
	ip -n "$hub" link set px1 master br0 up
	ip netns exec "$hub" ethtool -K px1 tx off >/dev/null
	ip netns exec "$hub" sysctl -qw net.ipv6.conf.px0.disable_ipv6=1
	ip -n "$hub" link set px0 up
	;;
tap)
	ifc=${3:-}
	[ -n "$ifc" ] || { echo "l4topo.sh: tap NAME IFACE" >&2; exit 2; }
	hub=${name}-hub
	# Wait for the PMD to make the interface (it does so during EAL init).
	for _ in $(seq 1 100); do
		ip -n "$hub" link show dev "$ifc" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip -n "$hub" link show dev "$ifc" >/dev/null 2>&1 ||
		{ echo "l4topo.sh: no interface $ifc in $hub after 10 s" >&2; exit 1; }
	# net_tap gives the kernel side of the TAP the DPDK port's own MAC. A
	# Linux bridge takes a frame addressed to the MAC of one of its ports as
	# its own (local delivery) and never forwards it out of that port, so
	# with the two MACs equal nothing for riptide ever reaches the TAP. Give
	# the kernel side a different, locally administered, address.
	mac=$(printf '02:72:74:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))
	ip -n "$hub" link set dev "$ifc" address "$mac"
	ip netns exec "$hub" sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1"
	ip -n "$hub" link set "$ifc" master br0 up
	;;
*)
	echo "l4topo.sh: up NAME N | tap NAME IFACE | down NAME" >&2
	exit 2
	;;
esac
