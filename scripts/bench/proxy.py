# SPDX-License-Identifier: BSD-3-Clause
"""The runner behind scripts/bench/proxy.sh."""
import argparse
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
TOPO = os.path.join(ROOT, "scripts", "lib", "l4topo.sh")
QUOTA = os.path.join(ROOT, "scripts", "lib", "cpuquota.sh")
VIP = "198.18.100.10"
BACKENDS = ["198.18.100.11", "198.18.100.12", "198.18.100.13"]


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)


def mem_args():
    r = sh([os.path.join(ROOT, "scripts", "hugepages.sh"), "available", "512"])
    return ["-m", "512"] if r.returncode == 0 else ["--no-huge", "-m", "512"]


def cpu_seconds(pid):
    """user + system time of a process and its children so far, from /proc."""
    total = 0
    for p in [pid] + [int(x) for x in sh(["pgrep", "-P", str(pid)]).stdout.split()]:
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except (FileNotFoundError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def wrk(name, close, seconds, core, conns=50):
    """wrk, one thread on the peers' core, `conns` connections (each waits
    for its response before the next request: the offered load)."""
    argv = ["ip", "netns", "exec", f"{name}-c", "taskset", "-c", core, "wrk", "-t1", f"-c{conns}",
            f"-d{seconds}s", "--latency"]
    if close:
        argv += ["-H", "Connection: close"]
    out = sh(argv + [f"http://{VIP}/"], timeout=seconds + 60).stdout

    def lat(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]

    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    errs = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "reqs": reqs,
            "p50": lat(50), "p99": lat(99),
            "errors": (errs.group(1) if errs else "none") +
                      (f", non-2xx {non2xx.group(1)}" if non2xx else "")}


