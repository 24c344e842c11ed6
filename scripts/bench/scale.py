#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Scaling with cores: pktbench io with N workers (one net_null pair each)
against dpdk-testpmd io with N forwarding lcores on the same ports, for
N = 1..max, alternating rounds. Run through scripts/bench/scale.sh."""
import argparse
import os
import re
import statistics
import subprocess
import sys

import benchjson
import pps


def vdevs(n):
    return [a for i in range(2 * n) for a in ("--vdev", f"net_null{i}")]


def cleanup(prefix):
    subprocess.run(f"rm -rf /var/run/dpdk/{prefix} /dev/hugepages/{prefix}map_*", shell=True)


def lcores(n):
    """The forwarding lcores for n workers: core 1 alone for one (core 0 left
    to the OS and the peers, as pps.sh does), then 0..n-1."""
    return [1 % os.cpu_count()] if n == 1 else list(range(n))


def run_pktbench(binary, n, mem, duration):
    prefix = f"rtscale{os.getpid()}a"
    argv = [binary, "-l", ",".join(map(str, lcores(n))), "--no-pci", *mem, *vdevs(n),
            f"--file-prefix={prefix}", "--log-level=lib.eal:error", "--", "--mode", "io",
            "--duration", str(duration), "--stats-interval", "0"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60).stdout
    cleanup(prefix)
    m = re.search(r"rx ([0-9.]+) Mpps, tx [0-9.]+ Mpps", out)
    if not m or out.count("all mbufs returned") != n:
        sys.exit(f"pktbench failed or leaked:\n{out}")
    return float(m.group(1))


def run_testpmd(n, mem, duration):
    """testpmd's main lcore only waits for Enter: it shares core 0 with a
    forwarding lcore (lcore ids 1..n forward on the same cores as pktbench's)."""
    prefix = f"rtscale{os.getpid()}b"
    cores = lcores(n)
    mapping = ",".join([f"0@{cores[0] if n > 1 else 0}"] +
                       [f"{i + 1}@{c}" for i, c in enumerate(cores)])
    argv = ["stdbuf", "-oL", "dpdk-testpmd", "--lcores", mapping, "--main-lcore", "0",
            "--no-pci", *mem, *vdevs(n), f"--file-prefix={prefix}", "--log-level=lib.eal:error",
            "--", "--forward-mode=io", f"--nb-cores={n}", "--total-num-mbufs=16383"]
    return pps.testpmd_mpps(argv, prefix, duration)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pktbench", required=True)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--mem", default="-m 1024")
    ap.add_argument("--json", help="also write the figures to this file as JSON")
    ap.add_argument("--command", default="scripts/bench/scale.py", help="for the record")
    a = ap.parse_args()
    mem = a.mem.split()
    print(f"scale.sh: pktbench io vs testpmd io on net_null, one port pair per worker, "
          f"1..{a.workers} workers, {a.rounds} rounds of {a.duration:g} s (A/B), {a.mem}")
    rows = []
    for n in range(1, a.workers + 1):
        ours, theirs = [], []
        for r in range(a.rounds):
            ours.append(run_pktbench(a.pktbench, n, mem, a.duration))
            theirs.append(run_testpmd(n, mem, a.duration))
            print(f"  {n} worker(s) round {r + 1}: pktbench {ours[-1]:8.2f} Mpps   "
                  f"testpmd {theirs[-1]:8.2f} Mpps")
        rows.append((n, statistics.median(ours), statistics.median(theirs), ours, theirs))
    print()
    print(f"{'workers':>7s} {'pktbench Mpps':>14s} {'testpmd Mpps':>13s} {'ratio':>7s} "
          f"{'pktbench x1':>12s} {'testpmd x1':>11s}")
    for n, mo, mt, ours, theirs in rows:
        print(f"{n:7d} {mo:14.2f} {mt:13.2f} {mo / mt:7.3f} {mo / rows[0][1]:12.2f} "
              f"{mt / rows[0][2]:11.2f}   (pktbench {min(ours):.1f}..{max(ours):.1f}, "
              f"testpmd {min(theirs):.1f}..{max(theirs):.1f})")
    print("(medians; Mpps counts packets received on every port; x1: over the same "
          "program's one worker)")
    goals = []
    if len(rows) >= 2:
        s = rows[1][1] / rows[0][1]
        print(f"goal: pktbench 2 workers >= 1.9x one worker: {'met' if s >= 1.9 else 'NOT met'} "
              f"({s:.2f}x)")
        goals.append({"goal": "pktbench 2 workers >= 1.9x 1 worker", "value": s,
                      "met": s >= 1.9})
    print("proxy at 1 and 2 lcores: not measured: l4proxy runs on one lcore "
          "(per-lcore stacks are not built yet)")
    if a.json:
        benchjson.write(a.json, "scale", a.command,
                        {"workers": a.workers, "rounds": a.rounds, "duration_s": a.duration,
                         "mem": a.mem},
                        [{"workers": n, "pktbench_mpps": mo, "testpmd_mpps": mt,
                          "ratio": mo / mt, "pktbench_mpps_rounds": ours,
                          "testpmd_mpps_rounds": theirs} for n, mo, mt, ours, theirs in rows],
                        goals)
        print(f"scale: figures written to {a.json}")


if __name__ == "__main__":
    main()
