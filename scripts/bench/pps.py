#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A/B packets-per-second: pktbench io against dpdk-testpmd io on the same PMD
pair, the same forwarding core, the same memory and duration, alternating
rounds. Run through scripts/bench/pps.sh."""
import argparse
import os
import re
import select
import statistics
import subprocess
import sys
import time

import benchjson
import plot


def cpu_hz():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                return float(line.split(":")[1]) * 1e6
    return 0.0


def pairs(tag):
    sock = f"/tmp/riptide-pps-{os.getpid()}.sock"
    return {
        "net_null": (["--vdev", "net_null0", "--vdev", "net_null1"], False),
        "net_ring": (["--vdev", "net_ring0", "--vdev", "net_ring1"], True),
        "memif": (["--vdev", f"net_memif0,role=server,id=0,socket={sock}",
                   "--vdev", f"net_memif1,role=client,id=0,socket={sock}"], True),
    }[tag]


def cleanup(prefix):
    subprocess.run(f"rm -rf /var/run/dpdk/{prefix} /dev/hugepages/{prefix}map_* "
                   f"/tmp/riptide-pps-{os.getpid()}.sock", shell=True)


def run_pktbench(binary, core, mem, vdevs, tx_first, duration):
    prefix = f"rtpps{os.getpid()}a"
    argv = [binary, "-l", str(core), "--no-pci", *mem, *vdevs, f"--file-prefix={prefix}",
            "--log-level=lib.eal:error", "--", "--mode", "io", "--duration", str(duration),
            "--stats-interval", "0"] + (["--tx-first"] if tx_first else [])
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60).stdout
    cleanup(prefix)
    m = re.search(r"rx ([0-9.]+) Mpps, tx [0-9.]+ Mpps, busy cycles/pkt ([0-9.]+)", out)
    if not m or "all mbufs returned" not in out:
        sys.exit(f"pktbench failed or leaked:\n{out}")
    return float(m.group(1)), float(m.group(2))


def testpmd_mpps(argv, prefix, duration):
    """Run dpdk-testpmd (argv: its whole command line, non-interactive) for
    duration seconds of forwarding, from its "Press enter" to the newline
    that stops it; its received packets per second, in millions."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    out = ""
    deadline = time.monotonic() + 60
    while "Press enter to exit" not in out:
        if time.monotonic() > deadline or p.poll() is not None:
            p.kill()
            sys.exit(f"testpmd did not start:\n{out}")
        r, _, _ = select.select([p.stdout], [], [], 1)
        if r:
            # Straight from the fd: readline() would leave lines in the
            # file object's buffer, where select() cannot see them (a
            # "Press enter" already read stalled here for the whole minute).
            out += os.read(p.stdout.fileno(), 65536).decode(errors="replace")
    start = time.monotonic()  # forwarding runs from here ...
    time.sleep(duration)
    p.stdin.write("\n")
    p.stdin.flush()
    stop = time.monotonic()   # ... to here (it stops on the newline)
    rest, _ = p.communicate(timeout=60)
    out += rest
    cleanup(prefix)
    m = re.search(r"Accumulated forward statistics.*?RX-packets:\s+(\d+)", out, re.S)
    if not m:
        sys.exit(f"testpmd printed no statistics:\n{out[-3000:]}")
    return int(m.group(1)) / (stop - start) / 1e6


def run_testpmd(core, mem, vdevs, tx_first, duration):
    prefix = f"rtpps{os.getpid()}b"
    argv = ["stdbuf", "-oL", "dpdk-testpmd", "-l", f"{(core + 1) % os.cpu_count()},{core}",
            "--main-lcore", str((core + 1) % os.cpu_count()), "--no-pci", *mem, *vdevs,
            f"--file-prefix={prefix}", "--log-level=lib.eal:error", "--",
            "--forward-mode=io", "--nb-cores=1", "--total-num-mbufs=16383"] + (["--tx-first"] if tx_first else [])
    return testpmd_mpps(argv, prefix, duration)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pktbench", required=True)
    ap.add_argument("--core", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--pairs", default="net_null,net_ring,memif")
    ap.add_argument("--mem", default="-m 1024")
    ap.add_argument("--json", help="also write the figures to this file as JSON")
    ap.add_argument("--plot", metavar="PNG", help="also draw them as a PNG chart (plot.py)")
    ap.add_argument("--command", default="scripts/bench/pps.py", help="for the record")
    a = ap.parse_args()
    if a.plot and not a.json:
        a.json = a.plot.rsplit(".", 1)[0] + ".json"  # the chart is drawn from it
    mem = a.mem.split()
    hz = cpu_hz()
    print(f"forwarding core {a.core}; memory: {' '.join(mem)}; {a.rounds} rounds of "
          f"{a.duration:g} s, alternating A (pktbench io) / B (testpmd io)")
    print(f"cpu: {hz / 1e6:.0f} MHz")
    results = []
    for tag in a.pairs.split(","):
        vdevs, tx_first = pairs(tag)
        ours, theirs, cpp = [], [], []
        for r in range(a.rounds):
            mpps, busy = run_pktbench(a.pktbench, a.core, mem, vdevs, tx_first, a.duration)
            ours.append(mpps)
            cpp.append(busy)
            theirs.append(run_testpmd(a.core, mem, vdevs, tx_first, a.duration))
            print(f"  {tag:9s} round {r + 1}: pktbench {ours[-1]:8.2f} Mpps   "
                  f"testpmd {theirs[-1]:8.2f} Mpps")
        mo, mt = statistics.median(ours), statistics.median(theirs)
        results.append((tag, mo, mt, statistics.median(cpp), hz / (mt * 1e6), ours, theirs))
    print()
    print(f"{'pair':10s} {'pktbench Mpps':>14s} {'testpmd Mpps':>13s} {'ratio':>7s} "
          f"{'pktbench cyc/pkt':>17s} {'testpmd cyc/pkt':>16s}")
    for tag, mo, mt, cpp, tpp, _, _ in results:
        print(f"{tag:10s} {mo:14.2f} {mt:13.2f} {mo / mt:7.3f} {cpp:17.1f} {tpp:16.1f}")
    print("(medians; Mpps counts packets received on both ports; pktbench cycles/pkt are its "
          "executor's busy cycles, testpmd's are the core's cycles at 100% busy)")
    null = [r for r in results if r[0] == "net_null"]
    goals = []
    if null:
        ratio = null[0][1] / null[0][2]
        print(f"goal: net_null ratio >= 1.00: {'met' if ratio >= 1.0 else 'NOT met'} "
              f"({ratio:.3f})")
        goals.append({"goal": "net_null pktbench/testpmd >= 1.00", "value": ratio,
                      "met": ratio >= 1.0})
    if a.json:
        benchjson.write(a.json, "pps", a.command,
                        {"core": a.core, "rounds": a.rounds, "duration_s": a.duration,
                         "mem": a.mem, "cpu_mhz": hz / 1e6},
                        [{"pair": tag, "pktbench_mpps": mo, "testpmd_mpps": mt, "ratio": mo / mt,
                          "pktbench_busy_cycles_per_pkt": cpp, "testpmd_cycles_per_pkt": tpp,
                          "pktbench_mpps_rounds": ours, "testpmd_mpps_rounds": theirs}
                         for tag, mo, mt, cpp, tpp, ours, theirs in results], goals)
        print(f"pps: figures written to {a.json}")
        if a.plot:
            plot.plot(a.json, a.plot)
            print(f"pps: chart drawn in {a.plot}")


if __name__ == "__main__":
    main()
