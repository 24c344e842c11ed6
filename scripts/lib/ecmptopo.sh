#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ecmptopo.sh - several l4proxy instances behind one router's ECMP, the VIP
# announced over BGP by FRR (scripts/ecmp-demo.sh, tests/integration/
# test_ecmp.py; docs/scale-out.md draws it). Namespaces:
#
#   NAME-rt   the router: FRR zebra + bgpd (AS 65000), kernel multipath with
#             the L4 hash (fib_multipath_hash_policy=1); br0 198.18.0.1/24 is
#             the proxies' link; 198.18.1.1/24 towards the clients,
#             198.18.2.1/24 towards the backends. ROUTER resilient (the
#             default): scripts/lib/resfib.py turns zebra's BGP multipath
#             routes into resilient nexthop groups (a path withdrawn moves
#             only its own flows; log /var/run/frr/NAME-rt/resfib.log);
#             hash-threshold: zebra's routes as they are (RFC 2992).
#   NAME-px   the proxies' host: instance i on AF_XDP port pxI (its other end
#             on br0), address 198.18.0.1I. Not the router's namespace: there
#             Linux answered ARP for the router's own address on a port whose
#             XDP program was not yet loaded, with that port's MAC.
#   NAME-sI   instance i's BGP speaker: bgpd (AS 65001, no zebra) at
#             198.18.0.2I on br0, peering with the router, announcing the
#             VIPs l4proxyctl bgp tells it to with next hop 198.18.0.1I (the
#             proxy). FRR pathspace NAME-sI (vtysh -N NAME-sI).
#   NAME-c    clients: 198.18.1.2 and 198.18.1.100-139 (40 sources).
#   NAME-be   backends: 198.18.2.11-14.
#
#   ecmptopo.sh up NAME N [ROUTER]  build it for N instances (1..7), start FRR
#   ecmptopo.sh down NAME     stop FRR, remove it all (idempotent)
set -euo pipefail

cmd=${1:-}
name=${2:-}
if [ -z "$cmd" ] || [ -z "$name" ]; then
	sed -n '4,28p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi

down() {
	local ns ps
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^${name}-(rt|px|c|be|s[0-9])$" || true); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	for ps in /etc/frr/"${name}"-* /var/run/frr/"${name}"-*; do
		[ -e "$ps" ] && rm -rf "$ps"
	done
	return 0
}

# An FRR pathspace: its config and run directories, owned by frr (the
# daemons drop to it).
pathspace() {
	local ps=$1
	mkdir -p "/etc/frr/$ps" "/var/run/frr/$ps"
	touch "/etc/frr/$ps/vtysh.conf"
	chown -R frr:frr "/etc/frr/$ps" "/var/run/frr/$ps"
}

link() { # namespace, its address/prefix, veth name in the router, router address/prefix
	local ns=$1 addr=$2 rif=$3 raddr=$4
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$name-rt" link add "$rif" type veth peer name eth0 netns "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
	ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
	ip -n "$ns" addr add "$addr" dev eth0
	ip -n "$ns" link set eth0 up
	if [ -n "$raddr" ]; then
		ip -n "$name-rt" addr add "$raddr" dev "$rif"
		ip netns exec "$name-rt" ethtool -K "$rif" tx off >/dev/null
		ip -n "$name-rt" link set "$rif" up
	fi
}

case "$cmd" in
down)
	down
	;;
