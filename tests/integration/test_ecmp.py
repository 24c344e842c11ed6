# SPDX-License-Identifier: BSD-3-Clause
"""Scale-out (issue 20, docs/scale-out.md): scripts/ecmp-demo.sh, three
l4proxy instances (the sanitizer build) behind a Linux router's ECMP with the
VIP announced by FRR through `l4proxyctl bgp`. The demo checks each claim
itself; this test reads the figures back, so a demo that stopped checking
would still be caught: the router learns the VIP from all three, flows
spread, the stopped instance's route goes within its withdraw_wait_ms and
every one of its flows, and no other, moves and is handed back to it with no
failed request (the router's resilient groups: tested alone below), a new
backend moves at most about 1/N of the clients and all of them to it, an
instance with no backend left or told `announce off` withdraws its route and
announces it again after, and every instance exits cleanly with the route
gone. Also the configuration's
errors and the companion's, without a topology."""
import json
import os
import re
import subprocess

import pytest

from conftest import BUILD, ROOT, is_root, run, wait_until

DEMO = os.path.join(ROOT, "scripts", "ecmp-demo.sh")
PROXY = os.path.join(BUILD, "apps", "l4proxy", "l4proxy")
CTL = os.path.join(ROOT, "scripts", "l4proxyctl")


def test_three_instances_behind_ecmp_and_bgp():
    if not is_root():
        pytest.skip("needs root (namespaces, AF_XDP, FRR)")
    r = run([DEMO, "--build", os.path.relpath(BUILD, ROOT)], check=False, timeout=400)
    out = r.stdout + r.stderr
    print(out)
    assert r.returncode == 0, out[-5000:]
    assert r.stdout.rstrip().endswith("ecmp-demo: passed"), out[-3000:]
    assert "ok: the router has 198.19.0.1 via 198.18.0.11, 198.18.0.12, 198.18.0.13" in out
    per = [int(x) for x in re.search(r"90 connections per instance: \[(\d+), (\d+), (\d+)\]",
                                     out).groups()]
    assert sum(per) == 90 and min(per) > 0, per
    m = re.search(r"198.19.0.1 via 198.18.0.11, 198.18.0.12 ([\d.]+) s after SIGTERM", out)
    assert m and float(m.group(1)) < 2.0, "withdrawn within withdraw_wait_ms (2 s)"
    m = re.search(r"instance 3: (\d+) connections, (\d+) of them moved", out)
    assert m and m.group(1) == m.group(2) == str(per[2]), out[-3000:]
    # The router (resilient, the default): 128 buckets over the three paths;
    # instance 3's go to the others, no other bucket changes hands, and no
    # flow of instances 1 and 2 moves.
    m = re.search(r"ok: its resilient group's buckets: 198.18.0.11 (\d+), 198.18.0.12 (\d+), "
                  r"198.18.0.13 (\d+)", out)
    assert m and sum(map(int, m.groups())) == 128 and min(map(int, m.groups())) >= 42, out
    assert re.search(r"-> 198.18.0.11 \d+, 198.18.0.12 \d+\n", out), out[-3000:]
    assert re.search(r"ok: every bucket of the paths left kept its path \(8[56]\)", out), out
    assert f"moved flows: {per[2]} of instance 3's {per[2]}, and 0 of the other instances' " \
           f"{90 - per[2]}\n" in out, out[-3000:]
    assert "ok: only instance 3's flows moved" in out
    assert re.search(r"ok: \d+ echoes on 90 long connections and \d+ short connections, "
                     r"0 failed", out)
    m = re.search(r"(\d+) of 40 clients moved \(1/4 would be 10\); to: \['b4'\]", out)
    assert m and 0 < int(m.group(1)) <= 20, out[-2000:]
    assert "withdrawn 198.19.0.1/32 (state stopping" in out
    assert "ok: instance 1 with every backend disabled: 198.19.0.1 via 198.18.0.12\n" in out
    assert "ok: announce off on instance 2: 198.19.0.1 via 198.18.0.11\n" in out
    assert "ok: announce on: 198.19.0.1 via 198.18.0.11, 198.18.0.12\n" in out
    assert "the router has no route to 198.19.0.1 any more" in out


