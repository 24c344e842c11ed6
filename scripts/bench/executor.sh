#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# executor.sh - executor microbenchmark: ns and instructions per operation,
# each beside its goal. Release build, one pinned core.
#
# Usage: scripts/bench/executor.sh [--rounds N] [--core C] [--json FILE]
#   ns/op: median of N rounds (default 5) of apps/bench/ex_bench on core C
#          (default: the last core), TSC-timed.
#   instr/op: valgrind --tool=callgrind, counting only the measured function
#          (repeatable, whatever else the machine does).
#   FILE:  the figures as JSON too.
set -euo pipefail

cd "$(dirname "$0")/../.."
rounds=5
core=$(($(nproc) - 1))
json=
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=$2; shift 2 ;;
	--core) core=$2; shift 2 ;;
	--json) json=$2; shift 2 ;;
	-h | --help) sed -n '4,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "executor.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

scripts/setup-deps.sh >/dev/null
build=build-rel
if [ ! -f $build/build.ninja ]; then
	meson setup $build --buildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C $build apps/bench/ex_bench >/dev/null

mem=(--no-huge -m 512)
memnote="--no-huge (4 KiB pages)"
if scripts/hugepages.sh available 512 2>/dev/null; then
	mem=(-m 512)
	memnote="hugepages"
fi
prefix="rtbench$$"
eal=(-l "$core" --no-pci "${mem[@]}" --no-telemetry --log-level=lib.eal:error "--file-prefix=$prefix")
trap 'rm -rf /var/run/dpdk/$prefix; rm -f /dev/hugepages/${prefix}map_* /tmp/$prefix.*' EXIT

ops=(spawn wake remote_wake timer_arm_cancel timer_fire_1m idle_loop)
declare -A samples
for r in $(seq 1 "$rounds"); do
	while read -r op ns rest; do
		samples[$op]+="$ns "
		[ "$op" = timer_fire_1m ] && fire_extra=$rest
	done < <(taskset -c "$core" $build/apps/bench/ex_bench "${eal[@]}")
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Instructions: callgrind counts inside bench_<op> only; divide by iterations.
iters=320000
instr() {
	local op=$1 n=$2 out=/tmp/$prefix.$1.cg
	valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="bench_$op" \
		$build/apps/bench/ex_bench "${eal[@]}" -- --op "$op" --iters "$iters" >/dev/null 2>&1 ||
		{ echo "n/a"; return; }
	awk -v n="$n" '/^(summary|totals):/ {print sprintf("%.1f", $2 / n); exit}' "$out"
}

goal() {
	case $1 in
	spawn) echo "<= 50 ns" ;;
	wake) echo "<= 10 ns" ;;
	timer_arm_cancel) echo "<= 20 ns" ;;
	*) echo "-" ;;
	esac
}
limit() {
	case $1 in
	spawn) echo 50 ;;
	wake) echo 10 ;;
	timer_arm_cancel) echo 20 ;;
	*) echo "" ;;
	esac
}

echo "riptide executor microbenchmark"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); core $core; $memnote; $rounds rounds (median)"
echo "command: scripts/bench/executor.sh --rounds $rounds --core $core"
printf '\n%-28s %10s %12s %10s %s\n' "operation" "ns/op" "instr/op" "goal" "met"
tsv=/tmp/$prefix.tsv
printf 'op\twhat\tns_per_op\tinstr_per_op\tgoal\tmet\tns_rounds\n' >"$tsv"
for op in "${ops[@]}"; do
	ns=$(echo "${samples[$op]}" | median)
	# bench_spawn/wake/... count their loop's instructions for iters ops;
	# timer_fire_1m counts 1M fires plus wheel turns.
	if [ "$op" = timer_fire_1m ]; then
		ins=$(instr "$op" 1000000)
	else
		ins=$(instr "$op" "$(( iters + iters / 10 ))")
	fi
	lim=$(limit "$op")
	met="-"
	if [ -n "$lim" ]; then
		met=$(awk -v a="$ns" -v b="$lim" 'BEGIN {print (a <= b) ? "yes" : "NO"}')
	fi
	case $op in
	spawn) label="spawn -> complete (ready)" ;;
	wake) label="local wake + poll" ;;
	remote_wake) label="remote wake (batched) + poll" ;;
	timer_arm_cancel) label="timer arm + cancel" ;;
	timer_fire_1m) label="timer fire, 1M armed" ;;
	idle_loop) label="idle loop iteration" ;;
	esac
	printf '%-28s %10s %12s %10s %s\n' "$label" "$ns" "$ins" "$(goal "$op")" "$met"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$op" "$label" "$ns" "$ins" "$(goal "$op")" "$met" \
		"$(echo ${samples[$op]} | tr ' ' ',')" >>"$tsv"
done
mib=$(echo "$fire_extra" | sed -n 's/.*total_mib=\([0-9.]*\).*/\1/p')
rss=$(echo "$fire_extra" | sed -n 's/.*rss_delta_mib=\([0-9.]*\).*/\1/p')
tb=$(echo "$fire_extra" | sed -n 's/.*timer_bytes=\([0-9]*\).*/\1/p')
met=$(awk -v a="$mib" 'BEGIN {print (a <= 64) ? "yes" : "NO"}')
printf '%-28s %10s %12s %10s %s\n' "1M live timers: memory" "${mib} MiB" "(rss +${rss})" "<= 64 MiB" "$met"
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "timers_1m_mib" "1M live timers: memory (MiB)" "$mib" "" \
	"<= 64 MiB" "$met" "" >>"$tsv"
echo
echo "instr/op: valgrind --tool=callgrind --toggle-collect=bench_<op>, $iters ops plus a 10% warm-up"
echo "(timer fire: the whole 10 s sweep of the wheel in 1 ms steps, divided by 1M timers)."
echo "timer bytes: $tb per timer, embedded in its owner; the wheel itself is fixed size."
if [ -n "$json" ]; then
	/usr/bin/python3 scripts/bench/benchjson.py "$json" executor \
		"scripts/bench/executor.sh --rounds $rounds --core $core" <"$tsv"
	echo "figures written to $json"
fi
