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
# DPDK telemetry, its Prometheus metrics (curl), a backend disabled and
# enabled through the runtime API (scripts/l4proxyctl), and its stats at
# exit. Then it removes everything it made.
#
# It checks what it shows: a step that does not do what it says (a request
# unanswered, a wrk error, a failed request while a backend stops, no "is
# down", no telemetry, a proxy that exits non-zero, leaks an mbuf or leaves a
# connection open) stops the demo with "demo: FAILED: <step>: <why>" and the
# end of the proxy's log, exit status 1. A good run ends with the line
# "demo: passed (port: ...)".
#
# The proxy runs on one lcore (on 2 cores the peers need the other); it says at
# the end how to run more (l4proxy -l 0-3: a lane per lcore, docs/l4proxy.md).
#
# Usage: scripts/demo.sh [--tap]   (--tap: net_tap instead of AF_XDP)
# Needs root (namespaces, AF_XDP).
set -eEuo pipefail

cd "$(dirname "$0")/.."
use_tap=0
case "${1:-}" in
--tap) use_tap=1 ;;
-h | --help) sed -n '4,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
port_kind=
current=setup
step() {
	current=$*
	printf '\n== %s\n' "$*"
}

# Any failure: say which step, show the proxy's log, exit 1 (cleanup runs
# from the EXIT trap).
fail() {
	trap - ERR
	echo
	echo "demo: FAILED: $current: $*" >&2
	if [ -s "$work/proxy.log" ]; then
		echo "--- the proxy's log ---" >&2
		tail -n 60 "$work/proxy.log" >&2
		echo "---" >&2
	fi
	exit 1
}
trap 'fail "command failed (line $LINENO): $BASH_COMMAND"' ERR

