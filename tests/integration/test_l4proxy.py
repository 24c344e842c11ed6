# SPDX-License-Identifier: BSD-3-Clause
"""l4proxy between real Linux peers (scripts/lib/l4topo.sh: a client, three
backends and the proxy's AF_XDP port on one segment): round robin exact,
weights, least connections, Maglev stickiness and minimal disruption, a
backend refusing connections retried elsewhere, health checks down and up,
PROXY v2 parsed by a backend, 100 MB each way byte-exact, 1,000 concurrent
connections, half-close and resets passed through, idle timeout, graceful
drain, telemetry, and configuration errors that name their place."""
import glob
import itertools
import json
import os
import re
import signal
import struct
import subprocess
import time
import types

import pytest

from conftest import (BUILD, ROOT, DpdkProcess, assert_clean_exit, eal_memory_args, run,
                      unique, wait_until)

PROXY = os.path.join(BUILD, "apps", "l4proxy", "l4proxy")
TOPO = os.path.join(ROOT, "scripts", "lib", "l4topo.sh")
PY = "/usr/bin/python3"
VIP = "198.18.100.10"
BACKENDS = [f"198.18.100.{10 + i}" for i in (1, 2, 3)]

# mode id: send our name and close; echo: echo to EOF, then FIN; hold: send our
# name, then keep the connection until the client closes; rst: echo one
# read, then reset; report: echo, and print how the connection ended.
BACKEND = r"""
import socket, socketserver, struct, sys, time
addr, port, mode, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
class H(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        if mode == "id":
            s.sendall(name.encode() + b"\n")
            return
        if mode == "rst":
            s.sendall(s.recv(4096))
            s.recv(4096)  # the client says it has the echo: now the RST
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            return
        if mode == "report":
            try:
                while True:
                    b = s.recv(1 << 16)
                    if not b:
                        print("backend saw eof", flush=True)
                        return
                    s.sendall(b)
            except ConnectionResetError:
                print("backend saw reset", flush=True)
            return
        if mode == "pp":  # read a PROXY header, say what it said, then echo
            f = s.makefile("rb")
            first = f.read(6)
            if first == b"PROXY ":
                w = (first + f.readline()).decode().split()
                said = f"v=1 src={w[2]}:{w[4]} dst={w[3]}:{w[5]} id=-"
            else:
                head = first + f.read(10)
                body = f.read(struct.unpack("!H", head[14:16])[0])
                src = ".".join(map(str, body[0:4])) + ":" + str(struct.unpack("!H", body[8:10])[0])
                dst = ".".join(map(str, body[4:8])) + ":" + str(struct.unpack("!H", body[10:12])[0])
                uid, off = "-", 12
                while off + 3 <= len(body):
                    t, n = body[off], struct.unpack("!H", body[off + 1:off + 3])[0]
                    if t == 5:
                        uid = body[off + 3:off + 3 + n].decode()
                    off += 3 + n
                said = f"v=2 src={src} dst={dst} id={uid}"
            s.sendall(said.encode() + b"\n")
            while True:
                b = f.read1(65536)
                if not b:
                    break
                s.sendall(b)
            s.shutdown(socket.SHUT_WR)
            return
        if mode == "http":  # /health answers the status in FILE (default 200)
            f = s.makefile("rb")
            req = f.readline().decode()
            while f.readline() not in (b"\r\n", b"\n", b""):
                pass
            print("request", req.strip(), flush=True)
            status = 200
            if req.split()[1] == "/health":
                try:
                    status = int(open(sys.argv[5]).read())
                except (OSError, ValueError):
                    pass
            body = (name + "\n").encode()
            s.sendall(f"HTTP/1.0 {status} X\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                      + body)
            return
        if mode == "hold":
            s.sendall(name.encode() + b"\n")
            while s.recv(4096):
                pass
            return
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            s.sendall(b)
        s.shutdown(socket.SHUT_WR)
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024
srv = S((addr, port), H)
print("listening", flush=True)
srv.serve_forever()
"""

# n sequential connections; prints how many times each backend answered.
COUNT = r"""
import collections, socket, sys
addr, n = sys.argv[1], int(sys.argv[2])
c = collections.Counter()
for i in range(n):
    s = socket.create_connection((addr, 80), timeout=10)
    c[s.makefile().readline().strip() or "none"] += 1
    s.close()
print(dict(sorted(c.items())))
"""

ECHO_SHA = r"""
import hashlib, os, socket, sys, threading
addr, n = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((addr, 80), timeout=60)
sent, got, cnt = hashlib.sha256(), hashlib.sha256(), [0]
def rd():
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        got.update(b)
        cnt[0] += len(b)
t = threading.Thread(target=rd)
t.start()
left = n
while left:
    b = os.urandom(min(left, 1 << 16))
    sent.update(b)
    s.sendall(b)
    left -= len(b)
s.shutdown(socket.SHUT_WR)  # half-close: the echo still comes back
t.join(300)
print("sent", n, "received", cnt[0], sent.hexdigest() == got.hexdigest())
"""

CONCURRENT = r"""
import socket, sys
addr, n = sys.argv[1], int(sys.argv[2])
socks = [socket.create_connection((addr, 80), timeout=30) for _ in range(n)]
for i, s in enumerate(socks):
    s.sendall(f"{i}\n".encode())
ok = 0
for i, s in enumerate(socks):
    f = s.makefile()
    ok += f.readline() == f"{i}\n"
for s in socks:
    s.close()
print("open", len(socks), "ok", ok)
"""


class Topo:
    def __init__(self, name, tmp):
        self.name = name
        self.tmp = tmp
        self.seq = itertools.count(1)
        self.procs = []

    def ns(self, which):
        return f"{self.name}-{which}"

    def exec(self, which, argv, timeout=120, check=True):
        return run(["ip", "netns", "exec", self.ns(which), *argv], timeout=timeout, check=check)

    def backend(self, i, mode, port=80, log=None, extra=()):
        """Start backend i and return once it listens (it says so)."""
        log = log or os.path.join(self.tmp, f"b{i}-{next(self.seq)}.log")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(f"b{i}"), PY, "-u", "-c", BACKEND,
                              BACKENDS[i - 1], str(port), mode, f"b{i}", *extra],
                             stdout=open(log, "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        wait_until(lambda: "listening" in open(log).read(), 10, f"backend b{i} listening",
                   alive=p)
        return p

    def stop_backends(self):
        for p in self.procs:
            p.kill()
            p.wait()
        self.procs = []


@pytest.fixture
def topo(tmp_path):
    name = unique("rtl4")[:10]
    run([TOPO, "up", name, "3"])
    t = Topo(name, str(tmp_path))
    try:
        yield t
    finally:
        t.stop_backends()
        run([TOPO, "down", name], check=False)


PKTBENCH = os.path.join(BUILD, "apps", "pktbench", "pktbench")


class Proxy:
    """l4proxy in the hub namespace on one of three ports:
    af_xdp: AF_XDP on the veth px0 (the default);
    tap:    net_tap, its kernel side put on the bridge (l4topo.sh tap);
    virtio: net_virtio_user against a vhost-user wire process (pktbench io
            between net_vhost and AF_XDP on px0), as riptide runs in a VM or
            container; needs hugepages (the hugepages fixture).
    stop() checks the exit status and that no sanitizer reported anything."""

    def __init__(self, topo, tmp_path, args, port="af_xdp", mem=None, wire_args=(), lcores="0",
                 env=None):
        self.prefix = unique("rtpx")
        self.wire_out = None
        self.log = str(tmp_path / f"{self.prefix}.log")
        self.f = open(self.log, "wb")
        self.wire = None
        mem = mem or eal_memory_args(512)
        extra = []
        if port == "af_xdp":
            vdev = "net_af_xdp0,iface=px0"
        elif port == "tap":
            tap = f"{topo.name}tp"
            vdev = f"net_tap0,iface={tap}"
        elif port == "virtio":
            sock = str(tmp_path / f"{self.prefix}.vhost")
            vdev = f"net_virtio_user0,path={sock},queues=1"
            # vhost-user maps the proxy's memory through file descriptors: one
            # file per segment list keeps their number small.
            extra = ["--single-file-segments"]
            self.wire = DpdkProcess(["ip", "netns", "exec", topo.ns("hub"), PKTBENCH, "-l", "1",
                                     "--no-pci", *mem, "--single-file-segments",
                                     f"--file-prefix={self.prefix}w",
                                     f"--vdev=net_vhost0,iface={sock},queues=1",
                                     "--vdev=net_af_xdp0,iface=px0", "--",
                                     "--mode", "io", "--stats-interval", "0", *wire_args],
                                    self.prefix + "w", str(tmp_path / f"{self.prefix}w.log"))
            self.wire.wait_for_output("pktbench: mode io")
        else:
            raise ValueError(port)
        self.p = subprocess.Popen(["ip", "netns", "exec", topo.ns("hub"), PROXY, "-l", lcores,
                                   "--no-pci", *mem, *extra, f"--file-prefix={self.prefix}", "--log-level=user1,debug",
                                   f"--vdev={vdev}", "--", "--ip", f"{VIP}/24", *args],
                                  stdout=self.f, stderr=subprocess.STDOUT,
                                  env=None if env is None else {**os.environ, **env})
        wait_until(lambda: "ready" in self.output(), 20, "l4proxy ready", alive=self.p)
        if port == "tap":  # once started: the PMD sets the TAP's MAC while it starts
            r = run([TOPO, "tap", topo.name, tap], check=False)
            assert r.returncode == 0, r.stderr + self.output()

    def output(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=30, expect_rc=0):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.f.close()
        run(["rm", "-rf", f"/var/run/dpdk/{self.prefix}"], check=False)
        for f in glob.glob(f"/dev/hugepages*/{self.prefix}map_*"):
            os.unlink(f)
        out = self.output()
        print(out)
        if self.wire is not None:
            self.wire_out = self.wire.stop(sig=signal.SIGINT)
            print(self.wire_out)
            self.wire = None
        assert_clean_exit(self.p.returncode, out, expect_rc, what="l4proxy")
        return out


def backend_args(*extra):
    return ["--listen", "80", *[a for b in BACKENDS for a in ("--backend", f"{b}:80")], *extra]


def clean_exit(out):
    """No mbuf kept beyond the PMD's allowance (the proxy's exit status says
    so too, checked by stop()) and no connection left open."""
    assert "none held by riptide" in out or "all mbufs returned" in out, out
    m = re.search(r"tcp connections at exit: (\d+) open", out)
    assert m and m.group(1) == "0", out


def count(topo, n):
    out = topo.exec("c", [PY, "-c", COUNT, VIP, str(n)], timeout=300).stdout
    return eval(out.strip())  # a dict printed by our own script


def near_thirds(got, n):
    """Round robin on each of two lanes: each backend within one per lane of n / 3."""
    return sorted(got) == ["b1", "b2", "b3"] and all(abs(v - n // 3) <= 2 for v in got.values())


def failures(px, addr):
    return backend_tel(px, addr)["connect_failures"]


@pytest.mark.parametrize("lcores", ["0", "0-1"])
def test_round_robin_exact_retry_health_down_and_up(topo, tmp_path, lcores):
    """Round robin, a refused connect retried on the next backend, the health
    check taking a dead backend out and putting it back. On two lcores the
    checks run on lcore 0 alone and each verdict reaches lcore 1 as a
    message: once b2 is down no lane tries it (its connect failures stop
    growing), and once it is up both lanes use it again."""
    two = lcores != "0"
    for i in (1, 2, 3):
        topo.backend(i, "id")
    px = Proxy(topo, tmp_path, backend_args("--health-interval", "300", "--health-timeout",
                                            "200", "--rise", "2", "--fall", "2"), lcores=lcores,
               port="tap" if two else "af_xdp")  # AF_XDP on a veth: one queue
    try:
        if two:  # checks before the TAP joined the bridge failed: wait for them to pass
            time.sleep(1)
            wait_until(lambda: all(backend_tel(px, b)["state"] == "up" for b in BACKENDS), 10,
                       "every backend up")
        got = count(topo, 300)
        assert near_thirds(got, 300) if two else got == {"b1": 100, "b2": 100, "b3": 100}, got
        # b2 goes away: its connects are refused and retried on another
        # backend, so no client fails, then the health check takes it out.
        downs, ups = (px.output().count(f"{BACKENDS[1]}:80 is {w}") for w in ("down", "up"))
        topo.procs[1].kill()
        topo.procs[1].wait()
        got = count(topo, 60)
        assert "none" not in got and sum(got.values()) == 60 and "b2" not in got, got
        wait_until(lambda: px.output().count(f"{BACKENDS[1]}:80 is down") > downs, 10,
                   "b2 marked down")
        before = failures(px, BACKENDS[1])
        got = count(topo, 60)
        assert "b2" not in got and sum(got.values()) == 60, got
        assert failures(px, BACKENDS[1]) == before, "a lane still tried the dead backend"
        # ... and back.
        topo.procs[1] = topo.backend(2, "id")
        topo.procs.pop()
        wait_until(lambda: px.output().count(f"{BACKENDS[1]}:80 is up") > ups, 10,
                   "b2 marked up")
        got = count(topo, 60 if two else 30)
        # Both lanes use b2 again: one lane alone would give it at most ~13 of 60.
        assert got.get("b2", 0) >= 18 if two else got == {"b1": 10, "b2": 10, "b3": 10}, got
    finally:
        out = px.stop()
    clean_exit(out)
    assert re.search(r"backend 198\.18\.100\.12:80 +up +conns \d+ active 0 .*connect_failures [1-9]",
                     out), out
    if two:
        m = re.search(r"lcore 1 +conns \d+ active 0 steering kept \d+ handed on \d+ "
                      r"control messages (\d+)", out)
        assert m and int(m.group(1)) >= 2, out  # down, then up


def test_lost_syn_to_backend_costs_a_retransmission_not_the_client(topo, tmp_path):
    """The backend's namespace drops every other SYN, so each connect's first
    SYN is lost: the retransmission one RTO later must land inside the default
    connect timeout, with the only backend, and no client is refused."""
    topo.backend(1, "id")
    nft = "add table inet rtsyn; add chain inet rtsyn in { type filter hook input priority 0; }; " \
          "add rule inet rtsyn in tcp dport 80 tcp flags & (syn | ack) == syn " \
          "numgen inc mod 2 == 0 counter drop"
    topo.exec("b1", ["nft", nft])
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--health-interval", "0"])
    try:
        assert count(topo, 4) == {"b1": 4}
        dropped = topo.exec("b1", ["nft", "list", "table", "inet", "rtsyn"]).stdout
        assert re.search(r"packets 4 ", dropped), dropped
    finally:
        out = px.stop()
    clean_exit(out)
    assert re.search(r"backend 198\.18\.100\.11:80 +up +conns 4 active 0 .*connect_failures 0",
                     out), out


def test_backend_that_swallows_syns_times_out_and_the_next_one_serves(topo, tmp_path):
    """b1 drops every SYN while nothing marks it down (no health checks): each
    client sent to it is carried to b2 once --connect-timeout runs out, so no
    client fails; b1's connect failures are counted."""
    topo.backend(1, "id")
    topo.backend(2, "id")
    nft = "add table inet rtblack; add chain inet rtblack in { type filter hook input " \
          "priority 0; }; add rule inet rtblack in tcp dport 80 tcp flags & (syn | ack) " \
          "== syn counter drop"
    topo.exec("b1", ["nft", nft])
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--backend", f"{BACKENDS[1]}:80", "--health-interval", "0",
                                "--connect-timeout", "500"])
    try:
        assert count(topo, 4) == {"b2": 4}  # those sent to b1 first end up on b2
        dropped = topo.exec("b1", ["nft", "list", "table", "inet", "rtblack"]).stdout
        assert not re.search(r"packets 0 ", dropped), dropped
    finally:
        out = px.stop()
    clean_exit(out)
    assert re.search(r"backend 198\.18\.100\.11:80 +up +conns 0 active 0 .*connect_failures [1-4]\b",
                     out), out
    assert re.search(r"backend 198\.18\.100\.12:80 +up +conns 4 active 0", out), out


