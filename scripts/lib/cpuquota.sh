#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# cpuquota.sh - a CPU budget for a process, so that contenders are compared
# at an equal share of a core: a cgroup whose quota is PCT % of one core per
# 10 ms period. cgroup v2 (cpu.max) or v1 (cpu.cfs_quota_us), whichever the
# machine has. Root only.
#
#   cpuquota.sh make NAME PCT     make (or reset) the group: PCT 1..100
#   cpuquota.sh add NAME PID...   move processes (all their threads) into it
#   cpuquota.sh thread NAME TID...  move single threads into it (cgroup v1
#                                 only: v2 puts a process's threads in one
#                                 domain group; exit 3 there)
#   cpuquota.sh usage NAME        CPU time its processes used, in microseconds
#                                 (cpuacct.usage or cpu.stat usage_usec)
#   cpuquota.sh throttled NAME    periods in which the quota ran out
#   cpuquota.sh remove NAME       move what is left to the root, remove it
set -euo pipefail

period=10000 # us

usage() { sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//'; }

cmd=${1:-}
name=${2:-}
[ -n "$cmd" ] && [ -n "$name" ] || { usage >&2; exit 2; }
case "$name" in *[!A-Za-z0-9_-]*) echo "cpuquota.sh: bad group name '$name'" >&2; exit 2 ;; esac

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	v=2
	dir=/sys/fs/cgroup/riptide-$name
	acct=$dir
else
	v=1
	dir=/sys/fs/cgroup/cpu/riptide-$name
	acct=/sys/fs/cgroup/cpuacct/riptide-$name
	[ -d /sys/fs/cgroup/cpuacct ] || acct=$dir # cpu,cpuacct mounted together
fi

case "$cmd" in
make)
	pct=${3:-}
	case "$pct" in '' | *[!0-9]*) echo "cpuquota.sh: PCT wants 1..100" >&2; exit 2 ;; esac
	if [ "$pct" -lt 1 ] || [ "$pct" -gt 100 ]; then
		echo "cpuquota.sh: PCT wants 1..100" >&2
		exit 2
	fi
	quota=$((pct * period / 100))
	mkdir -p "$dir" "$acct"
	if [ "$v" = 2 ]; then
		grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control ||
			echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
		echo "$quota $period" >"$dir/cpu.max"
	else
		echo "$period" >"$dir/cpu.cfs_period_us"
		echo "$quota" >"$dir/cpu.cfs_quota_us"
		[ "$acct" = "$dir" ] || echo 0 >"$acct/cpuacct.usage"
	fi
	;;
add)
	shift 2
	for pid in "$@"; do
		echo "$pid" >"$dir/cgroup.procs"
		[ "$acct" = "$dir" ] || echo "$pid" >"$acct/cgroup.procs"
	done
	;;
thread)
	shift 2
	if [ "$v" = 2 ]; then
		echo "cpuquota.sh: a quota per thread needs cgroup v1 here" >&2
		exit 3
	fi
	for tid in "$@"; do
		echo "$tid" >"$dir/tasks"
		[ "$acct" = "$dir" ] || echo "$tid" >"$acct/tasks"
	done
	;;
usage)
	if [ "$v" = 2 ]; then
		awk '$1 == "usage_usec" {print $2}' "$dir/cpu.stat"
	else
		echo $(($(cat "$acct/cpuacct.usage") / 1000))
	fi
	;;
throttled)
	awk '$1 == "nr_throttled" {print $2}' "$dir/cpu.stat"
	;;
remove)
	for d in "$dir" "$acct"; do
		[ -d "$d" ] || continue
		if [ "$v" = 2 ]; then root=/sys/fs/cgroup; else root=$(dirname "$d"); fi
		while read -r pid; do echo "$pid" >"$root/cgroup.procs" 2>/dev/null || true; done \
			<"$d/cgroup.procs"
		rmdir "$d" 2>/dev/null || true
	done
	;;
*)
	usage >&2
	exit 2
	;;
esac
