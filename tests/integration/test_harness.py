# SPDX-License-Identifier: BSD-3-Clause
"""The harness proves itself against real things: namespaces that ping each
other, a DPDK net_tap that receives datagrams sent by Linux, and the topology
and hugepage scripts."""
import os
import re
import subprocess
import threading
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
    # Every datagram has left the kernel into the TAP (its tx counter), where
    # testpmd, polling, takes it at once; then stop it.
    def tap_tx():
        m = re.search(r"TX:.*\n\s*\d+\s+(\d+)", ns.exec(["ip", "-s", "link", "show", ifc]).stdout)
        return int(m.group(1)) if m else 0
    deadline = time.monotonic() + 15
    while tap_tx() < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tap_tx() >= sent, ns.exec(["ip", "-s", "link", "show", ifc]).stdout
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
    # ensure: more than the machine has is a clear "no", and a smaller SIZE
    # never shrinks what others reserved
    def total():
        return int(re.search(r"HugePages_Total:\s+(\d+)", open("/proc/meminfo").read()).group(1))
    before = total()
    r = run([HUGEPAGES_SH, "ensure", "999999", "2M"], check=False)
    assert r.returncode == 1 and "--no-huge" in r.stderr
    assert total() >= before


UNIT_TESTS_SH = os.path.join(ROOT, "scripts", "lib", "unit_tests.sh")
SUMMARY = os.path.join(ROOT, "scripts", "lib", "junit_summary.py")

# A "gtest binary" that passes two tests on its first run and aborts on every
# later one, before writing any XML: what an ASan abort or a timeout looks
# like to meson.
FAKE_GTEST = r"""#!/bin/sh
for a in "$@"; do case "$a" in --gtest_output=xml:*) out=${a#--gtest_output=xml:} ;; esac; done
here=$(dirname "$0")
if [ -f "$here/ran-once" ]; then kill -ABRT $$; fi
touch "$here/ran-once"
cat >"$out" <<X
<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="0" errors="0" name="AllTests">
  <testsuite name="Fake" tests="2" failures="0" errors="0">
    <testcase name="One" status="run" result="completed" classname="Fake" />
    <testcase name="Two" status="run" result="completed" classname="Fake" />
  </testsuite>
</testsuites>
X
"""


def summary_of(results):
    status = open(os.path.join(results, "unit.status")).read().strip()
    return run(["/usr/bin/python3", SUMMARY, "--runner",
                f"meson test:{status}:{os.path.join(results, 'unit.xml')}"], check=False)


