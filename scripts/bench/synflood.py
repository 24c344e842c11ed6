#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""synflood.py - the SYN flood benchmark behind scripts/bench/synflood.sh.

For each contender, each round: a server on core 1 (riptide's echo on AF_XDP;
riptide's l4proxy on AF_XDP in front of a Linux echo server in the client's
namespace, so a legitimate connection is a proxied one; or a Linux echo
server with net.ipv4.tcp_syncookies=1), a client namespace
whose core 0 floods spoofed SYNs from 126 addresses of the segment at --pps
(150,000 by default, the same for both: a veth peer in Linux does its
receive work on the sender's core, so "as fast as it can" is not the same
flood for the two; 0 lifts the cap) for --seconds, and, starting a second into the flood, a legitimate
client making --probes connections one after another (each: connect, a line,
its echo). Reports the flood rate, the share of legitimate connections done
within 1 s, their p99, and the server's memory before and at the end of the
flood (riptide: the process's RSS; Linux: the TCP memory of /proc/net/sockstat
in the server's namespace, pages of 4 KiB). Medians over --rounds."""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time

import benchjson

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = "/usr/bin/python3"
SYNFLOOD = os.path.join(ROOT, "scripts", "lib", "synflood.py")
NET = "198.18.66"

LINUX_SERVER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7))
s.listen(1024)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(5)
    try:
        b = c.recv(64)
        if b:
            c.sendall(b)
    except OSError:
        pass
    c.close()
