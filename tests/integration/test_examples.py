# SPDX-License-Identifier: BSD-3-Clause
"""The networking examples (apps/examples/tcp_server.c, tcp_client.c,
udp_echo.c) against Linux peers in a namespace, over net_tap: each is a whole
riptide host brought up by stack_host_up(), so these also prove the host
layer end to end. The server answers many connections at once, a line split
across segments, a long line, and resets a line over its bound; the client
talks to a Linux line server (socat + rev); the UDP echo returns every
datagram byte-exact. Each exits cleanly on SIGINT with every mbuf back."""
import os
import re
import signal
import subprocess

import pytest

from conftest import BUILD, DpdkProcess, eal_memory_args, run, unique, wait_for_iface

EX = os.path.join(BUILD, "apps", "examples")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = "/usr/bin/python3"

LINE_CLIENTS = r"""
import random, socket, sys, threading, time
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(int(sys.argv[4]))
bad = []

def recv_lines(s, count):
    buf = b""
    while buf.count(b"\n") < count:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf.split(b"\n")[:count]

def one(i):
    stage = "connect"
    try:
        s = socket.create_connection((addr, port), timeout=20)
        stage = "send"
        lines = [("conn%d-line%d-" % (i, k) + "x" * rng.randint(0, 900)).encode()
                 for k in range(5)]
        # The first line in two writes with a pause: split across segments.
        s.sendall(lines[0][:7])
        time.sleep(0.05)
        s.sendall(lines[0][7:] + b"\n")
        s.sendall(b"".join(l + b"\n" for l in lines[1:]))
        stage = "recv"
        got = recv_lines(s, 5)
        if got != [l[::-1] for l in lines]:
            bad.append(i)
        s.shutdown(socket.SHUT_WR)
        stage = "fin"
        if s.recv(10) != b"":
            bad.append(i)
        s.close()
    except Exception as e:
        bad.append((i, stage, repr(e)))

ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print("clients %d bad %r" % (n, bad))
"""

TOO_LONG = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"y" * 3000)  # no end of line within the server's 1024 bytes
try:
    d = s.recv(10)
    print("closed" if d == b"" else "answered %r" % d)
except ConnectionResetError:
    print("reset")
"""

UDP_CLIENT = r"""
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
s.settimeout(2)
bad = lost = 0
for i in range(int(sys.argv[3])):
    data = os.urandom(1 + i % 1472)
    s.send(data)
    try:
        if s.recv(2048) != data:
            bad += 1
    except socket.timeout:
        lost += 1
print("sent %s bad %d lost %d" % (sys.argv[3], bad, lost))
"""


@pytest.fixture
def tap_example(netns, tmp_path):
    """Factory: tap_example(name, app_args, net) runs example NAME inside a
    new namespace (its TAP is born there), with Linux at net.1/24 and the
    example at net.2/24. Returns (namespace, process, example address)."""
    procs = []

    def start(name, app_args, net):
        ns = netns()
        ifc = unique("rte")
        prefix = unique("rtex")
        argv = ["ip", "netns", "exec", ns.name, os.path.join(EX, "example_" + name), "-l", "0",
                "--no-pci", *eal_memory_args(), f"--file-prefix={prefix}",
                f"--vdev=net_tap0,iface={ifc}", "--", "--ip", f"{net}.2/24", *app_args]
        proc = DpdkProcess(argv, prefix, str(tmp_path / f"{name}.log"))
        procs.append(proc)
        wait_for_iface(ifc, netns=ns.name)
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add {net}.1/24 dev {ifc}; ip link set {ifc} up")
        return ns, proc, f"{net}.2"

    yield start
    for p in procs:
        p.stop(sig=signal.SIGKILL, timeout=5, expect_rc=None)


def test_tcp_server_reverses_lines_for_many_connections(tap_example):
    ns, proc, addr = tap_example("tcp_server", ["--port", "7", "--max-conns", "64"],
                                 "198.18.70")
    proc.wait_for_output("reversing lines on port 7")
    seed = int.from_bytes(os.urandom(2), "little")
    out = ns.exec([PY, "-c", LINE_CLIENTS, addr, "7", "40", str(seed)], timeout=120).stdout
    assert "clients 40 bad []" in out, f"seed {seed}: {out}"
    out = ns.exec([PY, "-c", TOO_LONG, addr, "7"], timeout=30).stdout
    assert "reset" in out, out
    out = proc.stop(sig=signal.SIGINT)
    assert "tcp_server: accepted 41 refused 0" in out, out
    assert "tcp_server: all mbufs returned to the pool" in out, out


def test_tcp_server_full_slab_refuses_and_recovers(tap_example):
    """With room for 2 sessions, a third connection is reset at once, and
    once one ends a new one is served: the executor gave its slot back."""
    ns, proc, addr = tap_example("tcp_server", ["--max-conns", "2"], "198.18.71")
    proc.wait_for_output("reversing lines on port 7")
    script = r"""
