# SPDX-License-Identifier: BSD-3-Clause
"""The runner behind scripts/bench/tcp.sh: riptide<->riptide over memif and
Linux<->Linux over loopback, the same three measurements, ratios printed."""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

import benchjson

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mem_args():
    r = subprocess.run([os.path.join(ROOT, "scripts", "hugepages.sh"), "available", "1024"],
                       capture_output=True)
    return (["-m", "512"], "hugepages") if r.returncode == 0 else \
        (["--no-huge", "-m", "512"], "--no-huge (4 KiB pages)")


class Proc:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)
        self.lines = []

    def wait_for(self, pattern, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            line = self.p.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if re.search(pattern, line):
                return
        raise RuntimeError(f"did not see {pattern!r}: {''.join(self.lines)}")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        rest = self.p.stdout.read() or ""
        self.lines.append(rest)
        return "".join(self.lines)


# Jumbo frames over memif: each frame in one memif buffer (dp_port refuses
# an MTU whose frames would span buffers: DPDK 22.11's memif garbles them).
JUMBO_MTU = 9000
JUMBO_VDEV = ",bsize=9216"


def riptide(build, seconds, mem):
    """rr, bulk and conn at MTU 1500, then bulk again at JUMBO_MTU, then bulk
    over virtio-user with TSO at MTU 1500."""
    out = riptide_modes(build, seconds, mem, ("rr", "bulk", "conn"), None)
    out["gbps_jumbo"] = riptide_modes(build, seconds, mem, ("bulk",), JUMBO_MTU)["gbps"]
    out["gbps_tso"] = riptide_modes(build, seconds, mem, ("bulk",), None, "virtio-tso")["gbps"]
    return out


def riptide_modes(build, seconds, mem, modes, mtu, kind="memif"):
    """kind: memif, or virtio-tso: the client on net_virtio_user, the server
    on net_vhost with tso=1, so that the client's port offers TSO (the server
    receives the large segments whole, as a NIC's LRO would give them)."""
    echo = os.path.join(ROOT, build, "apps", "echo", "echo")
    bench = os.path.join(ROOT, build, "apps", "bench", "tcp_bench")
    tag = f"rttcpb{os.getpid()}"
    sock = f"/tmp/{tag}.sock"
    common = ["--no-pci", *mem, "--no-telemetry", "--log-level=lib.eal:error"]
    vdev = f"id=0,socket={sock}" + (JUMBO_VDEV if mtu else "")
    srv_vdev, cli_vdev = f"net_memif0,role=server,{vdev}", f"net_memif0,role=client,{vdev}"
    if kind == "virtio-tso":
        # vhost-user maps the client's memory by file descriptor: one per
        # segment list.
        common.append("--single-file-segments")
        srv_vdev = f"net_vhost0,iface={sock},queues=1,tso=1"
        cli_vdev = f"net_virtio_user0,path={sock},queues=1"
    mtu_args = ["--mtu", str(mtu)] if mtu else []
    server = Proc([echo, "-l", "0", *common, f"--file-prefix={tag}s",
                   f"--vdev={srv_vdev}", "--",
                   "--ip", "198.18.90.1/24", "--tcp-echo", "7", "--tcp-discard", "9",
                   "--busy-poll", "--max-conns", "4096", *mtu_args])
    out = {}
    try:
        server.wait_for("answering ARP")
        for mode in modes:
            port = 9 if mode == "bulk" else 7
            for _ in range(3):
                r = subprocess.run([bench, "-l", "1", *common, f"--file-prefix={tag}c",
                                    f"--vdev={cli_vdev}", "--",
                                    "--ip", "198.18.90.2/24", "--server",
                                    f"198.18.90.1:{port}", "--mode", mode, "--seconds",
                                    str(seconds), "--busy-poll", *mtu_args],
                                   capture_output=True, text=True, timeout=seconds + 60)
                text = r.stdout + r.stderr
                # memif's server may refuse a client for a moment after the
                # last one left (its control thread has not caught up).
                if "memif_connect_client(): Failed to connect socket" not in text:
                    break
                time.sleep(1)
            if mode == "rr":
                m = re.search(r"tcp_bench: rr: .* p50 ([\d.]+) us p99 ([\d.]+) us", text)
                out["p50"], out["p99"] = float(m.group(1)), float(m.group(2))
            elif mode == "bulk":
                m = re.search(r"tcp_bench: bulk: .* ([\d.]+) Gbit/s", text)
                out["gbps"] = float(m.group(1))
                t = re.search(r"tcp_bench: bulk: .* tso (\d+) ", text)
                if kind == "virtio-tso" and (t is None or int(t.group(1)) == 0):
                    raise RuntimeError(f"riptide bulk over virtio-user sent no TSO segment:\n{text}")
            else:
                m = re.search(r"tcp_bench: conn: .* (\d+) per second", text)
                out["conns"] = float(m.group(1))
            if m is None or r.returncode != 0:
                raise RuntimeError(f"riptide {mode} ({kind}, MTU {mtu or 1500}) failed:\n{text}")
    finally:
        server.stop()
        if os.path.exists(sock):
            os.unlink(sock)
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{tag}s", f"/var/run/dpdk/{tag}c"])
        # EAL leaves a primary's hugepage files when it exits, each holding
        # its page: the next benchmark could not reserve any.
        subprocess.run(f"rm -f /dev/hugepages*/{tag}smap_* /dev/hugepages*/{tag}cmap_*",
                       shell=True)
    return out


# iperf3's congestion control: riptide's default, named rather than left to
# the machine's default (bbr on some; Debian's kernel has cubic)
LINUX_CC = "cubic"


def linux(build, seconds):
    out = {}
    srv = Proc(["taskset", "-c", "0", "sockperf", "server", "--tcp", "-i", "127.0.0.1",
                "-p", "11711"])
    try:
        time.sleep(1)
        r = subprocess.run(["taskset", "-c", "1", "sockperf", "ping-pong", "--tcp", "-i",
                            "127.0.0.1", "-p", "11711", "-m", "64", "-t", str(seconds)],
                           capture_output=True, text=True, timeout=seconds + 30)
        text = r.stdout + r.stderr
        p50 = re.search(r"percentile 50\.000 =\s+([\d.]+)", text)
        p99 = re.search(r"percentile 99\.000 =\s+([\d.]+)", text)
        if p50 is None or p99 is None:
            raise RuntimeError(f"sockperf:\n{text}")
        # sockperf reports half the round trip; riptide's figure is the whole one.
        out["p50"], out["p99"] = 2 * float(p50.group(1)), 2 * float(p99.group(1))
    finally:
        srv.stop()
    srv = Proc(["taskset", "-c", "0", "iperf3", "-s", "-1", "-p", "11712"])
    try:
        time.sleep(1)
        r = subprocess.run(["taskset", "-c", "1", "iperf3", "-c", "127.0.0.1", "-p", "11712",
                            "-C", LINUX_CC, "-t", str(seconds), "-J"], capture_output=True, text=True,
                           timeout=seconds + 30)
        out["gbps"] = json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9
    finally:
        srv.stop()
    cr = os.path.join(ROOT, build, "apps", "bench", "tcp_connrate")
    srv = Proc(["taskset", "-c", "0", cr, "server", "11713"])
    try:
        srv.wait_for("listening")
        r = subprocess.run(["taskset", "-c", "1", cr, "client", "127.0.0.1", "11713",
                            str(seconds)], capture_output=True, text=True, timeout=seconds + 30)
        m = re.search(r"(\d+) per second", r.stdout)
        if m is None:
            raise RuntimeError(f"tcp_connrate:\n{r.stdout}{r.stderr}")
        out["conns"] = float(m.group(1))
    finally:
        srv.p.kill()
        srv.p.wait()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-rel")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--json", help="also write the figures to this file as JSON")
    ap.add_argument("--command", default="scripts/bench/tcp.py", help="for the record")
    a = ap.parse_args()
    mem, memnote = mem_args()
    print(f"tcp.sh: {a.rounds} round(s) of {a.seconds} s each; riptide: echo (server) and "
          f"tcp_bench (client) over memif, cores 0 and 1, {memnote}, bulk at MTU 1500 and "
          f"{JUMBO_MTU}, and over virtio-user/vhost-user with TSO at 1500; Linux: loopback "
          f"(MTU 65536), same cores, iperf3 -C {LINUX_CC}")
    rip, lin = [], []
    for i in range(a.rounds):
        rip.append(riptide(a.build, a.seconds, mem))
        lin.append(linux(a.build, a.seconds))
        print(f"round {i + 1}: riptide {rip[-1]}  linux {lin[-1]}", flush=True)

    def med(rows, k):
        return statistics.median(r[k] for r in rows)

    rows = [
        ("latency p50 (us, round trip)", "p50", "<= 0.33", lambda r: r <= 1 / 3),
        ("latency p99 (us, round trip)", "p99", "", None),
        ("bulk (Gbit/s), MTU 1500", "gbps", "", None),
        (f"bulk (Gbit/s), MTU {JUMBO_MTU}", "gbps_jumbo", ">= 1.00", lambda r: r >= 1.0),
        ("bulk (Gbit/s), virtio-user, TSO", "gbps_tso", ">= 1.00", lambda r: r >= 1.0),
        ("connections per second", "conns", ">= 5.00", lambda r: r >= 5.0),
    ]
    print(f"{'':32} {'riptide':>12} {'linux':>12} {'ratio':>8}  goal")
    met = True
    out_rows, goals = [], []
    for name, k, goal, ok in rows:
        # Linux's loopback has one bulk figure (its MTU is 65536): both
        # riptide rows are against it.
        rv, lv = med(rip, k), med(lin, "gbps" if k.startswith("gbps") else k)
        ratio = rv / lv if lv else float("nan")
        verdict = ""
        if ok is not None:
            verdict = "met" if ok(ratio) else "NOT met"
            met = met and ok(ratio)
            goals.append({"goal": f"{k} riptide/linux {goal}", "value": ratio, "met": ok(ratio)})
        print(f"{name:32} {rv:12.2f} {lv:12.2f} {ratio:8.3f}  {goal} {verdict}")
        out_rows.append({"figure": k, "what": name, "riptide": rv, "linux": lv, "ratio": ratio,
                         "riptide_rounds": [r[k] for r in rip],
                         "linux_rounds": [r["gbps" if k.startswith("gbps") else k] for r in lin]})
    print("tcp.sh: all goals met" if met else "tcp.sh: some goals not met")
    if a.json:
        benchjson.write(a.json, "tcp", a.command,
                        {"seconds": a.seconds, "rounds": a.rounds, "memory": memnote,
                         "linux_cc": LINUX_CC},
                        out_rows, goals)
        print(f"tcp.sh: figures written to {a.json}")


if __name__ == "__main__":
    sys.exit(main())