def test_backend_marked_down_keeps_its_established_pairs(topo, tmp_path):
    """b1's namespace starts dropping new SYNs: health checks fail and b1 is
    taken out, new clients go to b2, and the pair already open through b1
    still carries data both ways."""
    topo.backend(1, "echo")
    topo.backend(2, "id")
    script = r"""
import socket, sys
addr = sys.argv[1]
s = socket.create_connection((addr, 80), timeout=10)
s.sendall(b"before")
print("before", s.recv(64).decode())
sys.stdout.flush()
input()  # the test marks b1 down meanwhile
s.sendall(b"after")
print("after", s.recv(64).decode())
n = socket.create_connection((addr, 80), timeout=10)
print("new", n.recv(64).decode().strip())
"""
    # Round robin: the first client goes to b1 (the echo).
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--backend", f"{BACKENDS[1]}:80", "--health-interval", "200",
                                "--health-timeout", "150", "--fall", "2"])
    c = subprocess.Popen(["ip", "netns", "exec", topo.ns("c"), PY, "-c", script, VIP],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert c.stdout.readline().strip() == "before before"
        nft = "add table inet rtdown; add chain inet rtdown in { type filter hook input " \
              "priority 0; }; add rule inet rtdown in tcp dport 80 tcp flags & (syn | ack) " \
              "== syn drop"
        topo.exec("b1", ["nft", nft])
        end = time.time() + 5
        while time.time() < end and "198.18.100.11:80 is down" not in px.output():
            time.sleep(0.1)
        assert "198.18.100.11:80 is down" in px.output()
        out, _ = c.communicate("\n", timeout=30)
        assert out.split("\n")[:2] == ["after after", "new b2"], out
    finally:
        if c.poll() is None:
            c.kill()
            c.wait()
        out = px.stop()
    clean_exit(out)


def test_weights_leastconn_maglev(topo, tmp_path):
    for i in (1, 2, 3):
        topo.backend(i, "id")
    args = ["--listen", "80", "--backend", f"{BACKENDS[0]}:80,weight=5", "--backend",
            f"{BACKENDS[1]}:80,weight=3", "--backend", f"{BACKENDS[2]}:80,weight=2",
            "--algorithm", "weighted", "--health-interval", "0"]
    px = Proxy(topo, tmp_path, args)
    try:
        # Smooth weighted round robin is exact: 100 rounds of 5, 3 and 2.
        assert count(topo, 1000) == {"b1": 500, "b2": 300, "b3": 200}
    finally:
        clean_exit(px.stop())
    # Maglev: the one client always lands on the same backend.
    px = Proxy(topo, tmp_path, backend_args("--algorithm", "maglev", "--health-interval", "0"))
    try:
        got = count(topo, 50)
        assert len(got) == 1 and sum(got.values()) == 50, got
    finally:
        clean_exit(px.stop())


# For each client address: the backend that answered, twice (so stickiness
# shows). Prints {address: backend}.
BY_SOURCE = r"""
import socket, sys
addr, sources = sys.argv[1], sys.argv[2:]
got = {}
for src in sources:
    seen = set()
    for _ in range(2):
        s = socket.create_connection((addr, 80), timeout=10, source_address=(src, 0))
        seen.add(s.recv(64).decode().strip())
        s.close()
    got[src] = seen.pop() if len(seen) == 1 else "moved: " + ",".join(sorted(seen))
print(got)
"""


def test_maglev_many_clients_sticky_and_minimal_disruption(topo, tmp_path):
    """64 client addresses: each always lands on one backend, all three are
    used; when b2 dies and the health check takes it out, exactly its clients
    move and every other client keeps its backend."""
    sources = [f"198.18.100.{100 + i}" for i in range(64)]
    for a in sources:
        topo.exec("c", ["ip", "addr", "add", f"{a}/24", "dev", "eth0"])
    for i in (1, 2, 3):
        topo.backend(i, "id")
    px = Proxy(topo, tmp_path, backend_args("--algorithm", "maglev", "--health-interval", "200",
                                            "--health-timeout", "150", "--fall", "1"))
    try:
        before = eval(topo.exec("c", [PY, "-c", BY_SOURCE, VIP, *sources]).stdout)
        assert set(before.values()) == {"b1", "b2", "b3"}, before  # sticky, all used
        topo.procs[1].kill()
        topo.procs[1].wait()
        end = time.time() + 5
        while time.time() < end and "198.18.100.12:80 is down" not in px.output():
            time.sleep(0.1)
        assert "198.18.100.12:80 is down" in px.output()
        after = eval(topo.exec("c", [PY, "-c", BY_SOURCE, VIP, *sources]).stdout)
        moved = {a for a in sources if before[a] != after[a]}
        on_b2 = {a for a in sources if before[a] == "b2"}
        assert moved == on_b2, (before, after)
        assert set(after.values()) == {"b1", "b3"}, after
    finally:
        out = px.stop()
    clean_exit(out)


def test_leastconn_with_long_lived_connections(topo, tmp_path):
    for i in (1, 2, 3):
        topo.backend(i, "hold")
    px = Proxy(topo, tmp_path, backend_args("--algorithm", "leastconn", "--health-interval", "0"))
    script = r"""
import collections, socket, sys, time
addr = sys.argv[1]
held = []
for i in range(9):
    s = socket.create_connection((addr, 80), timeout=10)
    held.append((s.makefile().readline().strip(), s))
first = collections.Counter(n for n, _ in held)
for n, s in held:
    if n == "b1":
        s.close()
print(dict(sorted(first.items())), flush=True)
sys.stdin.readline()  # the test waits until the proxy has seen the closes
more = collections.Counter()
for i in range(3):
    s = socket.create_connection((addr, 80), timeout=10)
    more[s.makefile().readline().strip()] += 1
    held.append((None, s))
print(dict(more), flush=True)
"""
    c = subprocess.Popen(["ip", "netns", "exec", topo.ns("c"), PY, "-c", script, VIP],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        # Even while all are equal ...
        assert c.stdout.readline().strip() == "{'b1': 3, 'b2': 3, 'b3': 3}"
        wait_until(lambda: backend_tel(px, BACKENDS[0])["active"] == 0, 10, "b1's pairs closed")
        c.stdin.write("\n")
        c.stdin.flush()
        # ... then the emptied backend takes every new one.
        assert c.stdout.readline().strip() == "{'b1': 3}"
    finally:
        if c.poll() is None:
            c.kill()
        c.wait()
        clean_exit(px.stop())


def nginx_backend(topo, i, tmp_path, listen_opts, body):
    """nginx in backend i's namespace answering every request with body (nginx
    variables allowed); stopped with the topology's namespaces."""
    d = tmp_path / f"nginx-b{i}"
    d.mkdir()
    (d / "nginx.conf").write_text(f"""
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};
    uwsgi_temp_path {d}; scgi_temp_path {d};
    server {{
        listen {BACKENDS[i - 1]}:80 {listen_opts};
        location / {{ return 200 "{body}\\n"; }}
    }}
}}
""")
    topo.exec(f"b{i}", ["nginx", "-c", str(d / "nginx.conf")])
    wait_until(lambda: (d / "nginx.pid").exists(), 10, f"nginx on b{i}")


# An HTTP request written the moment the connection is up, so the proxy's
# PROXY header must already be in front of it; prints the client's own port
# and the answer's body.
PP_CLIENT = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
print(s.getsockname()[1], data.split(b"\r\n\r\n", 1)[1].decode().strip())
"""


def test_proxy_protocol_v2_read_by_nginx_even_after_a_retry(topo, tmp_path):
    """nginx's proxy_protocol listener, a real PROXY consumer, reads the
    header the proxy sends: every field (source and destination, address and
    port) comes out right, ahead of a client that writes at once, and also
    after the proxy retried a refusing backend (b1 has no listener)."""
    nginx_backend(topo, 2, tmp_path, "proxy_protocol",
                  "$proxy_protocol_addr:$proxy_protocol_port "
                  "$proxy_protocol_server_addr:$proxy_protocol_server_port $remote_addr")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--backend", f"{BACKENDS[1]}:80",
                                "--proxy-protocol", "--health-interval", "0"])
    try:
        for _ in range(4):  # round robin: every other one tries b1 first
            out = topo.exec("c", [PY, "-c", PP_CLIENT, VIP]).stdout
            port, answer = out.split(" ", 1)
            assert answer.strip() == f"198.18.100.2:{port} {VIP}:80 {VIP}", out
    finally:
        out = px.stop()
    clean_exit(out)
    assert re.search(r"backend 198\.18\.100\.11:80 +up +conns 0 .*connect_failures [1-9]",
                     out), out


def echo_bulk_and_concurrent(topo, tmp_path, nbytes, nconns, *extra, port="af_xdp", mem=None,
                             wire_args=(), bad_syns=0, lcores="0", env=None):
    """Echo backends; nbytes each way with sha256 compared, then nconns
    connections open at once, each echoing its own line; then bad_syns SYNs
    with a wrong TCP checksum, each of which must be dropped as one. Returns
    the proxy's output after a clean exit."""
    for i in (1, 2, 3):
        topo.backend(i, "echo")
    px = Proxy(topo, tmp_path, backend_args("--health-interval", "0", *extra), port=port, mem=mem,
               wire_args=wire_args, lcores=lcores, env=env)
    try:
        if bad_syns:
            topo.exec("c", [PY, "-c", BAD_SYNS, CLIENT, VIP, str(bad_syns)])
            wait_until(lambda: telemetry(px, "/l4proxy/stats")["drop_tcp_checksum"] == bad_syns,
                       10, f"{bad_syns} bad checksums dropped")
        out = topo.exec("c", [PY, "-c", ECHO_SHA, VIP, str(nbytes)], timeout=600).stdout
        assert f"sent {nbytes} received {nbytes} True" in out, out
        conc = f"ulimit -n 4096; {PY} -c '{CONCURRENT}' {VIP} {nconns}"
        out = topo.exec("c", ["sh", "-c", conc], timeout=300).stdout
        assert f"open {nconns} ok {nconns}" in out, out
    finally:  # SIGTERM drains: the last pairs finish before the proxy exits
        out = px.stop()
    clean_exit(out)
    return out


CLIENT = "198.18.100.2"

# SYNs to VIP:80 over a raw socket (the kernel adds the IP header, leaves the
# TCP checksum as given): each checksum is the right one with bits flipped.
BAD_SYNS = r"""
import socket, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

def csum(b):
    b += b"\0" * (len(b) & 1)
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
for i in range(n):
    hdr = struct.pack("!HHIIHHHH", 41000 + i, 80, 7000 + i, 0, (5 << 12) | 0x02, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr))
    good = csum(pseudo + hdr)
    s.sendto(hdr[:16] + struct.pack("!H", good ^ 0x5a5a) + hdr[18:], (dst, 0))
"""


def csum_flags(out):
    """The proxy's exit line of TCP/UDP packets by the PMD's checksum flag."""
    m = re.search(r"rx l4 checksum flags: good (\d+) bad (\d+) none (\d+) unknown (\d+)", out)
    assert m, out
    return dict(zip(("good", "bad", "none", "unknown"), map(int, m.groups())))


@pytest.mark.parametrize("case", ["tap", "virtio", "virtio-partial"])
def test_rx_checksum_flags_on_pmds_that_set_them(topo, tmp_path, hugepages, case):
    """Each RX checksum flag the stack trusts, as a real PMD sets it:
    tap:            net_tap verifies in software: GOOD, and BAD for a wrong
                    checksum (dropped, counted, not answered);
    virtio:         virtio-user with rx checksum offload on, frames whole:
                    UNKNOWN, verified by the stack (a wrong one dropped);
    virtio-partial: the vhost side hands frames over partially checksummed
                    (the field holds the pseudo-header sum only), as a
                    hypervisor passes a guest's: NONE, accepted unverified;
                    were such a frame verified, every one would be dropped
                    and the transfer would fail."""
    port = "tap" if case == "tap" else "virtio"
    wire = ["--tx-csum-partial"] if case == "virtio-partial" else []
    bad = 0 if case == "virtio-partial" else 5  # a partial wire would "fix" them
    out = echo_bulk_and_concurrent(topo, tmp_path, 2 * 1000 * 1000, 20, port=port,
                                   mem=hugepages, wire_args=wire, bad_syns=bad)
    flags = csum_flags(out)
    seen = {"tap": "good", "virtio": "unknown", "virtio-partial": "none"}[case]
    # thousands of segments of 2 MB each way, all under the PMD's one flag
    assert flags[seen] > 1000, flags
    assert flags["bad"] == (bad if case == "tap" else 0), flags
    others = [k for k in ("good", "none", "unknown") if k != seen]
    assert all(flags[k] == 0 for k in others), flags
    if bad:
        assert re.search(rf"dropped tcp_checksum +{bad}\n", out), out
    else:
        assert "dropped tcp_checksum" not in out, out
    if case == "virtio-partial":
        assert "frames partially checksummed" in px_wire_log(tmp_path), "the wire did it"


def px_wire_log(tmp_path):
    return "".join(open(f).read() for f in glob.glob(str(tmp_path / "*w.log")))


def test_100mb_each_way_and_1000_concurrent(topo, tmp_path):
    out = echo_bulk_and_concurrent(topo, tmp_path, 100 * 1000 * 1000, 1000)
    m = re.search(r"listener default +port 80 +conns (\d+) active 0 refused 0", out)
    assert m and int(m.group(1)) == 1001, out


def test_bulk_and_concurrent_on_a_bridged_tap(topo, tmp_path):
    """The proxy on net_tap, its TAP on the client's and backends' bridge (the
    demo's --tap path): 20 MB each way byte-exact, then 300 at once; every
    mbuf comes back (no AF_XDP allowance on a TAP)."""
    out = echo_bulk_and_concurrent(topo, tmp_path, 20 * 1000 * 1000, 300, port="tap")
    assert "all mbufs returned to the pool" in out, out
    m = re.search(r"listener default +port 80 +conns (\d+) active 0 refused 0", out)
    assert m and int(m.group(1)) == 301, out


def lane_lines(out):
    """Each lane's exit line: {lcore: (kept, handed on, control messages)}."""
    return {int(m.group(1)): tuple(map(int, m.groups()[1:])) for m in re.finditer(
        r"lcore (\d+): steering kept (\d+) handed to other lcores (\d+) arp copies \d+; "
        r"control messages (\d+)", out)}


def lane_pairs(out):
    """Connections each lcore's lane took: {lcore: conns} (the exit stats)."""
    return {int(m.group(1)): int(m.group(2)) for m in re.finditer(
        r"lcore (\d+) +conns (\d+) active 0", out)}


@pytest.mark.parametrize("steer", ["kernel", "software"])
def test_two_lcores_on_a_tap_spread_byte_exact(topo, tmp_path, steer):
    """l4proxy on two lcores (-l 0-1) on a two-queue net_tap. kernel: the tun
    driver runs riptide's steering program, so each lane's queue holds only
    its own flows (rss, said at start) and no packet is handed over;
    software (RIPTIDE_TAP_STEER=0): the kernel picks queues by its own hash
    and both lanes hand packets of the other's flows over. Either way 20 MB
    each way byte-exact, then 300 connections at once, each echoing its own
    line: both lanes carry pairs (each pair whole on one lane: its backend
    connection's replies come back to the lane that opened it, or the pair
    would be reset), and every mbuf comes home."""
    out = echo_bulk_and_concurrent(topo, tmp_path, 20 * 1000 * 1000, 300, port="tap",
                                   lcores="0-1",
                                   env={"RIPTIDE_TAP_STEER": "0"} if steer == "software" else None)
    said = {"kernel": "rss (the kernel fills net_tap's queues by riptide's flow hash",
            "software": "software steering (net_tap cannot steer"}[steer]
    assert f"2 lcores on net_tap0, a queue each: {said}" in out, out
    m = re.search(r"listener default +port 80 +conns (\d+) active 0 refused 0", out)
    assert m and int(m.group(1)) == 301, out
    pairs = lane_pairs(out)
    assert set(pairs) == {0, 1} and sum(pairs.values()) == 301, out
    assert min(pairs.values()) >= 60, pairs  # a symmetric hash of 301 flows: near half each
    lanes = lane_lines(out)
    assert set(lanes) == {0, 1}, out
    assert all(kept > 0 for kept, _, _ in lanes.values()), lanes
    handed = sum(handed for _, handed, _ in lanes.values())
    if steer == "kernel":
        assert handed == 0, lanes
    else:
        assert handed > 0, lanes
    assert out.count("all mbufs returned to the pool") == 2, out
    # Each lane's inbox is a kicked source: both slept in epoll when idle,
    # not in naps (a ring without an fd sent them to naps before).
    idle = re.findall(r"idle sleeps (\d+) \(on rx events (\d+), woken early \d+; ([^)]*)\)", out)
    assert len(idle) == 2, out
    for sleeps, on_events, how in idle:
        assert how == "sleeps on the rx queue's events", out
        assert int(on_events) > 0 and int(sleeps) - int(on_events) <= 3, out


FIRST_AFTER_QUIET = r"""
import socket, sys, time
addr, n = sys.argv[1], int(sys.argv[2])
took = []
for i in range(n):
    time.sleep(0.5)  # long enough for the proxy to be asleep
    t0 = time.monotonic()
    s = socket.create_connection((addr, 80), timeout=10)
    assert s.makefile().readline().strip() == "b1"
    took.append(time.monotonic() - t0)
    s.close()
print(repr(took))
"""


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("port", ["af_xdp", "tap"])
def test_idle_proxy_sleeps_on_its_rx_queue_and_wakes_for_the_first_packet(topo, tmp_path, port):
    """Issue 12, item 4: an idle l4proxy (the default backoff policy) sleeps
    in epoll on its rx queue's fd (net_af_xdp's socket, net_tap's queue fd)
    instead of napping on a timer: every sleep is on rx events, it wakes about
    as often as its own 100 ms tick (1 ms naps would be over a thousand a
    second), and a connection after each half second of quiet is served at
    once: woken by its SYN, not by the next tick."""
    topo.backend(1, "id")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--health-interval", "0"], port=port)
    try:
        time.sleep(1)
        cpu0, t0 = proc_cpu_s(px.p.pid), time.monotonic()
        time.sleep(3)
        idle_pct = 100 * (proc_cpu_s(px.p.pid) - cpu0) / (time.monotonic() - t0)
        print(f"idle l4proxy on {port}: {idle_pct:.2f} % of a core (not asserted)")
        took = eval(topo.exec("c", [PY, "-c", FIRST_AFTER_QUIET, VIP, "7"], timeout=60).stdout)
    finally:
        out = px.stop()
    clean_exit(out)
    took.sort()
    print(f"first connection after 0.5 s of quiet, ms: {[round(t * 1000, 2) for t in took]}")
    # The SYN ends the sleep: a wake-up missed until the next 100 ms tick
    # would put the median near 50 ms.
    assert took[len(took) // 2] < 0.020, took
    m = re.search(r"idle sleeps (\d+) \(on rx events (\d+), woken early (\d+); ([^)]*)\)", out)
    assert m, out
    sleeps, on_events, woken = int(m.group(1)), int(m.group(2)), int(m.group(3))
    assert m.group(4) == "sleeps on the rx queue's events", out
    assert sleeps - on_events <= 3, out  # naps only before the port's queue is polled
    m = re.search(r"executor busy ([\d.]+) s idle ([\d.]+) s", out)
    lived = float(m.group(1)) + float(m.group(2))
    assert sleeps < 100 * lived, f"{sleeps} sleeps in {lived:.1f} s: it naps, not sleeps"
    assert woken >= 7, out  # at least one per connection


def test_bulk_and_concurrent_on_virtio_user(topo, tmp_path, hugepages):
    """The proxy on net_virtio_user, its vhost-user peer a wire process that
    forwards to the segment: 20 MB each way byte-exact, then 300 at once;
    when idle it slept on the vring's rx interrupt (the call fd)."""
    out = echo_bulk_and_concurrent(topo, tmp_path, 20 * 1000 * 1000, 300, port="virtio",
                                   mem=hugepages)
    assert "all mbufs returned to the pool" in out, out
    assert "; sleeps on the rx queue's events)" in out, out
    assert "dropped tcp_checksum" not in out and "dropped ip_checksum" not in out, out
    m = re.search(r"listener default +port 80 +conns (\d+) active 0 refused 0", out)
    assert m and int(m.group(1)) == 301, out


def test_virtio_user_through_a_wire_that_sleeps_when_idle(topo, tmp_path, hugepages):
    """proxy.sh's NIC-like path: the wire process (pktbench io between
    net_vhost and AF_XDP) with --sleep-when-idle shares its core without
    spinning: it sleeps on both ports' rx events (the vring's kick fd, the
    XDP socket) and wakes for the traffic; 2 MB each way through the proxy
    byte-exact and 50 connections at once, each answered."""
    for i in (1, 2, 3):
        topo.backend(i, "echo")
    px = Proxy(topo, tmp_path, backend_args("--health-interval", "0"), port="virtio",
               mem=hugepages, wire_args=("--sleep-when-idle",))
    try:
        wire_start = px.wire.output()
        time.sleep(1)  # idle: the wire sleeps
        out = topo.exec("c", [PY, "-c", ECHO_SHA, VIP, str(2000000)], timeout=300).stdout
        assert "sent 2000000 received 2000000 True" in out, out
        conc = f"ulimit -n 4096; {PY} -c '{CONCURRENT}' {VIP} 50"
        out = topo.exec("c", ["sh", "-c", conc], timeout=300).stdout
        assert "open 50 ok 50" in out, out
    finally:
        out = px.stop()
    clean_exit(out)
    assert "sleeps when idle (on the ports' rx events)" in wire_start, wire_start
    w = px.wire_out
    assert "all mbufs returned" in w or "none held by riptide" in w, w
    m = re.search(r"idle: slept (\d+) times, (\d+) on rx events, (\d+) ended by one", w)
    assert m, w
    sleeps, on_events, woken = (int(g) for g in m.groups())
    assert sleeps > 0 and sleeps - on_events <= 3, w  # it sleeps on events, not naps
    assert woken >= 50, w  # the traffic woke it, over and over


def test_rx_coalesce_naps_under_load_and_carries_everything(topo, tmp_path):
    """Adaptive interrupt moderation, l4proxy's default (--rx-coalesce 100
    after 16 busy wake-ups): under a bulk transfer the idle loop naps 100 us
    between polls instead of sleeping on the rx queue, and every byte still
    crosses: 2 MB each way byte-exact, then 50 connections at once, each
    answered."""
    out = echo_bulk_and_concurrent(topo, tmp_path, 2000000, 50)
    m = re.search(r"rx coalesce 100 us after 16 busy wake-ups: napped (\d+) times under load", out)
    assert m, out
    napped = int(m.group(1))
    # 2 MB each way is ~1400 segments each way: the load lasts long enough
    # for 16 wake-ups in a row, and then the naps carry it.
    assert napped > 0, out
    m = re.search(r"idle sleeps (\d+) \(on rx events (\d+), woken early (\d+);", out)
    assert m and m.group(1) == m.group(2), out  # the naps are not backoff naps


BURST = r"""
import select, socket, sys, time
addr, n = sys.argv[1], int(sys.argv[2])
socks = []
for _ in range(n):  # every SYN leaves before the first handshake is done
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex((addr, 80))
    socks.append(s)
for s in socks:
    select.select([], [s], [], 30)
    s.setblocking(True)
    s.settimeout(30)
for i, s in enumerate(socks):
    s.sendall(f"{i}\n".encode())
ok = sum(s.makefile().readline() == f"{i}\n" for i, s in enumerate(socks))
print("open", len(socks), "ok", ok)
"""


def test_first_burst_of_clients_finds_backends_resolved(topo, tmp_path):
    """The proxy resolves its backends at start: 150 clients arriving at once
    (50 per backend, more than an address's ARP queue holds) lose no SYN."""
    for i in (1, 2, 3):
        topo.backend(i, "echo")
    px = Proxy(topo, tmp_path, backend_args("--health-interval", "0"))
    try:
        # No client yet and no health checks: only the proxy's own ARP
        # requests can have taught each backend the proxy's address.
        for i in (1, 2, 3):
            neigh = topo.exec(f"b{i}", ["ip", "neigh", "show", VIP]).stdout
            assert "lladdr" in neigh, f"b{i} was never asked: {neigh!r}"
        out = topo.exec("c", [PY, "-c", BURST, VIP, "150"], timeout=120).stdout
        assert "open 150 ok 150" in out, out
    finally:
        out = px.stop()
    clean_exit(out)
    assert "arp_queue_full" not in out and "arp_unresolved" not in out, out


def test_tx_hold_holds_and_loses_nothing(topo, tmp_path):
    """--tx-hold: sends wait out the hold under load (the sink counts each
    time it held one back; without a hold it never does), and every byte of a
    bulk echo and every one of 300 small exchanges still arrives."""
    out = echo_bulk_and_concurrent(topo, tmp_path, 5 * 1000 * 1000, 300, "--tx-hold", "200")
    m = re.search(r"tx (\d+) packets in (\d+) sends, 0 dropped by the PMD "
                  r"\(tx hold 200 us, sends held back (\d+) times\)", out)
    assert m and int(m.group(2)) < int(m.group(1)) and int(m.group(3)) > 0, out
    topo.stop_backends()
    out = echo_bulk_and_concurrent(topo, tmp_path, 1000 * 1000, 50)
    assert re.search(r"\(tx hold 0 us, sends held back 0 times\)", out), out


@pytest.mark.parametrize("opt,arg,message", [
    ("--tx-hold", "5000", "l4proxy: --tx-hold '5000': a whole number 0..1000"),
    ("--tx-hold", "soon", "l4proxy: --tx-hold 'soon': a whole number 0..1000"),
    ("--idle-spin", "100001", "l4proxy: --idle-spin '100001': a whole number 0..100000"),
    ("--idle-spin", "-1", "l4proxy: --idle-spin '-1': a whole number 0..100000"),
])
def test_tx_hold_and_idle_spin_bad_values_refused(opt, arg, message):
    r = run([PROXY, "-l", "0", "--no-pci", "--no-huge", "-m", "128",
             f"--file-prefix={unique('rtcfg')}", "--vdev", "net_null0", "--",
             "--ip", "198.18.0.1/24", "--listen", "80", opt, arg], check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr, r.stderr


def test_reset_passed_on_both_ways_and_idle_timeout(topo, tmp_path):
    """A client's RST reaches the backend as a RST; a backend's RST reaches the
    client as a RST; a pair idle past --idle-timeout is reset."""
    log = tmp_path / "b1.log"
    topo.backend(1, "report", log=str(log))
    topo.backend(2, "rst")
    script = r"""
import socket, struct, sys, time
addr = sys.argv[1]
s = socket.create_connection((addr, 80))
s.sendall(b"x")
assert s.recv(1) == b"x"
if sys.argv[2] == "client-resets":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("reset sent")
elif sys.argv[2] == "backend-resets":
    s.sendall(b"k")  # got the echo: the backend resets on this
    try:
        b = s.recv(1)
        print("client saw", "eof" if b == b"" else "data")
    except ConnectionResetError:
        print("client saw reset")
else:  # idle: nothing moves for over a second
    time.sleep(2.5)
    try:
        b = s.recv(1)
        print("idle", "eof" if b == b"" else "data")
    except ConnectionResetError:
        print("idle reset")
"""
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--health-interval", "0", "--idle-timeout", "1000"])
    try:
        out = topo.exec("c", [PY, "-c", script, VIP, "client-resets"], timeout=60).stdout
        assert "reset sent" in out, out
        wait_until(lambda: "backend saw" in log.read_text(), 5, "the backend saw the end")
        assert log.read_text().strip().splitlines()[-1] == "backend saw reset", log.read_text()
        out = topo.exec("c", [PY, "-c", script, VIP, "idle"], timeout=60).stdout
        assert "idle reset" in out, out
    finally:
        out = px.stop()
    clean_exit(out)
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[1]}:80",
                                "--health-interval", "0"])
    try:
        out = topo.exec("c", [PY, "-c", script, VIP, "backend-resets"], timeout=60).stdout
        assert "client saw reset" in out, out
    finally:
        out = px.stop()
    clean_exit(out)


# Two held connections, a third that must wait for one of them, and a fourth
# that nobody makes room for. Prints what each saw first and when.
LIMITS = r"""
import socket, sys, time
addr, mode = sys.argv[1], sys.argv[2]
def connect():
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect((addr, 80))
    except ConnectionResetError:
        return None  # the RST came before connect() returned
    return s
def first(s, timeout=10):
    if s is None:
        return "ConnectionResetError"
    s.settimeout(timeout)
    try:
        return s.recv(64).decode().strip() or "eof"
    except (ConnectionResetError, socket.timeout) as e:
        return type(e).__name__
def served_once_room(deadline=10):
    # A slot freed by a close is free once the close has gone through both
    # sides of the proxy: retry until then, within a deadline.
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        s = connect()
        got = first(s)
        if got == "b1":
            return s, got
        time.sleep(0.05)
    return None, "never served"
held = [connect() for _ in range(2)]
print("held", *[first(s) for s in held])
third = connect()
if mode == "reset":
    # Reset while both slots are still held: at once, not after room came.
    print("third", first(third))
    held[0].close()
    fourth, got = served_once_room()
    print("fourth", got)
else:
    # Queued: nothing comes while both slots are held ...
    print("third waits", first(third, timeout=0.3))
    held[0].close()
    # ... and it is served once the first one's slot is free.
    print("third", first(third))
    # The fourth finds both slots taken (held[1], third) and is reset when
    # its queue timeout runs out.
    print("fourth", first(connect(), timeout=20))
"""


@pytest.mark.parametrize("limit", ["--max-conns", "--backend-max-conns"])
def test_over_limit_reset_or_queue(topo, tmp_path, limit):
    """A listener (or its only backend) at its limit: with reset the excess
    client gets a RST while the slots are still held; with queue it waits for
    room and is served when a connection ends, and one that gets no room is
    reset when its queue timeout runs out. Order only: the timeouts themselves
    are unit-tested on an injected clock."""
    topo.backend(1, "hold")
    base = ["--listen", "80", "--backend", f"{BACKENDS[0]}:80", "--health-interval", "0",
            limit, "2"]
    px = Proxy(topo, tmp_path, base)
    try:
        out = topo.exec("c", [PY, "-c", LIMITS, VIP, "reset"], timeout=60).stdout
        assert out.split("\n")[:3] == ["held b1 b1", "third ConnectionResetError",
                                       "fourth b1"], out
    finally:
        out = px.stop()
    clean_exit(out)
    px = Proxy(topo, tmp_path, base + ["--over-limit", "queue", "--queue-timeout", "1500"])
    try:
        out = topo.exec("c", [PY, "-c", LIMITS, VIP, "queue"], timeout=60).stdout
        assert out.split("\n")[:4] == ["held b1 b1", "third waits TimeoutError", "third b1",
                                       "fourth ConnectionResetError"], out
    finally:
        out = px.stop()
    clean_exit(out)
    assert re.search(r"queued 2 waiting 0 queue_timeouts 1", out), out


HOLD_MANY = r"""
import socket, sys
addr, n = sys.argv[1], int(sys.argv[2])
socks, seen = [], {}
for i in range(n):
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect((addr, 80))
        got = s.recv(64).decode().strip() or "eof"
    except (ConnectionResetError, socket.timeout) as e:
        got = type(e).__name__
    seen[got] = seen.get(got, 0) + 1
    socks.append(s)
print(repr(seen))
"""


def test_two_lcores_split_max_conns_and_hold_the_sum(topo, tmp_path):
    """--max-conns 4 on two lcores: each lane takes 2 (said at start). 20
    clients held open, spread over both lanes by their flows: exactly 4 are
    served and 16 reset, whichever lane each landed on (with 20 flows each
    lane gets at least 2 but for one chance in 25,000)."""
    topo.backend(1, "hold")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--health-interval", "0", "--max-conns", "4"],
               port="tap", lcores="0-1")
    try:
        assert "listener default: max_conns 4, max_rate 0, split 2 ways" in px.output()
        out = topo.exec("c", [PY, "-c", HOLD_MANY, VIP, "20"], timeout=120).stdout
        assert eval(out.strip()) == {"b1": 4, "ConnectionResetError": 16}, out
    finally:
        out = px.stop()
    clean_exit(out)
    assert re.search(r"listener default +port 80 +conns 20 active 0 refused 16", out), out


