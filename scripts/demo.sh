#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# demo.sh - riptide's main job, end to end, in about a minute: the L4 proxy
# between real Linux hosts in network namespaces.
#
#   client 198.18.100.2 --- bridge --- l4proxy 198.18.100.10:80 (riptide, AF_XDP)
#                              |------ nginx 198.18.100.11:80
#                              |------ nginx 198.18.100.12:80
#                              `------ nginx 198.18.100.13:80
#
# It installs what is missing, builds a release, reserves hugepages (or runs
# with --no-huge), builds the topology, and shows: curl requests answered by
# the backends in turn, a 10-second wrk run, one backend stopped and taken
# out by the health check with no failed request, the proxy's stats through
# DPDK telemetry and at exit. Then it removes everything it made.
#
# Usage: scripts/demo.sh [--tap]   (--tap: net_tap instead of AF_XDP)
# Needs root (namespaces, AF_XDP).
set -euo pipefail

cd "$(dirname "$0")/.."
use_tap=0
case "${1:-}" in
--tap) use_tap=1 ;;
-h | --help) sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "demo.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: run as root (network namespaces, AF_XDP, hugepages)" >&2
	exit 2
fi

name=rtdemo$$
work=$(mktemp -d /tmp/rtdemo.XXXXXX)
prefix=$name
proxy_pid=
reserved=0
step() { printf '\n== %s\n' "$*"; }

cleanup() {
	set +e
	if [ -n "$proxy_pid" ] && kill -0 "$proxy_pid" 2>/dev/null; then
		kill -TERM "$proxy_pid"
		for _ in $(seq 1 50); do kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$proxy_pid" 2>/dev/null
	fi
	for i in 1 2 3; do
		[ -f "$work/b$i/nginx.pid" ] && kill "$(cat "$work/b$i/nginx.pid")" 2>/dev/null
	done
	scripts/lib/l4topo.sh down "$name" >/dev/null 2>&1
	rm -rf "/var/run/dpdk/$prefix" "$work"
	rm -f /dev/hugepages/"${prefix}"map_* 2>/dev/null
	[ "$reserved" = 1 ] && scripts/hugepages.sh release >/dev/null 2>&1
}
trap cleanup EXIT INT TERM

step "installing what is missing (Debian packages)"
scripts/setup-deps.sh >/dev/null

step "building a release (build-rel)"
if [ ! -f build-rel/build.ninja ]; then
	meson setup build-rel --buildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C build-rel apps/l4proxy/l4proxy >/dev/null
proxy=$PWD/build-rel/apps/l4proxy/l4proxy

step "memory"
if scripts/hugepages.sh available 512 >/dev/null 2>&1; then
	mem=(-m 512)
	echo "hugepages already reserved"
elif scripts/hugepages.sh reserve 1G >/dev/null 2>&1 && scripts/hugepages.sh available 512 >/dev/null 2>&1; then
	mem=(-m 512)
	reserved=1
	echo "reserved 1 GiB of 2 MiB hugepages (released at the end)"
else
	mem=(--no-huge -m 512)
	echo "no hugepages: --no-huge (4 KiB pages; slower, works)"
fi

step "topology: client, three nginx backends, the proxy's port, one L2 segment"
scripts/lib/l4topo.sh up "$name" 3
for i in 1 2 3; do
	mkdir -p "$work/b$i"
	cat >"$work/b$i/nginx.conf" <<EOF
worker_processes 1;
pid $work/b$i/nginx.pid;
error_log $work/b$i/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	server {
		listen 198.18.100.1$i:80 reuseport;
		location / { return 200 "hello from backend $i\n"; }
	}
}
EOF
	ip netns exec "$name-b$i" nginx -c "$work/b$i/nginx.conf"
done
echo "nginx on 198.18.100.11, .12, .13"

start_proxy() {
	local vdev=$1
	ip netns exec "$name-hub" "$proxy" -l 0 --no-pci "${mem[@]}" --file-prefix="$prefix" \
		--vdev="$vdev" --log-level=lib.eal:error -- \
		--ip 198.18.100.10/24 --listen 80 \
		--backend 198.18.100.11:80 --backend 198.18.100.12:80 --backend 198.18.100.13:80 \
		--health-interval 500 --health-timeout 300 --fall 2 --rise 2 \
		>"$work/proxy.log" 2>&1 &
	proxy_pid=$!
	for _ in $(seq 1 100); do
		grep -q "ready" "$work/proxy.log" 2>/dev/null && return 0
		kill -0 "$proxy_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

step "l4proxy on 198.18.100.10:80, round robin over the three"
if [ "$use_tap" = 0 ] && start_proxy "net_af_xdp0,iface=px0"; then
	echo "port: net_af_xdp on a veth"
else
	[ -n "$proxy_pid" ] && kill -9 "$proxy_pid" 2>/dev/null
	[ "$use_tap" = 0 ] && echo "AF_XDP did not come up: using net_tap" && sed -n '1,20p' "$work/proxy.log"
	rm -rf "/var/run/dpdk/$prefix"
	ip -n "$name-hub" link del px0 2>/dev/null || true
	start_proxy "net_tap0,iface=${name:0:8}tp" || { cat "$work/proxy.log"; exit 1; }
	ip -n "$name-hub" link set "${name:0:8}tp" master br0 up
	echo "port: net_tap on the bridge"
fi
grep "listener" "$work/proxy.log"
sleep 1

step "curl through the proxy: the backends answer in turn"
for _ in 1 2 3 4 5 6; do
	ip netns exec "$name-c" curl -s -m 5 http://198.18.100.10/
done

step "wrk, 10 seconds, 50 connections, keep-alive"
ip netns exec "$name-c" wrk -t1 -c50 -d10s http://198.18.100.10/

step "backend 2 stops; the client keeps asking (a request every 50 ms for 5 s)"
(ip netns exec "$name-c" sh -c 'ok=0; bad=0; for i in $(seq 1 100); do
	c=$(curl -s -m 3 -o /dev/null -w "%{http_code}" http://198.18.100.10/); \
	if [ "$c" = 200 ]; then ok=$((ok+1)); else bad=$((bad+1)); fi; sleep 0.05; done; \
	echo "requests: $ok answered 200, $bad failed"') &
client=$!
sleep 1
kill "$(cat "$work/b2/nginx.pid")"
echo "nginx on backend 2 stopped"
wait "$client"
grep "is down" "$work/proxy.log" || echo "(the health check has not marked it down yet)"

step "the proxy's stats, through DPDK telemetry"
echo "/l4proxy/stats" | dpdk-telemetry.py -f "$prefix" 2>/dev/null |
	/usr/bin/python3 -c 'import json, sys
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        for k, v in json.loads(line)["/l4proxy/stats"].items():
            print(f"  {k:50} {v}")' || true

step "shutting down: stop accepting, drain, exit"
kill -TERM "$proxy_pid"
wait "$proxy_pid" || true
proxy_pid=
grep -E "l4proxy:" "$work/proxy.log" | grep -v -E "listener default on|ready"
step "done; removing the namespaces, processes and files it made"
