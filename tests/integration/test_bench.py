# SPDX-License-Identifier: BSD-3-Clause
"""Every benchmark writes its figures as JSON (--json FILE) beside what it
prints: run each at its smallest and read the file back. These check the
record, never a speed: rates belong to the benchmarks themselves."""
import glob
import json
import os

import pytest

from conftest import ROOT, is_root, run

BENCH = os.path.join(ROOT, "scripts", "bench")
HUGEPAGES = os.path.join(ROOT, "scripts", "hugepages.sh")


@pytest.fixture
def leave_hugepages_as_found():
    """pps.sh reserves hugepages for itself; give back what it took."""
    before = run([HUGEPAGES, "available", "1"], check=False).returncode == 0
    yield
    if not before:
        run([HUGEPAGES, "release"], check=False)


@pytest.mark.parametrize("script,args,bench,fields", [
    ("executor.sh", ["--rounds", "1"], "executor", {"op", "ns_per_op", "instr_per_op", "met"}),
    ("pps.sh", ["--rounds", "1", "--duration", "1", "--pairs", "net_null"], "pps",
     {"pair", "pktbench_mpps", "testpmd_mpps", "ratio", "pktbench_mpps_rounds"}),
    ("tcp.sh", ["--seconds", "1"], "tcp", {"figure", "riptide", "linux", "ratio"}),
    ("loss.sh", ["--mb", "2", "--seeds", "1", "--spec", "loss=5%,reorder=10%:3,dup=1%,corrupt=0.1%"],
     "loss", {"spec", "direction", "linux_s", "riptide_s", "ratio", "exact", "rounds",
              "linux_data_s", "riptide_data_s", "data_ratio"}),
    ("scale.sh", ["--workers", "2", "--rounds", "1", "--duration", "1", "--proxy-seconds", "2",
                  "--proxy-rounds", "1", "--conns", "20,40", "--beside"], "scale",
     {"workers", "pktbench_mpps", "testpmd_mpps", "ratio", "pktbench_mpps_rounds"}),
    ("proxy.sh", ["--seconds", "1", "--rounds", "1", "--idle", "1"], "proxy",
     {"proxy", "mode", "rps", "p50", "p99", "cpu_us", "rounds"}),
])
def test_bench_writes_its_figures_as_json(tmp_path, leave_hugepages_as_found, script, args,
                                          bench, fields):
    if not is_root():
        pytest.skip("the benchmarks need root")
    out = tmp_path / f"{bench}.json"
    png = tmp_path / f"{bench}.png"
    charts = bench in ("pps", "loss", "scale", "proxy")  # the ones plot.py draws
    allowed = "/proc/sys/net/ipv4/tcp_allowed_congestion_control"
    with open(allowed) as f:
        allowed_before = f.read()
    pages_before = set(glob.glob("/dev/hugepages/*"))
    r = run([os.path.join(BENCH, script), *args, "--json", str(out),
             *(["--plot", str(png)] if charts else [])], check=False, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    with open(allowed) as f:  # proxy.sh widens it for its run: put back
        assert f.read() == allowed_before
    # Every DPDK process it ran is gone, and so are its hugepage files (EAL
    # leaves them, and each holds a page until removed).
    left = sorted(set(glob.glob("/dev/hugepages/*")) - pages_before)
    assert not left, f"{len(left)} hugepage files left behind, e.g. {left[:3]}"
    if charts:  # a PNG drawn from the same figures
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", r.stdout[-2000:]
        assert png.stat().st_size > 5000, png.stat()
    doc = json.loads(out.read_text())
    assert doc["bench"] == bench and doc["command"].startswith(f"scripts/bench/{script}"), doc
    assert doc["machine"]["cores"] == os.cpu_count() and doc["date"] and doc["commit"], doc
    assert doc["results"], doc
    for row in doc["results"]:
        assert fields <= set(row) or (bench == "scale" and (
            "lcores" in row or "one_lcore_beside_the_peers" in row)), row
    numbers = [v for row in doc["results"] for v in row.values() if isinstance(v, (int, float))]
    assert numbers and all(v == v for v in numbers), doc  # no NaN written
    for g in doc["goals"]:
        assert {"goal", "value", "met"} <= set(g), g
    if bench == "loss":
        # Both directions, riptide and Linux each way, and every transfer
        # arrived whole: the SHA-256 at the receiver is the sender's.
        assert {r["direction"] for r in doc["results"]} == {"send", "recv"}, doc["results"]
        for row in doc["results"]:
            assert row["exact"] == row["transfers"] == 2, row
        # Linux ran the algorithm riptide runs (cubic), not the machine's
        # default, in every Linux sender of the run.
        assert doc["params"]["linux_cc"] == doc["params"]["riptide_cc"] == "cubic", doc["params"]
        for row in doc["results"]:
            for rnd in row["rounds"]:
                assert rnd["linux_sender_cc"] == "cubic", rnd
                if row["direction"] == "recv":
                    assert rnd["linux_into_riptide_cc"] == "cubic", rnd
    if bench == "tcp":
        # Bulk at 1500 and with jumbo frames over memif, both carried data.
        figs = {r["figure"]: r for r in doc["results"]}
        assert {"p50", "p99", "gbps", "gbps_jumbo", "gbps_tso", "conns"} <= set(figs), figs
        assert figs["gbps"]["riptide"] > 0 and figs["gbps_jumbo"]["riptide"] > 0, figs
        assert figs["gbps_tso"]["riptide"] > 0, figs
    if bench == "scale":
        # One row per worker count, each program measured at each.
        pkt = [r for r in doc["results"] if "workers" in r]
        assert [r["workers"] for r in pkt] == [1, 2], doc["results"]
        assert all(r["pktbench_mpps"] > 0 and r["testpmd_mpps"] > 0 for r in pkt)
        # ... and l4proxy on one lcore and on two, each mode, serving.
        px = [r for r in doc["results"] if "lcores" in r]
        assert sorted((r["lcores"], r["mode"]) for r in px) == \
            [(1, "close"), (1, "keepalive"), (2, "close"), (2, "keepalive")], px
        assert all(r["rps"] > 0 and r["cpu_pct"] > 0 for r in px), px
        # ... each at both offered loads, its capacity the better of them.
        for r in px:
            assert [lv["conns"] for lv in r["levels"]] == [20, 40], r
            assert all(lv["rps"] > 0 for lv in r["levels"]), r
            best = max(r["levels"], key=lambda lv: lv["rps"])
            assert (r["rps"], r["conns"]) == (best["rps"], best["conns"]), r
        # ... and the diagnostic: one lcore beside the peers, each mode and load.
        beside = [r for r in doc["results"] if "one_lcore_beside_the_peers" in r]
        assert sorted((r["mode"], r["conns"]) for r in beside) == \
            [("close", 20), ("close", 40), ("keepalive", 20), ("keepalive", 40)], beside
        assert all(r["rps"] > 0 for r in beside), beside
    if bench == "proxy":
        # Under the default 30 % quota every proxy still served every request,
        # riptide on both of its paths, and none took more than its budget.
        # HAProxy and nginx ran into it (the quota throttled each of them, in
        # one mode at least: in a 1 s round one of them can stay just under
        # it, as HAProxy's close round did at 25 % in one CI run). riptide
        # need not: on two cores the peers (and the NIC-like path's wire)
        # share one core and bind it first, since --rx-coalesce made it
        # cheaper.
        assert doc["params"]["quota_pct"] == 30, doc["params"]
        # HAProxy's, nginx's and wrk's sockets on riptide's algorithm,
        # whatever the machine's default
        assert set(doc["params"]["linux_cc"].values()) == {"cubic"}, doc["params"]
        assert {r["proxy"] for r in doc["results"] if "proxy" in r} == \
            {"riptide", "riptide-nic", "haproxy", "nginx"}, doc["results"]
        for linux in ("haproxy", "nginx"):
            assert sum(r["throttled"] for row in doc["results"] if row.get("proxy") == linux
                       for r in row["rounds"]) > 0, doc["results"]
        for row in doc["results"]:
            if "proxy" in row:
                assert all(r["errors"] == "none" for r in row["rounds"]), row
                # 30 % of the round's wrk seconds, plus wrk's start and stop
                # and /proc's 10 ms ticks; unconfined, HAProxy and nginx took
                # 44-55 % (proxy.sh --quota 0 --seconds 2, 2026-12-05).
                assert all(r["cpu_pct"] <= 36 for r in row["rounds"]), row
                if row["proxy"] == "riptide-nic":
                    # The wire said what it could not hand on, each of its two ports.
                    assert all(isinstance(r["wire_dropped"], int) for r in row["rounds"]), row
                    assert row["wire_dropped"] == sum(r["wire_dropped"] for r in row["rounds"])
                # Idle first, each proxy: CPU from /proc, and it still answered.
                assert 0 <= row["idle_cpu_pct"] < 100 and row["idle_first_ms"] > 0, row


def test_plot_draws_each_chart_and_refuses_what_it_cannot(tmp_path):
    """plot.py from a benchmark's JSON: a PNG for the benchmarks it knows
    (here a scale.sh document with both halves), a clear error and exit 1
    for one it does not draw or a file that is not a benchmark's."""
    doc = {"bench": "scale", "command": "scripts/bench/scale.sh", "date": "2026-12-03T06:00:00",
           "commit": "abc1234", "params": {"quota_pct": 30}, "goals": [],
           "results": [{"workers": 1, "pktbench_mpps": 60.0, "testpmd_mpps": 70.0},
                       {"workers": 2, "pktbench_mpps": 120.0, "testpmd_mpps": 125.0},
                       {"lcores": 1, "mode": "keepalive", "rps": 4000.0},
                       {"lcores": 2, "mode": "keepalive", "rps": 8000.0},
                       {"lcores": 1, "mode": "close", "rps": 1000.0},
                       {"lcores": 2, "mode": "close", "rps": 1900.0}]}
    src, png = tmp_path / "s.json", tmp_path / "s.png"
    src.write_text(json.dumps(doc))
    r = run(["/usr/bin/python3", os.path.join(BENCH, "plot.py"), str(src), str(png)], check=False)
    assert r.returncode == 0 and png.read_bytes()[:4] == b"\x89PNG", r.stdout + r.stderr
    doc["bench"] = "executor"
    src.write_text(json.dumps(doc))
    r = run(["/usr/bin/python3", os.path.join(BENCH, "plot.py"), str(src), str(png)], check=False)
    assert r.returncode == 1 and "no chart for the executor benchmark" in r.stderr, r.stderr
    src.write_text("not json")
    r = run(["/usr/bin/python3", os.path.join(BENCH, "plot.py"), str(src), str(png)], check=False)
    assert r.returncode == 1 and r.stderr, r.stderr