def test_max_rate(topo, tmp_path):
    """--max-rate 5: a burst of 20 gets at least the bucket's 5 and not all of
    them, the rest are reset; 20 paced over a second get at least the refill.
    Lower bounds only (tokens only grow with time); the exact rates are
    unit-tested on an injected clock (tests/unit/test_ratelimit.cc)."""
    topo.backend(1, "id")
    script = r"""
import socket, sys, time
addr = sys.argv[1]
def one():
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect((addr, 80))
        return s.recv(64).strip() == b"b1"
    except (ConnectionResetError, OSError):
        return False  # reset at or after connect()
    finally:
        s.close()
burst = sum(one() for _ in range(20))
time.sleep(1.1)
paced = 0
for _ in range(20):
    paced += one()
    time.sleep(0.05)
print(burst, paced)
"""
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--health-interval", "0", "--max-rate", "5"])
    try:
        burst, paced = map(int, topo.exec("c", [PY, "-c", script, VIP]).stdout.split())
        assert 5 <= burst < 20, (burst, paced)
        assert paced >= 5, (burst, paced)  # the bucket refilled during the pause
    finally:
        out = px.stop()
    clean_exit(out)
    m = re.search(r"listener default +port 80 +conns 40 active 0 refused (\d+)", out)
    assert m and int(m.group(1)) == 40 - burst - paced, out


