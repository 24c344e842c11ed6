#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ecmp-demo.sh - l4proxy beyond one machine (docs/scale-out.md): three
# instances behind a Linux router's ECMP, each announcing the VIP
# 198.19.0.1 over BGP from FRR through `l4proxyctl bgp`, in about a minute.
#
#                          router (FRR, AS 65000, L4 multipath hash)
#   clients 198.18.1.0/24 ---+--- br0 198.18.0.0/24 ---+--- l4proxy 1 (.11) + bgpd (.21)
#                            |                         +--- l4proxy 2 (.12) + bgpd (.22)
#   backends 198.18.2.11-14 -+                         `--- l4proxy 3 (.13) + bgpd (.23)
#
# It shows (scripts/lib/ecmpdrive.py, each step checked): the router learns
# the VIP from every instance and flows spread over them; instance 3 stopped
# with SIGTERM withdraws its route before it drains, its flows (and, with a
# resilient router, only its flows) move to the others, which hand their
# segments back to it, and no request fails; a
# backend added moves at most about 1/N of the clients, all to it, with one
# Maglev table everywhere; an instance whose backends are all disabled, or
# told `l4proxyctl announce off`, withdraws its route, and announces it again
# after. Then every instance stops cleanly and the route goes. A good run ends with "ecmp-demo: passed".
#
# Usage: scripts/ecmp-demo.sh [--build DIR] [--instances N] [--router MODE]
#   --build DIR      l4proxy from DIR (default build-rel, built if missing)
#   --instances N    2..7 (default 3)
#   --router MODE    resilient (default): the router's ECMP keeps a flow's
#                    path unless that path goes (resilient nexthop groups,
#                    scripts/lib/resfib.py); hash-threshold: Linux's plain
#                    multipath as FRR installs it, where a withdrawal also
#                    moves some flows between the paths left
# Needs root (namespaces, AF_XDP); installs FRR with the other packages.
set -euo pipefail

cd "$(dirname "$0")/.."
build=build-rel
n=3
router=resilient
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=${2:?--build DIR}; shift 2 ;;
	--instances) n=${2:?--instances N}; shift 2 ;;
	--router) router=${2:?--router MODE}; shift 2 ;;
	-h | --help) sed -n '4,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "ecmp-demo.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
case "$n" in [2-7]) ;; *) echo "ecmp-demo.sh: --instances 2..7" >&2; exit 2 ;; esac
case "$router" in resilient | hash-threshold) ;; *)
	echo "ecmp-demo.sh: --router resilient or hash-threshold" >&2
	exit 2
	;;
esac
if [ "$(id -u)" != 0 ]; then
	echo "ecmp-demo.sh: run as root (network namespaces, AF_XDP, FRR)" >&2
	exit 2
fi

# A sanitizer build (--build build-asan) knows libxdp's own leak at exit.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0}
name=rtecmp$$
work=$(mktemp -d /tmp/rtecmp.XXXXXX)
pids=()
companions=()
backends=()

cleanup() {
	set +e
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	for p in "${companions[@]}" "${backends[@]}"; do
		kill "$p" 2>/dev/null
	done
	scripts/lib/ecmptopo.sh down "$name" >/dev/null 2>&1
	for i in $(seq 1 "$n"); do
		rm -rf "/var/run/dpdk/$name-p$i"
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "ecmp-demo: FAILED: $*" >&2
	for i in $(seq 1 "$n"); do
		[ -s "$work/proxy$i.log" ] && { echo "--- l4proxy $i (end) ---"; tail -n 15 "$work/proxy$i.log"; }
	done >&2
	exit 1
}

echo "== setting up (packages, build, topology, FRR)"
scripts/setup-deps.sh >/dev/null
if [ "$build" = build-rel ]; then
	[ -f build-rel/build.ninja ] || meson setup build-rel --buildtype=release -Db_ndebug=true >/dev/null
	ninja -C build-rel apps/l4proxy/l4proxy >/dev/null
fi
proxy=$PWD/$build/apps/l4proxy/l4proxy
[ -x "$proxy" ] || fail "no $proxy"
# What a demo killed outright left behind (its pid no longer a demo).
for rt in $(ip netns list | awk '{print $1}' | grep -E '^rtecmp[0-9]+-rt$' || true); do
	old=${rt%-rt}
	grep -qs 'ecmp-demo' "/proc/${old#rtecmp}/cmdline" || scripts/lib/ecmptopo.sh down "$old"