def test_harness_reports_a_binary_that_crashes_on_a_rerun_as_failed(tmp_path):
    """scripts/test.sh's unit step over a scratch meson project: the first
    run passes; the rerun, where the binary aborts, must be counted as a
    failure, never as the previous run's passes."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "meson.build").write_text(
        "project('scratch')\n"
        "test('fake_unit', find_program('fake_gtest.sh'), protocol: 'gtest')\n")
    (src / "fake_gtest.sh").write_text(FAKE_GTEST)
    os.chmod(src / "fake_gtest.sh", 0o755)
    build, results = str(tmp_path / "build"), str(tmp_path / "results")
    run(["meson", "setup", build, str(src)])

    r = run([UNIT_TESTS_SH, build, results], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    s = summary_of(results)
    assert s.returncode == 0 and s.stdout.strip().endswith("2 passed, 0 failed"), s.stdout

    r = run([UNIT_TESTS_SH, build, results], check=False)
    assert r.returncode != 0, r.stdout + r.stderr
    s = summary_of(results)
    assert s.returncode == 1, s.stdout
    last = s.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"0 passed, [1-9]\d* failed", last), s.stdout


def test_summary_counts_missing_results_and_a_failed_runner_as_failures(tmp_path):
    good = tmp_path / "good.xml"
    good.write_text('<testsuite><testcase classname="a" name="b"/></testsuite>')
    s = run(["/usr/bin/python3", SUMMARY, str(good)], check=False)
    assert s.returncode == 0 and s.stdout.strip().endswith("1 passed, 0 failed")
    # pytest killed before it wrote its XML
    s = run(["/usr/bin/python3", SUMMARY, str(good), "--runner",
             f"pytest:2:{tmp_path / 'none.xml'}"], check=False)
    assert s.returncode == 1 and s.stdout.strip().endswith("1 passed, 1 failed"), s.stdout
    # a runner that failed although its XML shows only passes
    s = run(["/usr/bin/python3", SUMMARY, "--runner", f"meson test:1:{good}"], check=False)
    assert s.returncode == 1 and s.stdout.strip().endswith("1 passed, 1 failed"), s.stdout


MUTATE_SH = os.path.join(ROOT, "scripts", "mutate.sh")


def test_mutate_reports_a_mutation_no_test_notices(tmp_path):
    """A mutation that changes nothing the tests can see (a comment) must be
    reported as survived, and the script must fail. It is made in the
    script's copy of the tree, which gets the line back; the tree itself is
    never written (the fuzzers build from it while the mutations run)."""
    src = os.path.join(ROOT, "tcpstack", "tcp_output.c")
    copy = os.path.join(ROOT, "build-mutate.src", "tcpstack", "tcp_output.c")
    before = open(src).read()
    seen = []
    done = threading.Event()

    def watch():  # the tree's file, as the mutation is made and undone
        while not done.is_set():
            seen.append(os.stat(src).st_mtime_ns)
            time.sleep(0.05)
    t = threading.Thread(target=watch)
    t.start()
    table = ("harmless|tcpstack/tcp_output.c|RFC 1122 4.2.3.3: move the right edge|"
             "RFC 1122 4.2.3.3: shift the right edge|tcpstack_unit|TcpSeq.*\n")
    try:
        r = run([MUTATE_SH, "--build", os.path.join(ROOT, "build-mutate"),
                 "--junit", str(tmp_path / "m.xml")], check=False, timeout=600,
                env={**os.environ, "RIPTIDE_MUTATIONS": table})
    finally:
        done.set()
        t.join()
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAILED: mutation harmless survived" in r.stdout, r.stdout
    assert r.stdout.strip().endswith("0 passed, 1 failed"), r.stdout
    assert "<failure" in (tmp_path / "m.xml").read_text()
    assert open(src).read() == before, "the tree's source was changed"
    assert len(set(seen)) == 1, "the tree's source was written during the run"
    assert open(copy).read() == before, "the copy was not restored"


CPUQUOTA_SH = os.path.join(ROOT, "scripts", "lib", "cpuquota.sh")


def test_cpuquota_confines_a_busy_process_to_its_share():
    """The benchmark's equal CPU budget: a spinning process put in a 20 %
    group gets about 20 % of a core (the kernel's quota, counted by the
    cgroup and by /proc alike), is throttled, and the group goes away."""
    name = unique("rtq")
    run([CPUQUOTA_SH, "make", name, "20"])
    spin = subprocess.Popen(["sh", "-c", "while :; do :; done"])
    try:
        run([CPUQUOTA_SH, "add", name, str(spin.pid)])
        t0 = time.monotonic()
        time.sleep(2)
        used_us = int(run([CPUQUOTA_SH, "usage", name]).stdout)
        wall_us = (time.monotonic() - t0) * 1e6
        f = open(f"/proc/{spin.pid}/stat").read().rsplit(")", 1)[1].split()
        proc_us = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK") * 1e6
    finally:
        spin.kill()
        spin.wait()
    throttled = int(run([CPUQUOTA_SH, "throttled", name]).stdout)
    run([CPUQUOTA_SH, "remove", name])
    # 20 % of the wall time, with room for the periods' edges; never a whole core
    assert 0.10 * wall_us < used_us < 0.30 * wall_us, (used_us, wall_us)
    assert abs(proc_us - used_us) < 0.1 * wall_us, (proc_us, used_us)
    assert throttled > 50, throttled
    assert run([CPUQUOTA_SH, "usage", name], check=False).returncode != 0  # removed


def test_cpuquota_refuses_a_bad_share():
    for pct in ("0", "101", "x"):
        r = run([CPUQUOTA_SH, "make", unique("rtq"), pct], check=False)
        assert r.returncode == 2 and "PCT wants 1..100" in r.stderr, r.stderr


def test_fuzz_jobs_keep_their_logs_to_themselves():
    """scripts/fuzz.sh --jobs: libFuzzer's per-job logs go to a directory of
    the run's own, counted and removed there; none is left in (or taken
    from) the repository root, where a long run's logs used to be deleted
    by a short run beside it."""
    fuzz_sh = os.path.join(ROOT, "scripts", "fuzz.sh")
    other = os.path.join(ROOT, "fuzz-7.log")  # as a long run's job would have
    with open(other, "w") as f:
        f.write("stat::number_of_executed_units: 1000000000\n")
    try:
        r = run([fuzz_sh, "impair", "2", "--jobs", "2"], check=False, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        m = re.search(r"fuzz impair: (\d+) runs in", r.stdout)
        assert m and 0 < int(m.group(1)) < 1000000000, r.stdout  # its own jobs only
        # each job counted once (the parent's log repeats the jobs' statistics)
        log = re.search(r"log (\S+)\)", r.stdout).group(1)
        per_job = re.findall(r"^stat::number_of_executed_units: (\d+)$",
                             open(os.path.join(ROOT, log)).read(), re.M)
        assert len(per_job) == 2 and int(m.group(1)) == sum(map(int, per_job)), r.stdout
        assert os.path.exists(other), "another run's log was deleted"
        left = [n for n in os.listdir(os.path.join(ROOT, "build-fuzz")) if n.startswith("jobs.")]
        assert left == [], left
    finally:
        os.unlink(other)