def telemetry(px, command):
    """One telemetry command's answer, parsed (the proxy's socket lives under
    /var/run/dpdk/<prefix>, reachable from any namespace)."""
    out = run(["dpdk-telemetry.py", "-f", px.prefix], input=command + "\n", check=False).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{") and command.split(",")[0] in line:
            return json.loads(line)[command.split(",")[0]]
    raise AssertionError(f"no answer to {command}: {out}")


def rows(table, prefix=""):
    """A telemetry table (a dict of equal-length columns, DPDK 22.11 nesting
    one level only) as a list of rows, each a dict of the fields."""
    cols = {k[len(prefix):]: v for k, v in table.items()
            if k.startswith(prefix) and isinstance(v, list)}
    n = {len(v) for v in cols.values()}
    assert len(n) <= 1, f"columns of unequal length: {table}"
    return [dict(zip(cols, vals)) for vals in zip(*cols.values())]


def backend_tel(px, addr, pool="default", port=80):
    """One backend's telemetry row, from /l4proxy/backends,POOL."""
    for b in rows(telemetry(px, f"/l4proxy/backends,{pool}")):
        if b["addr"] == f"{addr}:{port}":
            return b
    raise AssertionError(f"no backend {addr}:{port} in pool {pool}")


HELD = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=30)
for word in ("one", "two"):
    s.sendall(word.encode())
    print(word, s.recv(64).decode(), flush=True)
    sys.stdin.readline()  # the test drains the backend, then lets us go on