done
scripts/lib/ecmptopo.sh up "$name" "$n" "$router"
echo "router: $router multipath"
for i in 1 2 3 4; do
	ip netns exec "$name-be" /usr/bin/python3 scripts/lib/ecmpdrive.py backend \
		"198.18.2.1$i" 8080 "b$i" >"$work/b$i.log" 2>&1 &
	backends+=($!)
done

cluster=$(seq -s ', ' -f '198.18.0.1%g' 1 "$n")
cat >"$work/proxy.ini" <<EOF
[global]
cluster = $cluster
withdraw_wait_ms = 2000
drain_timeout = 20
max_pairs = 2048

[pool web]
algorithm = maglev
backend = 198.18.2.11:8080
backend = 198.18.2.12:8080
backend = 198.18.2.13:8080
health_interval_ms = 200
rise = 1

[listener www]
vip = 198.19.0.1
port = 80
pool = web
EOF
ncpu=$(nproc)
prefixes=
logs=
for i in $(seq 1 "$n"); do
	ip netns exec "$name-px" "$proxy" -l $(((i - 1) % ncpu)) --no-pci --no-huge -m 512 \
		--file-prefix "$name-p$i" --vdev "net_af_xdp0,iface=px$i" -- \
		--ip "198.18.0.1$i/24" --gateway 198.18.0.1 --config "$work/proxy.ini" \
		>"$work/proxy$i.log" 2>&1 &
	pids+=($!)
	prefixes+=${prefixes:+,}$name-p$i
	logs+=${logs:+,}$work/proxy$i.log
done
for i in $(seq 1 "$n"); do
	for _ in $(seq 1 200); do
		grep -q ready "$work/proxy$i.log" && break
		kill -0 "${pids[$((i - 1))]}" 2>/dev/null || fail "l4proxy $i exited at start"
		sleep 0.1
	done
	grep -q ready "$work/proxy$i.log" || fail "l4proxy $i not ready in 20 s"
	scripts/l4proxyctl -f "$name-p$i" bgp --asn 65001 --pathspace "$name-s$i" \
		>"$work/bgp$i.log" 2>&1 &
	companions+=($!)
done
grep -h "instance\|listener" "$work/proxy1.log"

status=0
ip netns exec "$name-c" /usr/bin/python3 scripts/lib/ecmpdrive.py drive --name "$name" \
	--prefixes "$prefixes" --pids "$(IFS=,; echo "${pids[*]}")" --logs "$logs" \
	--router "$router" || status=1
if [ "$router" = resilient ]; then
	echo
	echo "== the router's resilient groups (scripts/lib/resfib.py)"
	cat "/var/run/frr/$name-rt/resfib.log"
fi

echo
echo "== the companions' log (instance $n)"
cat "$work/bgp$n.log"
wait "${pids[$((n - 1))]}" && rc=0 || rc=$?
[ "$rc" = 0 ] || { echo "ecmp-demo: l4proxy $n exited with $rc"; status=1; }
grep -h "cluster:\|stopping" "$work/proxy$n.log"

echo
echo "== every instance stopped: the route goes"
for i in $(seq 1 $((n - 1))); do
	kill -TERM "${pids[$((i - 1))]}"
done
for i in $(seq 1 $((n - 1))); do
	wait "${pids[$((i - 1))]}" && rc=0 || rc=$?
	[ "$rc" = 0 ] || { echo "ecmp-demo: l4proxy $i exited with $rc"; status=1; }
	grep -h "cluster:" "$work/proxy$i.log"
done
pids=()
vip_routes() { # zebra's, and resfib's resilient one
	ip -n "$name-rt" route show 198.19.0.1
	ip -n "$name-rt" route show table 100 198.19.0.1
}
for _ in $(seq 1 50); do
	[ -z "$(vip_routes)" ] && break
	sleep 0.1
done
if [ -n "$(vip_routes)" ]; then
	echo "ecmp-demo: the router still routes 198.19.0.1"
	status=1
else
	echo "the router has no route to 198.19.0.1 any more"
fi
if grep -q "ERROR\|AddressSanitizer\|runtime error" "$work"/proxy*.log; then
	echo "ecmp-demo: a sanitizer or error report in a proxy's log"
	status=1
fi
[ "$status" = 0 ] && echo "ecmp-demo: passed" || fail "see above"
