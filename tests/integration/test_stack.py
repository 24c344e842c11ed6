# SPDX-License-Identifier: BSD-3-Clause
"""The network layer against Linux: riptide's echo app answers ping and ARP
for a Linux host in a namespace, over net_tap and over net_af_xdp on a veth
pair; Linux's ARP learns riptide's MAC; 10,000 UDP datagrams of random sizes
come back byte-exact; riptide resolves Linux's MAC when it speaks first; a
closed port answers with ICMP, which Linux reports as ECONNREFUSED; Debian's
dpdk-dumpcap captures on a riptide port."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import BUILD, eal_memory_args, run, unique, wait_for_iface, wait_listening

ECHO = os.path.join(BUILD, "apps", "echo", "echo")


UDP_CLIENT = r"""
import os, random, socket, sys
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(int(sys.argv[4]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((addr, port))
s.settimeout(2)
bad = lost = 0
for i in range(n):
    data = os.urandom(rng.randint(1, 1472))
    for attempt in range(3):
        s.send(data)
        try:
            got = s.recv(2048)
        except socket.timeout:
            lost += 1
            if lost > 20:
                print(f"sent {i} bad {bad} retries {lost} (giving up)")
                sys.exit(1)
            continue
        if got != data:
            bad += 1
        break
print(f"sent {n} bad {bad} retries {lost}")
"""

UNREACH_CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
s.settimeout(3)
s.send(b"anyone?")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("ECONNREFUSED")
except socket.timeout:
    print("timeout")
"""


def udp_checks(ns, proc, addr):
    seed = int.from_bytes(os.urandom(2), "little")
    print(f"datagram sizes from seed {seed}")
    out = ns.exec(["/usr/bin/python3", "-c", UDP_CLIENT, addr, "7", "10000", str(seed)],
                  timeout=300, check=False).stdout
    m = re.search(r"sent (\d+) bad (\d+) retries (\d+)", out)
    assert m and m.group(2) == "0", out
    # With no netem on this link a retry would mean a lost datagram.
    assert m.group(3) == "0", out
    out = ns.exec(["/usr/bin/python3", "-c", UNREACH_CLIENT, addr, "9"], timeout=30).stdout
    assert "ECONNREFUSED" in out, out


def check_ping_and_arp(ns, proc, addr, ifc):
    proc.wait_for_output("answering ARP and ping")
    mac = re.search(r"\(([0-9a-f:]{17})\)", proc.output()).group(1)
    out = ns.exec(["ping", "-c", "100", "-i", "0.01", "-W", "2", addr], check=False,
                  timeout=60).stdout
    assert " 0% packet loss" in out, out
    neigh = ns.exec(["ip", "neigh", "show", addr, "dev", ifc]).stdout
    assert mac in neigh, f"Linux did not learn riptide's MAC {mac}: {neigh}"
    udp_checks(ns, proc, addr)
    out = proc.stop(sig=signal.SIGINT)
    # No retries were needed (checked above), so the counts are exact.
    m = re.search(r"udp port 7: received (\d+) echoed (\d+)", out)
    assert m and m.groups() == ("10000", "10000"), out
    m = re.search(r"ping in (\d+) out (\d+)", out)
    assert m and m.groups() == ("100", "100"), out
    assert "all mbufs returned" in out or "none held by riptide" in out, out
    return out


def test_echo_bad_address_is_a_clear_error():
    r = run([ECHO, "-l", "0", "--no-pci", "--no-huge", "-m", "128",
             f"--file-prefix={unique('rtbad')}", "--vdev", "net_null0", "--", "--ip", "10.0.0"],
            check=False)
    assert r.returncode == 2 and "--ip '10.0.0': wants ADDR/PREFIX" in r.stderr


def test_ping_and_arp_over_tap(netns, tmp_path):
    from conftest import DpdkProcess
    ns = netns()
    ifc = unique("rte")
    prefix = unique("rtpmd")
    # echo runs inside the namespace, so its TAP is born there.
    proc = DpdkProcess(["ip", "netns", "exec", ns.name, ECHO, "-l", "0", "--no-pci",
                        *eal_memory_args(), f"--file-prefix={prefix}",
                        f"--vdev=net_tap0,iface={ifc}", "--", "--ip", "198.18.50.2/24",
                        "--udp-port", "7"],
                       prefix, str(tmp_path / "echo.log"))
    try:
        wait_for_iface(ifc, netns=ns.name)
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add 198.18.50.1/24 dev {ifc}; ip link set {ifc} up")
        check_ping_and_arp(ns, proc, "198.18.50.2", ifc)
    finally:
        proc.stop(sig=signal.SIGKILL, expect_rc=None)


def echo_pid(prefix):
    """The echo process started with --file-prefix=prefix (not its wrappers)."""
    for _ in range(50):
        for pid in run(["pgrep", "-f", "--", f"--file-prefix={prefix}"], check=False).stdout.split():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "echo":
                        return int(pid)
            except OSError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"no echo process with --file-prefix={prefix}")


@pytest.mark.parametrize("signals", ["quiet", "kept"])
def test_tap_rx_takes_no_signal_per_packet(netns, tmp_path, signals):
    """net_tap asks the kernel for a signal per packet queued to its rx fd;
    a riptide port polls without them (dataplane/dp_tap.c). 1,000 pings at
    2 ms: all answered, and the process is signalled fewer than 50 times
    (the kernel's count, perf's signal:signal_deliver). With
    RIPTIDE_TAP_SIGNALS=1 the PMD's signals stay: about one per packet, which
    shows that the count sees them."""
    from conftest import DpdkProcess
    ns = netns()
    ifc = unique("rtsg")
    prefix = unique("rtpmd")
    env = ["env", "RIPTIDE_TAP_SIGNALS=1"] if signals == "kept" else []
    proc = DpdkProcess(["ip", "netns", "exec", ns.name, *env, ECHO, "-l", "0", "--no-pci",
                        *eal_memory_args(), f"--file-prefix={prefix}",
                        f"--vdev=net_tap0,iface={ifc}", "--", "--ip", "198.18.56.2/24"],
                       prefix, str(tmp_path / "echo.log"))
    try:
        wait_for_iface(ifc, netns=ns.name)
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add 198.18.56.1/24 dev {ifc}; ip link set {ifc} up")
        proc.wait_for_output("answering ARP and ping")
        pid = echo_pid(prefix)
        ping = ns.popen(["ping", "-c", "1000", "-i", "0.002", "-W", "2", "198.18.56.2"],
                        stdout=subprocess.PIPE, text=True)
        st = run(["perf", "stat", "-x", ",", "-e", "signal:signal_deliver", "-p", str(pid),
                  "--", "sleep", "1.5"], check=False, timeout=30)
        out, _ = ping.communicate(timeout=60)
        assert " 0% packet loss" in out, out
        m = re.search(r"^(\d+),,signal:signal_deliver", st.stderr, re.M)
        assert m, st.stderr
        delivered = int(m.group(1))
        if signals == "quiet":
            assert delivered < 50, f"{delivered} signals in 1.5 s of pings at 2 ms"
        else:
            assert delivered >= 300, f"only {delivered} signals with the PMD's trigger kept"
        out = proc.stop(sig=signal.SIGINT)
        assert "all mbufs returned to the pool" in out, out
    finally:
        proc.stop(sig=signal.SIGKILL, expect_rc=None)


def test_ping_and_arp_over_af_xdp_veth(netns, dpdk_proc):
    ns = netns()
    inner, outer = unique("rtxi"), unique("rtxo")
    run(["ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", ns.name])
    try:
        # A veth leaves checksums to hardware that is not there: a real wire
        # carries them, so make Linux compute them.
        ns.exec(f"ethtool -K {inner} tx off >/dev/null")
        ns.exec(f"ip addr add 198.18.51.1/24 dev {inner} && ip link set {inner} up")
        run(["ip", "link", "set", outer, "up"])
        proc = dpdk_proc([ECHO, "-l", "0", "--no-pci", *eal_memory_args(),
                          f"--vdev=net_af_xdp0,iface={outer}"],
                         ["--ip", "198.18.51.2/24", "--udp-port", "7"])
        check_ping_and_arp(ns, proc, "198.18.51.2", inner)
    finally:
        run(["ip", "link", "del", outer], check=False)


def test_riptide_speaks_first_and_resolves_linux_by_arp(netns, dpdk_proc):
    ns = netns()
    inner, outer = unique("rthi"), unique("rtho")
    run(["ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", ns.name])
    try:
        ns.exec(f"ip addr add 198.18.52.1/24 dev {inner} && ip link set {inner} up")
        run(["ip", "link", "set", outer, "up"])
        listener = ns.popen(["/usr/bin/python3", "-c",
                             "import socket\n"
                             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                             "s.bind(('198.18.52.1', 5353)); s.settimeout(20)\n"
                             "print(s.recvfrom(100))\n"], stdout=subprocess.PIPE, text=True)
        wait_listening(ns.name, 5353, udp=True)
        proc = dpdk_proc([ECHO, "-l", "0", "--no-pci", *eal_memory_args(),
                          f"--vdev=net_af_xdp0,iface={outer}"],
                         ["--ip", "198.18.52.2/24", "--hello", "198.18.52.1:5353"])
        got, _ = listener.communicate(timeout=30)
        assert "hello" in got and "198.18.52.2" in got, got
        out = proc.stop(sig=signal.SIGINT)
        # riptide asked for Linux's MAC itself, and had an answer.
        m = re.search(r"requests out (\d+) replies in (\d+)", out)
        assert m and int(m.group(1)) >= 1 and int(m.group(2)) >= 1, out
    finally:
        run(["ip", "link", "del", outer], check=False)


def test_riptide_speaks_first_over_tap(netns, tmp_path):
    from conftest import DpdkProcess
    ns = netns()
    ifc = unique("rtth")
    prefix = unique("rtpmd")
    listener = None
    proc = DpdkProcess(["ip", "netns", "exec", ns.name, ECHO, "-l", "0", "--no-pci",
                        *eal_memory_args(), f"--file-prefix={prefix}",
                        f"--vdev=net_tap0,iface={ifc}", "--", "--ip", "198.18.53.2/24"],
                       prefix, str(tmp_path / "echo.log"))
    try:
        wait_for_iface(ifc, netns=ns.name)
        proc.wait_for_output("answering ARP and ping")
        proc.stop(sig=signal.SIGINT)
        # The TAP is gone with that process; the second run speaks first
        # into a namespace whose Linux side is configured and listening.
        prefix2 = unique("rtpmd")
        # The hello waits in riptide's ARP queue (retried for 3 s) until
        # Linux has its address and answers.
        listener = ns.popen(["/usr/bin/python3", "-c",
                             "import socket\n"
                             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                             "s.bind(('0.0.0.0', 5353)); s.settimeout(30)\n"
                             "print(s.recvfrom(100))\n"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
        proc = DpdkProcess(["ip", "netns", "exec", ns.name, ECHO, "-l", "0", "--no-pci",
                            *eal_memory_args(), f"--file-prefix={prefix2}",
                            f"--vdev=net_tap0,iface={ifc}", "--", "--ip", "198.18.53.2/24",
                            "--hello", "198.18.53.1:5353"],
                           prefix2, str(tmp_path / "echo2.log"))
        wait_for_iface(ifc, netns=ns.name)
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add 198.18.53.1/24 dev {ifc}; ip link set {ifc} up")
        got, err = listener.communicate(timeout=40)
        assert "hello" in got and "198.18.53.2" in got, got + err
        out = proc.stop(sig=signal.SIGINT)  # checks the exit status too
        assert "echo: all mbufs returned to the pool" in out, out
        m = re.search(r"requests out (\d+) replies in (\d+)", out)
        assert m and int(m.group(1)) >= 1 and int(m.group(2)) >= 1, out
    finally:
        if listener is not None and listener.poll() is None:
            listener.kill()
        proc.stop(sig=signal.SIGKILL, expect_rc=None)


def test_dpdk_dumpcap_captures_a_ping_on_a_riptide_port(netns, tmp_path, hugepages):
    """Every riptide host calls rte_pdump_init() (tcpstack/stack_host.c), so
    Debian's dpdk-dumpcap, a secondary process, captures on its port: a ping
    through echo's net_tap, read back with tcpdump, request and reply each
    time; echo then exits with every mbuf back (the capture's callbacks held
    none of riptide's)."""
    from conftest import DpdkProcess
    ns = netns()
    ifc = unique("rtd")
    prefix = unique("rtdump")
    pcap = tmp_path / "ping.pcap"
    # A secondary maps the primary's memory at the primary's addresses. The
    # sanitizer build's shadow and dumpcap's own libraries leave the default
    # place free in one and taken in the other now and then ("Cannot reserve
    # ... at [0x7f...]"): put it where both leave room (above ASan's shadow).
    proc = DpdkProcess(["ip", "netns", "exec", ns.name, ECHO, "-l", "0", "--no-pci",
                        *hugepages, "--base-virtaddr=0x200000000000",
                        f"--file-prefix={prefix}", f"--vdev=net_tap0,iface={ifc}",
                        "--", "--ip", "198.18.52.2/24"],
                       prefix, str(tmp_path / "echo.log"))
    cap = None
    try:
        wait_for_iface(ifc, netns=ns.name)
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add 198.18.52.1/24 dev {ifc}; ip link set {ifc} up")
        proc.wait_for_output("answering ARP and ping")
        cap = subprocess.Popen(["dpdk-dumpcap", f"--file-prefix={prefix}", "-i", "net_tap0",
                                "-P", "-f", "icmp", "-c", "6", "-w", str(pcap)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # Capturing once the file exists (dumpcap writes its header first).
        deadline = time.monotonic() + 20
        while not pcap.exists() and cap.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pcap.exists(), cap.communicate(timeout=5)[0] if cap.poll() is not None else ""
        out = ns.exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.52.2"],
                      check=False).stdout
        assert " 0% packet loss" in out, out
        text = cap.communicate(timeout=20)[0]
        assert cap.returncode == 0, text
        dump = run(["tcpdump", "-n", "-r", str(pcap)]).stdout
        requests = re.findall(r"IP 198\.18\.52\.1 > 198\.18\.52\.2: ICMP echo request", dump)
        replies = re.findall(r"IP 198\.18\.52\.2 > 198\.18\.52\.1: ICMP echo reply", dump)
        assert len(requests) == 3 and len(replies) == 3, dump
    finally:
        if cap is not None and cap.poll() is None:
            cap.kill()
            cap.wait()
        out = proc.stop(sig=signal.SIGINT)
    assert "all mbufs returned to the pool" in out, out


TCP_ECHO_CLIENTS = r"""
import hashlib, os, socket, sys, threading
addr, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = [0] * n

def one(i):
    data = os.urandom(size)
    s = socket.create_connection((addr, 7), timeout=30)
    got = bytearray()
    def rd():
        while True:
            b = s.recv(65536)
            if not b:
                break
            got.extend(b)
    t = threading.Thread(target=rd)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(60)
    s.close()
    ok[i] = hashlib.sha256(got).digest() == hashlib.sha256(data).digest()

ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
for t in ts:
    t.join(120)
print("connections", n, "byte-exact", sum(ok))
"""


def lane_blocks(out):
    """echo's exit output cut into each lane's block: {lane: text}."""
    parts = re.split(r"(?m)^echo: lane (\d+) \(lcore \d+, \w+\): ", out)
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_echo_on_two_lcores_serves_on_both_and_its_client_runs_on_the_second(netns, tmp_path):
    """echo -l 0-1 on a two-queue net_tap: the kernel fills each lane's queue
    by riptide's flow hash (rss, said at start);
    ping and ARP answered (once: lane 1's stack is quiet), 24 TCP echo
    connections of 200 kB each byte-exact, spread over both lanes, every mbuf
    home on both. Then echo's TCP client, which runs on the last lane, to a
    Linux echo server: its connection's replies come back to that lane (or
    it would fail), every byte checked."""
    from conftest import DpdkProcess
    ns = netns()
    ifc = unique("rt2l")
    prefix = unique("rtpmd")
    argv = ["ip", "netns", "exec", ns.name, ECHO, "-l", "0-1", "--no-pci",
            *eal_memory_args(768), f"--vdev=net_tap0,iface={ifc}", "--", "--ip", "198.18.55.2/24"]
    proc = DpdkProcess(argv[:7] + [f"--file-prefix={prefix}"] + argv[7:] + ["--tcp-echo", "7"],
                       prefix, str(tmp_path / "echo.log"))
    server = None
    try:
        wait_for_iface(ifc, netns=ns.name)
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add 198.18.55.1/24 dev {ifc}; ip link set {ifc} up")
        proc.wait_for_output("answering ARP and ping")
        assert ("echo: 2 lcores on net_tap0, a queue each: rss (the kernel fills net_tap's "
                "queues by riptide's flow hash") in proc.output(), proc.output()
        out = ns.exec(["ping", "-c", "20", "-i", "0.01", "-W", "2", "198.18.55.2"],
                      check=False, timeout=60).stdout
        assert " 0% packet loss" in out, out
        out = ns.exec(["/usr/bin/python3", "-c", TCP_ECHO_CLIENTS, "198.18.55.2", "24",
                       "200000"], timeout=300).stdout
        assert "connections 24 byte-exact 24" in out, out
        out = proc.stop(sig=signal.SIGINT)
        lanes = lane_blocks(out)
        assert set(lanes) == {0, 1}, out
        accepted = {k: int(re.search(r"tcp echo: accepted (\d+) completed \1 failed 0", v)
                           .group(1)) for k, v in lanes.items()}
        assert sum(accepted.values()) == 24 and min(accepted.values()) >= 3, accepted
        assert "echo1: all mbufs returned to the pool" in out, out
        assert "echo: all mbufs returned to the pool" in out, out
        m = re.search(r"echo1: rx \d+ tx \d+ arp requests in \d+ replies out (\d+)", out)
        assert m and m.group(1) == "0", out  # only lane 0 answers ARP

        # The client, from lane 1, to Linux (its TAP is born again: echo
        # retries ARP until Linux has its address, as the hello test does).
        server = ns.popen(["socat", "TCP-LISTEN:7777,reuseaddr,fork", "EXEC:cat"])
        wait_listening(ns.name, 7777)
        prefix2 = unique("rtpmd")
        proc = DpdkProcess(argv[:7] + [f"--file-prefix={prefix2}"] + argv[7:] +
                           ["--tcp-client", "198.18.55.1:7777", "--bytes", "3000000"],
                           prefix2, str(tmp_path / "echo2.log"))
        wait_for_iface(ifc, netns=ns.name)
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add 198.18.55.1/24 dev {ifc}; ip link set {ifc} up")
        deadline = time.monotonic() + 60
        while proc.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        out = proc.stop(sig=signal.SIGINT)  # exit status 0: every byte matched
        assert "(from the last lcore)" in out, out
        assert re.search(r"tcp-client sent 3000000 received 3000000 .* match", out), out
        assert "echo1: all mbufs returned to the pool" in out, out
    finally:
        if server is not None:
            server.kill()
        proc.stop(sig=signal.SIGKILL, expect_rc=None)