s.close()
"""


@pytest.mark.parametrize("lcores", ["0", "0-1"])
def test_graceful_drain_and_telemetry(topo, tmp_path, lcores):
    """A drained backend takes no new connection while its established pair
    keeps carrying data; telemetry answers drains of unknown pools and
    backends with an error; SIGTERM waits for the open pair until the drain
    timeout, then resets it. On two lcores the drain (asked of lcore 0's
    supervisor) reaches lcore 1 as a message, the figures are both lanes'
    summed, and SIGTERM waits for the pair whichever lane holds it."""
    topo.backend(1, "echo")
    topo.backend(2, "id")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--backend", f"{BACKENDS[1]}:80",
                                "--health-interval", "0", "--drain-timeout", "2"],
               lcores=lcores, port="af_xdp" if lcores == "0" else "tap")
    held = subprocess.Popen(["ip", "netns", "exec", topo.ns("c"), PY, "-c", HELD, VIP],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert held.stdout.readline().strip() == "one one"  # round robin: b1 first
        ls = rows(telemetry(px, "/l4proxy/stats"), "listener_")
        assert len(ls) == 1 and ls[0]["name"] == "default" and ls[0]["active"] == 1, ls
        assert backend_tel(px, BACKENDS[0])["active"] == 1
        assert telemetry(px, "/l4proxy/drain,nosuchpool,198.18.100.11:80") is None
        assert telemetry(px, "/l4proxy/drain,default,198.18.100.99:80") is None
        assert telemetry(px, "/l4proxy/drain,default,nonsense") is None
        assert "draining" not in px.output()
        assert telemetry(px, f"/l4proxy/drain,default,{BACKENDS[0]}:80") == "draining"
        assert f"runtime API: ok: pool default: backend {BACKENDS[0]}:80 draining" in px.output()
        # New connections all go to b2 now (on every lane) ...
        assert count(topo, 4 if lcores == "0" else 20) == {"b2": 4 if lcores == "0" else 20}
        # ... while the pair through b1 still carries data both ways.
        held.stdin.write("\n")
        held.stdin.flush()
        assert held.stdout.readline().strip() == "two two"
        b1 = backend_tel(px, BACKENDS[0])
        assert b1["state"] == "draining" and b1["active"] == 1, b1
        if lcores != "0":  # each lane's figures, and the total is theirs summed
            per = rows(telemetry(px, "/l4proxy/lcores"))
            assert [r["lcore"] for r in per] == [0, 1], per
            assert sum(r["pairs"] for r in per) == 1, per
            assert sum(r["conns"] for r in per) == 21, per
        px.p.send_signal(signal.SIGTERM)  # the pair stays open: reset after 2 s
        wait_until(lambda: px.p.poll() is not None, 30, "the proxy exits after its drain")
    finally:
        if held.poll() is None:
            held.kill()
        held.wait()
        out = px.stop()
    assert "stopping: no new connections, 1 active" in out, out
    assert "1 pairs still open after the drain timeout: reset" in out, out
    clean_exit(out)
    if lcores != "0":
        lanes = lane_lines(out)
        assert set(lanes) == {0, 1} and lanes[1][2] >= 2, out  # the drain, then STOP


CTL = os.path.join(ROOT, "scripts", "l4proxyctl")


def ctl(px, *args):
    """scripts/l4proxyctl against this proxy: (exit status, what it printed)."""
    r = run([CTL, "-f", px.prefix, *args], check=False)
    return r.returncode, (r.stdout + r.stderr).strip()


SETTLING = "still reaching every lcore: try again"


def sighup(px, done, what, timeout=10):
    """SIGHUP until done(output) holds. A reload asked for while the last
    change (a reload, or a health check's verdict) is still reaching every
    lcore is refused with "try again", as documented: then it is asked again
    (a full run once sent reload 2 while a backend's 'up' was on its way)."""
    deadline = time.monotonic() + timeout
    while True:
        refused = px.output().count(SETTLING)
        px.p.send_signal(signal.SIGHUP)
        wait_until(lambda: done(px.output()) or px.output().count(SETTLING) > refused,
                   max(deadline - time.monotonic(), 0.1), what)
        if done(px.output()):
            return
        time.sleep(0.1)


def ctl_reload(px, timeout=10):
    """l4proxyctl reload, asked again while the last change settles."""
    deadline = time.monotonic() + timeout
    while True:
        rc, r = ctl(px, "reload")
        if SETTLING not in r or time.monotonic() > deadline:
            return rc, r
        time.sleep(0.1)


@pytest.mark.parametrize("lcores", ["0", "0-1"])
def test_runtime_api_add_weight_disable_enable_remove_on_every_lcore(topo, tmp_path, lcores):
    """Backends changed while the proxy runs, through scripts/l4proxyctl: one
    added (down until its checks pass, then taking connections), a weight
    changed (shares follow it), one disabled and enabled, one removed (never
    picked again, gone from the figures); each change logged, refused with a
    reason when it cannot be made. On two lcores every lane applies every
    change: connections spread over both lanes all follow it."""
    two = lcores != "0"
    for i in (1, 2, 3):
        topo.backend(i, "id")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--algorithm", "weighted",
                                "--backend", f"{BACKENDS[0]}:80", "--backend", f"{BACKENDS[1]}:80",
                                "--health-interval", "200", "--health-timeout", "150",
                                "--rise", "2"],
               lcores=lcores, port="tap" if two else "af_xdp")
    b1, b2, b3 = (f"{b}:80" for b in BACKENDS)
    n = 40 if two else 20
    try:
        if two:  # checks before the TAP joined the bridge failed: wait for them to pass
            time.sleep(1)
        wait_until(lambda: all(backend_tel(px, b)["health"] == "up" for b in BACKENDS[:2]), 10,
                   "both backends up")
        got = count(topo, n)
        assert got == {"b1": n // 2, "b2": n // 2} or two and sorted(got) == ["b1", "b2"], got
        # Refusals: each says why, and changes nothing.
        for args, why in [(("add", "default", b1), "has backend 198.18.100.11:80 already"),
                          (("remove", "default", "198.18.100.99:80"), "has no backend"),
                          (("weight", "default", b1, "0"), "want a whole number 1..1000"),
                          (("weight", "default", b1, "lots"), "want a whole number 1..1000"),
                          (("disable", "nowhere", b1), "no pool 'nowhere'"),
                          (("add", "default", "nonsense"), "'nonsense' is not ADDR:PORT")]:
            rc, out = ctl(px, *args)
            assert rc == 1 and out.startswith("error:") and why in out, (args, out)
        rc, out = ctl(px, "weight", "default")
        assert rc == 2 and "weight wants POOL ADDR:PORT WEIGHT" in out, out
        # Added: down until two checks pass, then up on every lane.
        rc, out = ctl(px, "add", "default", b3)
        assert rc == 0 and "added, weight 1, down until its health checks pass" in out, out
        wait_until(lambda: backend_tel(px, BACKENDS[2])["health"] == "up", 10, "b3 up")
        got = count(topo, 3 * n)
        assert sorted(got) == ["b1", "b2", "b3"] and all(
            abs(v - n) <= (4 if two else 1) for v in got.values()), got
        # A weight: b1 takes three parts of five.
        rc, out = ctl(px, "weight", "default", b1, "3")
        assert rc == 0 and "weight 3 (was 1)" in out, out
        got = count(topo, 5 * n // 2)
        assert abs(got.get("b1", 0) - 3 * n // 2) <= (4 if two else 1), got
        assert backend_tel(px, BACKENDS[0])["weight"] == 3
        # Disabled: no new connection; enabled: back.
        rc, out = ctl(px, "disable", "default", b2)
        assert rc == 0 and "draining" in out, out
        assert backend_tel(px, BACKENDS[1])["state"] == "draining"
        got = count(topo, n)
        assert "b2" not in got and sum(got.values()) == n, got
        rc, out = ctl(px, "enable", "default", b2)
        assert rc == 0 and "enabled (up)" in out, out
        got = count(topo, n)
        assert got.get("b2", 0) >= n // 5 - (2 if two else 0), got
        # Removed: never picked, gone from the listing.
        rc, out = ctl(px, "remove", "default", b1)
        assert rc == 0 and "removed (0 pairs on it run on until they end)" in out, out
        got = count(topo, n)
        assert "b1" not in got and sum(got.values()) == n, got
        rc, listing = ctl(px, "backends", "default")
        assert rc == 0 and b1 not in listing and b2 in listing and b3 in listing, listing
        pools = rows(telemetry(px, "/l4proxy/pools"))
        assert pools[0]["backends"] == 2 and pools[0]["up"] == 2, pools
        # Its slot is reused by the next add (nothing uses it any more).
        rc, out = ctl(px, "add", "default", b1, "2")
        assert rc == 0 and "weight 2" in out, out
        wait_until(lambda: backend_tel(px, BACKENDS[0])["health"] == "up", 10, "b1 back")
        assert backend_tel(px, BACKENDS[0])["conns"] == 0  # a new backend's figures
    finally:
        out = px.stop()
    clean_exit(out)
    for line in ("runtime API: ok: pool default: backend 198.18.100.13:80 added",
                 "runtime API: ok: pool default: backend 198.18.100.11:80 weight 3 (was 1)",
                 "runtime API: ok: pool default: backend 198.18.100.12:80 draining",
                 "runtime API: ok: pool default: backend 198.18.100.11:80 removed",
                 "runtime API: error: pool default has no backend 198.18.100.99:80"):
        assert line in out, out
    assert re.search(r"pool default +backend 198\.18\.100\.11:80 +up +conns 0 ", out), out
    # The re-added b1 took its old slot: the exit stats list it first again.
    last = out[out.rindex("l4proxy: stats (exit)"):]
    assert last.index(b1) < last.index(b2) < last.index(b3), last
    if two:  # lane 1 applied each change (add, weight, drain, enable, remove, add)
        for what in ("added", "weight", "draining", "enabled", "removed"):
            assert re.search(rf"lcore 1: pool default backend \d+: {what}", out), what


def test_l4proxyctl_usage_and_no_proxy():
    r = run([CTL, "--help"], check=False)
    assert r.returncode == 0 and "l4proxyctl [-f PREFIX] add POOL ADDR:PORT [N]" in r.stdout
    r = run([CTL, "frobnicate"], check=False)
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr, r.stderr
    r = run([CTL, "-f", "rt-nobody-here", "pools"], check=False)
    assert r.returncode == 3 and "no l4proxy answers at" in r.stderr, r.stderr


def scrape(topo, path="/metrics", method="GET"):
    """An HTTP request to the proxy's metrics port from the client's namespace:
    (status, headers, body)."""
    how = ["-I"] if method == "HEAD" else ["-i", "-X", method]  # curl -X HEAD waits for a body
    r = topo.exec("c", ["curl", "-s", "-S", *how, "--max-time", "10", f"http://{VIP}:9100{path}"],
                  check=False, timeout=30)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.replace("\r\n", "\n").partition("\n\n")
    return int(head.split()[1]), head, body


def samples(body):
    """The exposition parsed by Prometheus' own parser (python3-prometheus-client):
    {(name, frozenset(labels)): value}."""
    from prometheus_client.parser import text_string_to_metric_families
    out = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def metric(ss, name, **labels):
    return ss[(name, frozenset(labels.items()))]


@pytest.mark.parametrize("lcores", ["0", "0-1"])
def test_prometheus_metrics_scraped_over_riptides_own_stack(topo, tmp_path, lcores):
    """GET /metrics on the proxy's address, answered by riptide's TCP stack:
    Prometheus' parser reads it; the figures are the proxy's (connections per
    listener and backend, ended by cause, the duration and connect-time
    histograms, per lcore, the stack's drops by reason); other paths and
    methods get 404 and 405, HEAD no body, a client that never asks is reset.
    On two lcores the scrape's lane reports both lanes' figures."""
    two = lcores != "0"
    topo.backend(1, "id")
    topo.backend(2, "id")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--backend", f"{BACKENDS[1]}:80", "--metrics-port", "9100"],
               lcores=lcores, port="tap" if two else "af_xdp")
    n = 30
    try:
        assert f"metrics on http://{VIP}:9100/metrics" in px.output()
        if two:
            time.sleep(1)
            wait_until(lambda: all(backend_tel(px, b)["state"] == "up" for b in BACKENDS[:2]),
                       10, "both backends up")
        got = count(topo, n)
        assert sum(got.values()) == n and "none" not in got, got
        # The last pairs end once the client's close has gone through.
        wait_until(lambda: rows(telemetry(px, "/l4proxy/stats"), "listener_")[0]["active"] == 0,
                   10, "every pair ended")
        status, head, body = scrape(topo)
        assert status == 200 and "text/plain; version=0.0.4" in head, head
        ss = samples(body)
        assert metric(ss, "riptide_l4proxy_listener_connections_total", listener="default") == n
        assert metric(ss, "riptide_l4proxy_listener_active_connections", listener="default") == 0
        # The id backend says its name and closes: it closes first, mostly.
        fins = [metric(ss, "riptide_l4proxy_connections_ended_total", listener="default",
                       cause=c) for c in ("client_fin", "backend_fin")]
        assert sum(fins) == n and fins[1] > 0, fins
        assert metric(ss, "riptide_l4proxy_connections_ended_total", listener="default",
                      cause="backend_rst") == 0
        per_be = [metric(ss, "riptide_l4proxy_backend_connections_total", pool="default",
                         backend=f"{b}:80") for b in BACKENDS[:2]]
        assert sum(per_be) == n and all(v > 0 for v in per_be), per_be
        assert metric(ss, "riptide_l4proxy_backend_up", pool="default",
                      backend=f"{BACKENDS[0]}:80") == 1
        # Each backend answered "bN\n" (3 bytes) to each connection.
        assert sum(metric(ss, "riptide_l4proxy_backend_received_bytes_total", pool="default",
                          backend=f"{b}:80") for b in BACKENDS[:2]) == 3 * n
        assert metric(ss, "riptide_l4proxy_connection_duration_seconds_count",
                      listener="default") == n
        assert metric(ss, "riptide_l4proxy_connection_duration_seconds_bucket",
                      listener="default", le="+Inf") == n
        assert metric(ss, "riptide_l4proxy_backend_connect_seconds_count", pool="default") == n
        # Connects on one segment take well under a second.
        assert metric(ss, "riptide_l4proxy_backend_connect_seconds_bucket", pool="default",
                      le="1") == n
        assert metric(ss, "riptide_l4proxy_connection_duration_seconds_sum",
                      listener="default") > 0
        lc = {dict(k[1])["lcore"]: v for k, v in ss.items()
              if k[0] == "riptide_l4proxy_lcore_connections_total"}
        assert sorted(lc) == (["0", "1"] if two else ["0"]) and sum(lc.values()) == n, lc
        if two:
            assert all(v > 0 for v in lc.values()), lc
        assert metric(ss, "riptide_l4proxy_lcores") == (2 if two else 1)
        reasons = {dict(k[1])["reason"] for k in ss if k[0] == "riptide_stack_drops_total"}
        assert {"tcp_checksum", "tcp_no_port", "ip_checksum"} <= reasons, reasons
        # Other requests.
        assert scrape(topo, "/")[0] == 404
        assert scrape(topo, "/metrics", "POST")[0] == 405
        status, head, body = scrape(topo, "/metrics", "HEAD")
        assert status == 200 and body == "", (head, body)
        # A client that never sends its request is reset after 5 s.
        r = topo.exec("c", [PY, "-c", SILENT, VIP], timeout=30)
        assert r.stdout.split()[0] in ("reset", "closed") and 4 <= float(r.stdout.split()[1]) < 9, r.stdout
        # A scrape is no listener's client.
        status, _, body = scrape(topo)
        assert metric(samples(body), "riptide_l4proxy_listener_connections_total",
                      listener="default") == n
    finally:
        out = px.stop()
    clean_exit(out)


SILENT = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], 9100), timeout=20)
t = time.time()
try:
    how = "closed" if s.recv(100) == b"" else "data"
except ConnectionResetError:
    how = "reset"