class Contender:
    def __init__(self, kind, name, work, build, core, tx_hold, quota, ccore="0", idle_spin=0,
                 wire="sleep", rx_coalesce=0):
        self.kind, self.name, self.work, self.core, self.ccore = kind, name, work, core, ccore
        self.build, self.tx_hold, self.quota, self.idle_spin = build, tx_hold, quota, idle_spin
        self.wire_idle = wire
        self.rx_coalesce = rx_coalesce
        self.p = None

    def pids(self):
        return [self.p.pid] + [int(x) for x in sh(["pgrep", "-P", str(self.p.pid)]).stdout.split()]

    def confine(self):
        """Put the contender (every process, all threads) under the CPU quota."""
        if self.quota:
            sh([QUOTA, "add", self.name, *map(str, self.pids())], check=True)

    def start(self):
        hub = f"{self.name}-hub"
        self.wire = None
        # Each contender answers for the VIP afresh: no peer keeps the MAC it
        # learnt from the one before.
        for ns in [f"{self.name}-c"] + [f"{self.name}-b{i}" for i in range(1, len(BACKENDS) + 1)]:
            sh(["ip", "-n", ns, "neigh", "flush", "to", VIP])
        if self.kind in ("riptide", "riptide-nic", "riptide-tap"):
            # busy_budget=0: the PMD does not make a busy-poll recvfrom() on
            # every rx burst, which would run the kernel's half of receive
            # (the veth's NAPI, XDP, the copy into the XSK ring) on the
            # proxy's core; it is left to the sender's softirq, as the
            # kernel's receive for HAProxy's and nginx's sockets is.
            self.prefix = f"rtpb{os.getpid()}"
            vdev, extra = "net_af_xdp0,iface=px0,busy_budget=0", []
            if self.kind == "riptide-nic":
                # The NIC-like path: riptide on a virtio-user port whose
                # vhost-user backend is a separate wire process (pktbench io
                # between net_vhost and AF_XDP on the veth) pinned with the
                # peers, in the role of a NIC: the copies through the kernel
                # are the wire's, not the proxy's, as DMA would be a NIC's.
                # It sleeps on its ports' rx events when idle (as a driver
                # waits for a NIC's interrupt; --wire poll: it busy-polls),
                # so that it takes no more of the peers' core than it works.
                sock = os.path.join(self.work, "vhost.sock")
                wlog = open(os.path.join(self.work, "wire.log"), "w+")
                wcore = self.ccore.split(",")[0]
                self.wire = subprocess.Popen(
                    ["ip", "netns", "exec", hub,
                     os.path.join(ROOT, self.build, "apps", "pktbench", "pktbench"),
                     "-l", wcore, "--no-pci", *mem_args(), "--single-file-segments",
                     f"--file-prefix={self.prefix}w", f"--vdev=net_vhost0,iface={sock},queues=1",
                     "--vdev=net_af_xdp0,iface=px0,busy_budget=0", "--log-level=lib.eal:error",
                     "--", "--mode", "io", "--stats-interval", "0",
                     *(["--sleep-when-idle"] if self.wire_idle == "sleep" else [])],
                    stdout=wlog, stderr=subprocess.STDOUT)
                for _ in range(200):
                    wlog.seek(0)
                    if "pktbench: mode io" in wlog.read():
                        break
                    time.sleep(0.1)
                self.wlog = wlog
                # The veth's own MAC, as on the AF_XDP path: the VIP keeps one
                # address whichever riptide answers for it.
                mac = re.search(r"link/ether (\S+)",
                                sh(["ip", "-n", hub, "link", "show", "px0"]).stdout).group(1)
                vdev = f"net_virtio_user0,path={sock},queues=1,mac={mac}"
                extra = ["--single-file-segments"]
            if self.kind == "riptide-tap":
                # A TAP has a queue per lcore (AF_XDP on a veth has one): the
                # port for more than one lane here. Its kernel side goes on
                # the hub's bridge once the proxy is up.
                vdev = f"net_tap0,iface={self.name}tp"
            argv = [os.path.join(ROOT, self.build, "apps", "l4proxy", "l4proxy"), "-l", self.core,
                    "--no-pci", *mem_args(), *extra, f"--file-prefix={self.prefix}",
                    f"--vdev={vdev}", "--log-level=lib.eal:error", "--",
                    "--ip", f"{VIP}/24", "--listen", "80",
                    # Under a quota a busy poll would spend the budget on
                    # spinning: the default idle policy backs off instead.
                    *([] if self.quota else ["--busy-poll"]),
                    "--health-interval", "0", "--idle-timeout", "0",
                    "--tx-hold", str(self.tx_hold), "--idle-spin", str(self.idle_spin),
                    # Interrupt moderation: the caller's choice per path
                    # (main(): --rx-coalesce, --nic-rx-coalesce).
                    "--rx-coalesce", str(self.rx_coalesce),
                    *[a for b in BACKENDS for a in ("--backend", f"{b}:80")]]
            self.log = open(os.path.join(self.work, "l4proxy.log"), "w+")
            self.p = subprocess.Popen(["ip", "netns", "exec", hub, *argv], stdout=self.log,
                                      stderr=subprocess.STDOUT)
            for _ in range(200):
                self.log.seek(0)
                if "ready" in self.log.read():
                    break
                time.sleep(0.1)
            if self.kind == "riptide-tap":
                sh([TOPO, "tap", self.name, f"{self.name}tp"], check=True)
            self.confine()
            time.sleep(1)
            return
        sh(f"ip -n {hub} addr add {VIP}/24 dev px0", check=True)
        if self.kind == "haproxy":
            conf = os.path.join(self.work, "haproxy.cfg")
            with open(conf, "w") as f:
                f.write("global\n  nbthread 1\n  maxconn 8000\n"
                        "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n"
                        "  timeout server 60s\n"
                        f"frontend fe\n  bind {VIP}:80\n  default_backend be\n"
                        "backend be\n  balance roundrobin\n" +
                        "".join(f"  server b{i} {b}:80\n" for i, b in enumerate(BACKENDS)))
            argv = ["haproxy", "-db", "-f", conf]
        else:
            conf = os.path.join(self.work, "nginx-stream.conf")
            with open(conf, "w") as f:
                f.write("load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n"
                        f"worker_processes 1;\npid {self.work}/ns.pid;\ndaemon off;\n"
                        f"error_log {self.work}/ns.err;\n"
                        "events { worker_connections 8000; }\n"
                        "stream { upstream be { " +
                        "".join(f"server {b}:80; " for b in BACKENDS) +
                        f"}} server {{ listen {VIP}:80; proxy_pass be; }} }}\n")
            argv = ["nginx", "-c", conf]
        self.p = subprocess.Popen(["ip", "netns", "exec", hub, "taskset", "-c", self.core,
                                   *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        self.confine()

    def cpu(self):
        """user + system CPU seconds of the whole contender, from the OS: the
        same instrument for every proxy."""
        return cpu_seconds(self.p.pid)

    def wire_cpu(self):
        """The NIC-like path's wire process's CPU seconds (the NIC's part:
        not the proxy's, but taken from the peers' core); None without one."""
        return cpu_seconds(self.wire.pid) if self.wire is not None else None

    def stop(self):
        hub = f"{self.name}-hub"
        if self.kind in ("riptide", "riptide-nic", "riptide-tap"):
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(timeout=60)
            self.log.seek(0)
            out = self.log.read()
            sh(["rm", "-rf", f"/var/run/dpdk/{self.prefix}"])
            # EAL leaves its hugepage files behind; they hold the pages
            # until removed (scale.sh's TAP proxy runs on hugepages too).
            sh(f"rm -f /dev/hugepages/{self.prefix}map_*")
            if self.wire is not None:
                self.wire.send_signal(signal.SIGINT)
                self.wire.wait(timeout=30)
                # What the wire could not hand on (a full vring or veth
                # queue) is lost to the proxy's peers: say how much.
                # None: the wire printed no port's figures (it did not exit
                # cleanly).
                self.wlog.seek(0)
                drops = re.findall(r"tx-dropped (\d+)", self.wlog.read())
                self.wire_dropped = sum(map(int, drops)) if len(drops) == 2 else None
                sh(["rm", "-rf", f"/var/run/dpdk/{self.prefix}w"])
                sh(f"rm -f /dev/hugepages/{self.prefix}wmap_*")
            m = re.search(r"executor busy ([\d.]+) s", out)
            return float(m.group(1)) if m else float("nan")
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        sh(f"ip -n {hub} addr del {VIP}/24 dev px0")
        return None


# Where a sample's CPU went, by the object it was in (perf report --sort dso).
PERF_CLASSES = [
    ("riptide (l4proxy: executor, dataplane, tcpstack, app)", lambda d: d == "l4proxy"),
    ("the PMD (net_af_xdp, libxdp, libbpf)",
     lambda d: "af_xdp" in d or d.startswith("libxdp") or d.startswith("libbpf")),
    ("other DPDK libraries", lambda d: d.startswith("librte_")),
    ("the kernel (syscalls, AF_XDP copy, softirq)", lambda d: d in ("[kernel.kallsyms]",
                                                                   "[kernel.vmlinux]")),
    ("libc and the rest", lambda d: True),
]


def perf_start(pid, seconds, out):
    """Sample one process (all threads) with the cpu-clock for seconds."""
    return subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(pid), "-o", out,
                             "--", "sleep", str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def perf_breakdown(data, txt):
    """Shares of the samples by class of object, and the report kept in txt."""
    rep = sh(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso",
              "-g", "none"]).stdout
    syms = sh(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort",
               "dso,symbol", "-g", "none"]).stdout
    with open(txt, "w") as f:
        f.write(rep + "\n" + syms)
    shares = {name: 0.0 for name, _ in PERF_CLASSES}
    for line in rep.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)", line)
        if not m:
            continue
        for name, match in PERF_CLASSES:
            if match(m.group(2)):
                shares[name] += float(m.group(1))
                break
    top = [l.strip() for l in syms.splitlines() if re.match(r"\s*[\d.]+%", l)][:12]
    return shares, top


