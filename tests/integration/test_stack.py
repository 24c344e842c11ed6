# SPDX-License-Identifier: BSD-3-Clause
"""The network layer against Linux: riptide's echo app answers ping and ARP
for a Linux host in a namespace, over net_tap and over net_af_xdp on a veth
pair; Linux's ARP learns riptide's MAC."""
import os
import re
import signal
import time

import pytest

from conftest import BUILD, eal_memory_args, run, unique, wait_for_iface

ECHO = os.path.join(BUILD, "apps", "echo", "echo")


def check_ping_and_arp(ns, proc, addr, ifc):
    proc.wait_for_output("answering ARP and ping")
    mac = re.search(r"\(([0-9a-f:]{17})\)", proc.output()).group(1)
    out = ns.exec(["ping", "-c", "100", "-i", "0.01", "-W", "2", addr], check=False,
                  timeout=60).stdout
    assert " 0% packet loss" in out, out
    neigh = ns.exec(["ip", "neigh", "show", addr, "dev", ifc]).stdout
    assert mac in neigh, f"Linux did not learn riptide's MAC {mac}: {neigh}"
    out = proc.stop(sig=signal.SIGINT)
    m = re.search(r"ping in (\d+) out (\d+)", out)
    assert m and int(m.group(1)) >= 100 and int(m.group(2)) >= 100, out
    assert "mbufs not returned" not in out, out
    return out


def test_echo_bad_address_is_a_clear_error():
    r = run([ECHO, "-l", "0", "--no-pci", "--no-huge", "-m", "128",
             f"--file-prefix={unique('rtbad')}", "--vdev", "net_null0", "--", "--ip", "10.0.0"],
            check=False)
    assert r.returncode == 2 and "--ip wants ADDR/PREFIX" in r.stderr


def test_ping_and_arp_over_tap(netns, tmp_path):
    from conftest import DpdkProcess
    ns = netns()
    ifc = unique("rte")
    prefix = unique("rtpmd")
    # echo runs inside the namespace, so its TAP is born there.
    proc = DpdkProcess(["ip", "netns", "exec", ns.name, ECHO, "-l", "0", "--no-pci",
                        *eal_memory_args(), f"--file-prefix={prefix}",
                        f"--vdev=net_tap0,iface={ifc}", "--", "--ip", "198.18.50.2/24"],
                       prefix, str(tmp_path / "echo.log"))
    try:
        wait_for_iface(ifc, netns=ns.name)
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add 198.18.50.1/24 dev {ifc}; ip link set {ifc} up")
        check_ping_and_arp(ns, proc, "198.18.50.2", ifc)
    finally:
        proc.stop(sig=signal.SIGKILL)


def test_ping_and_arp_over_af_xdp_veth(netns, dpdk_proc):
    ns = netns()
    inner, outer = unique("rtxi"), unique("rtxo")
    run(["ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", ns.name])
    try:
        ns.exec(f"ip addr add 198.18.51.1/24 dev {inner} && ip link set {inner} up")
        run(["ip", "link", "set", outer, "up"])
        proc = dpdk_proc([ECHO, "-l", "0", "--no-pci", *eal_memory_args(),
                          f"--vdev=net_af_xdp0,iface={outer}"], ["--ip", "198.18.51.2/24"])
        time.sleep(0.5)
        check_ping_and_arp(ns, proc, "198.18.51.2", inner)
    finally:
        run(["ip", "link", "del", outer], check=False)