cleanup() {
	set +e
	trap - ERR
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
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

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
# A demo killed outright (SIGKILL, a lost VM session) could not run its
# cleanup; remove what such a demo left behind, never a demo still running.
for hub in $(ip netns list | awk '{print $1}' | grep -E '^rtdemo[0-9]+-hub$' || true); do
	old=${hub%-hub}
	pid=${old#rtdemo}
	if ! grep -qs 'demo\.sh' "/proc/$pid/cmdline"; then
		echo "removing what an earlier demo (pid $pid, no longer running) left behind"
		scripts/lib/l4topo.sh down "$old" >/dev/null 2>&1 || true
		rm -rf "/var/run/dpdk/$old"
		rm -f /dev/hugepages/"${old}"map_* 2>/dev/null || true
	fi
done
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

# start_proxy VDEV [TAP]: start l4proxy on VDEV; with TAP, put the TAP the PMD
# makes on the bridge once the proxy is ready (the PMD sets the TAP's MAC while
# the port starts). Returns non-zero (the reason is in proxy.log) if the proxy
# exits or is not ready within 10 s.
start_proxy() {
	local vdev=$1 tap=${2:-}
	ip netns exec "$name-hub" "$proxy" -l 0 --no-pci "${mem[@]}" --file-prefix="$prefix" \
		--vdev="$vdev" --log-level=lib.eal:error -- \
		--ip 198.18.100.10/24 --listen 80 \
		--backend 198.18.100.11:80 --backend 198.18.100.12:80 --backend 198.18.100.13:80 \
		--health-interval 500 --health-timeout 300 --fall 2 --rise 2 \
		--metrics-port 9100 >"$work/proxy.log" 2>&1 &
	proxy_pid=$!
	for _ in $(seq 1 100); do
		if grep -q "ready" "$work/proxy.log" 2>/dev/null; then
			[ -z "$tap" ] && return 0
			scripts/lib/l4topo.sh tap "$name" "$tap" >>"$work/proxy.log" 2>&1 && return 0
			echo "demo: could not put $tap on the bridge" >>"$work/proxy.log"
			return 1
		fi
		kill -0 "$proxy_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

step "l4proxy on 198.18.100.10:80, round robin over the three"
if [ "$use_tap" = 0 ] && start_proxy "net_af_xdp0,iface=px0"; then
	port_kind="net_af_xdp on a veth"
else
	if [ "$use_tap" = 0 ]; then
		echo "AF_XDP did not come up; its log:"
		sed -n '1,20p' "$work/proxy.log"
		echo "falling back to net_tap"
	fi
	if [ -n "$proxy_pid" ]; then
		kill -9 "$proxy_pid" 2>/dev/null || true
		wait "$proxy_pid" 2>/dev/null || true
		proxy_pid=
	fi
	rm -rf "/var/run/dpdk/$prefix"
	ip -n "$name-hub" link del px0 2>/dev/null || true
	start_proxy "net_tap0,iface=${name:0:8}tp" "${name:0:8}tp" ||
		fail "l4proxy did not start on net_tap"
	port_kind="net_tap on the bridge"
fi
echo "port: $port_kind"
grep "listener" "$work/proxy.log"

step "curl through the proxy: the backends answer in turn"
# The first answer may wait for the proxy's ARP and the health checks' first
# round: allow 10 s for it; after that every request must be answered.
ok=0
for _ in $(seq 1 50); do
	if ip netns exec "$name-c" curl -s -f -m 2 -o /dev/null http://198.18.100.10/; then
		ok=1
		break
	fi
	sleep 0.2
done
[ "$ok" = 1 ] || fail "no answer through the proxy within 10 s"
seen=
for _ in 1 2 3 4 5 6; do
	answer=$(ip netns exec "$name-c" curl -s -f -m 5 http://198.18.100.10/) ||
		fail "a request got no answer"
	echo "$answer"
	seen="$seen ${answer##* }"
done
for i in 1 2 3; do
	case "$seen " in *" $i "*) ;; *) fail "backend $i never answered (answers:$seen)" ;; esac
done

step "wrk, 10 seconds, 50 connections, keep-alive"
ip netns exec "$name-c" wrk -t1 -c50 -d10s http://198.18.100.10/ | tee "$work/wrk.out"
grep -q "Requests/sec" "$work/wrk.out" || fail "wrk printed no rate"
if grep -q -E "Socket errors|Non-2xx" "$work/wrk.out"; then fail "wrk saw errors"; fi

step "backend 2 stops; the client keeps asking (a request every 50 ms for 5 s)"
(ip netns exec "$name-c" sh -c 'ok=0; bad=0; for i in $(seq 1 100); do
	c=$(curl -s -m 3 -o /dev/null -w "%{http_code}" http://198.18.100.10/); \
	if [ "$c" = 200 ]; then ok=$((ok+1)); else bad=$((bad+1)); fi; sleep 0.05; done; \
	echo "requests: $ok answered 200, $bad failed"') >"$work/failover.out" &
client=$!
sleep 1
# SIGQUIT: nginx's graceful stop (its listener closes, requests in progress
# finish), as an operator takes a backend out. SIGTERM is its fast stop: a
# request it was serving at that moment is cut, which no L4 proxy can replay.
kill -QUIT "$(cat "$work/b2/nginx.pid")"
echo "nginx on backend 2 stopped (gracefully)"
wait "$client" || fail "the failover client failed"
cat "$work/failover.out"
grep -q "requests: 100 answered 200, 0 failed" "$work/failover.out" ||
	fail "requests failed while backend 2 stopped"
for _ in $(seq 1 50); do
	grep -q "198.18.100.12:80 is down" "$work/proxy.log" && break
	sleep 0.1
done
grep "is down" "$work/proxy.log" || fail "the health check did not mark backend 2 down"

step "the proxy's stats, through DPDK telemetry"
scripts/lib/l4proxy_stats.py "$prefix" | tee "$work/telemetry.out" ||
	fail "no stats came back through telemetry"
grep -q "backend 198.18.100.12:80 *down" "$work/telemetry.out" ||
	fail "telemetry does not show backend 2 down"

step "operating it: Prometheus metrics, and a backend disabled and enabled at run time"
ip netns exec "$name-c" curl -s -f -m 5 http://198.18.100.10:9100/metrics >"$work/metrics.out" ||
	fail "no answer from http://198.18.100.10:9100/metrics"
grep -E '^riptide_l4proxy_(listener_connections_total|backend_up)' "$work/metrics.out" ||
	fail "the metrics lack the listener's and the backends' figures"
grep -q -E '^riptide_l4proxy_listener_connections_total\{listener="default"\} [1-9]' \
	"$work/metrics.out" || fail "the metrics count no connection"
scripts/l4proxyctl -f "$prefix" disable default 198.18.100.11:80 ||
	fail "l4proxyctl could not disable backend 1"
seen=
for _ in 1 2 3 4; do
	answer=$(ip netns exec "$name-c" curl -s -f -m 5 http://198.18.100.10/) ||
		fail "a request got no answer while backend 1 was disabled"
	seen="$seen ${answer##* }"
done
echo "answers while backend 1 is disabled:$seen"
case "$seen " in *" 1 "*) fail "the disabled backend 1 still took new connections" ;; esac
scripts/l4proxyctl -f "$prefix" enable default 198.18.100.11:80 ||
	fail "l4proxyctl could not enable backend 1"
scripts/l4proxyctl -f "$prefix" backends default

step "shutting down: stop accepting, drain, exit"
kill -TERM "$proxy_pid"
rc=0
wait "$proxy_pid" || rc=$?
proxy_pid=
grep -E "l4proxy:" "$work/proxy.log" | grep -v -E "listener default on|ready" || true
[ "$rc" = 0 ] || fail "l4proxy exited with status $rc"
grep -q "tcp connections at exit: 0 open" "$work/proxy.log" || fail "connections left open at exit"
grep -q -E "all mbufs returned|none held by riptide" "$work/proxy.log" || fail "mbufs not returned"
if grep -E "AddressSanitizer|runtime error:|LeakSanitizer" "$work/proxy.log"; then
	fail "sanitizer report in the proxy's output"
fi

step "done; removing the namespaces, processes and files it made"
echo "The proxy ran on one lcore: this machine's other core runs the client and the backends."
echo "On more cores, give it more lanes (one per lcore, each on its own queue of the port):"
echo "  l4proxy -l 0-3 --vdev net_tap0 ... (a TAP has a queue per lcore; AF_XDP on a veth has one)"
echo "demo: passed (port: $port_kind)"