@pytest.mark.parametrize("cluster,why", [
    ("198.18.0.11", "2 or more"),
    ("198.18.0.11, 198.18.0.11", "twice"),
    ("198.18.0.11, 224.0.0.1", "not a unicast IPv4 address"),
    (", ".join(f"198.18.0.{i}" for i in range(1, 9)), "more than 7 instances"),
])
def test_cluster_errors_name_their_place(tmp_path, cluster, why):
    f = tmp_path / "c.ini"
    f.write_text(f"[global]\ncluster = {cluster}\n[pool p]\nbackend = 198.18.2.11:80\n"
                 "[listener l]\nport = 80\npool = p\n")
    r = run([PROXY, "--check-config", str(f)], check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"c.ini:2: [global] cluster = '{cluster}'" in r.stderr and why in r.stderr, r.stderr


def test_vip_listeners_and_cluster_in_the_effective_configuration(tmp_path):
    f = tmp_path / "v.ini"
    f.write_text("[global]\ncluster = 198.18.0.11,198.18.0.12\nwithdraw_wait_ms = 1500\n"
                 "[pool p]\nbackend = 198.18.2.11:80\n"
                 "[listener a]\nvip = 198.19.0.1\nport = 80\npool = p\n"
                 "[listener b]\nvip = 198.19.0.2\nport = 80\npool = p\n")
    r = run([PROXY, "--check-config", str(f)], check=False)
    assert r.returncode == 0, r.stderr
    assert "cluster = 198.18.0.11, 198.18.0.12\n" in r.stdout
    assert "withdraw_wait_ms = 1500\n" in r.stdout
    assert "vip = 198.19.0.1\n" in r.stdout and "vip = 198.19.0.2\n" in r.stdout
    # The same port on the same vip twice is refused; a bad vip too.
    f.write_text("[pool p]\nbackend = 198.18.2.11:80\n"
                 "[listener a]\nvip = 198.19.0.1\nport = 80\npool = p\n"
                 "[listener b]\nvip = 198.19.0.1\nport = 80\npool = p\n")
    r = run([PROXY, "--check-config", str(f)], check=False)
    assert r.returncode == 2 and "has it already on that vip" in r.stderr, r.stderr
    f.write_text("[pool p]\nbackend = 198.18.2.11:80\n"
                 "[listener a]\nvip = 239.1.1.1\nport = 80\npool = p\n")
    r = run([PROXY, "--check-config", str(f)], check=False)
    assert r.returncode == 2 and "a unicast IPv4 address" in r.stderr, r.stderr


def test_companion_usage_and_a_missing_proxy(tmp_path):
    r = run(["/usr/bin/python3", CTL, "bgp"], check=False)
    assert r.returncode == 2 and "bgp wants --asn N" in r.stderr
    r = run(["/usr/bin/python3", CTL, "bgp", "--asn", "65001", "--interval", "0"], check=False)
    assert r.returncode == 2 and "--interval wants seconds" in r.stderr
    r = run(["/usr/bin/python3", CTL, "announce", "maybe"], check=False)
    assert r.returncode == 2 and "announce wants on or off" in r.stderr
    # No proxy at the prefix: the companion says so, withdraws nothing it never
    # announced, and ends cleanly on SIGTERM.
    p = subprocess.Popen(["/usr/bin/python3", CTL, "-f", "rtnoproxy", "bgp", "--asn", "65001",
                          "--interval", "0.05"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env={**os.environ, "RUNTIME_DIR": str(tmp_path)})
    try:
        out = ""
        for line in p.stdout:
            out += line
            if "does not answer" in line:
                break
        p.terminate()
        out += p.communicate(timeout=10)[0]
    finally:
        p.kill()
    assert p.returncode == 0, out
    assert "l4proxy does not answer" in out and "withdrawn" not in out, out


def test_resilient_router_moves_only_a_withdrawn_paths_buckets(netns):
    """scripts/lib/resfib.py, the test router's resilient ECMP: it follows
    zebra's BGP routes (here written by hand, proto bgp); a path withdrawn
    hands only its own buckets to the others, a path added takes buckets only
    from the others, never moving one between them; a prefix withdrawn
    everywhere goes, and SIGTERM leaves no rule, route or nexthop behind."""
    rt = netns("rtres")
    rt.exec("ip link add r0 type veth peer name r1 && ip link set r0 up && ip link set r1 up &&"
            " ip addr add 198.18.0.1/24 dev r0")
    hops = ["198.18.0.11", "198.18.0.12", "198.18.0.13"]

    def bgp_route(hs):
        rt.exec("ip route replace 198.19.0.1/32 proto bgp "
                + " ".join(f"nexthop via {h} dev r0" for h in hs))

    def ipj(args):  # [] also where the table does not exist (yet, or any more)
        r = rt.exec(f"ip -j {args}", check=False)
        return json.loads(r.stdout) if r.returncode == 0 and r.stdout else []

    def group():
        rs = ipj("route show table 100 198.19.0.1")
        if not rs:
            return []
        via = {n["id"]: n.get("gateway") for n in ipj("nexthop show")}
        return [via.get(b["bucket"]["nhid"])
                for b in ipj(f"nexthop bucket list id {rs[0]['nhid']}")]

    bgp_route(hops)
    p = rt.popen(["/usr/bin/python3", os.path.join(ROOT, "scripts", "lib", "resfib.py"),
                  "--buckets", "30", "--interval", "0.02"],
                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: sorted(set(group())) == hops, 10, "a group of three paths", p)
        first = group()
        assert [first.count(h) for h in hops] == [10, 10, 10], first
        assert "lookup 100" in rt.exec("ip rule show pref 100").stdout
        # The lookup goes through the group (table 100), not zebra's route.
        got = rt.exec("ip route get 198.19.0.1").stdout
        assert "table 100" in got, got
        bgp_route(hops[:2])  # .13 withdrawn
        wait_until(lambda: "198.18.0.13" not in group(), 10, ".13's buckets handed on", p)
        second = group()
        assert all(a == "198.18.0.13" or a == b for a, b in zip(first, second)), (first, second)
        assert [second.count(h) for h in hops[:2]] == [15, 15], second
        bgp_route(hops)  # back: it takes buckets from the others, none move between them
        wait_until(lambda: "198.18.0.13" in group(), 10, ".13 back in the group", p)
        third = group()
        assert all(b == "198.18.0.13" or a == b for a, b in zip(second, third)), (second, third)
        rt.exec("ip route del 198.19.0.1/32 proto bgp")
        # resfib takes the route, its group and then the paths away in three
        # commands: wait for all of them, not just the first (a check between
        # two of them failed once, 2026-12-04).
        wait_until(lambda: not ipj("route show table 100") and
                   not [n for n in ipj("nexthop show") if n["id"] > 77000], 10,
                   "the prefix and its nexthops gone", p)
        bgp_route(hops[:1])
        wait_until(lambda: group() == ["198.18.0.11"] * 30, 10, "one path, every bucket", p)
    finally:
        p.terminate()
        out = p.communicate(timeout=10)[0]
    assert p.returncode == 0, out
    assert "198.18.0.13 gone, its buckets to the others" in out, out
    assert "198.19.0.1/32 withdrawn everywhere" in out, out
    assert "lookup 100" not in rt.exec("ip rule show").stdout
    assert ipj("route show table 100") == [] and ipj("nexthop show") == [], out
