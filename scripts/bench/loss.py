# SPDX-License-Identifier: BSD-3-Clause
"""The runner behind scripts/bench/loss.sh: riptide's TCP against Linux's on
impaired paths, same spec and seed, every transfer checked byte-exact."""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import benchjson
import plot

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
XFER = os.path.join(ROOT, "scripts", "lib", "xfer.py")
PY = "/usr/bin/python3"
SPECS = ["loss=1%", "loss=5%", "reorder=10%:3", "dup=1%", "corrupt=0.1%",
         "delay=20ms:5ms,loss=1%", "loss=5%,reorder=10%:3,dup=1%,corrupt=0.1%"]
RNET, ANET = "198.18.74", "198.18.76"  # riptide's segment; Linux <-> Linux's


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)


def mem_args():
    r = sh([os.path.join(ROOT, "scripts", "hugepages.sh"), "available", "512"])
    return ["-m", "512"] if r.returncode == 0 else ["--no-huge", "-m", "512"]


class Dpdk:
    """A DPDK process in a namespace, its output in a file; stop() cleans up."""

    def __init__(self, ns, argv, prefix, log, ready):
        self.prefix, self.log = prefix, log
        self.f = open(log, "w+")
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=self.f,
                                  stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while ready not in self.output():
            if self.p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} did not start:\n{self.output()[-2000:]}")
            time.sleep(0.05)

    def output(self):
        self.f.seek(0)
        return self.f.read()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        sh(["rm", "-rf", f"/var/run/dpdk/{self.prefix}"])
        sh(f"rm -f /dev/hugepages*/{self.prefix}map_*")
        return self.output()


def xfer(ns, core, args, timeout):
    r = sh(["ip", "netns", "exec", ns, "taskset", "-c", core, PY, XFER, *args],
           timeout=timeout + 30)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"ok": False, "error": (r.stdout + r.stderr)[-500:], "seconds": timeout,
                "data_seconds": timeout}


def wait_ping(ns, addr, what):
    for _ in range(100):
        if sh(["ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", addr]).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"no ping answer from {what} at {addr}")