print(how, round(time.time() - t, 2))
"""


def test_metrics_port_refused_where_a_listener_has_it(tmp_path):
    r = run([PROXY, "--no-pci", "--no-huge", "-m", "64", "--file-prefix", unique("rtpx"),
             "--vdev=net_null0", "--", "--ip", f"{VIP}/24", "--listen", "80",
             "--backend", f"{BACKENDS[0]}:80", "--metrics-port", "80"], check=False)
    assert r.returncode == 2 and "metrics_port = 80: [listener default] has it" in r.stderr, \
        r.stderr


def log_lines(path):
    with open(path) as f:
        return [dict(kv.split("=", 1) for kv in line.split()[1:]) | {"time": line.split()[0]}
                for line in f]


def test_connection_logs_one_line_per_connection_with_its_end(topo, tmp_path):
    """One line per finished connection (apps/l4proxy/connlog.c), written by a
    control thread: client, backend, bytes each way, times and how it ended
    (both FINs, a backend's reset, no backend left); the exit line and the
    metrics say how many were written."""
    topo.backend(1, "echo")
    topo.backend(2, "rst")
    log = str(tmp_path / "conns.log")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--backend", f"{BACKENDS[1]}:80", "--health-interval", "0",
                                "--log", log, "--metrics-port", "9100"])
    try:
        assert f"connection logs to {log}" in px.output()
        # b1 (round robin first) echoes 1000 bytes, both sides close.
        r = topo.exec("c", [PY, "-c", ECHO_SHA, VIP, "1000"])
        assert r.stdout.split() == ["sent", "1000", "received", "1000", "True"], r.stdout
        # b2 echoes one read, then resets.
        r = topo.exec("c", [PY, "-c", RST_CLIENT, VIP])
        assert "reset" in r.stdout, r.stdout
        # Every backend gone: no backend.
        topo.stop_backends()
        r = topo.exec("c", [PY, "-c", RST_CLIENT, VIP], check=False)
        wait_until(lambda: os.path.exists(log) and len(log_lines(log)) >= 3, 10, "three lines")
        ls = log_lines(log)
        # The echo client half-closes first: client_fin.
        assert [l["end"] for l in ls] == ["client_fin", "backend_rst", "no_backend"], ls
        fin, rst, nob = ls
        assert fin["backend"] == f"{BACKENDS[0]}:80" and fin["bytes_up"] == "1000" and \
            fin["bytes_down"] == "1000" and fin["listener"] == "default" and \
            fin["pool"] == "default" and fin["lcore"] == "0" and fin["retries"] == "0", fin
        assert fin["client"].startswith("198.18.100.") and float(fin["duration_ms"]) > 0 and \
            0 < float(fin["connect_ms"]) < 1000, fin
        assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", fin["time"]), fin
        assert abs(time.mktime(time.strptime(fin["time"][:19], "%Y-%m-%dT%H:%M:%S")) -
                   time.mktime(time.gmtime())) < 120, fin  # the wall clock, in UTC
        assert rst["backend"] == f"{BACKENDS[1]}:80" and rst["bytes_up"] == "9" and \
        rst["bytes_down"] == "5", rst  # hello, more; the echo of hello
        assert nob["backend"] == "-" and nob["connect_ms"] == "-", nob
        ss = samples(scrape(topo)[2])
        assert metric(ss, "riptide_l4proxy_log_lines_total") == 3
    finally:
        out = px.stop()
    clean_exit(out)
    assert "connection logs: 3 lines written, 0 lost (ring full), 0 suppressed" in out, out


def test_connection_logs_a_client_refused_by_a_limit(topo, tmp_path):
    """A client refused at accept (max_conns with over_limit = reset) is a
    line too, end=limit, and counted in the metrics' ended connections."""
    topo.backend(1, "hold")
    log = str(tmp_path / "conns.log")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--health-interval", "0", "--max-conns", "1", "--log", log,
                                "--metrics-port", "9100"])
    held = subprocess.Popen(["ip", "netns", "exec", topo.ns("c"), PY, "-c", HELD, VIP],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert held.stdout.readline().strip().startswith("one b1")
        r = topo.exec("c", [PY, "-c", RST_CLIENT, VIP], check=False)
        assert "reset" in r.stdout or r.returncode != 0, r.stdout + r.stderr
        wait_until(lambda: os.path.exists(log) and len(log_lines(log)) >= 1, 10, "its line")
        line = log_lines(log)[0]
        assert line["end"] == "limit" and line["backend"] == "-" and \
            line["client"].startswith("198.18.100.") and line["bytes_up"] == "0", line
        ss = samples(scrape(topo)[2])
        assert metric(ss, "riptide_l4proxy_connections_ended_total", listener="default",
                      cause="limit") == 1
        assert metric(ss, "riptide_l4proxy_listener_refused_total", listener="default") == 1
    finally:
        held.kill()
        held.wait()
        out = px.stop()
    clean_exit(out)


RST_CLIENT = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
try:
    s.sendall(b"hello")
    print("echo", s.recv(100))
    s.sendall(b"more")
    print("then", s.recv(100))
except ConnectionResetError:
    print("reset")
"""


def test_connection_logs_rate_limited_and_to_syslog(topo, tmp_path):
    """--log-rate 5: of 40 quick connections about five a second are logged,
    the rest counted as suppressed; --log syslog sends each line to
    /dev/log (here a socket the test binds, where the machine has none)."""
    import socket as sk
    if os.path.exists("/dev/log"):
        pytest.skip("a syslog daemon owns /dev/log here")
    dev = sk.socket(sk.AF_UNIX, sk.SOCK_DGRAM)
    dev.bind("/dev/log")
    dev.settimeout(10)
    topo.backend(1, "id")
    try:
        px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                    "--log", "syslog", "--log-rate", "5"])
        try:
            assert "connection logs to syslog (local0.info)" in px.output()
            t = time.time()
            assert count(topo, 40) == {"b1": 40}
            took = time.time() - t
            got = []
            while True:
                try:
                    dev.settimeout(2)
                    msg = dev.recv(4096).decode()
                    if msg.startswith("<134>"):  # local0.info: ours (the EAL logs too)
                        got.append(msg)
                except sk.timeout:
                    break
        finally:
            out = px.stop()
    finally:
        dev.close()
        os.unlink("/dev/log")
    clean_exit(out)
    assert got and all("l4proxy[" in g and re.search(r"end=(client|backend)_fin", g)
                       for g in got), got
    # A bucket of 5 a second, full at start: 5 + 5 a second of the run.
    assert 5 <= len(got) <= 5 + 5 * took + 1, (len(got), took)
    m = re.search(r"connection logs: (\d+) lines written, 0 lost \(ring full\), (\d+) "
                  r"suppressed", out)
    assert m and int(m.group(1)) == len(got) and int(m.group(1)) + int(m.group(2)) == 40, out


PPH_CLIENT = r"""
import errno, socket, struct, sys, time
addr, how = sys.argv[1], sys.argv[2]
def v2(cmd, src, sport):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    body = socket.inet_aton(src) + socket.inet_aton(addr) + struct.pack("!HH", sport, 80)
    body += bytes([0x04, 0, 2]) + b"ok"  # a NOOP TLV, skipped
    return sig + bytes([0x20 | cmd, 0x11]) + struct.pack("!H", len(body)) + body
t = time.time()
try:
    s = socket.create_connection((addr, 80), timeout=10)
    if how == "v1":
        s.sendall(b"PROXY TCP4 198.18.7.7 198.18.100.10 5555 80\r\nhello")
    elif how == "v2":
        s.sendall(v2(1, "198.18.8.8", 6666) + b"hello")
    elif how == "local":
        s.sendall(v2(0, "198.18.9.9", 7777) + b"hello")
    elif how == "garbage":
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    elif how == "plain":
        s.sendall(b"hello")
    # how == "silent": nothing
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        got += b
    print("got", got.decode().replace("\n", "|"))
except OSError as e:  # reset: at the connect, the send, the shutdown or the read
    if e.errno not in (errno.ECONNRESET, errno.ENOTCONN, errno.EPIPE):
        raise
    print("reset", round(time.time() - t, 1))
"""


def pp_client(topo, how):
    return topo.exec("c", [PY, "-c", PPH_CLIENT, VIP, how], timeout=30).stdout.strip()


def test_proxy_protocol_accepted_from_trusted_balancers_and_sent_v1_and_v2(topo, tmp_path):
    """accept_proxy: a client behind another balancer starts with a PROXY
    header (v1 or v2); the client it names is the one l4proxy uses: in the
    PROXY v2 header it sends the backend (with a unique ID TLV, the one its
    connection log gives), and in the log. A header that is not one, or none
    within 3 s, resets the client; so does a source outside trusted_sources.
    proxy_protocol = v1 sends the text form."""
    topo.backend(1, "pp")
    log = str(tmp_path / "conns.log")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--health-interval", "0", "--accept-proxy",
                                "--trusted-sources", "198.18.100.0/24, 198.18.5.5",
                                "--proxy-protocol=v2", "--log", log])
    try:
        assert "reads a PROXY header (v1 or v2) from 198.18.100.0/24, 198.18.5.5/32" in \
            px.output()
        v1 = pp_client(topo, "v1")
        m = re.fullmatch(r"got v=2 src=198\.18\.7\.7:5555 dst=198\.18\.100\.10:80 "
                         r"id=([0-9a-f]{24})\|hello", v1)
        assert m, v1
        uid = m.group(1)
        v2 = pp_client(topo, "v2")
        assert re.fullmatch(r"got v=2 src=198\.18\.8\.8:6666 dst=198\.18\.100\.10:80 "
                            r"id=[0-9a-f]{24}\|hello", v2), v2
        local = pp_client(topo, "local")  # LOCAL: the connection's own client
        assert re.fullmatch(r"got v=2 src=198\.18\.100\.\d+:\d+ dst=198\.18\.100\.10:80 "
                            r"id=[0-9a-f]{24}\|hello", local) and "198.18.9.9" not in local, local
        assert pp_client(topo, "garbage").startswith("reset"), "no header: reset"
        assert pp_client(topo, "plain").startswith("reset")
        silent = pp_client(topo, "silent")  # half-closed at once: ends the read
        assert silent.startswith("reset"), silent
        wait_until(lambda: os.path.exists(log) and len(log_lines(log)) >= 6, 10, "six lines")
        ls = log_lines(log)
        assert ls[0]["client"] == "198.18.7.7:5555" and ls[0]["id"] == uid and \
            ls[0]["end"] == "client_fin" and ls[0]["bytes_up"] == "5", ls[0]
        assert ls[1]["client"] == "198.18.8.8:6666", ls[1]
        assert [l["end"] for l in ls[3:6]] == ["proxy_header_bad"] * 3, ls
        ends = rows(telemetry(px, "/l4proxy/stats"), "listener_")[0]
        assert ends["conns"] == 6, ends
    finally:
        out = px.stop()
    clean_exit(out)
    # The same from a source it does not trust: reset; and v1 to the backend.
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--health-interval", "0", "--accept-proxy",
                                "--trusted-sources", "198.18.200.0/24",
                                "--proxy-protocol=v1", "--log", log])
    try:
        assert pp_client(topo, "v1").startswith("reset")
        wait_until(lambda: len(log_lines(log)) >= 7, 10, "its line")
        assert log_lines(log)[6]["end"] == "proxy_untrusted", log_lines(log)[6]
    finally:
        out = px.stop()
    clean_exit(out)
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--health-interval", "0", "--accept-proxy",
                                "--proxy-protocol=v1"])
    try:
        assert "reads a PROXY header (v1 or v2) from any source" in px.output()
        v1 = pp_client(topo, "v2")
        assert v1 == "got v=1 src=198.18.8.8:6666 dst=198.18.100.10:80 id=-|hello", v1
    finally:
        out = px.stop()
    clean_exit(out)


def test_proxy_protocol_header_that_never_ends_reset_after_3_s(topo, tmp_path):
    """A client that sends half a header and waits is reset after 3 s, not held."""
    topo.backend(1, "pp")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--health-interval", "0", "--accept-proxy"])
    try:
        r = topo.exec("c", [PY, "-c", HALF_HEADER, VIP], timeout=30)
        how, took = r.stdout.split()
        assert how == "reset" and 2.5 <= float(took) < 6, r.stdout
    finally:
        out = px.stop()
    clean_exit(out)
    assert re.search(r"listener default .*conns 1 ", out), out


HALF_HEADER = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=20)
s.sendall(b"PROXY TCP4 198.18.7.7 ")
t = time.time()
try:
    how = "closed" if s.recv(100) == b"" else "data"
except ConnectionResetError:
    how = "reset"
print(how, round(time.time() - t, 2))
"""


HTTP_COUNT = r"""
import collections, socket, sys
addr, n = sys.argv[1], int(sys.argv[2])
c = collections.Counter()
for i in range(n):
    s = socket.create_connection((addr, 80), timeout=10)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    c[data.decode().split("\r\n\r\n", 1)[-1].strip() or "none"] += 1
    s.close()
print(dict(sorted(c.items())))
"""

# An agent: each connection gets the line in FILE, then a close.
AGENT = r"""
import socket, sys
srv = socket.create_server((sys.argv[1], int(sys.argv[2])), reuse_port=True)
print("listening", flush=True)
while True:
    c, _ = srv.accept()
    try:
        c.sendall(open(sys.argv[3]).read().encode())
    except OSError:
        pass
    c.close()
"""


def http_count(topo, n):
    return eval(topo.exec("c", [PY, "-c", HTTP_COUNT, VIP, str(n)], timeout=120).stdout.strip())


def start_agent(topo, i, path, line):
    with open(path, "w") as f:
        f.write(line)
    log = os.path.join(topo.tmp, f"agent{i}.log")
    p = subprocess.Popen(["ip", "netns", "exec", topo.ns(f"b{i}"), PY, "-u", "-c", AGENT,
                          BACKENDS[i - 1], "9999", path], stdout=open(log, "w"),
                         stderr=subprocess.STDOUT)
    topo.procs.append(p)
    wait_until(lambda: "listening" in open(log).read(), 10, f"agent {i}", alive=p)


def say(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_http_health_check_and_agent_weights(topo, tmp_path):
    """health_check = http: a backend whose GET /health answers a status out of
    http_check_status is taken out, and back once it answers 2xx again. An
    agent on each backend (agent_port) sets its weight as a percentage of the
    configured one, drains it, takes it down and brings it up."""
    st = [str(tmp_path / f"status{i}") for i in (1, 2)]
    ag = [str(tmp_path / f"agent{i}") for i in (1, 2)]
    logs = [str(tmp_path / f"http{i}.log") for i in (1, 2)]
    for i in (1, 2):
        say(st[i - 1], "200")
        topo.backend(i, "http", log=logs[i - 1], extra=(st[i - 1],))
    start_agent(topo, 1, ag[0], "25%\n")
    start_agent(topo, 2, ag[1], "up 100%\n")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--algorithm", "weighted",
                                "--backend", f"{BACKENDS[0]}:80,weight=4",
                                "--backend", f"{BACKENDS[1]}:80,weight=4",
                                "--health-check", "http", "--http-check", "GET /health",
                                "--http-check-status", "200-299", "--health-interval", "200",
                                "--health-timeout", "150", "--rise", "1", "--fall", "1",
                                "--agent-port", "9999", "--agent-interval", "200"])
    try:
        wait_until(lambda: backend_tel(px, BACKENDS[0])["weight"] == 1, 10, "b1 at 25 %")
        assert backend_tel(px, BACKENDS[1])["weight"] == 4
        assert "backend 198.18.100.11:80: agent: 25% of weight 4" in px.output()
        assert http_count(topo, 50) == {"b1": 10, "b2": 40}  # weights 1 and 4
        assert "request GET /health HTTP/1.0" in open(logs[0]).read()
        # /health answers 503: out, and back at 200.
        say(st[1], "503")
        wait_until(lambda: f"{BACKENDS[1]}:80 is down" in px.output(), 5, "b2 down")
        assert http_count(topo, 5) == {"b1": 5}
        say(st[1], "204")
        wait_until(lambda: f"{BACKENDS[1]}:80 is up" in px.output(), 5, "b2 up")
        # The agent drains b1, then says ready at full weight.
        say(ag[0], "drain\n")
        wait_until(lambda: backend_tel(px, BACKENDS[0])["state"] == "draining", 5, "drain")
        assert http_count(topo, 5) == {"b2": 5}
        say(ag[0], "ready 100%\n")
        wait_until(lambda: backend_tel(px, BACKENDS[0])["weight"] == 4 and
                   backend_tel(px, BACKENDS[0])["state"] == "up", 5, "b1 back at 4")
        # The agent takes b2 down (its checks still pass), then up.
        say(ag[1], "down\n")
        wait_until(lambda: backend_tel(px, BACKENDS[1])["state"] == "down", 5, "agent down")
        assert backend_tel(px, BACKENDS[1])["health"] == "down"
        assert http_count(topo, 4) == {"b1": 4}
        say(ag[1], "up\n")
        wait_until(lambda: backend_tel(px, BACKENDS[1])["state"] == "up", 5, "agent up")
        got = http_count(topo, 8)
        assert got == {"b1": 4, "b2": 4}, got
    finally:
        out = px.stop()
    clean_exit(out)


def test_slow_start_ramps_a_returning_backends_weight(topo, tmp_path):
    """slow_start_ms: a backend back from its checks' down, or enabled again,
    starts at a small weight that grows to its own over the ramp, in steps
    that reach every lcore; others keep theirs."""
    topo.backend(1, "id")
    topo.backend(2, "id")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--algorithm", "weighted",
                                "--backend", f"{BACKENDS[0]}:80,weight=10",
                                "--backend", f"{BACKENDS[1]}:80,weight=10",
                                "--health-interval", "100", "--health-timeout", "100",
                                "--rise", "1", "--fall", "1", "--slow-start", "2000"])
    try:
        assert backend_tel(px, BACKENDS[1])["weight"] == 10  # no ramp at start
        topo.procs[1].kill()
        topo.procs[1].wait()
        wait_until(lambda: f"{BACKENDS[1]}:80 is down" in px.output(), 5, "b2 down")
        topo.procs[1] = topo.backend(2, "id")
        topo.procs.pop()
        wait_until(lambda: f"{BACKENDS[1]}:80 is up (slow start)" in px.output(), 5, "b2 up")
        early = backend_tel(px, BACKENDS[1])["weight"]
        assert 1 <= early <= 6, early
        got = count(topo, 20)  # b2 takes less than its half while it ramps
        assert got.get("b2", 0) < 10 and sum(got.values()) == 20, got
        wait_until(lambda: "backend 198.18.100.12:80: slow start over, weight 10" in px.output(),
                   5, "the ramp ends")
        assert backend_tel(px, BACKENDS[1])["weight"] == 10
        assert backend_tel(px, BACKENDS[0])["weight"] == 10
        # Enabled again after a disable: ramped too.
        assert ctl(px, "disable", "default", f"{BACKENDS[0]}:80")[0] == 0
        assert ctl(px, "enable", "default", f"{BACKENDS[0]}:80")[0] == 0
        assert backend_tel(px, BACKENDS[0])["weight"] <= 6
    finally:
        out = px.stop()
    clean_exit(out)