def switch_thread(name, ccore):
    """Give the bridge port facing the proxy (px1) its own NAPI thread on the
    peers' cores. Without it, a packet the proxy sends is carried through the
    bridge and into the Linux peer's TCP inside the proxy's send syscall (the
    veth hands it on in the sender's softirq), so the peers' receive work is
    billed to whichever proxy is measured. With it, the proxy's part ends
    where a NIC's would: the packet is queued to px1 and a thread is woken.
    A veth takes that NAPI path only for packets that are not TSO-sized, so
    TSO is off on px0 (the requests and responses here are one segment)."""
    hub = f"{name}-hub"
    sh(["ip", "netns", "exec", hub, "ethtool", "-K", "px1", "gro", "on"], check=True)
    sh(["ip", "netns", "exec", hub, "ethtool", "-K", "px0", "tso", "off",
        "tx-tcp-ecn-segmentation", "off", "tx-tcp-mangleid-segmentation", "off",
        "tx-tcp6-segmentation", "off"], check=True)
    sh(["ip", "netns", "exec", hub, "sh", "-c", "echo 1 > /sys/class/net/px1/threaded"],
       check=True)
    pids = []
    for _ in range(50):
        pids = [ln.split()[0] for ln in sh(["ps", "-eo", "pid,comm"]).stdout.splitlines()
                if ln.split()[-1].startswith("napi/px1-")]
        if pids:
            break
        time.sleep(0.1)
    if not pids:
        sys.exit("proxy.sh: px1 has no NAPI thread (needs a kernel with threaded NAPI)")
    for pid in pids:
        sh(["taskset", "-pc", ccore, pid], check=True)


