# SPDX-License-Identifier: BSD-3-Clause
"""The harness proves itself against real things: namespaces that ping each
other, a DPDK net_tap that receives datagrams sent by Linux, and the topology
and hugepage scripts."""
import os
import re
import time

from conftest import ROOT, eal_memory_args, run, unique, wait_for_iface

NETNS_SH = os.path.join(ROOT, "scripts", "netns.sh")
HUGEPAGES_SH = os.path.join(ROOT, "scripts", "hugepages.sh")


def test_namespace_pair_pings(netns, veth):
    a, b = netns(), netns()
    veth(a, "198.18.0.1/30", b, "198.18.0.2/30")
    out = a.exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.0.2"]).stdout
    assert " 0% packet loss" in out


def test_testpmd_tap_receives_datagrams_from_namespace(netns, dpdk_proc):
    ns = netns()
    ifc = unique("rtap")
    pmd = dpdk_proc(["dpdk-testpmd", "-l", "0-1", "--no-pci", *eal_memory_args(),
                     f"--vdev=net_tap0,iface={ifc}", "--log-level=pmd.net.tap:error"],
                    ["--forward-mode=rxonly", "--total-num-mbufs=2048", "--nb-cores=1"])
    wait_for_iface(ifc)
    # The PMD attaches its queues to the TAP by name when the port starts:
    # move it into the namespace only after that.
    pmd.wait_for_output("Press enter to exit")
    # Linux side: the TAP in the namespace, no IPv6 chatter, a fixed
    # neighbour so datagrams leave at once without ARP.
    run(["ip", "link", "set", ifc, "netns", ns.name])
    ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1")
    ns.exec(f"ip addr add 198.18.200.1/24 dev {ifc} && ip link set {ifc} up")
    ns.exec(f"ip neigh replace 198.18.200.2 lladdr 02:00:00:00:00:02 dev {ifc}")
    sent = 500
    ns.exec(["/usr/bin/python3", "-c",
             "import socket\n"
             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             f"for i in range({sent}): s.sendto(b'riptide %d' % i, ('198.18.200.2', 9))\n"])
    time.sleep(0.5)
    out = pmd.stop(stdin_line=b"\n")
    counts = [int(n) for n in re.findall(r"RX-packets:\s+(\d+)", out)]
    assert counts, f"testpmd printed no statistics:\n{out[-2000:]}"
    assert max(counts) >= sent, f"testpmd received {max(counts)} of {sent}:\n{out[-2000:]}"


def test_netns_script_up_loss_down_idempotent():
    name = unique("rs")[:9]
    try:
        run([NETNS_SH, "up", name, "2"])
        out = run(["ip", "netns", "exec", f"{name}-2", "ping", "-c", "1", "-W", "2",
                   "198.18.2.1"]).stdout
        assert " 0% packet loss" in out
        run([NETNS_SH, "loss", f"{name}-1", "100"])
        lost = run(["ip", "netns", "exec", f"{name}-1", "ping", "-c", "2", "-W", "1",
                    "198.18.1.1"], check=False).stdout
        assert "100% packet loss" in lost
    finally:
        run([NETNS_SH, "down", name])
        run([NETNS_SH, "down", name])  # idempotent
    assert name not in run(["ip", "netns", "list"]).stdout
    assert f"{name}-1-h" not in run(["ip", "link"]).stdout


def test_netns_script_refuses_addresses_outside_test_range():
    r = run([NETNS_SH, "tap", "x", "nosuch0", "10.0.0.1/24"], check=False)
    assert r.returncode == 2
    assert "outside 198.18.0.0/15" in r.stderr


def test_hugepages_script_status_and_clear_answer():
    r = run([HUGEPAGES_SH, "status"], check=False)
    assert r.returncode == 0
    assert "hugetlbfs mounted:" in r.stdout
    r = run([HUGEPAGES_SH, "available", "999999"], check=False)
    assert r.returncode == 1
    assert "--no-huge" in r.stderr
    r = run([HUGEPAGES_SH, "reserve", "lots"], check=False)
    assert r.returncode == 2 and "bad size" in r.stderr
