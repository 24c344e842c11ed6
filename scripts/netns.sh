#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# netns.sh - test topologies: network namespaces joined to the root namespace
# by veth pairs, or holding a TAP that a DPDK process created. Addresses come
# from 198.18.0.0/15 only (RFC 2544 benchmarking range).
#
# Usage: scripts/netns.sh COMMAND ...
#   up NAME [COUNT] [--loss PCT]
#        make namespaces NAME-1..NAME-COUNT (default 1); namespace k gets a
#        veth pair: NAME-k-h (root side, 198.18.k.1/24) and eth0 inside
#        (198.18.k.2/24, default route via 198.18.k.1). --loss drops PCT %
#        of packets entering and leaving each namespace (nftables numgen).
#   tap NS IFACE ADDR/PREFIX
#        move an existing interface (a DPDK net_tap) into namespace NS (made
#        if missing), give it ADDR/PREFIX and bring it up.
#   loss NS PCT     set (or, with 0, remove) random loss inside NS
#   down NAME       remove NAME-* namespaces and their veths; idempotent
#   list            namespaces this script made
#
# Callers trap EXIT and run `down`, so a failing test leaves nothing behind.
set -euo pipefail

usage() {
	sed -n '4,24p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
	echo "netns: $*" >&2
	exit 2
}

need_root() {
	[ "$(id -u)" = 0 ] || die "needs root (ip netns)"
}

valid_name() {
	[[ "$1" =~ ^[a-zA-Z0-9][a-zA-Z0-9_-]{0,8}$ ]] || die "name '$1': 1-9 letters, digits, - or _ (interface names are short)"
}

set_loss() {
	local ns=$1 pct=$2
	[[ "$pct" =~ ^[0-9]+$ ]] && [ "$pct" -le 100 ] || die "loss '$pct': want an integer percentage 0..100"
	ip netns exec "$ns" nft delete table inet rt_loss 2>/dev/null || true
	[ "$pct" -eq 0 ] && return 0
	local rule="numgen random mod 100 < $pct counter drop"
	[ "$pct" -eq 100 ] && rule="counter drop"
	ip netns exec "$ns" nft -f - <<NFT
table inet rt_loss {
	chain in {
		type filter hook input priority 0;
		$rule
	}
	chain out {
		type filter hook output priority 0;
		$rule
	}
}
NFT
}

cmd=${1:-}
case "$cmd" in
up)
	need_root
	name=${2:-}
	[ -n "$name" ] || die "up: NAME missing"
	valid_name "$name"
	count=1
	loss=0
	shift 2
	while [ $# -gt 0 ]; do
		case "$1" in
		--loss) loss=${2:-}; shift 2 ;;
		*) [[ "$1" =~ ^[0-9]+$ ]] || die "up: bad count '$1'"; count=$1; shift ;;
		esac
	done
	[ "$count" -ge 1 ] && [ "$count" -le 200 ] || die "up: count must be 1..200"
	if ip netns list | awk '{print $1}' | grep -qE "^$name-[0-9]+$"; then
		die "up: namespaces $name-* exist already; run: $0 down $name"
	fi
	# A half-built topology is removed, not left behind.
	trap '"$0" down "$name" >/dev/null 2>&1' ERR
	for k in $(seq 1 "$count"); do
		ns="$name-$k"
		host="$name-$k-h"
		ip netns add "$ns"
		ip link add "$host" type veth peer name eth0 netns "$ns"
		ip addr add "198.18.$k.1/24" dev "$host"
		ip link set "$host" up
		ip -n "$ns" addr add "198.18.$k.2/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" link set lo up
		ip -n "$ns" route add default via "198.18.$k.1"
		set_loss "$ns" "$loss"
		echo "$ns eth0 198.18.$k.2/24 <-> $host 198.18.$k.1/24"
	done
	;;
tap)
	need_root
	ns=${2:-}
	ifc=${3:-}
	addr=${4:-}
	[ -n "$ns" ] && [ -n "$ifc" ] && [ -n "$addr" ] || die "tap: NS IFACE ADDR/PREFIX"
	[[ "$addr" =~ ^198\.(18|19)\.[0-9]+\.[0-9]+/[0-9]+$ ]] || die "tap: $addr is outside 198.18.0.0/15"
	ip netns list | grep -qw "^$ns" || ip netns add "$ns"
	ip link set "$ifc" netns "$ns"
	ip -n "$ns" addr add "$addr" dev "$ifc"
	ip -n "$ns" link set "$ifc" up
	ip -n "$ns" link set lo up
	;;
loss)
	need_root
	[ -n "${2:-}" ] && [ -n "${3:-}" ] || die "loss: NS PCT"
	set_loss "$2" "$3"
	;;
down)
	need_root
	name=${2:-}
	[ -n "$name" ] || die "down: NAME missing"
	valid_name "$name"
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^$name-[0-9]+$" || true); do
		# Kill what still runs inside, then the namespace (its veth end goes
		# with it, and so does the root-side peer).
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^$name-[0-9]+-h$" || true); do
		ip link del "$l" 2>/dev/null || true
	done
	;;
list)
	ip netns list | awk '{print $1}'
	;;
-h | --help)
	usage
	;;
*)
	usage >&2
	exit 2
	;;
esac
