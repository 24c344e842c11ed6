# SPDX-License-Identifier: BSD-3-Clause
"""pktbench against real things: a TAP into a namespace where Linux counts the
datagrams, loopback-check between two processes over memif and over
virtio-user/vhost-user, a TCP transfer between two Linux namespaces through
`pktbench impair`, rxonly, macswap seen from Linux, the --no-huge fallback,
clear errors for bad arguments, and workers on N lcores (port pairs, shared
ports, software steering). The packets themselves (txonly's generator,
loopback-check's checker, macswap) are apps/pktbench/traffic.c; the workers
apps/pktbench/worker.c."""
import hashlib
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import (BUILD, ROOT, eal_memory_args, run, unique, wait_for_iface, wait_listening,
                      wait_until)

PKTBENCH = os.path.join(BUILD, "apps", "pktbench", "pktbench")


def summary_ok(out):
    assert "all mbufs returned to the pool" in out, out[-3000:]


def test_bad_vdev_is_a_clear_error_not_a_crash():
    r = run([PKTBENCH, "-l", "0", "--no-pci", "--no-huge", "-m", "128",
             f"--file-prefix={unique('rtbad')}", "--vdev", "net_bogus0", "--", "--mode", "io"],
            check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "pktbench: EAL:" in r.stderr


def test_malformed_impairment_string_is_a_clear_error():
    r = run([PKTBENCH, "-l", "0", "--no-pci", "--no-huge", "-m", "128",
             f"--file-prefix={unique('rtbad')}", "--vdev", "net_null0", "--vdev", "net_null1",
             "--", "--mode", "impair", "--impair", "loss=2%,reorder=5%"], check=False)
    assert r.returncode == 2
    assert "impairment 'reorder'" in r.stderr


def test_unknown_mode_and_help():
    r = run([PKTBENCH, "-l", "0", "--no-pci", "--no-huge", "-m", "128",
             f"--file-prefix={unique('rtbad')}", "--vdev", "net_null0", "--", "--mode", "warp"],
            check=False)
    assert r.returncode == 2 and "unknown mode 'warp'" in r.stderr
    r = run([PKTBENCH, "--help"])
    assert "loopback-check" in r.stdout and "--impair SPEC" in r.stdout


def test_io_on_null_pair_returns_every_mbuf():
    r = run([PKTBENCH, "-l", "0", "--no-pci", *eal_memory_args(),
             f"--file-prefix={unique('rtpb')}", "--vdev", "net_null0", "--vdev", "net_null1",
             "--", "--mode", "io", "--duration", "1", "--stats-interval", "0.5", "--xstats"])
    summary_ok(r.stdout)
    assert re.search(r"net_null0\.rx_good_packets: \d+", r.stdout), "xstats printed"
    assert len(re.findall(r"^\[ *[\d.]+s\] rx", r.stdout, re.M)) >= 1, "per-interval stats"
    rx = [int(n) for n in re.findall(r"port \d net_null\d\s+rx (\d+)", r.stdout)]
    assert len(rx) == 2 and min(rx) > 0  # forwarding, both ways (rates are for benchmarks)


COUNTER = r"""
import socket, sys, time
count = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("198.18.30.1", 9))
print("ready", flush=True)
n, deadline = 0, time.monotonic() + 30
s.settimeout(1)
while n < count and time.monotonic() < deadline:
    try:
        s.recv(2048)
        n += 1
    except socket.timeout:
        pass
sys.stdin.readline()  # the sender has exited: what else arrived is extra
s.setblocking(False)
try:
    while True:
        s.recv(2048)
        n += 1
except BlockingIOError:
    pass
print(n, flush=True)
"""


def test_txonly_through_tap_linux_counts_datagrams(netns, tmp_path):
    """pktbench waits for SIGUSR1, sent once Linux has configured the TAP and
    bound its counting socket; Linux then counts exactly --count datagrams."""
    ns = netns()
    ifc = unique("rtx")
    count = 2000
    log = tmp_path / "pktbench.log"
    # pktbench runs inside the namespace, so its TAP is born there.
    p = ns.popen([PKTBENCH, "-l", "0", "--no-pci", *eal_memory_args(),
                  f"--file-prefix={unique('rtpb')}", f"--vdev=net_tap0,iface={ifc}", "--",
                  "--mode", "txonly", "--count", str(count), "--rate", "20000",
                  "--src-ip", "198.18.30.2", "--dst-ip", "198.18.30.1", "--wait-signal",
                  "--stats-interval", "0"], stdout=open(log, "w"), stderr=subprocess.STDOUT)
    counter = None
    try:
        wait_for_iface(ifc, netns=ns.name)
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add 198.18.30.1/24 dev {ifc}; ip link set {ifc} up")
        counter = ns.popen(["/usr/bin/python3", "-c", COUNTER, str(count)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert counter.stdout.readline().strip() == "ready"
        wait_until(lambda: "waiting for SIGUSR1" in log.read_text(), 20,
                   "pktbench waiting for the signal", alive=p)
        p.send_signal(signal.SIGUSR1)
        assert p.wait(timeout=30) == 0, log.read_text()
        out, _ = counter.communicate("done\n", timeout=60)
    finally:
        for q in (p, counter):
            if q is not None and q.poll() is None:
                q.kill()
                q.wait()
    assert f"generated {count} " in log.read_text(), log.read_text()
    assert int(out.strip()) == count


def loopback_check(dpdk_proc, mem, server_vdev, client_vdev, sock, extra=()):
    """pktbench io echoes on one end; loopback-check sends 100,000 numbered
    packets from the other and must get every one back, in order, intact."""
    server = dpdk_proc([PKTBENCH, "-l", "1", "--no-pci", *mem, server_vdev],
                       ["--mode", "io", "--stats-interval", "0"])
    server.wait_for_output("pktbench: mode io")
    try:
        r = run([PKTBENCH, "-l", "0", "--no-pci", *mem, f"--file-prefix={unique('rtpb')}",
                 client_vdev, "--", "--mode", "loopback-check", "--count", "100000",
                 "--stats-interval", "0", *extra], check=False, timeout=120)
    finally:
        out = server.stop()
        if os.path.exists(sock):
            os.unlink(sock)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "received 100000 in-order 100000 out-of-order 0 corrupt 0 lost 0" in r.stdout
    summary_ok(r.stdout)
    summary_ok(out)


def test_loopback_check_fails_when_no_probe_comes_back(netns):
    """A TAP whose kernel side is down swallows what is sent: the check says
    the path does not loop back, and fails, instead of reporting 100% loss
    as a measurement."""
    ns = netns()
    r = ns.exec([PKTBENCH, "-l", "0", "--no-pci", *eal_memory_args(),
                 f"--file-prefix={unique('rtpb')}", f"--vdev=net_tap0,iface={unique('rtx')}",
                 "--", "--mode", "loopback-check", "--count", "1000", "--timeout-ms", "300",
                 "--stats-interval", "0"], check=False, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(r"none of (\d+) probes came back in 300 ms", r.stdout), r.stdout
    assert int(re.search(r"none of (\d+) probes", r.stdout).group(1)) >= 20  # every 10 ms
    assert "sent 0 received 0" in r.stdout, r.stdout
    summary_ok(r.stdout)  # and every mbuf came home


def test_loopback_check_over_memif_between_two_processes(dpdk_proc):
    sock = f"/tmp/{unique('rtmemif')}.sock"
    loopback_check(dpdk_proc, eal_memory_args(),
                   f"--vdev=net_memif0,role=server,id=0,socket={sock}",
                   f"--vdev=net_memif0,role=client,id=0,socket={sock}", sock)


def test_loopback_check_over_virtio_user_and_vhost_user(dpdk_proc, hugepages):
    # vhost-user shares the guest's memory through file descriptors: the
    # virtio side needs hugepage-backed memory (or memfd, which --no-huge is not).
    sock = f"/tmp/{unique('rtvhost')}.sock"
    mem = [*hugepages, "--single-file-segments"]
    # vhost enables the guest's rx queue a moment after link-up; until then the
    # echo side's tx is refused: loopback-check's probes wait for the path.
    loopback_check(dpdk_proc, mem, f"--vdev=net_vhost0,iface={sock},queues=1",
                   f"--vdev=net_virtio_user0,path={sock},queues=1", sock)


def test_tcp_transfer_through_pktbench_impair_is_byte_exact(netns, dpdk_proc, tmp_path):
    """Two Linux hosts talk through pktbench impair (AF_XDP on two veths) at 2%
    loss and 5% reordering; Linux's TCP recovers, every byte arrives."""
    a, b = netns(), netns()
    a0, a1, b0, b1 = (unique(x) for x in ("rta", "rtA", "rtb", "rtB"))
    for ns, inner, outer, addr in ((a, a0, a1, "198.18.40.1/24"),
                                   (b, b0, b1, "198.18.40.2/24")):
        run(["ip", "link", "add", outer, "type", "veth", "peer", "name", inner,
             "netns", ns.name])
        ns.exec(f"ip addr add {addr} dev {inner} && ip link set {inner} up")
        # The frames cross a userspace bridge: no checksum or segmentation
        # left for hardware that is not there.
        ns.exec(f"ethtool -K {inner} tx off tso off gso off gro off >/dev/null 2>&1; true")
        run(f"ethtool -K {outer} tx off tso off gso off gro off >/dev/null 2>&1; "
            f"ip link set {outer} up")
    try:
        seed = int.from_bytes(os.urandom(2), "little")
        print(f"impairment seed {seed}")
        pmd = dpdk_proc([PKTBENCH, "-l", "1", "--no-pci", *eal_memory_args(),
                         f"--vdev=net_af_xdp0,iface={a1}", f"--vdev=net_af_xdp1,iface={b1}"],
                        ["--mode", "impair", "--impair", f"loss=2%,reorder=5%:3,seed={seed}",
                         "--stats-interval", "0"])
        pmd.wait_for_output("pktbench: mode impair")  # both ports started and polled
        data = tmp_path / "payload"
        data.write_bytes(os.urandom(20 * 1024 * 1024))
        want = hashlib.sha256(data.read_bytes()).hexdigest()
        got = tmp_path / "received"
        recv = b.popen(["socat", "-u", "TCP-LISTEN:5001,reuseaddr", f"OPEN:{got},creat,trunc"])
        wait_listening(b.name, 5001)
        a.exec(["socat", "-u", f"FILE:{data}", "TCP:198.18.40.2:5001,retry=20"], timeout=240)
        assert recv.wait(timeout=60) == 0
        out = pmd.stop(sig=signal.SIGINT)
    finally:
        run(["ip", "link", "del", a1], check=False)
        run(["ip", "link", "del", b1], check=False)
    assert hashlib.sha256(got.read_bytes()).hexdigest() == want, "transfer corrupted"
    lost = [int(n) for n in re.findall(r"impair \S+: in \d+ out \d+ lost (\d+)", out)]
    assert len(lost) == 2 and sum(lost) > 0, out[-3000:]
    reordered = [int(n) for n in re.findall(r"reordered (\d+)", out)]
    assert sum(reordered) > 0
    # AF_XDP keeps its fill ring's mbufs after close (DPDK 22.11); pktbench
    # says so and must not report any other shortfall.
    assert "mbufs not returned" not in out
    assert "none held by riptide" in out or "all mbufs returned" in out


@pytest.mark.parametrize("extra,pool,note", [
    ([], 28192, False),  # sized for the impairment: 2 x limit 10000, plus 8192
    (["--nb-mbufs", "1000"], 1000, True),  # the user's size, with a warning
])
def test_impair_pool_covers_what_the_impairment_holds(extra, pool, note):
    """A pool the delay queues can empty starves rx refill (net_af_xdp's rx
    then stops for good: a black hole, seen in loss.sh as a 300 s stall), so
    impair mode sizes its pool for both directions' limit unless told."""
    r = run([PKTBENCH, "-l", "0", "--no-pci", *eal_memory_args(),
             f"--file-prefix={unique('rtpb')}", "--vdev", "net_null0", "--vdev", "net_null1",
             "--", "--mode", "impair", "--impair", "delay=20ms", "--duration", "1",
             "--stats-interval", "0", *extra])
    assert f", {pool} mbufs" in r.stdout, r.stdout
    assert ("less than the impairment may hold" in r.stderr) == note, r.stderr
    summary_ok(r.stdout)


def test_rxonly_counts_every_packet_and_returns_every_mbuf():
    r = run([PKTBENCH, "-l", "0", "--no-pci", *eal_memory_args(),
             f"--file-prefix={unique('rtpb')}", "--vdev", "net_null0", "--",
             "--mode", "rxonly", "--duration", "1", "--stats-interval", "0"])
    m = re.search(r"rxonly port 0: received (\d+)", r.stdout)
    assert m and int(m.group(1)) > 0, r.stdout
    rx = re.search(r"port 0 net_null0\s+rx (\d+)", r.stdout)
    assert rx and rx.group(1) == m.group(1), r.stdout  # counted all it received
    summary_ok(r.stdout)


# One raw Ethernet frame out of the TAP's kernel side to a made-up MAC; the
# first frame back from that MAC must be addressed to us: the MACs swapped,
# the payload untouched.
MACSWAP_PROBE = r"""
import socket, sys
ifc = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
s.bind((ifc, 0))
s.settimeout(10)
ours = s.getsockname()[4][:6]
other = bytes.fromhex("02aabbccddee")
payload = b"riptide macswap probe".ljust(46, b".")
s.send(other + ours + b"\x88\xb5" + payload)
while True:
    f = s.recv(2048)
    if f[6:12] == other:
        break
print("swapped", f[:6] == ours and f[6:12] == other, "payload", f[14:14 + 46] == payload)
"""


def test_macswap_sends_each_frame_back_with_the_macs_swapped(netns, tmp_path):
    from conftest import DpdkProcess
    ns = netns()
    ifc = unique("rtms")
    prefix = unique("rtpb")
    p = DpdkProcess(["ip", "netns", "exec", ns.name, PKTBENCH, "-l", "0", "--no-pci",
                     *eal_memory_args(), f"--file-prefix={prefix}", f"--vdev=net_tap0,iface={ifc}",
                     "--", "--mode", "macswap", "--stats-interval", "0"],
                    prefix, str(tmp_path / "pktbench.log"))
    try:
        p.wait_for_output("pktbench: mode macswap")  # its port started and polled
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; ip link set {ifc} up")
        out = ns.exec(["/usr/bin/python3", "-c", MACSWAP_PROBE, ifc], timeout=30).stdout
        assert out.strip() == "swapped True payload True", out
        out = p.stop(sig=signal.SIGINT)  # exit status and sanitizers checked
    finally:
        p.stop(sig=signal.SIGKILL, expect_rc=None)
    summary_ok(out)


def test_without_memory_flags_falls_back_to_no_huge_when_no_hugepages_are_free():
    """No -m or --no-huge: with fewer free hugepages than it needs (1 GiB for
    pktbench) it runs with --no-huge and says so; with enough, on hugepages."""
    enough = run([os.path.join(ROOT, "scripts", "hugepages.sh"), "available", "1024"],
                 check=False).returncode == 0
    r = run([PKTBENCH, "-l", "0", "--no-pci", f"--file-prefix={unique('rtpb')}",
             "--vdev", "net_null0", "--vdev", "net_null1", "--",
             "--mode", "io", "--duration", "0.5", "--stats-interval", "0"])
    line = re.search(r"pktbench: mode io, 2 port\(s\): .*", r.stdout).group(0)
    assert line.endswith((", hugepages" if enough else ", --no-huge") + ", 16383 mbufs"), line
    summary_ok(r.stdout)


def test_two_workers_each_forward_their_own_port_pair_and_return_every_mbuf():
    """-l 0-1 is two workers, shared nothing: worker w brings up its own host
    (pool, executor, ports 2w and 2w+1) on its lcore and forwards between its
    pair; every port forwards, each worker says its rate, and each worker's
    pool gets every mbuf back."""
    r = run([PKTBENCH, "-l", "0-1", "--no-pci", *eal_memory_args(),
             f"--file-prefix={unique('rtpb')}", *[a for i in range(4)
                                                  for a in ("--vdev", f"net_null{i}")],
             "--", "--mode", "io", "--duration", "1", "--stats-interval", "0"], timeout=60)
    out = r.stdout
    assert "(worker 0 of 2, lcore 0)" in out and "(worker 1 of 2, lcore 1)" in out, out
    assert re.search(r"mode io, 2 port\(s\): net_null0 net_null1, .*worker 0 of 2", out), out
    assert re.search(r"mode io, 2 port\(s\): net_null2 net_null3, .*worker 1 of 2", out), out
    rates = re.findall(r"worker (\d) \(lcore \d\): rx ([\d.]+) Mpps", out)
    assert sorted(w for w, _ in rates) == ["0", "1"] and all(float(x) > 0 for _, x in rates), out
    rx = {int(p): int(n) for p, n in re.findall(r"port (\d) net_null\d\s+rx (\d+)", out)}
    assert sorted(rx) == [0, 1, 2, 3] and min(rx.values()) > 0, out
    assert "pktbench: all mbufs returned to the pool" in out, out
    assert "pktbench1: all mbufs returned to the pool" in out, out


def test_two_workers_txonly_count_each_and_rxonly_one_port_each():
    """txonly --count N on two workers: each sends N on its own port; rxonly
    with one port per worker counts on both."""
    base = [PKTBENCH, "-l", "0-1", "--no-pci", *eal_memory_args()]
    r = run([*base, f"--file-prefix={unique('rtpb')}", "--vdev", "net_null0", "--vdev",
             "net_null1", "--", "--mode", "txonly", "--count", "100000",
             "--stats-interval", "0"], timeout=60)
    assert len(re.findall(r"generated 100000 \(pool empty", r.stdout)) == 2, r.stdout
    tx = re.findall(r"port (\d) net_null\d\s+rx \d+\s+tx (\d+)", r.stdout)
    assert sorted(tx) == [("0", "100000"), ("1", "100000")], r.stdout
    r = run([*base, f"--file-prefix={unique('rtpb')}", "--vdev", "net_null0", "--vdev",
             "net_null1", "--", "--mode", "rxonly", "--duration", "0.5",
             "--stats-interval", "0"], timeout=60)
    got = re.findall(r"rxonly port (\d): received (\d+)", r.stdout)
    assert [p for p, _ in got] == ["0", "1"] and all(int(n) > 0 for _, n in got), r.stdout
    assert r.stdout.count("all mbufs returned to the pool") == 2, r.stdout


def test_two_workers_share_one_port_a_queue_each():
    """Two workers on one port: worker 0's host brings the port up with a
    queue pair per worker, worker 1's shares it (stack_host attach) on queue
    1; each forwards its own queue, and both pools get every mbuf back."""
    r = run([PKTBENCH, "-l", "0-1", "--no-pci", *eal_memory_args(),
             f"--file-prefix={unique('rtpb')}", "--vdev", "net_null0", "--",
             "--mode", "io", "--duration", "1", "--stats-interval", "0"], timeout=60)
    out = r.stdout
    assert out.count("its own queue)") == 2, out
    q = dict(re.findall(r"port 0 net_null0\s+queue (\d) rx (\d+)", out))
    assert sorted(q) == ["0", "1"] and all(int(n) > 0 for n in q.values()), out
    assert "pktbench: all mbufs returned to the pool" in out, out
    assert "pktbench1: all mbufs returned to the pool" in out, out


@pytest.mark.parametrize("vdevs,args,message", [
    (3, ["--mode", "io"], "2 workers (one per EAL lcore) and 3 ports: give each worker a port "
                          "or a pair (2 or 4 ports), or give them 1 or 2 ports to share"),
    (2, ["--mode", "loopback-check", "--count", "10"], "--mode loopback-check runs on one lcore"),
])
def test_workers_and_ports_that_do_not_share_are_refused(vdevs, args, message):
    r = run([PKTBENCH, "-l", "0-1", "--no-pci", "--no-huge", "-m", "256",
             f"--file-prefix={unique('rtpb')}",
             *[a for i in range(vdevs) for a in ("--vdev", f"net_null{i}")], "--", *args],
            check=False)
    assert r.returncode == 2 and message in r.stderr, r.stdout + r.stderr


# 64 UDP flows, 20 datagrams each, from a Linux namespace into a TAP.
FLOWS = r"""
import socket, sys
dst = sys.argv[1]
socks = []
for i in range(64):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.53.1", 20000 + i))
    socks.append(s)
for k in range(20):
    for s in socks:
        s.sendto(b"x" * 32, (dst, 9))
print("sent", 64 * 20)
"""


def test_two_workers_steer_every_flow_to_its_owner_over_a_tap(netns, tmp_path):
    """--steer on a 2-queue TAP whose queues the kernel fills by its own hash
    (RIPTIDE_TAP_STEER=0: without riptide's tun steering program): each
    worker polls its queue and hands each packet to the worker that owns its
    flow (dp_steer); every datagram from Linux's 64 flows is counted by its
    owner and by no one else (misrouted 0 on both), both workers own flows,
    some were handed over, and both pools get every mbuf back."""
    from conftest import DpdkProcess
    ns = netns()
    ifc = unique("rtst")
    prefix = unique("rtpb")
    p = DpdkProcess(["ip", "netns", "exec", ns.name, "env", "RIPTIDE_TAP_STEER=0", PKTBENCH,
                     "-l", "0-1", "--no-pci", *eal_memory_args(), f"--file-prefix={prefix}",
                     f"--vdev=net_tap0,iface={ifc}", "--", "--mode", "rxonly", "--steer", "--stats-interval", "0"],
                    prefix, str(tmp_path / "pktbench.log"))
    try:
        p.wait_for_output("worker 1 of 2")
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add 198.18.53.1/24 dev {ifc}; ip link set {ifc} up; "
                f"ip neigh replace 198.18.53.2 lladdr 02:00:00:00:53:02 dev {ifc}")
        out = ns.exec(["/usr/bin/python3", "-c", FLOWS, "198.18.53.2"], timeout=30).stdout
        assert "sent 1280" in out, out
        time.sleep(1)  # the datagrams are in the TAP's queues within microseconds
        out = p.stop(sig=signal.SIGINT)
    finally:
        p.stop(sig=signal.SIGKILL, expect_rc=None)
    print(out)
    got = [int(n) for n in re.findall(r"rxonly port 0: received (\d+)", out)]
    mis = [int(n) for n in re.findall(r"rxonly port 0: misrouted (\d+)", out)]
    assert len(got) == 2 and mis == [0, 0], out
    # Every datagram counted once (Linux's own chatter, if any, is extra).
    assert sum(got) >= 1280 and min(got) > 0, out
    kept = [int(n) for n in re.findall(r"steer port 0: kept (\d+)", out)]
    steered = [int(n) for n in re.findall(r"steered to others (\d+)", out)]
    assert len(kept) == 2 and sum(kept) + sum(steered) == sum(got), out
    assert sum(steered) > 0, out  # the kernel's hash is not riptide's
    assert out.count("all mbufs returned to the pool") == 2, out