up)
	n=${3:-3}
	router=${4:-resilient}
	case "$n" in [1-7]) ;; *) echo "ecmptopo.sh: N is 1..7" >&2; exit 2 ;; esac
	case "$router" in resilient | hash-threshold) ;; *)
		echo "ecmptopo.sh: ROUTER is resilient or hash-threshold" >&2
		exit 2
		;;
	esac
	command -v vtysh >/dev/null && [ -x /usr/lib/frr/bgpd ] ||
		{ echo "ecmptopo.sh: FRR is missing (apt-get install frr; scripts/setup-deps.sh does)" >&2; exit 1; }
	if ip netns list | grep -q "^${name}-rt"; then
		echo "ecmptopo.sh: ${name}-rt exists already" >&2
		exit 1
	fi
	trap 'down' ERR
	rt=$name-rt
	ip netns add "$rt"
	ip -n "$rt" link set lo up
	ip netns exec "$rt" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv6.conf.all.disable_ipv6=1
	ip -n "$rt" link add br0 type bridge
	ip -n "$rt" addr add 198.18.0.1/24 dev br0
	ip -n "$rt" link set br0 up
	ip netns add "$name-px"
	ip -n "$name-px" link set lo up
	link "$name-c" 198.18.1.2/24 vc 198.18.1.1/24
	for i in $(seq 100 139); do
		ip -n "$name-c" addr add "198.18.1.$i/24" dev eth0
	done
	ip -n "$name-c" route add default via 198.18.1.1
	link "$name-be" 198.18.2.11/24 vbe 198.18.2.1/24
	for i in 12 13 14; do
		ip -n "$name-be" addr add "198.18.2.$i/24" dev eth0
	done
	ip -n "$name-be" route add default via 198.18.2.1
	# The router's FRR: every speaker on br0 is a neighbour (a listen range),
	# up to 8 equal paths per prefix.
	pathspace "$rt"
	cat >"/etc/frr/$rt/frr.conf" <<-EOF
		frr defaults datacenter
		hostname $rt
		router bgp 65000
		 bgp router-id 198.18.0.1
		 no bgp ebgp-requires-policy
		 neighbor LB peer-group
		 neighbor LB remote-as 65001
		 neighbor LB timers 1 3
		 bgp listen range 198.18.0.0/24 peer-group LB
		 address-family ipv4 unicast
		  maximum-paths 8
		 exit-address-family
	EOF
	ip netns exec "$rt" /usr/lib/frr/zebra -N "$rt" -d -f "/etc/frr/$rt/frr.conf" \
		-i "/var/run/frr/$rt/zebra.pid" --log "file:/var/run/frr/$rt/zebra.log" 2>/dev/null
	ip netns exec "$rt" /usr/lib/frr/bgpd -N "$rt" -d -f "/etc/frr/$rt/frr.conf" \
		-i "/var/run/frr/$rt/bgpd.pid" --log "file:/var/run/frr/$rt/bgpd.log"
	if [ "$router" = resilient ]; then
		ip netns exec "$rt" setsid /usr/bin/python3 "$(dirname "$0")/resfib.py" \
			</dev/null >"/var/run/frr/$rt/resfib.log" 2>&1 &
	fi
	for i in $(seq 1 "$n"); do
		# The proxy's port: an AF_XDP veth whose other end is on br0.
		ip -n "$rt" link add "pb$i" type veth peer name "px$i" netns "$name-px"
		ip -n "$rt" link set "pb$i" master br0 up
		ip netns exec "$rt" ethtool -K "pb$i" tx off >/dev/null
		ip netns exec "$name-px" sysctl -qw "net.ipv6.conf.px$i.disable_ipv6=1"
		ip -n "$name-px" link set "px$i" up
		# Its BGP speaker.
		s=$name-s$i
		ip netns add "$s"
		ip -n "$s" link set lo up
		ip -n "$rt" link add "vs$i" type veth peer name eth0 netns "$s"
		ip -n "$rt" link set "vs$i" master br0 up
		ip netns exec "$s" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
		ip -n "$s" addr add "198.18.0.2$i/24" dev eth0
		ip -n "$s" link set eth0 up
		pathspace "$s"
		cat >"/etc/frr/$s/frr.conf" <<-EOF
			frr defaults datacenter
			hostname $s
			route-map PROXY permit 10
			 set ip next-hop 198.18.0.1$i
			router bgp 65001
			 bgp router-id 198.18.0.2$i
			 no bgp ebgp-requires-policy
			 no bgp network import-check
			 neighbor 198.18.0.1 remote-as 65000
			 neighbor 198.18.0.1 timers 1 3
			 address-family ipv4 unicast
			  neighbor 198.18.0.1 route-map PROXY out
			 exit-address-family
		EOF
		ip netns exec "$s" /usr/lib/frr/bgpd -N "$s" -Z -p 0 -d -f "/etc/frr/$s/frr.conf" \
			-i "/var/run/frr/$s/bgpd.pid" --log "file:/var/run/frr/$s/bgpd.log"
	done
	;;
*)
	echo "ecmptopo.sh: unknown command '$cmd'" >&2
	exit 2
	;;
esac