class Net:
    """Namespaces: NAME-r holds riptide's echo on a TAP and its Linux peer;
    NAME-a and NAME-b are Linux peers joined through NAME-w, where pktbench
    impair bridges their veths (AF_XDP on both)."""

    def __init__(self, name):
        self.name = name
        self.r, self.a, self.b, self.w = (f"{name}-{x}" for x in "rabw")

    def up(self, linux_sack):
        for ns in (self.r, self.a, self.b, self.w):
            sh(["ip", "netns", "add", ns], check=True)
            sh(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
            sh(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv4.tcp_sack={linux_sack}"],
               check=True)
        for side, ns, addr in (("a", self.a, f"{ANET}.1"), ("b", self.b, f"{ANET}.2")):
            sh(["ip", "-n", self.w, "link", "add", f"w{side}", "type", "veth", "peer", "name",
                "eth0", "netns", ns], check=True)
            sh(f"ip netns exec {ns} ethtool -K eth0 tx off >/dev/null", check=True)
            sh(["ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0"], check=True)
            sh(["ip", "-n", ns, "link", "set", "eth0", "up"], check=True)
            sh(["ip", "-n", self.w, "link", "set", f"w{side}", "up"], check=True)

    def down(self):
        for ns in (self.r, self.a, self.b, self.w):
            pids = sh(["ip", "netns", "pids", ns]).stdout.split()
            if pids:
                sh(["kill", "-9", *pids])
            sh(["ip", "netns", "del", ns])


def riptide_run(net, a, work, spec, seed, direction):
    """One transfer between riptide's echo (impairing its TAP both ways) and
    Linux; direction 'send': riptide -> Linux, 'recv': Linux -> riptide."""
    prefix = f"rtls{os.getpid()}"
    tap = f"{net.name}t"
    argv = [os.path.join(ROOT, a.build, "apps", "echo", "echo"), "-l", a.dcore, "--no-pci",
            *mem_args(), f"--file-prefix={prefix}", f"--vdev=net_tap0,iface={tap}",
            "--log-level=lib.eal:error", "--", "--ip", f"{RNET}.2/24",
            "--impair", f"{spec},seed={seed}", "--tcp-cc", a.riptide_cc, "--tcp-source", "9",
            "--source-bytes", str(a.bytes), "--tcp-discard", "10", "--discard-sha256"]
    e = Dpdk(net.r, argv, prefix, os.path.join(work, "echo.log"), "answering ARP")
    try:
        sh(f"ip netns exec {net.r} sh -c 'sysctl -qw net.ipv6.conf.{tap}.disable_ipv6=1; "
           f"ip addr add {RNET}.1/24 dev {tap}; ip link set {tap} up'", check=True)
        wait_ping(net.r, f"{RNET}.2", "riptide")
        if direction == "send":
            res = xfer(net.r, a.lcore, ["read", f"{RNET}.2", "9", str(a.timeout)], a.timeout)
            want = a.pattern_sha
        else:
            nstat = ["ip", "netns", "exec", net.r, "env", f"NSTAT_HISTORY={work}/nstat.{net.r}",
                     "nstat"]
            sh([*nstat, "-n"])
            res = xfer(net.r, a.lcore, ["write", f"{RNET}.2", "10", str(a.bytes), str(seed),
                                        str(a.timeout)], a.timeout)
            # The Linux sender's own counters, as in linux_run: riptide
            # only receives here, and what it costs shows on the sender.
            res["linux_sender"] = linux_counters(net.r, work)
            res["sender_cc"] = res.get("cc")
            want = res.get("sha256")
            time.sleep(0.2)  # echo prints the sum as it closes
            m = re.search(r"tcp discard: (\d+) bytes sha256 (\w+)", e.output())
            res["sha256"] = m.group(2) if m else None
            res["bytes"] = int(m.group(1)) if m else 0
    finally:
        out = e.stop()
    m = re.search(r"retransmits (\d+) fast (\d+) rto (\d+)", out)
    res["exact"] = bool(res.get("ok")) and res.get("bytes") == a.bytes and \
        res.get("sha256") == want
    res["counters"] = ({"retransmits": int(m.group(1)), "fast": int(m.group(2)),
                        "rto": int(m.group(3))} if m else {})
    m = re.search(r"buffers grown rx (\d+) tx (\d+)", out)
    if m:  # riptide's receive buffer (recv) or send buffer (send) autotuned
        res["counters"]["grown"] = int(m.group(1 if direction == "recv" else 2))
    m = re.search(r"rack lost (\d+) reorder timeouts (\d+) tail probes (\d+) .*?"
                  r"undos (\d+)", out)
    if m:
        res["counters"].update({"rack_lost": int(m.group(1)), "rack_timeouts": int(m.group(2)),
                                "tlp": int(m.group(3)), "undos": int(m.group(4))})
    return res


def linux_run(net, a, work, spec, seed, direction):
    """The same transfer Linux -> Linux through pktbench impair: 'send' is a
    Linux source read by a Linux reader, 'recv' a Linux writer into a sink."""
    prefix = f"rtlw{os.getpid()}"
    argv = [os.path.join(ROOT, a.build, "apps", "pktbench", "pktbench"), "-l", a.dcore,
            "--no-pci", *mem_args(), f"--file-prefix={prefix}",
            "--vdev=net_af_xdp0,iface=wa", "--vdev=net_af_xdp1,iface=wb",
            "--log-level=lib.eal:error", "--", "--mode", "impair", "--stats-interval", "0",
            "--impair", f"{spec},seed={seed}"]
    w = Dpdk(net.w, argv, prefix, os.path.join(work, "wire.log"), "pktbench: mode impair")
    server = None
    sender = net.b if direction == "send" else net.a
    # Linux's own counters from here (a history file per namespace: nstat
    # keeps one per user otherwise, shared by every namespace)
    sh(["ip", "netns", "exec", sender, "env", f"NSTAT_HISTORY={work}/nstat.{sender}", "nstat",
        "-n"])
    try:
        wait_ping(net.a, f"{ANET}.2", "the Linux peer through the wire")
        mode = ["serve-source", f"{ANET}.2", "9", str(a.bytes)] if direction == "send" else \
            ["serve-sink", f"{ANET}.2", "10"]
        server = subprocess.Popen(["ip", "netns", "exec", net.b, "taskset", "-c", a.lcore, PY,
                                   XFER, *mode], stdout=subprocess.PIPE, text=True)
        server.stdout.readline()  # listening
        if direction == "send":
            res = xfer(net.a, a.lcore, ["read", f"{ANET}.2", "9", str(a.timeout)], a.timeout)
            want = a.pattern_sha
            try:  # the sender here is the server: what it ran
                got = json.loads(server.communicate(timeout=30)[0].strip().splitlines()[-1])
            except (subprocess.TimeoutExpired, IndexError, ValueError):
                got = {}
            res["sender_cc"] = got.get("cc")
        else:
            res = xfer(net.a, a.lcore, ["write", f"{ANET}.2", "10", str(a.bytes), str(seed),
                                        str(a.timeout)], a.timeout)
            want = res.get("sha256")
            try:
                got = json.loads(server.communicate(timeout=30)[0].strip().splitlines()[-1])
            except (subprocess.TimeoutExpired, IndexError, ValueError):
                got = {}
            res["sha256"], res["bytes"] = got.get("sha256"), got.get("bytes", 0)
            res["sender_cc"] = res.get("cc")
    finally:
        if server is not None:
            server.kill()
            server.wait()
        w.stop()
    res["exact"] = bool(res.get("ok")) and res.get("bytes") == a.bytes and \
        res.get("sha256") == want
    res["counters"] = linux_counters(sender, work)
    return res


def undos(lc):
    """Linux's undone recoveries and timeouts, every kind together (full,
    partial, by D-SACK, after a timeout), beside riptide's one undo count."""
    return sum(lc[k] for k in ("undo_full", "undo_partial", "undo_dsack", "undo_loss"))


def linux_counters(ns, work):
    """The Linux sender's retransmissions, RTOs and tail loss probes since
    nstat -n (the same figures riptide prints of itself)."""
    names = {"TcpRetransSegs": "retransmits", "TcpExtTCPTimeouts": "rto",
             "TcpExtTCPLossProbes": "tlp", "TcpExtTCPSackRecovery": "recoveries",
             "TcpExtTCPFullUndo": "undo_full", "TcpExtTCPPartialUndo": "undo_partial",
             "TcpExtTCPDSACKUndo": "undo_dsack", "TcpExtTCPLossUndo": "undo_loss"}
    out = {v: 0 for v in names.values()}
    for line in sh(["ip", "netns", "exec", ns, "env", f"NSTAT_HISTORY={work}/nstat.{ns}", "nstat",
                    "-s"]).stdout.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] in names:
            out[names[f[0]]] = int(f[1])
    return out