import socket, sys, time
a = sys.argv[1]
held = [socket.create_connection((a, 7), timeout=10) for _ in range(2)]
for s in held:
    s.sendall(b"abc\n"); assert s.recv(10) == b"cba\n"
try:  # the reset may even beat connect() back to the caller
    third = socket.create_connection((a, 7), timeout=10)
    print("third:", "closed" if third.recv(10) == b"" else "answered")
except ConnectionResetError:
    print("third: reset")
held[0].close()
time.sleep(0.5)
s = socket.create_connection((a, 7), timeout=10)
s.sendall(b"riptide\n")
print("after:", s.recv(100))
"""
    out = ns.exec([PY, "-c", script, addr], timeout=60).stdout
    assert "third: reset" in out, out
    assert "after: b'editpir\\n'" in out, out
    out = proc.stop(sig=signal.SIGINT)
    m = re.search(r"accepted (\d+) refused (\d+)", out)
    assert m and m.groups() == ("3", "1"), out
    assert "all mbufs returned" in out, out


def test_tcp_client_talks_to_a_linux_line_server(netns, tmp_path):
    ns = netns()
    ifc = unique("rte")
    prefix = unique("rtex")
    srv = ns.popen(["socat", "TCP-LISTEN:7,reuseaddr,fork", "EXEC:rev"])
    try:
        argv = ["ip", "netns", "exec", ns.name, os.path.join(EX, "example_tcp_client"), "-l",
                "0", "--no-pci", *eal_memory_args(), f"--file-prefix={prefix}",
                f"--vdev=net_tap0,iface={ifc}", "--", "--ip", "198.18.72.2/24",
                "--connect", "198.18.72.1:7", "hello", "riptide", ""]
        proc = DpdkProcess(argv, prefix, str(tmp_path / "client.log"))
        wait_for_iface(ifc, netns=ns.name)
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add 198.18.72.1/24 dev {ifc}; ip link set {ifc} up")
        proc.proc.wait(timeout=60)
        out = proc.stop(expect_rc=0)
        assert "reply: olleh\nreply: editpir\nreply: \n" in out, out
        assert "tcp_client: sent 3 lines, 3 replies" in out, out
        assert "all mbufs returned" in out, out
    finally:
        srv.kill()
        srv.wait()


def test_tcp_client_nobody_listening_fails_clearly(tap_example):
    ns, proc, _ = tap_example("tcp_client", ["--connect", "198.18.73.1:9", "x"], "198.18.73")
    proc.proc.wait(timeout=60)
    out = proc.stop(expect_rc=1)
    assert "tcp_client: sent 0 lines, 0 replies: Connection refused" in out, out
    assert "all mbufs returned" in out, out


def test_udp_echo_returns_every_datagram(tap_example):
    ns, proc, addr = tap_example("udp_echo", ["--port", "7"], "198.18.74")
    proc.wait_for_output("echoing port 7")
    out = ns.exec([PY, "-c", UDP_CLIENT, addr, "7", "2000"], timeout=120).stdout
    assert "sent 2000 bad 0 lost 0" in out, out
    out = proc.stop(sig=signal.SIGINT)
    assert "udp_echo: received 2000 echoed 2000 send errors 0" in out, out
    assert "all mbufs returned" in out, out


def test_examples_refuse_bad_arguments_by_name():
    for name, args, msg in [("tcp_server", ["--ip", "198.18.75.2/24", "--max-conns", "0"],
                             "--max-conns '0': 1..65536"),
                            ("tcp_client", ["--ip", "198.18.75.2/24"],
                             "--connect ADDR:PORT is required"),
                            ("udp_echo", ["--ip", "10.0"], "--ip '10.0': wants ADDR/PREFIX")]:
        r = run([os.path.join(EX, "example_" + name), "-l", "0", "--no-pci", "--no-huge", "-m",
                 "128", f"--file-prefix={unique('rtexbad')}", "--vdev", "net_null0", "--",
                 *args], check=False)
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        assert msg in r.stderr, (name, r.stderr)
        assert "arguments: Invalid argument" in r.stderr, (name, r.stderr)


def linerev_checks(ns, addr, port):
    """The newcomer's program, either implementation: 20 connections of
    reversed lines, and 300 UDP datagrams echoed."""
    seed = int.from_bytes(os.urandom(2), "little")
    out = ns.exec([PY, "-c", LINE_CLIENTS, addr, str(port), "20", str(seed)], timeout=120).stdout
    assert "clients 20 bad []" in out, f"seed {seed}: {out}"
    out = ns.exec([PY, "-c", UDP_CLIENT, addr, str(port), "300"], timeout=60).stdout
    assert "sent 300 bad 0 lost 0" in out, out


def test_linerev_on_riptide_and_on_epoll_same_answers_and_the_line_count(netns, tmp_path):
    """Issue 19's goal: the newcomer's program on riptide's public API takes
    at most 1.5x the lines of code of the Linux sockets + epoll version.
    Both are run against the same peer first: the count is of programs
    that do the same thing."""
    ns2 = netns()
    ifc = unique("rte")
    prefix = unique("rtex")
    rip = DpdkProcess(["ip", "netns", "exec", ns2.name, os.path.join(EX, "example_linerev"),
                       "-l", "0", "--no-pci", *eal_memory_args(), f"--file-prefix={prefix}",
                       f"--vdev=net_tap0,iface={ifc}", "--", "198.18.78.2/24", "7"],
                      prefix, str(tmp_path / "linerev.log"))
    try:
        wait_for_iface(ifc, netns=ns2.name)
        ns2.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                 f"ip addr add 198.18.78.1/24 dev {ifc}; ip link set {ifc} up")
        rip.wait_for_output("linerev: port 7")
        linerev_checks(ns2, "198.18.78.2", 7)
        out = rip.stop(sig=signal.SIGINT)
        assert "linerev: stopped" in out and "all mbufs returned" in out, out
    finally:
        rip.stop(sig=signal.SIGKILL, timeout=5, expect_rc=None)

    ns3 = netns()
    ns3.exec("ip addr add 198.18.79.1/32 dev lo")
    epoll = ns3.popen([os.path.join(EX, "linerev_epoll"), "7"], stdout=subprocess.PIPE,
                      text=True)
    try:
        assert "linerev_epoll: port 7" in epoll.stdout.readline()
        linerev_checks(ns3, "198.18.79.1", 7)
        epoll.send_signal(signal.SIGINT)
        assert epoll.wait(timeout=10) == 0
    finally:
        epoll.kill()
        epoll.wait()

    out = run([PY, os.path.join(ROOT, "scripts", "count-lines.py"),
               os.path.join(ROOT, "apps/examples/linerev.c"),
               os.path.join(ROOT, "apps/examples/linerev_epoll.c")]).stdout
    print(out)
    ratio = float(re.search(r"ratio (\d+\.\d+)", out).group(1))
    assert ratio <= 1.5, out