# n connections that each send 1 KB every 50 ms for S seconds and check its
# echo, all at once; then a half-close each and the rest of the echo.
LONG_XFERS = r"""
import os, socket, sys, threading, time
addr, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ok, bad = [0], []
lock = threading.Lock()
def one(i):
    try:
        s = socket.create_connection((addr, 80), timeout=30)
        end = time.time() + secs
        sent = got = 0
        while time.time() < end:
            b = os.urandom(1024)
            s.sendall(b)
            back = b""
            while len(back) < len(b):
                r = s.recv(len(b) - len(back))
                if not r:
                    raise EOFError("eof")
                back += r
            if back != b:
                raise ValueError("not the same bytes")
            sent += len(b)
            time.sleep(0.05)
        s.shutdown(socket.SHUT_WR)
        if s.recv(10) != b"":
            raise ValueError("more than was sent")
        with lock:
            ok[0] += 1
    except Exception as e:
        with lock:
            bad.append(f"{i}: {e!r}")
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
    time.sleep(0.005)
print("started", flush=True)
for t in ts:
    t.join()
print("ok", ok[0], "of", n, bad[:5], flush=True)
"""

COUNT_AT = r"""
import collections, socket, sys
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = collections.Counter()
for i in range(n):
    s = socket.create_connection((addr, port), timeout=10)
    c[s.makefile().readline().strip() or "none"] += 1
    s.close()
print(dict(sorted(c.items())))
"""


def count_at(topo, port, n):
    return eval(topo.exec("c", [PY, "-c", COUNT_AT, VIP, str(port), str(n)]).stdout.strip())


RELOAD_INI = [
    # as it starts
    "[global]\nstats_interval = 0\n\n"
    "[pool web]\nbackend = 198.18.100.11:80\nbackend = 198.18.100.12:80\n"
    "health_interval_ms = 200\n\n"
    "[listener www]\nport = 80\npool = web\n",
    # 1: b1 out of web (its pairs run on), b3 in; a new listener on 81 and its pool
    "[global]\nstats_interval = 0\n\n"
    "[pool web]\nbackend = 198.18.100.12:80\nbackend = 198.18.100.13:80\n"
    "health_interval_ms = 200\n\n"
    "[pool ids]\nbackend = 198.18.100.11:8080\nbackend = 198.18.100.12:8080\n"
    "health_interval_ms = 0\n\n"
    "[listener www]\nport = 80\npool = web\nmax_conns = 1000\nover_limit = queue\n\n"
    "[listener alt]\nport = 81\npool = ids\n",
    # 2: not valid: refused, 1 keeps running
    "[global]\nstats_interval = 0\n\n[pool web]\nbackend = 198.18.100.12:80\n"
    "[listener www]\nport = 80\npool = nowhere\n",
    # 3: ids down to b3, least connections; web back to b1 and b2
    "[global]\nstats_interval = 0\n\n"
    "[pool web]\nbackend = 198.18.100.11:80\nbackend = 198.18.100.12:80\n"
    "health_interval_ms = 200\n\n"
    "[pool ids]\nalgorithm = leastconn\nbackend = 198.18.100.13:8080\n"
    "health_interval_ms = 0\n\n"
    "[listener www]\nport = 80\npool = web\n\n[listener alt]\nport = 81\npool = ids\n",
    # 4: alt moves to port 82 (a new listener; 81 closes), www takes a rate limit
    "[global]\nstats_interval = 0\n\n"
    "[pool web]\nbackend = 198.18.100.11:80\nbackend = 198.18.100.12:80\n"
    "health_interval_ms = 200\n\n"
    "[pool ids]\nalgorithm = leastconn\nbackend = 198.18.100.13:8080\n"
    "health_interval_ms = 0\n\n"
    "[listener www]\nport = 80\npool = web\nmax_rate = 5000\n\n"
    "[listener alt]\nport = 82\npool = ids\n",
]


@pytest.mark.parametrize("lcores", ["0", "0-1"])
def test_reload_keeps_200_transfers_running_byte_exact(topo, tmp_path, lcores):
    """SIGHUP (and /l4proxy/reload) read the --config file again: pools,
    backends, listeners and limits change in place while 200 long transfers
    keep running through three reloads, each checked byte for byte: pairs on
    a backend that left the pool run on to their end; a new listener and pool
    serve at once; a moved listener closes its old port; a file that is not
    valid is refused and the running configuration stays. On two lcores
    every lane applies each reload."""
    two = lcores != "0"
    for i in (1, 2, 3):
        topo.backend(i, "echo")
        topo.backend(i, "id", port=8080)
    ini = tmp_path / "proxy.ini"
    ini.write_text(RELOAD_INI[0])
    px = Proxy(topo, tmp_path, ["--config", str(ini)], lcores=lcores,
               port="tap" if two else "af_xdp")
    if two:  # checks before the TAP joined the bridge failed: wait for them to pass
        time.sleep(1)
        wait_until(lambda: all(b["state"] == "up" for b in rows(
            telemetry(px, "/l4proxy/backends,web"))), 10, "web's backends up")
    xfer = subprocess.Popen(["ip", "netns", "exec", topo.ns("c"), PY, "-u", "-c", LONG_XFERS,
                             VIP, "200", "8"], stdout=subprocess.PIPE, text=True)
    try:
        assert xfer.stdout.readline().strip() == "started"
        assert rows(telemetry(px, "/l4proxy/stats"), "listener_")[0]["active"] == 200
        # 1, by SIGHUP.
        ini.write_text(RELOAD_INI[1])
        sighup(px, lambda o: "SIGHUP: ok: reloaded" in o, "reload 1")
        assert "reload 1): 2 pools, 2 listeners; backends 1 kept, 3 added, 1 out" in \
            px.output(), px.output()
        got = count_at(topo, 81, 10)
        assert got == {"b1": 5, "b2": 5} or two and sorted(got) == ["b1", "b2"] and \
            sum(got.values()) == 10, got
        web = [b["addr"] for b in rows(telemetry(px, "/l4proxy/backends,web"))]
        assert web == [f"{BACKENDS[2]}:80", f"{BACKENDS[1]}:80"] or \
            sorted(web) == sorted([f"{BACKENDS[1]}:80", f"{BACKENDS[2]}:80"]), web
        # 2, refused: the old one runs on.
        ini.write_text(RELOAD_INI[2])
        sighup(px, lambda o: "[listener www] pool = 'nowhere': no [pool nowhere]" in o,
               "reload 2 refused")
        assert "the running configuration is unchanged" in px.output()
        got = count_at(topo, 81, 4)
        assert got == {"b1": 2, "b2": 2} or two and set(got) <= {"b1", "b2"} and \
            sum(got.values()) == 4, got
        # 3, through telemetry (scripts/l4proxyctl reload).
        ini.write_text(RELOAD_INI[3])
        rc, r = ctl_reload(px)
        assert rc == 0 and r.startswith("ok: reloaded") and "(reload 2)" in r, r
        assert count_at(topo, 81, 6) == {"b3": 6}
        assert rows(telemetry(px, "/l4proxy/pools"))[1]["algorithm"] == "leastconn"
        # 4: alt moves from 81 to 82.
        ini.write_text(RELOAD_INI[4])
        sighup(px, lambda o: "(reload 3)" in o, "reload 3")
        assert count_at(topo, 82, 4) == {"b3": 4}
        r = topo.exec("c", [PY, "-c", COUNT_AT, VIP, "81", "1"], check=False)
        assert "ConnectionRefusedError" in r.stderr, r.stderr  # 81 closed: a RST
        ls = rows(telemetry(px, "/l4proxy/stats"), "listener_")
        assert [(l["name"], l["port"]) for l in ls] == [("www", 80), ("alt", 82)], ls
        out = xfer.communicate(timeout=60)[0]
        assert out.strip().startswith("ok 200 of 200"), out
    finally:
        if xfer.poll() is None:
            xfer.kill()
        out = px.stop()
    clean_exit(out)
    # Every transfer was the proxy's: 200 on www, none reset.
    assert re.search(r"listener www +port 80 +conns 200 active 0 refused 0", out), out
    if two:  # lane 1 applied the three reloads
        assert len(re.findall(r"lcore 1: reloaded", out)) == 3, out


def test_reload_refused_without_a_config_file_and_for_what_needs_a_restart(topo, tmp_path):
    topo.backend(1, "id")
    px = Proxy(topo, tmp_path, backend_args("--health-interval", "0"))
    try:
        r = telemetry(px, "/l4proxy/reload")
        assert r == "error: no --config file to read again (flags only)", r
    finally:
        px.stop()
    ini = tmp_path / "proxy.ini"
    ini.write_text(RELOAD_INI[0])
    px = Proxy(topo, tmp_path, ["--config", str(ini)])
    try:
        ini.write_text(RELOAD_INI[0].replace("stats_interval = 0", "max_pairs = 100"))
        r = telemetry(px, "/l4proxy/reload")
        assert "changes max_pairs, metrics_port, log or cluster, which need a restart" in r, r
        assert rows(telemetry(px, "/l4proxy/pools"))[0]["backends"] == 2  # unchanged
    finally:
        out = px.stop()
    clean_exit(out)


def test_maglev_digest_same_for_the_same_backends_in_any_order(topo, tmp_path):
    """/l4proxy/maglev,POOL (l4proxyctl digest): two proxies given the same
    backends in other orders build identical tables; a backend removed and
    added again at run time gives the table back; a weight changes it."""
    def digest(px):
        rc, out = ctl(px, "digest", "default")
        assert rc == 0 and "maglev table of 65537 entries over" in out, out
        return out.split()[-1]
    order = [f"{b}:80" for b in BACKENDS]
    px = Proxy(topo, tmp_path, ["--listen", "80", "--algorithm", "maglev",
                                "--health-interval", "0",
                                *[a for b in order for a in ("--backend", b)]])
    try:
        d1 = digest(px)
        assert ctl(px, "remove", "default", order[1])[0] == 0
        d2 = digest(px)
        assert ctl(px, "add", "default", order[1])[0] == 0
        assert digest(px) == d1 != d2
        assert ctl(px, "weight", "default", order[0], "2")[0] == 0
        assert digest(px) != d1
    finally:
        out = px.stop()
    clean_exit(out)
    px = Proxy(topo, tmp_path, ["--listen", "80", "--algorithm", "maglev",
                                "--health-interval", "0",
                                *[a for b in reversed(order) for a in ("--backend", b)]])
    try:
        assert digest(px) == d1
    finally:
        out = px.stop()
    clean_exit(out)
    px = Proxy(topo, tmp_path, backend_args("--health-interval", "0"))
    try:
        rc, out = ctl(px, "digest", "default")
        assert rc == 1 and out == "error: pool default balances by roundrobin, not maglev", out
    finally:
        px.stop()