"""


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sockstat_pages(ns):
    out = sh(f"ip netns exec {ns} cat /proc/net/sockstat").stdout
    m = re.search(r"TCP: .* mem (\d+)", out)
    return int(m.group(1)) * 4 if m else 0  # KiB


def one_round(kind, a, build):
    cli = f"rsfc{os.getpid() % 10000}"
    srv = f"rsfs{os.getpid() % 10000}"
    outer = f"rsfo{os.getpid() % 10000}"
    sh(f"ip netns add {cli}")
    server = backend = None
    try:
        if kind in ("riptide", "l4proxy"):
            sh(f"ip link add {outer} type veth peer name rsfi netns {cli}")
            sh(f"ip netns exec {cli} ethtool -K rsfi tx off >/dev/null")
            sh(f"ip -n {cli} addr add {NET}.1/24 dev rsfi && ip -n {cli} link set rsfi up")
            sh(f"ip -n {cli} link set lo up && ip link set {outer} up")
            if kind == "riptide":
                app = [os.path.join(build, "apps", "echo", "echo")]
                args = ["--tcp-echo", "7"]
            else:
                # The backend: the Linux echo server at .3 in the client's
                # namespace (on core 0 with the flood and the probe).
                sh(f"ip -n {cli} addr add {NET}.3/24 dev rsfi")
                backend = subprocess.Popen(
                    ["ip", "netns", "exec", cli, "taskset", "-c", "0", PY, "-c", LINUX_SERVER,
                     f"{NET}.3"], stdout=subprocess.PIPE, text=True)
                assert backend.stdout.readline().strip() == "listening"
                app = [os.path.join(build, "apps", "l4proxy", "l4proxy")]
                args = ["--listen", "7", "--backend", f"{NET}.3:7"]
            server = subprocess.Popen(
                ["taskset", "-c", "1", *app, "-l", "1", "--no-pci", *a.mem.split(),
                 f"--file-prefix=rsf{os.getpid()}", f"--vdev=net_af_xdp0,iface={outer}", "--",
                 "--ip", f"{NET}.2/24", *args],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            deadline = time.monotonic() + 30
            while True:  # up once a connection gets its echo (l4proxy: backend healthy)
                if sh(f"ip netns exec {cli} {PY} {SYNFLOOD} probe {NET}.2 7 --count 1 "
                      f"--timeout 1", check=False).stdout.startswith("probe: ok 1 of 1"):
                    break
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"riptide's {kind} did not come up: " +
                                       (server.stdout.read() if server.poll() is not None else ""))
                time.sleep(0.2)  # a retry's pace, not synchronisation
            mem = lambda: rss_kib(server.pid)
        else:
            sh(f"ip netns add {srv}")
            sh(f"ip link add rsfa netns {cli} type veth peer name rsfb netns {srv}")
            for ns, dev, ip in ((cli, "rsfa", 1), (srv, "rsfb", 2)):
                sh(f"ip -n {ns} addr add {NET}.{ip}/24 dev {dev} && ip -n {ns} link set {dev} up"
                   f" && ip -n {ns} link set lo up")
            sh(f"ip netns exec {srv} sysctl -qw net.ipv4.tcp_syncookies=1")
            server = subprocess.Popen(["ip", "netns", "exec", srv, "taskset", "-c", "1", PY, "-c",
                                       LINUX_SERVER, f"{NET}.2"], stdout=subprocess.PIPE,
                                      text=True)
            assert server.stdout.readline().strip() == "listening"
            mem = lambda: sockstat_pages(srv)
        before = mem()
        flood = subprocess.Popen(["ip", "netns", "exec", cli, "taskset", "-c", "0", PY, SYNFLOOD,
                                  "flood", f"{NET}.2", "7", "--src", f"{NET}.128/25",
                                  "--seconds", str(a.seconds), "--pps", str(a.pps)],
                                 stdout=subprocess.PIPE, text=True)
        time.sleep(1)  # the flood is under way (the probe is what is measured)
        probe = sh(f"ip netns exec {cli} taskset -c 0 {PY} {SYNFLOOD} probe {NET}.2 7 "
                   f"--count {a.probes} --timeout 5 --gap-ms 10").stdout
        during = mem()
        fl = flood.communicate(timeout=a.seconds + 60)[0]
        m = re.search(r"sent (\d+) in ([\d.]+) s \((\d+) pps\)", fl)
        p = re.search(r"ok (\d+) of (\d+), within 1 s (\d+), p50 ([\d.na]+) ms p99 ([\d.na]+) ms",
                      probe)
        if not m or not p:
            raise RuntimeError(f"{kind}: no figures: {fl} {probe}")
        return {"flood_pps": int(m.group(3)), "ok": int(p.group(1)),
                "within_1s_pct": 100.0 * int(p.group(3)) / int(p.group(2)),
                "p50_ms": float(p.group(4)), "p99_ms": float(p.group(5)),
                "mem_before_kib": before, "mem_during_kib": during}
    finally:
        # riptide prints its counters on SIGINT; the Python servers just go.
        stop = signal.SIGINT if kind != "linux" else signal.SIGTERM
        for p, sig in ((server, stop), (backend, signal.SIGTERM)):
            if p is None:
                continue
            p.send_signal(sig)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        sh(f"ip netns del {cli}", check=False)
        sh(f"ip netns del {srv}", check=False)
        sh(f"ip link del {outer}", check=False)
        sh(f"rm -rf /var/run/dpdk/rsf{os.getpid()} /dev/hugepages/rsf{os.getpid()}map_*",
           check=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build-rel")
    ap.add_argument("--mem", default="-m 512", help="EAL memory arguments for riptide")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--probes", type=int, default=200)
    ap.add_argument("--pps", type=float, default=150000,
                    help="the flood's rate, the same for both (0: as fast as the core goes)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--command", default="scripts/bench/synflood.sh")
    a = ap.parse_args()
    rows = []
    for kind in ("riptide", "l4proxy", "linux"):
        rs = [one_round(kind, a, a.build) for _ in range(a.rounds)]
        med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        row = {"contender": kind, **med,
               **{f"{k}_rounds": [r[k] for r in rs] for k in ("within_1s_pct", "p99_ms",
                                                            "flood_pps")}}
        rows.append(row)
        spread = ", ".join(f"{x['within_1s_pct']:.1f}" for x in rs)
        print(f"{kind:8s} flood {med['flood_pps']:8.0f} pps  legit ok {med['ok']:.0f}/{a.probes}"
              f"  within 1 s {med['within_1s_pct']:5.1f} % (rounds {spread})"
              f"  p50 {med['p50_ms']:.1f} ms  p99 {med['p99_ms']:.1f} ms"
              f"  memory {med['mem_before_kib']:.0f} -> {med['mem_during_kib']:.0f} KiB",
              flush=True)
    r, p, l = rows
    for name, x in (("riptide echo", r), ("riptide l4proxy", p)):
        print(f"goal: >= 99 % of legitimate connections within 1 s under the flood: {name} "
              f"{x['within_1s_pct']:.1f} % ({'met' if x['within_1s_pct'] >= 99 else 'MISSED'}), "
              f"Linux {l['within_1s_pct']:.1f} %")
    print(f"goal: memory flat: riptide echo {r['mem_before_kib']:.0f} -> "
          f"{r['mem_during_kib']:.0f} KiB RSS, l4proxy {p['mem_before_kib']:.0f} -> "
          f"{p['mem_during_kib']:.0f} KiB RSS; Linux TCP memory {l['mem_before_kib']:.0f} -> "
          f"{l['mem_during_kib']:.0f} KiB")
    if a.json:
        benchjson.write(a.json, "synflood", a.command,
                        {"seconds": a.seconds, "probes": a.probes, "rounds": a.rounds,
                         "pps": a.pps}, rows)
        print(f"synflood.sh: figures written to {a.json}")


if __name__ == "__main__":
    sys.exit(main())
