#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# hugepages.sh - reserve, show and release 2 MiB hugepages for DPDK, on top of
# dpdk-hugepages.py (which also mounts hugetlbfs when needed).
#
# Usage: scripts/hugepages.sh COMMAND
#   reserve [SIZE]  reserve SIZE of 2 MiB pages (default 1G; e.g. 512M, 2G)
#   status          show reservation and mounts
#   available [MB]  exit 0 if at least MB (default 256) of free hugepages are
#                   mounted and usable, 1 otherwise (callers then use --no-huge)
#   ensure MB [SIZE] as available, reserving SIZE (default 1G) first when MB
#                   are not free; never shrinks a larger reservation
#   release         remove stale DPDK page files, free the pages
#
# When hugepages cannot be had (not root, no hugetlbfs, not enough memory) it
# says so plainly and exits 1; callers fall back to --no-huge.
set -uo pipefail

HP=/usr/bin/dpdk-hugepages.py
MOUNT=/dev/hugepages

usage() {
	sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//'
}

free_mb() {
	local free size
	free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	size=$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo)
	echo $(((${free:-0} * ${size:-0}) / 1024))
}

total_mb() {
	local total size
	total=$(awk '/^HugePages_Total:/ {print $2}' /proc/meminfo)
	size=$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo)
	echo $(((${total:-0} * ${size:-0}) / 1024))
}

mounted() {
	grep -qs " hugetlbfs " /proc/mounts
}

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "hugepages: $1 needs root; without hugepages riptide runs with --no-huge (slower)" >&2
		exit 1
	fi
}

cmd=${1:-}
case "$cmd" in
reserve)
	need_root reserve
	size=${2:-1G}
	if ! [[ "$size" =~ ^[0-9]+[MG]$ ]]; then
		echo "hugepages: bad size '$size' (want e.g. 512M or 2G)" >&2
		exit 2
	fi
	if [ ! -x "$HP" ]; then
		echo "hugepages: $HP not found (package dpdk); use --no-huge" >&2
		exit 1
	fi
	mkdir -p "$MOUNT"
	if ! "$HP" -p 2M --setup "$size" >/dev/null 2>&1; then
		echo "hugepages: could not reserve $size (no hugetlbfs in this kernel or container?); use --no-huge" >&2
		exit 1
	fi
	want=${size%?}
	[ "${size: -1}" = G ] && want=$((want * 1024))
	got=$(free_mb)
	if [ "$got" -lt "$want" ]; then
		# Fewer than asked: physical memory too fragmented for 2 MiB
		# pages (a machine that ran for a while). Compact, and once more.
		echo 1 >/proc/sys/vm/compact_memory 2>/dev/null || true
		"$HP" -p 2M --setup "$size" >/dev/null 2>&1 || true
		got=$(free_mb)
	fi
	if [ "$got" -lt "$want" ]; then
		echo "hugepages: asked for ${want} MB, ${got} MB free (memory fragmented or in use)" >&2
		[ "$got" -gt 0 ] || exit 1
	fi
	echo "hugepages: ${got} MB free in 2 MiB pages, mounted at $(awk '$3=="hugetlbfs"{print $2; exit}' /proc/mounts)"
	;;
status)
	if [ -x "$HP" ]; then
		"$HP" -s 2>/dev/null || true
	fi
	echo "free: $(free_mb) MB; hugetlbfs mounted: $(mounted && echo yes || echo no)"
	;;
available)
	want=${2:-256}
	if mounted && [ "$(free_mb)" -ge "$want" ]; then
		exit 0
	fi
	echo "hugepages: fewer than ${want} MB of free mounted hugepages; using --no-huge" >&2
	exit 1
	;;
ensure)
	want=${2:-256}
	size=${3:-1G}
	if ! [[ "$size" =~ ^[0-9]+[MG]$ ]]; then
		echo "hugepages: bad size '$size' (want e.g. 512M or 2G)" >&2
		exit 2
	fi
	size_mb=${size%?}
	[ "${size: -1}" = G ] && size_mb=$((size_mb * 1024))
	# reserve sets the total: only ever grow it, never take pages from
	# whoever reserved more before us
	if ! { mounted && [ "$(free_mb)" -ge "$want" ]; } && [ "$size_mb" -gt "$(total_mb)" ]; then
		"$0" reserve "$size" >/dev/null || true
	fi
	exec "$0" available "$want"
	;;
release)
	need_root release
	# Page files of DPDK processes that died without cleaning up.
	for d in $(awk '$3=="hugetlbfs"{print $2}' /proc/mounts); do
		find "$d" -maxdepth 1 -name '*map_*' -type f -delete 2>/dev/null || true
	done
	if [ -x "$HP" ]; then
		"$HP" --clear >/dev/null 2>&1 || true
	fi
	echo "hugepages: released; free: $(free_mb) MB"
	;;
-h | --help)
	usage
	;;
*)
	usage >&2
	exit 2
	;;
esac