def peer_threads(name, ccore, backends=3):
    """Give each peer's veth end (eth0 in the client's and the backends'
    namespaces) its own NAPI thread on the peers' cores, as switch_thread
    does for px1. For a proxy on a TAP in the hub's bridge: its write(2) to
    the tun carries each packet through the bridge and, without this, into
    the peer's TCP in the same softirq, billed to the proxy (perf: 85 % of
    an l4proxy's CPU in the kernel, mostly the peers' receive). With it the
    proxy's part ends at the peer's veth, where a NIC's would. The hub's
    ends stop offering TSO, which would keep the veth off its NAPI path."""
    hub = f"{name}-hub"
    ends = [("c", f"{name}-c")] + [(f"b{i}", f"{name}-b{i}") for i in range(1, backends + 1)]
    for vid, ns in ends:
        sh(["ip", "netns", "exec", hub, "ethtool", "-K", f"v{vid}", "tso", "off",
            "tx-tcp-ecn-segmentation", "off", "tx-tcp-mangleid-segmentation", "off",
            "tx-tcp6-segmentation", "off"], check=True)
        sh(["ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "gro", "on"], check=True)
        sh(["ip", "netns", "exec", ns, "sh", "-c", "echo 1 > /sys/class/net/eth0/threaded"],
           check=True)
    want = len(ends)
    pids = []
    for _ in range(50):
        pids = [ln.split()[0] for ln in sh(["ps", "-eo", "pid,comm"]).stdout.splitlines()
                if ln.split()[-1].startswith("napi/eth0-")]
        if len(pids) >= want:
            break
        time.sleep(0.1)
    if len(pids) < want:
        sys.exit(f"proxy.sh: {len(pids)} of the peers' {want} veths have a NAPI thread")
    for pid in pids:
        sh(["taskset", "-pc", ccore, pid], check=True)


def idle_round(c, name, seconds, ccore):
    """An idle proxy's CPU (% of a core, from /proc, over `seconds`) and the
    time to a response for requests that each follow 0.5 s of quiet."""
    time.sleep(2)  # past start-up and the first health checks
    cpu0, t0 = c.cpu(), time.monotonic()
    time.sleep(seconds)
    pct = (c.cpu() - cpu0) / (time.monotonic() - t0) * 100
    took = []
    for _ in range(7):
        time.sleep(0.5)
        out = sh(["ip", "netns", "exec", f"{name}-c", "taskset", "-c", ccore, "curl", "-s",
                  "-o", "/dev/null", "-w", "%{time_total}", f"http://{VIP}/"], timeout=30).stdout
        took.append(float(out) * 1000 if out else float("nan"))
    return {"idle_cpu_pct": pct, "first_ms": statistics.median(took)}


# Every Linux end (HAProxy, nginx, wrk) runs CUBIC, riptide's own default,
# named rather than left to the machine's default (bbr on some kernels, whose
# pacing timers cost the proxies CPU that riptide's sender does not spend).
# A namespace can only take one of the kernel's allowed algorithms, so cubic
# joins that list for the run and the list is put back after.
LINUX_CC = "cubic"
CC_ALLOWED = "/proc/sys/net/ipv4/tcp_allowed_congestion_control"
_cc_prior = []


def linux_cc(namespaces):
    with open(CC_ALLOWED) as f:
        allowed = f.read().split()
    if LINUX_CC not in allowed:
        _cc_prior.append(" ".join(allowed))
        with open(CC_ALLOWED, "w") as f:
            f.write(" ".join(allowed + [LINUX_CC]))
    for ns in namespaces:
        sh(["ip", "netns", "exec", ns, "sysctl", "-qw",
            f"net.ipv4.tcp_congestion_control={LINUX_CC}"], check=True)


def linux_cc_of(ns):
    """The congestion control namespace ns gives its new sockets."""
    return sh(["ip", "netns", "exec", ns, "sysctl", "-n",
               "net.ipv4.tcp_congestion_control"]).stdout.strip()


def linux_cc_restore():
    while _cc_prior:
        with open(CC_ALLOWED, "w") as f:
            f.write(_cc_prior.pop())


def topo_up(name, work, ccore, switch="thread"):
    """l4topo.sh's client, hub and three backends (nginx, one worker each,
    pinned to the peers' cores), the bridge's switch thread, wide port
    ranges for the client and the hub, every Linux end on LINUX_CC."""
    sh([TOPO, "up", name, "3"], check=True)
    linux_cc([f"{name}-c", f"{name}-hub", *(f"{name}-b{i}" for i in range(1, 4))])
    if switch == "thread":
        switch_thread(name, ccore)
    for ns in (f"{name}-c", f"{name}-hub"):
        sh(f"ip netns exec {ns} sysctl -qw net.ipv4.ip_local_port_range='1024 65535' "
           "net.ipv4.tcp_tw_reuse=1")
    for i, b in enumerate(BACKENDS, 1):
        d = os.path.join(work, f"b{i}")
        os.makedirs(d)
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(f"worker_processes 1;\npid {d}/pid;\nerror_log {d}/err;\n"
                    "events { worker_connections 10000; }\n"
                    "http { access_log off; server { listen " + b + ":80 reuseport; "
                    "location / { return 200 \"hello\\n\"; } } }\n")
        sh(["ip", "netns", "exec", f"{name}-b{i}", "taskset", "-c", ccore, "nginx", "-c",
            os.path.join(d, "nginx.conf")], check=True)


def topo_down(name, work):
    for i in range(1, 4):
        pid = os.path.join(work, f"b{i}", "pid")
        if os.path.exists(pid):
            sh(f"kill $(cat {pid})")
    sh([TOPO, "down", name])
    sh([QUOTA, "remove", name])
    linux_cc_restore()
    shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-rel")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--switch", choices=("thread", "inline"), default="thread")
    ap.add_argument("--tx-hold", type=int, default=0)
    ap.add_argument("--idle-spin", type=int, default=0)
    ap.add_argument("--rx-coalesce", type=int, default=100)
    ap.add_argument("--nic-rx-coalesce", type=int, default=100)
    ap.add_argument("--quota", type=int, default=30,
                    help="CPU budget of every proxy, %% of one core (0: none)")
    ap.add_argument("--nic", choices=("yes", "no"), default="yes",
                    help="also run riptide on the NIC-like path (virtio-user + a wire process)")
    ap.add_argument("--wire", choices=("sleep", "poll"), default="sleep",
                    help="the NIC-like path's wire process sleeps on rx events when idle, "
                         "or busy-polls")
    ap.add_argument("--perf", metavar="DIR",
                    help="sample riptide with perf in round 1; reports and a breakdown in DIR")
    ap.add_argument("--idle", type=int, default=5, metavar="S",
                    help="each round, each proxy's CPU while idle for S seconds (0: skip)")
    ap.add_argument("--json", help="also write the figures to this file as JSON")
    ap.add_argument("--plot", metavar="PNG", help="also draw them as a PNG chart (plot.py)")
    ap.add_argument("--command", default="scripts/bench/proxy.py", help="for the record")
    a = ap.parse_args()
    if a.plot and not a.json:
        a.json = a.plot.rsplit(".", 1)[0] + ".json"  # the chart is drawn from it
    ncpu = os.cpu_count()
    pcore, ccore = str(ncpu - 1), ",".join(str(i) for i in range(max(ncpu - 1, 1)))
    name = f"rtpb{os.getpid() % 100000}"
    work = tempfile.mkdtemp(prefix="rtproxybench.")
    try:
        topo_up(name, work, ccore, a.switch)
        quota = f"{a.quota} % of a core each" if a.quota else "none"
        print(f"proxy.sh: {a.rounds} round(s), wrk -t1 -c50 -d{a.seconds}s; proxy on core "
              f"{pcore}, client and backends on {ccore}; switch {a.switch}; CPU quota: "
              f"{quota}; riptide {'' if a.quota else '--busy-poll '}--tx-hold {a.tx_hold} "
              f"--idle-spin {a.idle_spin} --rx-coalesce {a.rx_coalesce} (riptide-nic {a.nic_rx_coalesce}), "
              f"af_xdp busy_budget=0; wire {a.wire}s when idle; Linux ends on {LINUX_CC}; "
              "CPU per request from /proc "
              "for every proxy")
        if a.quota:
            sh([QUOTA, "make", name, str(a.quota)], check=True)
        kinds = ["riptide"] + (["riptide-nic"] if a.nic == "yes" else []) + ["haproxy", "nginx"]
        results = {}
        perf_out = []
        idle = {}
        # l4proxy's interrupt moderation per path: both default to
        # l4proxy's own (100 us, adaptive); 0 measures either without it.
        rxco = {k: a.nic_rx_coalesce if k == "riptide-nic" else a.rx_coalesce for k in kinds}
        for r in range(a.rounds):
            for kind in kinds:
                if a.idle:
                    c = Contender(kind, name, work, a.build, pcore, a.tx_hold, a.quota, ccore,
                                  a.idle_spin, a.wire, rxco[kind])
                    c.start()
                    row = idle_round(c, name, a.idle, ccore)
                    c.stop()
                    idle.setdefault(kind, []).append(row)
                    print(f"round {r + 1} {kind:8} idle      cpu {row['idle_cpu_pct']:6.2f} % of a "
                          f"core over {a.idle} s; a request after 0.5 s of quiet: "
                          f"{row['first_ms']:.2f} ms (median of 7)", flush=True)
                    time.sleep(1)
                for close in (False, True):
                    c = Contender(kind, name, work, a.build, pcore, a.tx_hold, a.quota, ccore,
                                  a.idle_spin, a.wire, rxco[kind])
                    c.start()
                    cpu0, wire0 = c.cpu(), c.wire_cpu()
                    thr0 = int(sh([QUOTA, "throttled", name]).stdout or 0) if a.quota else 0
                    mode = "close" if close else "keepalive"
                    pf = None
                    if a.perf and kind.startswith("riptide") and r == 0:
                        os.makedirs(a.perf, exist_ok=True)
                        pdata = os.path.join(a.perf, f"{kind}-{mode}.data")
                        pf = perf_start(c.p.pid, max(a.seconds - 2, 1), pdata)
                    w = wrk(name, close, a.seconds, ccore)
                    if pf is not None:
                        pf.wait()
                        shares, top = perf_breakdown(pdata, pdata[:-5] + ".txt")
                        perf_out.append({"proxy": kind, "mode": mode, "shares": shares,
                                         "top": top})
                    cpu1, wire1 = c.cpu(), c.wire_cpu()
                    thr1 = int(sh([QUOTA, "throttled", name]).stdout or 0) if a.quota else 0
                    busy = c.stop()
                    w["cpu_us"] = (cpu1 - cpu0) / max(w["reqs"], 1) * 1e6
                    w["cpu_pct"] = (cpu1 - cpu0) / a.seconds * 100
                    w["throttled"] = thr1 - thr0
                    # riptide's own busy-cycle count: a diagnostic, not the measure
                    w["busy_us"] = busy / max(w["reqs"], 1) * 1e6 if busy is not None else None
                    results.setdefault((kind, mode), []).append(w)
                    diag = f"  (own busy cycles {w['busy_us']:.2f} us)" if busy is not None else ""
                    if wire0 is not None:
                        w["wire_cpu_pct"] = (wire1 - wire0) / a.seconds * 100
                        w["wire_dropped"] = c.wire_dropped
                        diag += (f"  (wire {w['wire_cpu_pct']:.1f} % of a peers' core, "
                                 f"dropped {w['wire_dropped']})")
                    print(f"round {r + 1} {kind:8} {mode:9} {w['rps']:10.0f} req/s  p50 "
                          f"{w['p50']:7.3f} ms  p99 {w['p99']:7.3f} ms  cpu/req "
                          f"{w['cpu_us']:7.2f} us  cpu {w['cpu_pct']:5.1f} %  throttled "
                          f"{w['throttled']}  socket errors: {w['errors']}{diag}", flush=True)
                    time.sleep(1)
        print(f"\n{'':22} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'cpu us/req':>11} "
              f"{'cpu %':>6}")
        med = {}
        for k, rows in sorted(results.items()):
            med[k] = {f: statistics.median(x[f] for x in rows) for f in ("rps", "p50", "p99",
                                                                          "cpu_us", "cpu_pct")}
            spread = (min(x["rps"] for x in rows), max(x["rps"] for x in rows))
            med[k]["rps_min"], med[k]["rps_max"] = spread
            wire = ""
            if "wire_cpu_pct" in rows[0]:  # the NIC-like path's wire: a diagnostic
                med[k]["wire_cpu_pct"] = statistics.median(x["wire_cpu_pct"] for x in rows)
                dropped = [x["wire_dropped"] for x in rows]
                med[k]["wire_dropped"] = None if None in dropped else sum(dropped)
                wire = (f"  wire {med[k]['wire_cpu_pct']:.1f} % of a core, dropped "
                        f"{med[k]['wire_dropped']} in all rounds")
            if k[0] in idle:  # the same proxy idle, before its load runs
                med[k]["idle_cpu_pct"] = statistics.median(x["idle_cpu_pct"] for x in idle[k[0]])
                med[k]["idle_first_ms"] = statistics.median(x["first_ms"] for x in idle[k[0]])
            print(f"{k[0] + ' ' + k[1]:22} {med[k]['rps']:10.0f} {med[k]['p50']:8.3f} "
                  f"{med[k]['p99']:8.3f} {med[k]['cpu_us']:11.2f} {med[k]['cpu_pct']:6.1f}  "
                  f"(req/s {spread[0]:.0f}..{spread[1]:.0f}){wire}")
        print("(cpu: user + system time of each proxy's processes, all threads, from /proc; "
              "req/s at " + (f"a {a.quota} % quota is each proxy's capacity at that budget)"
                             if a.quota else "no quota)"))
        print()
        met = True
        goals = []
        for mine, mode in [(k, m) for k in kinds if k.startswith("riptide")
                           for m in ("keepalive", "close")]:
            rip = med[(mine, mode)]
            for other in ("haproxy", "nginx"):
                o = med[(other, mode)]
                line = (f"{mine}/{other} {mode:9}: req/s {rip['rps'] / o['rps']:.3f}, p99 "
                        f"{rip['p99'] / o['p99']:.3f}, cpu/req {rip['cpu_us'] / o['cpu_us']:.3f}")
                if other == "haproxy":
                    # At an equal budget (issue 12): capacity >= 3x HAProxy's
                    # on the NIC-like path, >= 1.5x on AF_XDP copy mode, p99
                    # no worse; and the l4proxy goal, CPU per request <= 1/3
                    # of HAProxy's, from the OS.
                    want = (3.0 if mine == "riptide-nic" else 1.5) if a.quota else 1.0
                    short = []  # what falls short, each with its figure
                    if rip["rps"] < want * o["rps"]:
                        short.append(f"req/s {rip['rps'] / o['rps']:.2f} < {want:g}")
                    if rip["p99"] > o["p99"]:
                        short.append(f"p99 {rip['p99'] / o['p99']:.2f} > 1")
                    if rip["cpu_us"] > o["cpu_us"] / 3:
                        short.append(f"cpu/req {rip['cpu_us'] / o['cpu_us']:.2f} > 0.33")
                    ok = not short
                    met = met and ok
                    verdict = "met" if ok else "NOT met: " + ", ".join(short)
                    # A proxy that did not spend its budget was bound by its
                    # peers (or the wire): its req/s is not its capacity.
                    if (len(short) == 1 and short[0].startswith("req/s") and a.quota and
                            rip["cpu_pct"] < 0.9 * a.quota):
                        verdict = (f"req/s not measured ({mine} spent {rip['cpu_pct']:.1f} % of "
                                   f"its {a.quota} %: the peers bound it), p99 and cpu met")
                    line += f"  goal (req/s >= {want:g}, p99 <= 1, cpu <= 0.33): {verdict}"
                    goals.append({"goal": f"{mine}/haproxy {mode}: req/s >= {want:g}, p99 <= 1, "
                                          "cpu/req <= 0.33",
                                  "value": {"rps": rip["rps"] / o["rps"],
                                            "p99": rip["p99"] / o["p99"],
                                            "cpu_us": rip["cpu_us"] / o["cpu_us"]},
                                  "met": ok})
                print(line)
        if idle:
            print(f"\nidle ({a.idle} s, CPU from /proc; median of {a.rounds} rounds, spread):")
            for kind, rows in idle.items():
                v = sorted(x["idle_cpu_pct"] for x in rows)
                f = statistics.median(x["first_ms"] for x in rows)
                print(f"  {kind:12} {statistics.median(v):6.2f} % of a core ({v[0]:.2f}..{v[-1]:.2f})"
                      f"   request after quiet {f:6.2f} ms")
            for kind in [k for k in kinds if k.startswith("riptide")]:
                pct = statistics.median(x["idle_cpu_pct"] for x in idle[kind])
                ok = pct < 1.0
                met = met and ok
                print(f"{kind} idle: {pct:.2f} % of a core (haproxy "
                      f"{statistics.median(x['idle_cpu_pct'] for x in idle['haproxy']):.2f} %)"
                      f"  goal (< 1 %): {'met' if ok else 'NOT met'}")
                goals.append({"goal": f"{kind} idle CPU < 1 % of a core", "value": pct,
                              "met": ok})
        for pr in perf_out:
            print(f"\nwhere {pr['proxy']}'s CPU went ({pr['mode']}, perf cpu-clock samples of the "
                  f"whole process, round 1; reports in {a.perf}):")
            for k, v in pr["shares"].items():
                print(f"  {v:6.2f} %  {k}")
            print("  top symbols:")
            for t in pr["top"]:
                print(f"    {t}")
        print("proxy.sh: all goals met" if met else "proxy.sh: some goals not met")
        if a.json:
            benchjson.write(a.json, "proxy", a.command,
                            {"seconds": a.seconds, "rounds": a.rounds, "switch": a.switch,
                             "tx_hold_us": a.tx_hold, "idle_spin_us": a.idle_spin,
                             "rx_coalesce_us": a.rx_coalesce,
                             "nic_rx_coalesce_us": a.nic_rx_coalesce,
                             "wire_idle": a.wire,
                             "proxy_core": pcore,
                             "quota_pct": a.quota, "idle_seconds": a.idle,
                             "cpu_us_source": "/proc user+system, every proxy",
                             "linux_cc": {ns: linux_cc_of(f"{name}-{ns}")
                                          for ns in ("hub", "c", "b1")}},
                            [{"proxy": k[0], "mode": k[1], **med[k],
                              "rounds": [{f: x[f] for f in ("rps", "p50", "p99", "cpu_us",
                                                             "cpu_pct", "throttled", "busy_us",
                                                             "errors", "wire_dropped")
                                          if f in x} for x in results[k]]}
                             for k in sorted(med)] + [{"perf": pr} for pr in perf_out], goals)
            print(f"proxy.sh: figures written to {a.json}")
            if a.plot:
                plot.plot(a.json, a.plot)
                print(f"proxy: chart drawn in {a.plot}")
    finally:
        topo_down(name, work)


if __name__ == "__main__":
    sys.exit(main())