CC_AVAILABLE = "/proc/sys/net/ipv4/tcp_available_congestion_control"


def linux_cc_available(name):
    """Whether the kernel offers congestion control NAME, loading its module
    (tcp_NAME) if it is not loaded yet."""
    if name in open(CC_AVAILABLE).read().split():
        return True
    sh(["modprobe", f"tcp_{name}"])
    return name in open(CC_AVAILABLE).read().split()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-rel")
    ap.add_argument("--mb", type=float, default=20, help="megabytes per transfer")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 1..N for every spec")
    ap.add_argument("--first-seed", type=int, default=1,
                    help="start the seeds here (tests pass a random one)")
    ap.add_argument("--spec", action="append", help="an impairment spec (repeatable); "
                    "default: the issue's seven")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per transfer")
    ap.add_argument("--linux-sack", type=int, choices=(0, 1), default=1,
                    help="net.ipv4.tcp_sack of every Linux end (0: Linux neither offers nor "
                    "accepts SACK)")
    ap.add_argument("--linux-cc", default="cubic",
                    help="net.ipv4.tcp_congestion_control of every Linux end (default cubic, "
                    "riptide's own default; a kernel's default may differ, e.g. bbr)")
    ap.add_argument("--riptide-cc", default="cubic", choices=("cubic", "newreno"),
                    help="riptide's congestion control (echo --tcp-cc)")
    ap.add_argument("--json", help="also write the figures to this file as JSON")
    ap.add_argument("--plot", metavar="PNG", help="also draw them as a PNG chart (plot.py)")
    ap.add_argument("--command", default="scripts/bench/loss.py", help="for the record")
    a = ap.parse_args()
    if a.plot and not a.json:
        a.json = a.plot.rsplit(".", 1)[0] + ".json"  # the chart is drawn from it
    a.bytes = int(a.mb * 1000 * 1000)
    if not linux_cc_available(a.linux_cc):
        print(f"loss.sh: Linux has no congestion control '{a.linux_cc}' (available: "
              f"{open(CC_AVAILABLE).read().strip()})", file=sys.stderr)
        return 2
    specs = a.spec or SPECS
    ncpu = os.cpu_count()
    a.dcore, a.lcore = str(ncpu - 1), ",".join(str(i) for i in range(max(ncpu - 1, 1)))
    a.pattern_sha = json.loads(sh([PY, XFER, "pattern-sha", str(a.bytes)]).stdout)["sha256"]
    net = Net(f"rtls{os.getpid() % 100000}")
    work = tempfile.mkdtemp(prefix="rtlossbench.")
    print(f"loss.sh: {a.mb:g} MB per transfer, seeds {a.first_seed}..{a.first_seed + a.seeds - 1}, "
          f"{len(specs)} spec(s); "
          f"riptide's echo on net_tap with --impair on its port (both ways), Linux <-> Linux "
          f"through pktbench impair (AF_XDP on two veths), same spec and seed; DPDK on core "
          f"{a.dcore}, the Linux ends on {a.lcore}; Linux tcp_sack={a.linux_sack}, "
          f"Linux congestion control {a.linux_cc}, riptide's {a.riptide_cc}; each "
          "transfer timed at the Linux end and checked by SHA-256", flush=True)
    rows, met = [], True
    try:
        net.up(a.linux_sack)
        # Every Linux socket of the run: xfer.py sets it per socket, since a
        # namespace's default can only be one of the kernel's allowed ones
        os.environ["XFER_CC"] = a.linux_cc
        for spec in specs:
            for direction in ("send", "recv"):
                rip, lin = [], []
                for seed in range(a.first_seed, a.first_seed + a.seeds):
                    lr = linux_run(net, a, work, spec, seed, direction)
                    rr = riptide_run(net, a, work, spec, seed, direction)
                    lin.append(lr)
                    rip.append(rr)
                    c, lc = rr["counters"], lr["counters"]
                    print(f"  {spec:45} {direction:4} seed {seed}: linux {lr['seconds']:7.3f} s"
                          f" (data {lr['data_seconds']:.3f})"
                          f"{'' if lr['exact'] else ' NOT EXACT'}  riptide {rr['seconds']:7.3f} s"
                          f" (data {rr['data_seconds']:.3f})"
                          f"{'' if rr['exact'] else ' NOT EXACT'}  (riptide retransmits "
                          f"{c.get('retransmits', '?')}, fast {c.get('fast', '?')}, rto "
                          f"{c.get('rto', '?')}, rack {c.get('rack_lost', '?')}, tlp "
                          f"{c.get('tlp', '?')}, undo {c.get('undos', '?')}, buffer grown "
                          f"{c.get('grown', '?')}; Linux sender "
                          f"retransmits {lc['retransmits']}, rto {lc['rto']}, tlp {lc['tlp']}, "
                          f"recoveries {lc['recoveries']}, undo {undos(lc)}"
                          + (f"; Linux sender into riptide retransmits {ls_['retransmits']}, "
                             f"rto {ls_['rto']}, tlp {ls_['tlp']}, recoveries "
                             f"{ls_['recoveries']}, undo {undos(ls_)}"
                             if (ls_ := rr.get("linux_sender")) else "") + ")",
                          flush=True)
                ls = statistics.median(x["seconds"] for x in lin)
                rs = statistics.median(x["seconds"] for x in rip)
                lds = statistics.median(x["data_seconds"] for x in lin)
                rds = statistics.median(x["data_seconds"] for x in rip)
                exact = sum(x["exact"] for x in rip + lin)
                ratio = rs / ls if ls > 0 else float("inf")
                ok = ratio <= 1.25 and exact == len(rip + lin)
                met = met and ok
                rows.append({"spec": spec, "direction": direction, "linux_s": ls,
                             "riptide_s": rs, "ratio": ratio, "exact": exact,
                             "linux_data_s": lds, "riptide_data_s": rds,
                             "data_ratio": rds / lds if lds > 0 else float("inf"),
                             "transfers": len(rip + lin),
                             "rounds": [{"seed": a.first_seed + i, "linux_s": lin[i]["seconds"],
                                         "riptide_s": rip[i]["seconds"],
                                         "linux_data_s": lin[i]["data_seconds"],
                                         "riptide_data_s": rip[i]["data_seconds"],
                                         "linux_exact": lin[i]["exact"],
                                         "riptide_exact": rip[i]["exact"],
                                         # what each Linux sender ran (XFER_CC)
                                         "linux_sender_cc": lin[i].get("sender_cc"),
                                         **({"linux_into_riptide_cc": rip[i].get("sender_cc")}
                                            if direction == "recv" else {}),
                                         **{f"riptide_{k}": v
                                            for k, v in rip[i]["counters"].items()},
                                         **{f"linux_{k}": v
                                            for k, v in lin[i]["counters"].items()},
                                         **{f"linux_into_riptide_{k}": v
                                            for k, v in rip[i].get("linux_sender", {}).items()}}
                                        for i in range(len(rip))]})
        print(f"\n{'spec':45} {'dir':13} {'linux s':>8} {'riptide s':>10} {'ratio':>7}  exact")
        for r in rows:
            d = "riptide->linux" if r["direction"] == "send" else "linux->riptide"
            spread = [x["riptide_s"] for x in r["rounds"]]
            print(f"{r['spec']:45} {d:14} {r['linux_s']:8.3f} {r['riptide_s']:10.3f} "
                  f"{r['ratio']:7.2f}  {r['exact']}/{r['transfers']}  (riptide "
                  f"{min(spread):.3f}..{max(spread):.3f} s)")
        print(f"(medians of {a.seeds} seed(s); ratio = riptide / Linux; goal: ratio <= 1.25 for "
              "every spec and direction, every transfer byte-exact)")
        # The same transfers without their handshakes: a lost SYN, SYN-ACK or
        # final ACK costs a 1 s initial RTO on either stack alike (RFC 6298),
        # and which packet a seed loses first is chance (the two paths draw
        # for different packets), so a seed can add seconds to a 0.1 s row.
        print(f"\n{'without the handshake':45} {'dir':13} {'linux s':>8} {'riptide s':>10} "
              f"{'ratio':>7}")
        for r in rows:
            d = "riptide->linux" if r["direction"] == "send" else "linux->riptide"
            print(f"{r['spec']:45} {d:14} {r['linux_data_s']:8.3f} {r['riptide_data_s']:10.3f} "
                  f"{r['data_ratio']:7.2f}")
        print("(from the first byte read, or from connect() when writing, to the end; "
              "for the record: the goal is judged on the whole transfer above)")
        print("loss.sh: all goals met" if met else "loss.sh: goals NOT met")
        if a.json:
            benchjson.write(a.json, "loss", a.command,
                            {"mb": a.mb, "seeds": a.seeds, "first_seed": a.first_seed,
                             "timeout_s": a.timeout,
                             "linux_sack": a.linux_sack,
                             "linux_cc": a.linux_cc, "riptide_cc": a.riptide_cc,
                             "riptide_port": "net_tap, --impair both ways",
                             "linux_path": "pktbench impair between two AF_XDP veths"},
                            rows,
                            [{"goal": f"{r['spec']} {r['direction']}: ratio <= 1.25, "
                                      "byte-exact", "value": r["ratio"],
                              "met": r["ratio"] <= 1.25 and r["exact"] == r["transfers"]}
                             for r in rows])
            print(f"loss.sh: figures written to {a.json}")
            if a.plot:
                plot.plot(a.json, a.plot)
                print(f"loss: chart drawn in {a.plot}")
    finally:
        net.down()
        if os.environ.get("RIPTIDE_KEEP"):
            print(f"loss.sh: logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