@pytest.mark.parametrize("ini,message", [
    ("[listener web]\nport = 80\npool = nowhere\n[pool web]\nbackend = 198.18.1.1:80\n",
     "[listener web] pool = 'nowhere': no [pool nowhere]"),
    ("[pool web]\nalgorithm = fastest\nbackend = 198.18.1.1:80\n[listener web]\nport = 80\n"
     "pool = web\n", "[pool web] algorithm = 'fastest'"),
    ("[pool web]\nbackend = 198.18.1.1\n[listener web]\nport = 80\npool = web\n",
     "backend '198.18.1.1' is not ADDR:PORT"),
    ("[pool web]\nbackend = 198.18.1.1:80\nrise = lots\n[listener web]\nport = 80\npool = web\n",
     "[pool web] rise = 'lots': want a whole number"),
    ("[global]\ncolour = blue\n", "[global] colour: unknown key"),
    ("[global]\nmetrics_port = 80\n[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\n"
     "pool = a\n", "metrics_port = 80: [listener l] has it"),
    ("[pool a]\nbackend = 198.18.1.1:80\nhealth_check = udp\n[listener l]\nport = 80\npool = a\n",
     ":3: [pool a] health_check = 'udp': tcp or http"),
    ("[pool a]\nbackend = 198.18.1.1:80\nhttp_check = get /x\n[listener l]\nport = 80\n"
     "pool = a\n", "http_check = 'get /x': the method is upper-case letters"),
    ("[pool a]\nbackend = 198.18.1.1:80\nhttp_check = GET x\n[listener l]\nport = 80\n"
     "pool = a\n", "http_check = 'GET x': want METHOD /PATH"),
    ("[pool a]\nbackend = 198.18.1.1:80\nhttp_check_status = 200-600\n[listener l]\nport = 80\n"
     "pool = a\n", "http_check_status = '200-600': want a status (200) or a range"),
    ("[pool a]\nbackend = 198.18.1.1:80\nagent_interval_ms = 0\n[listener l]\nport = 80\n"
     "pool = a\n", ":3: [pool a] agent_interval_ms = '0'"),
    ("[global]\nmetrics_port = 65536\n", ":2: [global] metrics_port = '65536': want a whole "
     "number 0..65535"),
    ("[global]\nlog_rate = many\n", "[global] log_rate = 'many'"),
    ("[pool web]\nbackend = 198.18.1.1:80\n[listener web]\nport = 80\npool = web\n"
     "over_limit = wait\n", "[listener web] over_limit = 'wait': reset or queue"),
    ("[frontend x]\nport = 80\n", "[frontend x]: unknown section"),
    # Lines rte_cfgfile would skip in silence: no limit would be set at all.
    ("[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\npool = a\nmax_conns 100\n",
     ":6: 'max_conns 100': not KEY = VALUE"),
    ("[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\npool = a\n"
     "[listener l]\nport = 81\npool = a\n", ":6: [listener l] again (first at line 3)"),
    ("[pool a]\nbackend = 198.18.1.1:80\n[pool a]\nbackend = 198.18.1.2:80\n"
     "[listener l]\nport = 80\npool = a\n", ":3: [pool a] again (first at line 1)"),
    ("[pool a]\n[listener l]\nport = 80\npool = a\n", "[pool a]: no backend = ADDR:PORT"),
    ("[pool a]\nbackend = 198.18.1.1:80\nfall = 0\n[listener l]\nport = 80\npool = a\n",
     ":3: [pool a] fall = '0': want a whole number 1..100 (0 is not a setting here)"),
    ("[pool a]\nbackend = 198.18.1.1:80\nproxy_protocol = v3\n[listener l]\nport = 80\n"
     "pool = a\n", "[pool a] proxy_protocol = 'v3': v1, v2 or off"),
    ("[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\npool = a\naccept_proxy = yes\n",
     ":6: [listener l] accept_proxy = 'yes': on or off"),
    ("[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\npool = a\n"
     "trusted_sources = 198.18.0.0/24, lb1\n",
     ":6: [listener l] trusted_sources: 'lb1' is not ADDR or ADDR/PREFIX"),
    ("[pool a]\nbackend = 198.18.1.1:80\n", "no [listener NAME] section"),
    ("[pool a]\nbackend = 198.18.1.1:80,weight=lots\n[listener l]\nport = 80\npool = a\n",
     "the option is weight=1..1000"),
    ("[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 0\npool = a\n",
     ":4: [listener l] port = '0': want a whole number 1..65535"),
    # 0 used to be taken: every connect, check or queued client failed at once.
    ("[pool a]\nbackend = 198.18.1.1:80\nconnect_timeout_ms = 0\n[listener l]\nport = 80\n"
     "pool = a\n", ":3: [pool a] connect_timeout_ms = '0': want a whole number 1..600000"),
    ("[pool a]\nbackend = 198.18.1.1:80\nhealth_timeout_ms = 0\n[listener l]\nport = 80\n"
     "pool = a\n", ":3: [pool a] health_timeout_ms = '0'"),
    ("[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\npool = a\n"
     "queue_timeout_ms = 0\n", ":6: [listener l] queue_timeout_ms = '0'"),
    ("[global]\nmax_pairs = 0\n[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\n"
     "pool = a\n", ":2: [global] max_pairs = '0': want a whole number 1..1000000"),
    # Signs and wrap-around: -1 used to be 2^64-1, refused only by luck of the range.
    ("[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\npool = a\n"
     "max_conns = -1\n", ":6: [listener l] max_conns = '-1': want a whole number 0..10000000"),
    ("[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\npool = a\n"
     "max_rate = 18446744073709551617\n", "[listener l] max_rate = '18446744073709551617'"),
    ("[pool a]\nbackend = 198.18.1.1:80\nrise = +2\n[listener l]\nport = 80\npool = a\n",
     ":3: [pool a] rise = '+2'"),
    # Two listeners on one port used to fail later, as "Address already in use".
    ("[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\npool = a\n"
     "[listener m]\nport = 80\npool = a\n", "[listener m] port = 80: [listener l] has it"),
    # A name cut to 31 characters could have made two pools one.
    ("[pool " + "p" * 40 + "]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\npool = a\n",
     ": a name of 1..31 characters"),
    ("[pool a]\nbackend = 198.18.1.1:80\nbackends = 198.18.1.2:80\n[listener l]\nport = 80\n"
     "pool = a\n", ":3: [pool a] backends: unknown key (known: algorithm, backend,"),
    # Refused, not cut: a 97th key or an 18th section would have been lost.
    ("[pool a]\n" + "".join(f"backend = 198.18.1.{k}:80\n" for k in range(1, 98)) +
     "[listener l]\nport = 80\npool = a\n", "[pool a]: 97 keys, at most 96"),
    ("".join(f"[pool p{i}]\nbackend = 198.18.1.1:80\n[listener l{i}]\nport = {80 + i}\n"
             f"pool = p{i}\n" for i in range(9)), "18 sections, at most 17"),
    ("[pool a]\n" + "".join(f"backend = 198.18.1.{k}:80\n" for k in range(1, 66)) +
     "[listener l]\nport = 80\npool = a\n", "[pool a] backend"),
])
def test_config_errors_name_the_place(tmp_path, ini, message):
    f = tmp_path / "proxy.ini"
    f.write_text(ini)
    r = run([PROXY, "-l", "0", "--no-pci", "--no-huge", "-m", "128",
             f"--file-prefix={unique('rtcfg')}", "--vdev", "net_null0", "--",
             "--ip", "198.18.0.1/24", "--config", str(f)], check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert str(f) in r.stderr and message in r.stderr, r.stderr
    # one mistake, one message
    assert len([l for l in r.stderr.splitlines() if l.startswith("l4proxy:")]) == 1, r.stderr


def test_config_missing_file_and_mixed_flags_refused(tmp_path):
    base = [PROXY, "-l", "0", "--no-pci", "--no-huge", "-m", "128", "--vdev", "net_null0"]
    missing = str(tmp_path / "nonexistent.ini")
    r = run([*base, f"--file-prefix={unique('rtcfg')}", "--", "--ip", "198.18.0.1/24",
             "--config", missing], check=False)
    assert r.returncode == 2 and f"{missing}: cannot read it" in r.stderr, r.stderr
    f = tmp_path / "ok.ini"
    f.write_text("[pool a]\nbackend = 198.18.1.1:80\n[listener l]\nport = 80\npool = a\n")
    r = run([*base, f"--file-prefix={unique('rtcfg')}", "--", "--ip", "198.18.0.1/24",
             "--config", str(f), "--listen", "81"], check=False)
    assert r.returncode == 2 and "--config and --listen do not mix" in r.stderr, r.stderr
    # Every pool and listener flag: each used to be ignored in silence beside --config.
    for flag in (["--algorithm", "maglev"], ["--connect-timeout", "100"], ["--rise", "3"],
                 ["--max-conns", "10"], ["--over-limit", "queue"], ["--proxy-protocol"],
                 ["--backend-max-conns", "5"], ["--idle-timeout", "1000"]):
        r = run([*base, f"--file-prefix={unique('rtcfg')}", "--", "--ip", "198.18.0.1/24",
                 "--config", str(f), *flag], check=False)
        assert r.returncode == 2, r.stdout + r.stderr
        assert f"--config and {flag[0]} do not mix: pools and listeners come from the file" \
            in r.stderr, r.stderr


def test_limits_that_two_lcores_cannot_share_refused_and_one_queue_ports_said(tmp_path):
    """Every limit is split between the lanes: one below the number of lcores
    would leave a lane a share of 0, which means no limit, so it is refused
    with what to do. A port with fewer queues than lcores is refused too."""
    base = [PROXY, "-l", "0-1", "--no-pci", "--no-huge"]
    args = ["--", "--ip", "198.18.0.1/24", "--listen", "80", "--backend", "198.18.0.9:80"]
    for flag, what in ((["--max-conns", "1"], "listener default 1 is below the 2 lcores"),
                       (["--max-rate", "1"], "listener default 1 is below the 2 lcores"),
                       (["--backend-max-conns", "1"], "pool default 1 is below the 2 lcores")):
        r = run([*base, "-m", "256", f"--file-prefix={unique('rtcfg')}", "--vdev", "net_null0",
                 *args, *flag], check=False)
        assert r.returncode == 2 and what in r.stderr, r.stdout + r.stderr
        assert "Raise it to 2 or more, or run on fewer lcores" in r.stderr, r.stderr
    # net_pcap reading a file and writing one: one queue pair, and two lanes need two.
    empty = tmp_path / "empty.pcap"  # a pcap header, no packets
    empty.write_bytes(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    vdev = f"net_pcap0,rx_pcap={empty},tx_pcap={tmp_path / 'out.pcap'}"
    r = run([*base, "-m", "512", f"--file-prefix={unique('rtcfg')}", "--vdev", vdev, *args],
            check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 queue pair(s) at most, and 2 lcores need one each" in r.stderr, r.stderr


CHECKED_INI = """; a comment
[pool web]
algorithm = maglev
backend = 198.18.1.1:80
backend = 198.18.1.2:8080,weight=3
health_interval_ms = 0

[listener www]
port = 80
pool = web
over_limit = queue
"""


def test_check_config_prints_the_effective_configuration_and_reads_it_back(tmp_path):
    """l4proxy --check-config FILE (like haproxy -c, nginx -t): no EAL, no port;
    exit 0 and every key with its effective value, defaults included, as an INI
    that --check-config reads back to the same text; exit 2 and the one message
    for a bad file."""
    f = tmp_path / "proxy.ini"
    f.write_text(CHECKED_INI)
    r = run([PROXY, "--check-config", str(f)], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith(f"; {f}: valid."), r.stdout
    body = r.stdout.split("\n\n", 1)[1]
    assert body == (
        "[global]\nstats_interval = 0\ndrain_timeout = 10\nmax_pairs = 16384\n"
        "metrics_port = 0\nlog = off\nlog_rate = 0\nwithdraw_wait_ms = 0\n\n"
        "[pool web]\nalgorithm = maglev\nbackend = 198.18.1.1:80,weight=1\n"
        "backend = 198.18.1.2:8080,weight=3\nconnect_timeout_ms = 3500\n"
        "health_interval_ms = 0\nhealth_timeout_ms = 500\nrise = 2\nfall = 2\n"
        "proxy_protocol = off\nbackend_max_conns = 0\nhealth_check = tcp\n"
        "http_check = GET /\nhttp_check_status = 200-399\nagent_port = 0\n"
        "agent_interval_ms = 1000\nslow_start_ms = 0\n\n"
        "[listener www]\nport = 80\npool = web\nmax_conns = 0\nmax_rate = 0\n"
        "idle_timeout_ms = 300000\nover_limit = queue\nqueue_timeout_ms = 2000\n"
        "accept_proxy = off\n"), body
    again = tmp_path / "again.ini"
    again.write_text(r.stdout)
    r2 = run([PROXY, "--check-config", str(again)], check=False)
    assert r2.returncode == 0 and r2.stdout.split("\n\n", 1)[1] == body, r2.stdout + r2.stderr
    f.write_text(CHECKED_INI.replace("port = 80", "port = 80000"))
    r = run([PROXY, "--check-config", str(f)], check=False)
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert r.stderr == f"l4proxy: {f}:9: [listener www] port = '80000': want a whole number " \
        "1..65535\n", r.stderr
    r = run([PROXY, "--check-config"], check=False)
    assert r.returncode == 2 and "--check-config FILE" in r.stderr, r.stderr


def test_telemetry_8_pools_of_64_backends_nothing_cut(tmp_path):
    """The most the proxy takes (8 listeners, 8 pools of 64 backends) read back
    whole through dpdk-telemetry.py: every backend of every pool with its
    address and state, every pool and listener, the stack's drops and the
    executor's counters; and a bad or unknown pool is an error, not a cut."""
    ini = ["[global]\n"]
    for i in range(8):
        ini.append(f"[pool p{i}]\nhealth_interval_ms = 0\n")
        ini += [f"backend = 198.18.{10 + i}.{k}:{8000 + k}\n" for k in range(1, 65)]
        ini.append(f"[listener l{i}]\nport = {80 + i}\npool = p{i}\n")
    f = tmp_path / "big.ini"
    f.write_text("".join(ini))
    prefix = unique("rtbig")
    px = DpdkProcess([PROXY, "-l", "0", "--no-pci", "--no-huge", "-m", "512",
                      f"--file-prefix={prefix}", "--vdev", "net_null0", "--",
                      "--ip", "198.18.0.2/15", "--config", str(f)],
                     prefix, str(tmp_path / "proxy.log"))
    try:
        px.wait_for_output("ready")
        tel = types.SimpleNamespace(prefix=prefix)
        pools = rows(telemetry(tel, "/l4proxy/pools"))
        assert [p["name"] for p in pools] == [f"p{i}" for i in range(8)], pools
        assert all(p["backends"] == 64 and p["up"] == 64 for p in pools), pools
        for i in range(8):
            bs = rows(telemetry(tel, f"/l4proxy/backends,p{i}"))
            assert [b["addr"] for b in bs] == \
                [f"198.18.{10 + i}.{k}:{8000 + k}" for k in range(1, 65)], bs
            assert all(b["state"] == "up" and b["weight"] == 1 for b in bs), bs
        stats = telemetry(tel, "/l4proxy/stats")
        assert [(l["name"], l["port"], l["pool"]) for l in rows(stats, "listener_")] == \
            [(f"l{i}", 80 + i, f"p{i}") for i in range(8)], stats
        assert "drop_not_for_us" in stats and "drop_tcp_checksum" in stats, stats
        assert stats["executor_tasks_live"] >= 8, stats  # an acceptor a listener
        assert telemetry(tel, "/l4proxy/backends,nosuch") is None
        assert telemetry(tel, "/l4proxy/backends") is None
    finally:
        out = px.stop(sig=signal.SIGTERM)
    assert "all mbufs returned to the pool" in out, out


def test_config_file_works(topo, tmp_path):
    for i in (1, 2):
        topo.backend(i, "id")
    ini = tmp_path / "proxy.ini"
    ini.write_text("[global]\nstats_interval = 1\n"
                   "[pool web]\nalgorithm = roundrobin\n"
                   f"backend = {BACKENDS[0]}:80\nbackend = {BACKENDS[1]}:80\n"
                   "health_interval_ms = 0\n"
                   "[listener web]\nport = 80\npool = web\nmax_conns = 100\n")
    px = Proxy(topo, tmp_path, ["--config", str(ini)])
    try:
        assert count(topo, 10) == {"b1": 5, "b2": 5}
        wait_until(lambda: "stats (interval)" in px.output(), 5, "the 1 s interval stats")
    finally:
        clean_exit(px.stop())


@pytest.mark.parametrize("seed", ["7", "random"])
def test_loss_and_reordering_both_sides_byte_exact(topo, tmp_path, seed):
    """2% loss and 5% reordering on the proxy's port, which carries both the
    client side and the backend side: every byte still arrives, in order."""
    topo.backend(1, "echo")
    px = Proxy(topo, tmp_path, ["--listen", "80", "--backend", f"{BACKENDS[0]}:80",
                                "--health-interval", "0",
                                "--impair", f"loss=2%,reorder=5%:3,seed={seed}"])
    try:
        print(re.search(r"l4proxy: impairment on .*", px.output()).group(0))
        out = topo.exec("c", [PY, "-c", ECHO_SHA, VIP, str(10 * 1000 * 1000)], timeout=600).stdout
        assert "sent 10000000 received 10000000 True" in out, out
    finally:
        out = px.stop()
    clean_exit(out)
    m = re.search(r"impaired rx in \d+ lost (\d+) dup \d+ reordered (\d+) .*; tx in \d+ "
                  r"lost (\d+) dup \d+ reordered (\d+)", out)
    assert m and all(int(x) > 0 for x in m.groups()), out
